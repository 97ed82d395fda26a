"""Evaluation of a generator: sample sources, reference statistics, the metric runner, the command.

Names are resolved lazily so that importing the command module does not import TensorFlow first.
"""

import importlib


def __getattr__(name):
    runner = importlib.import_module(f"{__name__}.runner")
    try:
        return getattr(runner, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
