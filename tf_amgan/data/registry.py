"""Data set catalogue: names, shapes, class priors, options, and where the data comes from.

Everything here is cheap (no TensorFlow, no tfds import, no file access), so `get_info` can be called
while validating a configuration. Class priors of the image sets are their published training-set
label counts; `tf_amgan.data.class_prior(name, from_data=True)` recounts them from the data.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from typing import Any

import numpy as np

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "SYNTHETIC_DATASETS",
    "DatasetInfo",
    "DatasetUnavailableError",
    "download_allowed",
    "get_info",
    "network_reachable",
    "resolve_data_dir",
]

NO_DOWNLOAD_ENV = "TF_AMGAN_NO_DOWNLOAD"
DATA_DIR_ENV = "TF_AMGAN_DATA_DIR"
PROBE_TIMEOUT_S = 2.5


class DatasetUnavailableError(ValueError):
    """The data set is neither prepared locally nor obtainable now; the message says how to get it."""


@dataclasses.dataclass(frozen=True, eq=False)
class DatasetInfo:
    """Static description of a data set (after options such as `pad_to_32` are applied).

    Attributes:
      name: data set name, e.g. "cifar10".
      num_classes: K, the number of class labels (components for the 2-D mixtures).
      shape: example shape, `(H, W, C)` for images or `(2,)` for the 2-D mixtures.
      is_image: True for image sets (float32 in [-1, 1]).
      num_train: training-set size; None for the synthetic mixtures (infinite).
      class_prior: `[K]` float64 training-set label frequencies (mixture weights for synthetic).
      num_test: size of the evaluation split ("test"; Tiny-ImageNet: its labelled validation set).
    """

    name: str
    num_classes: int
    shape: tuple[int, ...]
    is_image: bool
    num_train: int | None
    class_prior: np.ndarray
    num_test: int | None = None


@dataclasses.dataclass(frozen=True)
class _ImageSpec:
    tfds_name: str | None  # tfds' own builder (downloadable); None = manual builder only
    num_classes: int
    shape: tuple[int, int, int]  # as stored
    num_train: int
    num_test: int
    train_counts: tuple[int, ...] | None  # None = balanced
    host: tuple[str, int] | None  # download host for the offline probe
    options: tuple[str, ...]
    local_builder: str | None = None  # manual-download builder in tf_amgan.data.builders
    test_split: str = "test"


_IMAGE_SPECS = {
    "cifar10": _ImageSpec("cifar10", 10, (32, 32, 3), 50000, 10000, None,
                          ("www.cs.toronto.edu", 443), ()),
    "cifar100": _ImageSpec("cifar100", 100, (32, 32, 3), 50000, 10000, None,
                           ("www.cs.toronto.edu", 443), ()),
    # Published MNIST training label counts (digits 0..9).
    "mnist": _ImageSpec("mnist", 10, (28, 28, 1), 60000, 10000,
                        (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
                        ("storage.googleapis.com", 443), ("pad_to_32",)),
    "fashion_mnist": _ImageSpec("fashion_mnist", 10, (28, 28, 1), 60000, 10000, None,
                                ("fashion-mnist.s3-website.eu-central-1.amazonaws.com", 80),
                                ("pad_to_32", "manual_dir"), local_builder="local_fashion_mnist"),
    "tiny_imagenet": _ImageSpec(None, 200, (64, 64, 3), 100000, 10000, None, None,
                                ("image_size", "manual_dir"), local_builder="tiny_imagenet",
                                test_split="validation"),
}  # fmt: skip

_SYNTHETIC_OPTIONS = {
    "ring8": ("std", "radius", "modes", "num_samples"),
    "overlap10": ("std", "radius", "modes", "center", "num_samples"),
    "clusters4": ("std", "num_samples"),
}

IMAGE_DATASETS = tuple(_IMAGE_SPECS)
SYNTHETIC_DATASETS = tuple(_SYNTHETIC_OPTIONS)
DATASETS = IMAGE_DATASETS + SYNTHETIC_DATASETS


def image_spec(name: str) -> _ImageSpec:
    _check_name(name)
    if name not in _IMAGE_SPECS:
        raise ValueError(f"{name!r} is not an image data set")
    return _IMAGE_SPECS[name]


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose from {DATASETS}")


def check_options(name: str, options: dict[str, Any]) -> None:
    """Raises ValueError for options the data set does not take (catches typos)."""
    _check_name(name)
    allowed = _IMAGE_SPECS[name].options if name in _IMAGE_SPECS else _SYNTHETIC_OPTIONS[name]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"data set {name!r} takes options {allowed}, got unknown {unknown}")
    if "image_size" in options:
        size = options["image_size"]
        if not isinstance(size, int) or not 1 <= size <= 64:
            raise ValueError(f"tiny_imagenet image_size must be an int in [1, 64], got {size!r}")


def image_shape(name: str, options: dict[str, Any]) -> tuple[int, int, int]:
    """Shape after padding / resizing options."""
    h, w, c = _IMAGE_SPECS[name].shape
    if "pad_to_32" in _IMAGE_SPECS[name].options and options.get("pad_to_32") is not False:
        return 32, 32, c
    if name == "tiny_imagenet":
        size = options.get("image_size", 32)
        return size, size, c
    return h, w, c


def get_info(name: str, **options) -> DatasetInfo:
    """Describes data set `name` without loading it (spec D-1..D-7).

    Args:
      name: one of DATASETS.
      **options: data set options, as for `get_dataset` (e.g. `pad_to_32=False`, `std=0.1`).

    Returns:
      DatasetInfo.
    """
    check_options(name, options)
    if name in _IMAGE_SPECS:
        spec = _IMAGE_SPECS[name]
        if spec.train_counts is None:
            prior = np.full(spec.num_classes, 1.0 / spec.num_classes)
        else:
            counts = np.asarray(spec.train_counts, np.float64)
            prior = counts / counts.sum()
        return DatasetInfo(
            name=name,
            num_classes=spec.num_classes,
            shape=image_shape(name, options),
            is_image=True,
            num_train=spec.num_train,
            class_prior=prior,
            num_test=spec.num_test,
        )
    from tf_amgan.data import synthetic

    mixture = synthetic.get_mixture(name, **options)
    return DatasetInfo(
        name=name,
        num_classes=mixture.num_components,
        shape=(mixture.dim,),
        is_image=False,
        num_train=None,
        class_prior=mixture.weights.copy(),
        num_test=None,
    )


def resolve_data_dir(data_dir: str | None) -> str:
    """`data_dir`, else $TF_AMGAN_DATA_DIR, else ~/tensorflow_datasets (absolute, user-expanded)."""
    path = data_dir or os.environ.get(DATA_DIR_ENV) or os.path.join("~", "tensorflow_datasets")
    return os.path.abspath(os.path.expanduser(path))


def downloads_disabled_by_env() -> bool:
    return os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def download_allowed(download: bool | None, host: tuple[str, int] | None) -> tuple[bool, str]:
    """Whether a network download may be attempted, and if not, why.

    `download=False` or TF_AMGAN_NO_DOWNLOAD=1 never download; `download=True` always tries (e.g.
    behind an HTTP proxy the probe cannot see through); `download=None` ("auto") tries only if a
    socket to the download host opens within PROBE_TIMEOUT_S (tfds would otherwise retry a dead
    network for ~205 s).
    """
    if downloads_disabled_by_env():
        return False, f"downloads are disabled ({NO_DOWNLOAD_ENV}=1)"
    if download is False:
        return False, "downloads are disabled (download=False / --download=false)"
    if host is None:
        return False, "it cannot be downloaded automatically"
    if download is True:
        return True, ""
    if network_reachable(*host):
        return True, ""
    return False, f"there is no network access to {host[0]} (probed for {PROBE_TIMEOUT_S:g} s)"


_PROBES: dict[tuple[str, int], bool] = {}
_PROBE_LOCK = threading.Lock()


def network_reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Opens a TCP connection (DNS included) within `timeout` seconds; cached per process.

    DNS resolution ignores socket timeouts, so the probe runs in a daemon thread and is abandoned
    after `timeout`.
    """
    key = (host, port)
    with _PROBE_LOCK:
        if key in _PROBES:
            return _PROBES[key]
    result = [False]

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result[0] = True
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True, name=f"tf_amgan-probe-{host}")
    thread.start()
    thread.join(timeout)
    ok = result[0]
    with _PROBE_LOCK:
        _PROBES[key] = ok
    return ok
