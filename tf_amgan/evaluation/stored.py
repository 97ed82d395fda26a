"""Stored samples: arrays (.npz / .npy) and folders of PNG / JPEG files, with value-range detection.

uint8 data is [0, 255]; float data is detected as [0, 1], [-1, 1] or [0, 255] (the narrowest that
holds every value, 1e-3 tolerance), or given. Out-of-range values are an error, never clipped.
Sources visit their samples in a seeded random order by default (IS / AM Score split std uses
contiguous splits, and files are often stored class by class). tf_amgan.evaluation.external
gathers these with the foreign-SavedModel and real-data sources.
"""

from __future__ import annotations

import os
import re
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from tf_amgan.evaluation.sources import (
    SampleBatch,
    SampleSource,
    _batch_sizes,
)

VALUE_RANGES = {"-1,1": (-1.0, 1.0), "0,1": (0.0, 1.0), "0,255": (0.0, 255.0)}
_DETECTION_ORDER = ("0,1", "-1,1", "0,255")  # narrowest first
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
TOLERANCE = 1e-3  # relative to the range's width
_SCAN_ROWS = 4096


def _range_name(value_range: str | None) -> str | None:
    if value_range in (None, "auto"):
        return None
    name = str(value_range).replace(" ", "").replace("[", "").replace("]", "")
    if name not in VALUE_RANGES:
        raise ValueError(f"value range must be auto or one of {', '.join(VALUE_RANGES)}, got "
                         f"{value_range!r}")  # fmt: skip
    return name


def _fits(lo: float, hi: float, name: str) -> bool:
    a, b = VALUE_RANGES[name]
    tol = TOLERANCE * (b - a)
    return lo >= a - tol and hi <= b + tol


def detect_value_range(lo: float, hi: float, dtype, what: str = "the samples") -> str:
    """The narrowest of [0, 1], [-1, 1], [0, 255] holding [lo, hi] ("0,255" for uint8).

    Raises:
      ValueError: non-finite values, or values that fit none of the ranges.
    """
    if np.dtype(dtype) == np.uint8:
        return "0,255"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{what} contain NaN or infinite values")
    for name in _DETECTION_ORDER:
        if _fits(lo, hi, name):
            return name
    raise ValueError(
        f"{what} have values in [{lo:.4g}, {hi:.4g}], which fit none of the ranges "
        f"[0,1], [-1,1], [0,255]; rescale them or pass --sample_range"
    )


def _check_range(lo: float, hi: float, name: str, what: str) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{what} contain NaN or infinite values")
    if not _fits(lo, hi, name):
        raise ValueError(f"{what} have values in [{lo:.4g}, {hi:.4g}], outside the range "
                         f"[{name}] (--sample_range)")  # fmt: skip


def to_unit_range(images, value_range: str) -> np.ndarray:
    """float32 images in [-1, 1] from `value_range` ("-1,1", "0,1", "0,255"); uint8 [0, 255] maps
    exactly as the data pipeline does, (x - 127.5) / 127.5. Tolerated overshoot is clipped."""
    a, b = VALUE_RANGES[value_range]
    x = np.asarray(images, np.float32)
    if (a, b) != (-1.0, 1.0):
        half = np.float32((b - a) / 2)
        x = (x - np.float32(a + (b - a) / 2)) / half
    return np.clip(x, -1.0, 1.0)


def _min_max(array: np.ndarray) -> tuple[float, float]:
    """Min and max of a (possibly memory-mapped) array, a block of rows at a time."""
    lo, hi = np.inf, -np.inf
    for s in range(0, array.shape[0], _SCAN_ROWS):
        block = array[s : s + _SCAN_ROWS]
        lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
    return lo, hi


