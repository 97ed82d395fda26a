"""Evaluation of a generator.

  sources.py     where samples come from: a live trainer, a run directory, a SavedModel
  external.py    samples made anywhere: .npz / .npy, image folders, foreign SavedModels, and
                 the real data (the ceiling row, `real_data_row`)
  reference.py   real-data feature statistics (FID / precision-recall / intra-FID), cached
  runner.py      evaluate(): every metric in one streaming pass; the periodic evaluator
  cli.py         the `python -m tf_amgan.evaluate` command
  category_eval.py  latent-code models: categories vs classes (P003)

The public names of sources, reference and runner are available here, resolved lazily so that
importing the command module does not import TensorFlow first.
"""

import importlib

_MODULES = ("runner", "sources", "reference", "external")


def __getattr__(name):
    for module in _MODULES:
        mod = importlib.import_module(f"{__name__}.{module}")
        if name in getattr(mod, "__all__", ()):
            return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
