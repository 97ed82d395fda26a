"""Sample sources for samples made anywhere: arrays (.npz / .npy), image folders, foreign
SavedModels, and the real data set itself (the "real data" ceiling row).

Every source yields `SampleBatch`es of float32 images in [-1, 1], like the sources of our own
runs, so `evaluate` treats them all the same way:
  - `ArraySource` / `open_array`: an `[N, H, W, C]` array in an .npy (memory-mapped) or .npz
    (optionally with a `[N]` label array);
  - `FolderSource`: PNG / JPEG files under a folder, decoded batch by batch (never all at once);
    one subfolder per class gives labels;
  - `ForeignSavedModelSource`: any SavedModel with a signature that maps noise (and optionally
    labels) to images; the noise shape comes from the signature;
  - `RealDataSource`: held-out real images of a data set, with their labels.

Value ranges: uint8 data is [0, 255]; float data is detected as [0, 1], [-1, 1] or [0, 255]
(the narrowest that holds every value, 1e-3 tolerance), or given (`value_range`). The range used
and whether it was detected are in `describe()`, hence in the evaluation record. Values outside
the range by more than the tolerance are an error, never silently clipped.

Finite sources (arrays, folders, real data) visit their samples in a seeded random order by
default (`shuffle=True`): IS / AM Score split std uses contiguous splits, and files are often
stored class by class. `num_samples` may not exceed what they hold.
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
    SavedModelSource,
    _batch_sizes,
    open_source,
    resolve_saved_model,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "VALUE_RANGES",
    "ArraySource",
    "FolderSource",
    "ForeignSavedModelSource",
    "RealDataSource",
    "detect_value_range",
    "open_array",
    "open_generator",
    "real_data_row",
    "to_unit_range",
]

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


# ----------------------------------------------------------------------------------------------
# SavedModels from other tools.


class ForeignSavedModelSource(SampleSource):
    """A generator SavedModel from another tool, called through one of its signatures.

    Batch i feeds noise drawn statelessly from (seed, 2i) (the scheme our TrainerSource uses),
    shaped as the signature's noise input with the batch size in front, and, for conditional
    models, labels uniform over `num_classes` from (seed, 2i + 1): int `[B]`, or one-hot when the
    label input is float `[B, K]`. The output is channels-last images, or channels-first
    (`layout="nchw"`, or detected: `[B, C, H, W]` with C in {1, 3} and a last axis > 4). Its value
    range is detected on a probe batch (seeded apart from the evaluation) unless given, and every
    batch is checked against it.

    Args:
      path: SavedModel directory.
      signature: signature name (default "serving_default").
      input_name: noise input (default: the only float input, or the one named like noise / z).
      label_input: label input for conditional models (None: the model is unconditional).
      output_name: image output (default: the only output, or "images" / "output_0").
      num_classes: K of the labels (required with `label_input` unless it is one-hot [B, K]).
      noise: "normal" (N(0, I), default) or "uniform" (U[-1, 1]).
      layout: "auto", "nhwc" or "nchw".
      value_range, channels, pad: as ArraySource.
      dataset, data_options: the data set the model was trained on, if known.
    """

    def __init__(
        self,
        path: str,
        *,
        signature: str = "serving_default",
        input_name: str | None = None,
        label_input: str | None = None,
        output_name: str | None = None,
        num_classes: int | None = None,
        noise: str = "normal",
        layout: str = "auto",
        value_range: str | None = "auto",
        channels: int | None = None,
        pad: int = 0,
        dataset: str | None = None,
        data_options: dict | None = None,
    ):
        import tensorflow as tf

        resolved = resolve_saved_model(path)
        if resolved is None:
            raise FileNotFoundError(f"{path} is not a SavedModel (no saved_model.pb)")
        if noise not in ("normal", "uniform"):
            raise ValueError(f"--saved_model_noise must be normal or uniform, got {noise!r}")
        if layout not in ("auto", "nhwc", "nchw"):
            raise ValueError(f"--saved_model_layout must be auto, nhwc or nchw, got {layout!r}")
        self.path = os.path.abspath(resolved)
        self._loaded = tf.saved_model.load(self.path)
        signatures = self._loaded.signatures
        if signature not in signatures:
            raise ValueError(f"{path} has no signature {signature!r} (it has: "
                             f"{', '.join(sorted(signatures)) or 'none'})")  # fmt: skip
        self._fn = signatures[signature]
        inputs = self._fn.structured_input_signature[1]
        outputs = self._fn.structured_outputs
        self.signature = signature
        self.input_name = self._pick_input(inputs, input_name, label_input)
        spec = inputs[self.input_name]
        if not spec.dtype.is_floating:
            raise ValueError(
                f"noise input {self.input_name!r} is {spec.dtype.name}; expected float"
            )
        dims = spec.shape.as_list()
        if len(dims) < 2 or any(d is None for d in dims[1:]):
            raise ValueError(
                f"noise input {self.input_name!r} has shape {spec.shape}; need [batch, fixed dims...]"
            )
        self.noise_shape = tuple(dims[1:])
        self._noise_dtype = spec.dtype
        self.label_input = label_input
        self._label_spec = None
        self.num_classes = num_classes
        if label_input is not None:
            if label_input not in inputs:
                raise ValueError(f"signature {signature!r} has no input {label_input!r} (inputs: "
                                 f"{', '.join(sorted(inputs))})")  # fmt: skip
            self._label_spec = inputs[label_input]
            ldims = self._label_spec.shape.as_list()
            if len(ldims) == 2 and ldims[1] and self._label_spec.dtype.is_floating:
                if num_classes not in (None, ldims[1]):
                    raise ValueError(f"label input {label_input!r} is one-hot over {ldims[1]} "
                                     f"classes, not {num_classes}")  # fmt: skip
                self.num_classes = ldims[1]
            elif num_classes is None:
                raise ValueError(f"label input {label_input!r}: pass --num_classes (or a "
                                 "--classifier, whose classes are used)")  # fmt: skip
        extra = sorted(set(inputs) - {self.input_name, label_input})
        if extra:
            raise ValueError(f"signature {signature!r} has inputs we do not feed: "
                             f"{', '.join(extra)} (--saved_model_label_input?)")  # fmt: skip
        if output_name is None:
            names = sorted(outputs)
            output_name = (
                names[0]
                if len(names) == 1
                else next((n for n in ("images", "output_0", "output") if n in outputs), None)
            )
            if output_name is None:
                raise ValueError(f"signature {signature!r} has several outputs "
                                 f"({', '.join(names)}); pass --saved_model_output")  # fmt: skip
        if output_name not in outputs:
            raise ValueError(f"signature {signature!r} has no output {output_name!r} (outputs: "
                             f"{', '.join(sorted(outputs))})")  # fmt: skip
        self.output_name = output_name
        self.noise = noise
        self.conditional = label_input is not None
        self.dataset = dataset
        self.data_options = dict(data_options or {})

        probe = self._call(2**31 - 7, 0, 16)[0]
        if probe.ndim != 4:
            raise ValueError(f"output {output_name!r} has shape {probe.shape}; expected images "
                             "[N, H, W, C] or [N, C, H, W]")  # fmt: skip
        if layout == "auto":
            nchw = probe.shape[1] in (1, 3) and probe.shape[3] > 4
            layout = "nchw" if nchw else "nhwc"
        self.layout = layout
        if layout == "nchw":
            probe = probe.transpose(0, 2, 3, 1)
        self._adapter = _Adapter(probe.shape[1:], channels, pad)
        self.sample_shape = self._adapter.sample_shape
        requested = _range_name(value_range)
        lo, hi = float(probe.min()), float(probe.max())
        if requested is None:
            self.value_range = detect_value_range(lo, hi, probe.dtype, f"output {output_name!r}")
        else:
            _check_range(lo, hi, requested, f"output {output_name!r}")
            self.value_range = requested
        self._range_info = {"value_range": self.value_range, "range_detected": requested is None,
                            "probe_min": lo, "probe_max": hi}  # fmt: skip

    @staticmethod
    def _pick_input(inputs, name, label_input):
        if name is not None:
            if name not in inputs:
                raise ValueError(f"no input {name!r} (inputs: {', '.join(sorted(inputs))})")
            return name
        candidates = [n for n, s in inputs.items() if n != label_input and s.dtype.is_floating]
        if len(candidates) == 1:
            return candidates[0]
        named = [n for n in candidates if n.lower() in ("noise", "z", "latent", "latents", "input")]
        if len(named) == 1:
            return named[0]
        raise ValueError(f"cannot tell the noise input among {', '.join(sorted(inputs))}; pass "
                         "--saved_model_input")  # fmt: skip

    def _call(self, seed: int, index: int, n: int):
        import tensorflow as tf

        shape = [n, *self.noise_shape]
        s = tf.constant([seed, 2 * index], tf.int64)
        if self.noise == "normal":
            z = tf.random.stateless_normal(shape, s)
        else:
            z = tf.random.stateless_uniform(shape, s, -1.0, 1.0)
        feed = {self.input_name: tf.cast(z, self._noise_dtype)}
        labels = None
        if self.conditional:
            y = tf.random.stateless_uniform([n], tf.constant([seed, 2 * index + 1], tf.int64), 0,
                                            self.num_classes, dtype=tf.int32)  # fmt: skip
            labels = y.numpy()
            spec = self._label_spec
            if spec.dtype.is_floating and spec.shape.rank == 2:
                feed[self.label_input] = tf.one_hot(y, self.num_classes, dtype=spec.dtype)
            else:
                feed[self.label_input] = tf.reshape(tf.cast(y, spec.dtype), [n, *spec.shape[1:]])
        out = self._fn(**feed)[self.output_name].numpy()
        return out, labels

    def describe(self) -> dict[str, Any]:
        return {"type": "foreign_saved_model", "path": self.path, "signature": self.signature,
                "input": self.input_name, "label_input": self.label_input,
                "output": self.output_name, "noise": self.noise,
                "noise_shape": list(self.noise_shape), "layout": self.layout,
                "num_classes": self.num_classes, **self._range_info,
                **self._adapter.describe()}  # fmt: skip

    def batches(self, num_samples, batch_size, seed) -> Iterator[SampleBatch]:
        for i, n in _batch_sizes(num_samples, batch_size):
            out, labels = self._call(int(seed), i, n)
            if self.layout == "nchw":
                out = out.transpose(0, 2, 3, 1)
            if out.shape[1:] != tuple(self._adapter.input_shape):
                raise ValueError(f"batch {i} has shape {out.shape[1:]}, the first "
                                 f"{tuple(self._adapter.input_shape)}")  # fmt: skip
            if out.dtype != np.uint8:
                _check_range(float(out.min()), float(out.max()), self.value_range,
                             f"batch {i} of output {self.output_name!r}")  # fmt: skip
            images = self._adapter(out, self.value_range)
            if labels is None:
                yield SampleBatch(images, None, np.full(n, -1, np.int32))
            else:
                yield SampleBatch(images, labels, labels.copy())


# ----------------------------------------------------------------------------------------------
# Real data (the ceiling row).


class RealDataSource(ArraySource):
    """Real images of a data set split (default: the held-out test split) with their labels,
    through the same evaluation path as generated samples: the "real data" row of a table (its
    FID against the train statistics is FID(train, test))."""

    def __init__(
        self,
        dataset: str,
        *,
        split: str = "test",
        data_options: dict | None = None,
        data_dir: str | None = None,
        download: bool | None = None,
        shuffle: bool = True,
    ):
        from tf_amgan import data

        info = data.get_info(dataset, **(data_options or {}))
        if not info.is_image:
            raise ValueError(f"the real-data source needs an image data set, not {dataset!r}")
        images, labels = data.load_arrays(dataset, split, data_dir=data_dir, download=download,
                                           normalize=False, **(data_options or {}))  # fmt: skip
        super().__init__(images, labels, value_range="0,255", shuffle=shuffle,
                         description={"type": "real", "path": f"{dataset}:{split}",
                                      "split": split},
                         dataset=dataset, data_options=data_options)  # fmt: skip


def real_data_row(
    dataset: str,
    *,
    classifier=None,
    inception=None,
    metrics=("is", "am", "acc", "msssim", "fid"),
    data_options: dict | None = None,
    split: str = "test",
    num_samples: int | None = None,
    batch_size: int = 500,
    seed: int = 0,
    real_samples: int | None = None,
    data_dir: str | None = None,
    download: bool | None = None,
):
    """The "real data" row of a study table: held-out real images through `evaluate`.

    IS, AM Score, accuracy and max MS-SSIM of the `split` images (with their true labels), FID
    between the train statistics and `split` (FID train-vs-test). Metrics that need a network
    not given are dropped rather than failing, so a report can always ask for the row.

    Args:
      dataset, data_options: the data set (its options as the runs use them).
      classifier, inception: the evaluation networks (as for generated samples).
      metrics: wanted metric names (image metrics of `evaluate`).
      split: held-out split ("test"); num_samples: default the whole split.
      batch_size, seed, real_samples, data_dir, download: as EvalOptions (real_samples caps the
        train images of the FID statistics).

    Returns:
      {"metrics": {...}, "meta": {...}} as the study runner records a cell's final evaluation.
    """
    from tf_amgan.evaluation.runner import EvalOptions, evaluate
    from tf_amgan.io_utils import json_safe

    source = RealDataSource(dataset, split=split, data_options=data_options, data_dir=data_dir,
                            download=download)  # fmt: skip
    wanted = tuple(metrics)
    if classifier is None:
        wanted = tuple(m for m in wanted if m not in ("am", "am_v1", "mode", "acc"))
        if inception is None:
            wanted = tuple(m for m in wanted if m not in ("is", "fid", "prd"))
    if not wanted:
        raise ValueError("real_data_row: no metric left to compute without networks")
    n = source.num_available if num_samples is None else min(num_samples, source.num_available)
    options = EvalOptions(metrics=wanted, num_samples=n, batch_size=batch_size, seed=seed,
                          prd_samples=min(10000, n), real_samples=real_samples, data_dir=data_dir,
                          download=download)  # fmt: skip
    result = evaluate(source, options, classifier=classifier, inception=inception, dataset=dataset,
                      data_options=data_options)  # fmt: skip
    keep = ("source", "num_samples", "is_network", "feature_network", "acc_reference", "seconds")
    meta = {k: result.meta[k] for k in keep if k in result.meta}
    if "msssim" in result.meta:
        meta["msssim_grouping"] = result.meta["msssim"]["grouping"]
    return {"metrics": json_safe(result.metrics), "meta": json_safe(meta)}


def open_generator(
    generator: str,
    *,
    dataset: str | None = None,
    data_options: dict | None = None,
    num_classes: int | None = None,
    value_range: str | None = "auto",
    channels: int | None = None,
    pad: int = 0,
    shuffle: bool = True,
    images_key: str | None = None,
    labels_key: str | None = None,
    labels_path: str | None = None,
    on_bad_file: str = "fail",
    signature: str | None = None,
    input_name: str | None = None,
    label_input: str | None = None,
    output_name: str | None = None,
    noise: str = "normal",
    layout: str = "auto",
    real_split: str = "test",
    data_dir: str | None = None,
    download: bool | None = None,
):
    """The sample source `--generator` names, with its kind.

    "real" (the data set's `real_split`), an .npz / .npy file, a SavedModel called through
    `signature` when one is given, a run directory or tf-amgan SavedModel (model directory of
    versions), else a folder of PNG / JPEG files.

    Returns:
      (source, kind), kind in "real", "npz", "npy", "foreign_saved_model", "run_dir",
      "saved_model", "folder".
    """
    shared = dict(value_range=value_range, channels=channels, pad=pad)
    if generator == "real":
        if dataset is None:
            raise ValueError("--generator=real needs the data set: pass --dataset or --classifier")
        if (value_range not in (None, "auto")) or channels or pad:
            raise ValueError("--generator=real takes the data set as it is: drop --sample_range, "
                             "--sample_channels and --sample_pad")  # fmt: skip
        src = RealDataSource(dataset, split=real_split, data_options=data_options,
                             data_dir=data_dir, download=download, shuffle=shuffle)  # fmt: skip
        return src, "real"
    if not os.path.exists(generator):
        raise FileNotFoundError(f"--generator={generator} does not exist")
    if os.path.isfile(generator):
        if not generator.endswith((".npz", ".npy")):
            raise ValueError(f"--generator={generator}: files must be .npz or .npy arrays")
        src = open_array(generator, images_key=images_key, labels_key=labels_key,
                         labels_path=labels_path, shuffle=shuffle, dataset=dataset,
                         data_options=data_options, **shared)  # fmt: skip
        return src, src.describe()["type"]
    if signature is not None:
        src = ForeignSavedModelSource(
            generator, signature=signature, input_name=input_name, label_input=label_input,
            output_name=output_name, num_classes=num_classes, noise=noise, layout=layout,
            dataset=dataset, data_options=data_options, **shared,
        )  # fmt: skip
        return src, "foreign_saved_model"
    if os.path.isfile(os.path.join(generator, "config.json")):
        return open_source(generator, dataset, data_options)
    saved = resolve_saved_model(generator)
    if saved is not None:
        try:
            return SavedModelSource(saved, dataset, data_options), "saved_model"
        except ValueError as e:
            raise ValueError(f"{e}; for another tool's SavedModel pass --saved_model_signature "
                             "(and --saved_model_input / --saved_model_output)") from e  # fmt: skip
    try:
        src = FolderSource(generator, on_error=on_bad_file, shuffle=shuffle, dataset=dataset,
                           data_options=data_options, **shared)  # fmt: skip
    except ValueError as e:
        if "no PNG / JPEG files" not in str(e):
            raise
        raise FileNotFoundError(
            f"{generator} is not a run directory (config.json), a SavedModel (saved_model.pb), a "
            "model directory with integer versions, or a folder of PNG / JPEG files"
        ) from e
    return src, "folder"