class _Adapter:
    """Per-batch conversion to the evaluation's format: value range -> [-1, 1], then optional
    channel conversion (3 -> 1 by ITU-R 601 luma, 1 -> 3 by repetition) and black padding."""

    def __init__(self, shape: tuple[int, ...], channels: int | None, pad: int):
        if len(shape) != 3:
            raise ValueError(
                f"samples must be images [N, H, W, C], got one sample of shape {shape}"
            )
        if shape[-1] not in (1, 3):
            raise ValueError(
                f"samples have {shape[-1]} channels; expected 1 or 3 (channels-last [N, H, W, C])"
            )
        if channels not in (None, 1, 3):
            raise ValueError(f"--sample_channels must be 1 or 3, got {channels}")
        if pad < 0:
            raise ValueError(f"--sample_pad must be >= 0, got {pad}")
        self.channels = channels or shape[-1]
        self.pad = int(pad)
        self.input_shape = tuple(shape)
        self.sample_shape = (shape[0] + 2 * pad, shape[1] + 2 * pad, self.channels)

    def __call__(self, images, value_range: str) -> np.ndarray:
        x = to_unit_range(images, value_range)
        if x.shape[-1] != self.channels:
            if self.channels == 1:
                x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
            else:
                x = np.repeat(x, 3, axis=-1)
        if self.pad:
            p = self.pad
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=-1.0)
        return x

    def describe(self) -> dict[str, Any]:
        return {"stored_shape": list(self.input_shape), "channels": self.channels, "pad": self.pad}


def _check_labels(labels, n: int, what: str) -> np.ndarray | None:
    if labels is None:
        return None
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot / probabilities
        labels = np.argmax(labels, axis=1)
    labels = labels.reshape(-1) if labels.ndim == 2 else labels
    if labels.shape != (n,):
        raise ValueError(f"mismatched sizes: {what} holds {n} images but {labels.shape[0]} labels")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise ValueError(f"{what}: labels must be integers, got {labels.dtype} values")
    labels = labels.astype(np.int32)
    if n and labels.min() < 0:
        raise ValueError(f"{what}: labels must be >= 0, got {labels.min()}")
    return labels


class _FiniteSource(SampleSource):
    """Shared logic of sources holding a fixed set of samples."""

    num_available: int = 0
    labels: np.ndarray | None = None
    shuffle: bool = True

    def _order(self, num_samples: int, seed: int) -> np.ndarray:
        if num_samples > self.num_available:
            where = self.describe().get("path", "the source")
            raise ValueError(
                f"mismatched sizes: {num_samples} samples requested but {where} holds "
                f"{self.num_available}"
            )
        if not self.shuffle:
            return np.arange(num_samples)
        return np.random.default_rng([int(seed), 0x5A3]).permutation(self.num_available)[
            :num_samples
        ]

    def _batch(self, images: np.ndarray, rows: np.ndarray) -> SampleBatch:
        if self.labels is None:
            classes = np.full(rows.shape[0], -1, np.int32)
            return SampleBatch(images=images, labels=None, classes=classes)
        labels = self.labels[rows]
        return SampleBatch(images=images, labels=labels, classes=labels.copy())


class ArraySource(_FiniteSource):
    """Samples held in an `[N, H, W, C]` array (in memory or memory-mapped).

    Args:
      images: the array (uint8, or float in [-1, 1], [0, 1] or [0, 255]).
      labels: optional `[N]` int class of each sample (or `[N, K]` one-hot).
      value_range: "auto" (detected; uint8 is [0, 255]) or one of VALUE_RANGES.
      channels: convert to this many channels (1 or 3); None keeps them.
      pad: pixels of black padding on each side (2: 28x28 -> 32x32, as the data pipeline pads
        MNIST / Fashion-MNIST).
      shuffle: visit the samples in a seeded random order.
      description: fields for `describe()` (type, path, ...).
      dataset, data_options: the data set the samples imitate, if known.
    """

    def __init__(
        self,
        images,
        labels=None,
        *,
        value_range: str | None = "auto",
        channels: int | None = None,
        pad: int = 0,
        shuffle: bool = True,
        description: dict | None = None,
        dataset: str | None = None,
        data_options: dict | None = None,
    ):
        self._description = {"type": "array", **(description or {})}
        what = self._description.get("path", "the array")
        images = images if isinstance(images, np.ndarray) else np.asarray(images)
        if images.ndim == 3:
            raise ValueError(f"{what} has shape {images.shape}: add the channel axis, [N, H, W, C]")
        if images.ndim != 4:
            raise ValueError(f"{what} must hold images [N, H, W, C], got shape {images.shape}")
        if images.shape[0] == 0:
            raise ValueError(f"{what} holds no images")
        if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
            raise ValueError(f"{what}: images must be uint8 or float, got {images.dtype}")
        self._adapter = _Adapter(images.shape[1:], channels, pad)
        self.images = images
        self.labels = _check_labels(labels, images.shape[0], what)
        self.num_available = int(images.shape[0])
        self.conditional = self.labels is not None
        self.sample_shape = self._adapter.sample_shape
        self.dataset = dataset
        self.data_options = dict(data_options or {})
        self.shuffle = bool(shuffle)
        requested = _range_name(value_range)
        lo, hi = (0.0, 255.0) if images.dtype == np.uint8 else _min_max(images)
        if requested is None:
            self.value_range = detect_value_range(lo, hi, images.dtype, what)
        else:
            _check_range(lo, hi, requested, what)
            self.value_range = requested
        self._range_info = {"value_range": self.value_range, "range_detected": requested is None,
                            "dtype": str(images.dtype), "min": lo, "max": hi}  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {**self._description, **self._range_info, **self._adapter.describe(),
                "num_available": self.num_available, "labels": self.labels is not None,
                "shuffle": self.shuffle}  # fmt: skip

    def batches(self, num_samples, batch_size, seed) -> Iterator[SampleBatch]:
        order = self._order(num_samples, seed)
        for i, n in _batch_sizes(num_samples, batch_size):
            rows = order[i * batch_size : i * batch_size + n]
            # Sorted reads are sequential in a memory map; the batch keeps the random order.
            sorted_rows = np.sort(rows)
            block = self.images[sorted_rows][np.argsort(np.argsort(rows))]
            yield self._batch(self._adapter(block, self.value_range), rows)


