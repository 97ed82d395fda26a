#!/usr/bin/env python
"""Train a class-label GAN.

    python run_experiment.py --model=acgan_plus --labeling=dynamic
    python run_experiment.py --flagfile=flags/quickstart.cfg

See README.md for the models and flagfiles, `--helpfull` for every flag.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from tf_amgan.training import flags as flag_defs  # noqa: E402

flag_defs.define_flags()
# --help lists the library's flags as this program's own.
flags.adopt_module_key_flags(flag_defs)
FLAGS = flags.FLAGS


def main(argv):
    # tfds and SavedModel writing log at INFO through absl; keep the console for progress.
    logging.set_verbosity(logging.WARNING)
    if len(argv) > 1:
        print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
        return 2
    from tf_amgan import train
    from tf_amgan.training import config

    try:
        cfg = config.Config.from_flags(FLAGS)
    except config.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return train.main_cli(cfg)


if __name__ == "__main__":
    app.run(main)
