"""Evaluation of a generator.

  sources.py     where samples come from: a live trainer, a run directory, a SavedModel
  external.py    samples made anywhere: .npz / .npy, image folders, foreign SavedModels, and
                 the real data (the ceiling row, `real_data_row`)
  reference.py   real-data feature statistics (FID / precision-recall / intra-FID), cached
  runner.py      evaluate(): every metric in one streaming pass
  periodic.py    the evaluator the training loop calls every --eval_every steps
  cli.py         the `python -m tf_amgan.evaluate` command
  category_eval.py  latent-code models: categories vs classes (P003)

The public names of sources, reference, runner and external are available here, resolved lazily so that
importing the command module does not import TensorFlow first.
"""

import importlib

# Public name -> submodule; only these trigger an import (submodules such as `cli` or `flags` are
# imported by Python itself, without loading TensorFlow through the runner).
_NAMES = {
    **dict.fromkeys(
        ("ALL_METRICS", "DEFAULT_IMAGE_METRICS", "DEFAULT_SYNTHETIC_METRICS", "EvalOptions",
         "EvalResult", "evaluate", "parse_metrics"),
        "runner",
    ),
    **dict.fromkeys(
        ("SampleBatch", "SampleSource", "SavedModelSource", "TrainerSource", "open_source",
         "resolve_saved_model", "run_dir_source"),
        "sources",
    ),
    "make_periodic_evaluator": "periodic",
    "real_features": "reference",
    "real_class_statistics": "reference",
    **dict.fromkeys(
        ("IMAGE_EXTENSIONS", "VALUE_RANGES", "ArraySource", "FolderSource",
         "ForeignSavedModelSource", "RealDataSource", "detect_value_range", "open_array",
         "open_generator", "real_data_row", "to_unit_range"),
        "external",
    ),
}  # fmt: skip


def __getattr__(name):
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