def _npz_member_memmap(path: str, key: str) -> np.ndarray | None:
    """A read-only memory map of an uncompressed .npz member (np.savez), else None."""
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(key + ".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                return None
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                reader = {(1, 0): np.lib.format.read_array_header_1_0,
                          (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
                if reader is None:
                    return None
                shape, fortran, dtype = reader(member)
                header_len = member.tell()
        if fortran or dtype.hasobject:
            return None
        with open(path, "rb") as f:  # local file header: 30 bytes + name + extra field
            f.seek(info.header_offset)
            local = f.read(30)
            start = (
                info.header_offset
                + 30
                + int.from_bytes(local[26:28], "little")
                + int.from_bytes(local[28:30], "little")
            )
        return np.memmap(path, dtype=dtype, mode="r", offset=start + header_len, shape=shape)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return None


_IMAGE_KEYS = ("images", "x", "samples", "imgs", "arr_0")
_LABEL_KEYS = ("labels", "y", "classes", "arr_1")


def open_array(
    path: str,
    *,
    images_key: str | None = None,
    labels_key: str | None = None,
    labels_path: str | None = None,
    **kwargs,
) -> ArraySource:
    """An ArraySource from an .npy (memory-mapped) or .npz file.

    Args:
      path: .npy or .npz.
      images_key: the .npz member with the images (default: "images", "x", "samples", "imgs",
        "arr_0", or the only 4-D array).
      labels_key: the .npz member with labels (default: "labels", "y", "classes" or "arr_1" when
        present; "" for none).
      labels_path: a separate .npy of labels (for .npy images).
      **kwargs: ArraySource options.

    Raises:
      FileNotFoundError / ValueError: a missing or unreadable file, missing keys, bad shapes.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist")
    desc = {"type": "npy" if path.endswith(".npy") else "npz", "path": os.path.abspath(path)}
    labels = None
    if desc["type"] == "npz" and not zipfile.is_zipfile(path):
        raise ValueError(f"cannot read {path}: not an .npz (zip) archive")
    try:
        if desc["type"] == "npy":
            try:
                images = np.load(path, mmap_mode="r", allow_pickle=False)
            except ValueError as e:
                raise OSError(_one_line(e)) from e
        else:
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.files)
                if images_key is None:
                    found = [k for k in _IMAGE_KEYS if k in keys]
                    if not found:
                        found = [k for k in keys if len(archive[k].shape) == 4]
                    if len(found) != 1 and not (found and found[0] in _IMAGE_KEYS):
                        raise ValueError(f"{path}: cannot tell which array holds the images "
                                         f"(members: {', '.join(keys)}); pass --images_key")  # fmt: skip
                    images_key = found[0]
                if images_key not in keys:
                    raise ValueError(f"{path} has no array {images_key!r} (members: "
                                     f"{', '.join(keys)})")  # fmt: skip
                if labels_key is None:
                    labels_key = next((k for k in _LABEL_KEYS if k in keys and k != images_key), "")
                if labels_key and labels_key not in keys:
                    raise ValueError(f"{path} has no array {labels_key!r} (members: "
                                     f"{', '.join(keys)})")  # fmt: skip
                images = _npz_member_memmap(path, images_key)
                if images is None:  # compressed: read it whole
                    images = archive[images_key]
                labels = archive[labels_key] if labels_key else None
            desc.update(images_key=images_key, labels_key=labels_key or None)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"cannot read {path}: {e}") from e
    if labels_path:
        if labels is not None:
            raise ValueError(f"{path} holds labels already ({labels_key!r}); drop --labels_path")
        try:
            labels = np.load(labels_path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read labels {labels_path}: {e}") from e
        desc["labels_path"] = os.path.abspath(labels_path)
    return ArraySource(images, labels, description=desc, **kwargs)


# ----------------------------------------------------------------------------------------------
# Image folders.


def _pil():
    from PIL import Image

    return Image


def _decode(path: str, channels: int | None) -> np.ndarray:
    """uint8 `[H, W, C]` of one file (PIL; palette and 16-bit images are converted, alpha dropped),
    converted to `channels` when given (3 -> 1 by the luma of `_Adapter`, 1 -> 3 by repetition)."""
    image_mod = _pil()
    with image_mod.open(path) as im:
        mode = im.mode
        if mode.startswith("I") or mode == "F":  # 16/32-bit grey: scale to 8 bits
            a = np.asarray(im, np.float64)
            scale = 65535.0 if a.max(initial=0) > 255 else 255.0
            a = np.round(np.clip(a, 0, scale) * (255.0 / scale)).astype(np.uint8)[..., None]
        elif mode in ("1", "L", "LA"):
            a = np.asarray(im.convert("L"), np.uint8)[..., None]
        else:
            a = np.asarray(im.convert("RGB"), np.uint8)
    if channels == 1 and a.shape[-1] == 3:
        luma = a.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        a = np.round(luma).astype(np.uint8)[..., None]
    elif channels == 3 and a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a


class FolderSource(_FiniteSource):
    """PNG / JPEG files under `path`, decoded a batch at a time.

    Layout: either image files directly in `path` (no labels), or one subfolder per class (files
    anywhere below it). Subfolders named by integers give those class indices; otherwise classes
    are numbered in sorted name order (`describe()["class_names"]`). Files are ordered by their
    relative path, then shuffled with the seed (`shuffle=True`).

    Args:
      path: the folder.
      on_error: "fail" (default) raises on the first unreadable or mis-shaped file; "skip" skips
        it, counts it (`describe()["skipped"]`) and takes the next file.
      channels, pad, shuffle, dataset, data_options: as ArraySource (files are uint8 [0, 255]).
      value_range: "auto" / "0,255" (8-bit files are [0, 255]; other ranges are refused).

    Raises:
      FileNotFoundError / ValueError: no folder, no image files, mixed layout, unreadable first
        file.
    """

    def __init__(
        self,
        path: str,
        *,
        on_error: str = "fail",
        channels: int | None = None,
        pad: int = 0,
        shuffle: bool = True,
        value_range: str | None = "auto",
        dataset: str | None = None,
        data_options: dict | None = None,
    ):
        if on_error not in ("fail", "skip"):
            raise ValueError(f"--on_bad_file must be fail or skip, got {on_error!r}")
        if _range_name(value_range) not in (None, "0,255"):
            raise ValueError(f"image files are 8-bit [0,255]; --sample_range={value_range} "
                             "does not apply")  # fmt: skip
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path} is not a folder")
        self.path = os.path.abspath(path)
        self.on_error = on_error
        self.files, self.labels, self.class_names = self._scan(self.path)
        self.num_available = len(self.files)
        self.conditional = self.labels is not None
        self.shuffle = bool(shuffle)
        self.dataset = dataset
        self.data_options = dict(data_options or {})
        self.skipped: list[str] = []
        self._channels = channels
        first = None
        for f in self.files:  # the first readable file fixes the shape
            try:
                first = _decode(f, channels)
                break
            except Exception as e:  # PIL raises many types for bad files
                if on_error == "fail":
                    raise ValueError(f"cannot read image {f}: {_one_line(e)} (--on_bad_file=skip "
                                     "skips unreadable files)") from e  # fmt: skip
        if first is None:
            raise ValueError(f"no readable image in {path} ({len(self.files)} files)")
        self._adapter = _Adapter(first.shape, None, pad)
        self.sample_shape = self._adapter.sample_shape

    @staticmethod
    def _scan(root: str):
        def images_in(folder):
            out = []
            for d, subdirs, names in os.walk(folder):
                subdirs.sort()
                out += [os.path.join(d, n) for n in sorted(names)
                        if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith(".")]  # fmt: skip
            return out

        entries = sorted(os.listdir(root))
        top_files = [n for n in entries if n.lower().endswith(IMAGE_EXTENSIONS)
                     and os.path.isfile(os.path.join(root, n)) and not n.startswith(".")]  # fmt: skip
        subdirs = [n for n in entries if os.path.isdir(os.path.join(root, n))
                   and not n.startswith(".")]  # fmt: skip
        if top_files and subdirs and any(images_in(os.path.join(root, d)) for d in subdirs):
            raise ValueError(f"{root} holds image files and class subfolders; use one layout "
                             "(files only, or one subfolder per class)")  # fmt: skip
        if top_files:
            return [os.path.join(root, n) for n in top_files], None, None
        per_class = [(d, images_in(os.path.join(root, d))) for d in subdirs]
        per_class = [(d, files) for d, files in per_class if files]
        if not per_class:
            raise ValueError(f"no PNG / JPEG files in {root}")
        names = [d for d, _ in per_class]
        if all(re.fullmatch(r"\d+", d) for d in names):
            index = {d: int(d) for d in names}
        else:
            index = {d: k for k, d in enumerate(sorted(names))}
        files = [f for _, fs in per_class for f in fs]
        labels = np.concatenate([np.full(len(fs), index[d], np.int32) for d, fs in per_class])
        return files, labels, {index[d]: d for d in names}

    def describe(self) -> dict[str, Any]:
        out = {"type": "folder", "path": self.path, "value_range": "0,255", "range_detected": False,
               **self._adapter.describe(), "num_available": self.num_available,
               "labels": self.labels is not None, "shuffle": self.shuffle,
               "on_bad_file": self.on_error, "skipped": len(self.skipped)}  # fmt: skip
        if self.class_names and any(str(k) != v for k, v in self.class_names.items()):
            out["class_names"] = {str(k): v for k, v in sorted(self.class_names.items())}
        return out

    def _read(self, index: int) -> np.ndarray | None:
        path = self.files[index]
        try:
            a = _decode(path, self._channels)
        except Exception as e:
            if self.on_error == "fail":
                raise ValueError(f"cannot read image {path}: {_one_line(e)} (--on_bad_file=skip "
                                 "skips unreadable files)") from e  # fmt: skip
            self._skip(path, _one_line(e))
            return None
        if a.shape != tuple(self._adapter.input_shape):
            why = f"shape {a.shape}, the others {tuple(self._adapter.input_shape)}"
            if self.on_error == "fail":
                raise ValueError(f"image {path} has {why} (--on_bad_file=skip skips it)")
            self._skip(path, why)
            return None
        return a

    def _skip(self, path: str, why: str) -> None:
        self.skipped.append(path)
        print(f"warning: skipped {path}: {why}", file=sys.stderr)

    def batches(self, num_samples, batch_size, seed) -> Iterator[SampleBatch]:
        self.skipped = []
        self._order(num_samples, seed)  # the size check
        # With skipping, the next files of the same seeded order stand in for skipped ones.
        order = self._order(self.num_available, seed)
        cursor = 0
        for _, n in _batch_sizes(num_samples, batch_size):
            images, rows = [], []
            while len(images) < n:
                if cursor >= len(order):
                    raise ValueError(
                        f"only {self.num_available - len(self.skipped)} readable images in "
                        f"{self.path} ({len(self.skipped)} skipped), {num_samples} requested"
                    )
                a = self._read(int(order[cursor]))
                if a is not None:
                    images.append(a)
                    rows.append(int(order[cursor]))
                cursor += 1
            block = self._adapter(np.stack(images), "0,255")
            yield self._batch(block, np.asarray(rows))
        if self.skipped:
            print(f"warning: skipped {len(self.skipped)} unreadable file(s) in {self.path}",
                  file=sys.stderr)  # fmt: skip


def _one_line(message) -> str:
    return " ".join(str(message).split())
