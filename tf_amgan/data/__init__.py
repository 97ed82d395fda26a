"""Data: tfds image sets (offline builders for Fashion-MNIST and Tiny-ImageNet), 2-D mixtures, labels.

API used by the trainer and evaluation (spec §5, D-1..D-7):
    get_info(name, **options) -> DatasetInfo
    get_dataset(name, *, split, batch_size, seed, start_step, shuffle, repeat, drop_remainder,
                data_dir, download, **options) -> tf.data.Dataset of (images, labels)
    load_arrays(name, split, data_dir, download, **options) -> (images, labels) NumPy
    sample_labels(seed, batch_size, num_classes, prior=None) -> int32 [B]
    class_prior(name) -> float64 [K]
    get_mixture(name, **options) -> GaussianMixture

TensorFlow / tfds are imported on first use, so `get_info` stays cheap.
"""

import importlib

from tf_amgan.data.registry import (
    DATASETS,
    IMAGE_DATASETS,
    SYNTHETIC_DATASETS,
    DatasetInfo,
    DatasetUnavailableError,
    get_info,
    resolve_data_dir,
)
from tf_amgan.data.synthetic import GaussianMixture, get_mixture

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "SYNTHETIC_DATASETS",
    "DatasetInfo",
    "DatasetUnavailableError",
    "GaussianMixture",
    "class_prior",
    "get_dataset",
    "get_info",
    "get_mixture",
    "load_arrays",
    "resolve_data_dir",
    "sample_labels",
    "to_float",
]

_LAZY = {
    "get_dataset": "pipeline",
    "load_arrays": "images",
    "to_float": "images",
    "sample_labels": "labels",
    "class_prior": "labels",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
