"""python -m tf_amgan.classifiers: train a dataset classifier (tf_amgan.classifiers.cli)."""

from tf_amgan.classifiers.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
