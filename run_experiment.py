#!/usr/bin/env python
"""Train a class-label GAN (the train command; installed also as `tf-amgan-train`).

    python run_experiment.py --model=acgan_plus --labeling=dynamic
    python run_experiment.py --flagfile=flags/quickstart.cfg

See README.md for the models and flagfiles, `--helpfull` for every flag.
"""

from tf_amgan import train

if __name__ == "__main__":
    train.run_cli("python run_experiment.py")
