"""Image data sets through tensorflow-datasets, held in memory as uint8 (spec D-1..D-3).

Where the data comes from, in order:
  1. tfds' own builder (`cifar10`, `cifar100`, `mnist`, `fashion_mnist`) already prepared in data_dir;
  2. our manual-download builder (`local_fashion_mnist`, `tiny_imagenet`, see builders.py), already
     prepared, or prepared now from local files (no network; allowed even with downloads disabled);
  3. a tfds download, if allowed (`download=True`, or `None` and the source host answers a 2.5 s
     probe; never with TF_AMGAN_NO_DOWNLOAD=1 or `download=False`);
  4. otherwise DatasetUnavailableError, within seconds, saying how to get the data.
Preparation always goes through `builders.prepare_atomically` (temp dir, then rename).

Post-processing: MNIST/Fashion-MNIST are zero-padded 28→32 (2 px each side, as the AM-GAN code,
D-3) unless `pad_to_32=False`; Tiny-ImageNet 64→`image_size` (default 32) by area averaging, i.e.
exact 2x2 means for 32 (antialiased, as the AM-GAN code's preprocess.py), rounded to uint8.
Float images are (x − 127.5) / 127.5 in [−1, 1] (D-1 says the AM-GAN code divides by 128).
"""

from __future__ import annotations

import collections
import logging
import os
import threading

import numpy as np

from tf_amgan.data import registry

__all__ = ["load_arrays", "load_uint8", "to_float"]


class _DropTfdsDtypeWarning(logging.Filter):
    """tfds 4.9 decodes `Tensor(encoding=BYTES)` features via its own deprecated `.dtype`."""

    def filter(self, record):
        return "`FeatureConnector.dtype` is deprecated" not in record.getMessage()


logging.getLogger("absl").addFilter(_DropTfdsDtypeWarning())

_CACHE_SIZE = 2
_cache: collections.OrderedDict = collections.OrderedDict()
_cache_lock = threading.Lock()
_LOAD_BATCH = 2000


def to_float(images):
    """uint8 `[..., H, W, C]` → float32 in [−1, 1] via (x − 127.5) / 127.5 (NumPy or tensor)."""
    if isinstance(images, np.ndarray):
        return (images.astype(np.float32) - 127.5) / 127.5
    import tensorflow as tf

    return (tf.cast(images, tf.float32) - 127.5) / 127.5


def load_arrays(
    name: str,
    split: str = "train",
    data_dir: str | None = None,
    download: bool | None = None,
    *,
    normalize: bool = True,
    **options,
) -> tuple[np.ndarray, np.ndarray]:
    """A whole split as NumPy arrays.

    Args:
      name: data set name (image or synthetic).
      split: "train" or "test" (Tiny-ImageNet: "test" is its labelled validation set); any other
        tfds split name is passed through for image sets.
      data_dir: tfds data dir (default $TF_AMGAN_DATA_DIR or ~/tensorflow_datasets).
      download: True / False / None (auto: only if the download host is reachable).
      normalize: float32 in [−1, 1] (default) or, if False, the cached read-only uint8 array.
      **options: data set options (`pad_to_32`, `image_size`, `manual_dir`; synthetic: mixture
        options and `num_samples`, default 10,000, drawn with seed 0 for "train", 1 for "test").

    Returns:
      images `[N, H, W, C]` (synthetic: points `[N, 2]` float32), labels `[N]` int32.

    Raises:
      DatasetUnavailableError: the data is not there and cannot be obtained now.
    """
    if name in registry.SYNTHETIC_DATASETS:
        registry.check_options(name, options)
        from tf_amgan.data import synthetic

        n = int(options.get("num_samples") or 10000)
        mixture = synthetic.get_mixture(name, **options)
        return mixture.sample(n, seed=0 if split == "train" else 1)
    images, labels = load_uint8(name, split, data_dir=data_dir, download=download, **options)
    return (to_float(images) if normalize else images), labels.copy()


def load_uint8(
    name: str,
    split: str = "train",
    data_dir: str | None = None,
    download: bool | None = None,
    **options,
) -> tuple[np.ndarray, np.ndarray]:
    """Like `load_arrays(normalize=False)`; results are cached (2 entries) and read-only."""
    registry.check_options(name, options)
    spec = registry.image_spec(name)
    data_dir = registry.resolve_data_dir(data_dir)
    split = spec.test_split if split == "test" else split
    shape = registry.image_shape(name, options)
    key = (name, split, data_dir, shape)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    builder_name = ensure_prepared(name, data_dir, download, options.get("manual_dir"))
    images, labels = _read_split(builder_name, split, data_dir, shape)
    images.setflags(write=False)
    labels.setflags(write=False)
    with _cache_lock:
        _cache[key] = (images, labels)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return images, labels


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _is_prepared(builder_name: str, data_dir: str) -> bool:
    import tensorflow_datasets as tfds

    from tf_amgan.data import builders  # noqa: F401  (registers our builders)

    # Checking the files first is cheap and avoids constructing a builder without data (tfds
    # then warns and leaks an empty temp dir).
    version = str(tfds.builder_cls(builder_name).VERSION)
    if not os.path.exists(os.path.join(data_dir, builder_name, version, "dataset_info.json")):
        return False
    return tfds.builder(builder_name, data_dir=data_dir).is_prepared()


def _default_manual_dir(name: str, data_dir: str) -> str:
    if name == "fashion_mnist":
        from tf_amgan.data import builders

        return builders.DEBIAN_FASHION_MNIST_DIR
    return os.path.join(data_dir, "downloads", "manual")


def _manual_files_present(name: str, manual_dir: str) -> bool:
    from tf_amgan.data import builders

    if name == "fashion_mnist":
        return all(
            any(os.path.exists(os.path.join(manual_dir, stem + ext)) for ext in (".gz", ""))
            for pair in builders.FASHION_MNIST_FILES.values()
            for stem in pair
        )
    return os.path.exists(os.path.join(manual_dir, builders.TINY_IMAGENET_ZIP))


def ensure_prepared(
    name: str, data_dir: str, download: bool | None, manual_dir: str | None = None
) -> str:
    """Makes sure a tfds builder for `name` is prepared in `data_dir`; returns the builder name."""
    from tf_amgan.data import builders

    spec = registry.image_spec(name)
    if spec.tfds_name and _is_prepared(spec.tfds_name, data_dir):
        return spec.tfds_name
    manual_dir = os.path.abspath(
        os.path.expanduser(manual_dir or _default_manual_dir(name, data_dir))
    )
    if spec.local_builder:
        if _is_prepared(spec.local_builder, data_dir):
            return spec.local_builder
        if _manual_files_present(name, manual_dir):
            try:
                builders.prepare_atomically(spec.local_builder, data_dir, manual_dir=manual_dir)
            except Exception as e:  # corrupt or incomplete manual files
                raise registry.DatasetUnavailableError(
                    f"Preparing {name!r} from {manual_dir} into {data_dir} failed "
                    f"({type(e).__name__}: {e}). " + _how_to_get(name, spec, data_dir, manual_dir)
                ) from e
            return spec.local_builder
    allowed, why = registry.download_allowed(download, spec.host)
    if spec.tfds_name and allowed:
        try:
            builders.prepare_atomically(spec.tfds_name, data_dir)
        except Exception as e:  # network errors come in many types (requests, urllib3, OSError)
            raise registry.DatasetUnavailableError(
                f"Downloading {name!r} into {data_dir} failed ({type(e).__name__}: {e}). "
                + _how_to_get(name, spec, data_dir, manual_dir)
            ) from e
        return spec.tfds_name
    if not spec.tfds_name:
        why = f"{builders.TINY_IMAGENET_ZIP} is not in {manual_dir}"
    raise registry.DatasetUnavailableError(
        f"Data set {name!r} is not prepared in {data_dir} and {why}. "
        + _how_to_get(name, spec, data_dir, manual_dir)
    )


def _how_to_get(name, spec, data_dir, manual_dir) -> str:
    from tf_amgan.data import builders

    offline = (
        "To train without internet use --dataset=fashion_mnist: `apt-get install "
        "dataset-fashion-mnist` provides it offline."
    )
    if name == "tiny_imagenet":
        return (
            f"Download {builders.TINY_IMAGENET_URL} and put {builders.TINY_IMAGENET_ZIP} into "
            f"{manual_dir} (or pass manual_dir=); it is prepared once into {data_dir}. " + offline
        )
    if name == "fashion_mnist":
        return (
            "Install Debian's package with `apt-get install dataset-fashion-mnist` (files in "
            f"{builders.DEBIAN_FASHION_MNIST_DIR}, prepared offline), or pass manual_dir= with "
            "the four Fashion-MNIST idx .gz files, or allow downloads (--download=true)."
        )
    return (
        f'Get it with internet access: run with --download=true (or `python -c "import '
        f"tensorflow_datasets as tfds; tfds.builder('{spec.tfds_name}', "
        f"data_dir='{data_dir}').download_and_prepare()\"`), or copy a prepared "
        f"{spec.tfds_name}/<version> directory into {data_dir} (--data_dir or "
        f"${registry.DATA_DIR_ENV}). " + offline
    )


def _read_split(
    builder_name: str, split: str, data_dir: str, shape
) -> tuple[np.ndarray, np.ndarray]:
    """Reads a prepared split into preallocated uint8 arrays, padding/resizing batch by batch."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    info = tfds.builder(builder_name, data_dir=data_dir).info
    if split not in info.splits:
        raise ValueError(f"{builder_name} has splits {sorted(info.splits)}, not {split!r}")
    num = info.splits[split].num_examples
    batches = _vectorized_batches(info, split)
    if batches is None:  # features we cannot batch-parse: tfds' per-example reader
        batches = tfds.load(
            builder_name,
            split=split,
            data_dir=data_dir,
            download=False,
            as_supervised=True,
            batch_size=_LOAD_BATCH,
            shuffle_files=False,
        )
    images = np.empty((num, *shape), np.uint8)
    labels = np.empty((num,), np.int32)
    height, width = shape[:2]
    pos = 0
    for x, y in batches:
        h, w = x.shape[1], x.shape[2]
        if h < height:  # zero padding, 28 -> 32 (2 px each side)
            top, left = (height - h) // 2, (width - w) // 2
            x = tf.pad(x, [[0, 0], [top, height - h - top], [left, width - w - left], [0, 0]])
        elif h > height:  # area averaging (antialiased), 64 -> 32 = exact 2x2 means
            x = tf.image.resize(tf.cast(x, tf.float32), [height, width], method="area")
            x = tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)
        n = int(x.shape[0])
        images[pos : pos + n] = x.numpy()
        labels[pos : pos + n] = y.numpy()
        pos += n
    if pos != num:
        raise ValueError(f"{builder_name}/{split}: read {pos} examples, dataset_info says {num}")
    return images, labels


def _vectorized_batches(info, split):
    """The split's TFRecords parsed a batch at a time and decoded by tfds' own feature
    connectors (`decode_batch_example`), in tfds' file order. 2-5x faster than the per-example
    `tfds.load` reader (Fashion-MNIST: 0.5 s instead of 2.5 s). None if the features are not
    plain scalars in TFRecord files."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if info.file_format != tfds.core.FileFormat.TFRECORD or not info.supervised_keys:
        return None
    image_key, label_key = info.supervised_keys
    specs = {}
    for key in (image_key, label_key):
        serialized = info.features[key].get_serialized_info()
        if not isinstance(serialized, tfds.features.TensorInfo) or serialized.shape != ():
            return None
        specs[key] = tf.io.FixedLenFeature([], serialized.tf_dtype)
    image_feature, label_feature = info.features[image_key], info.features[label_key]
    files = [os.fspath(path) for path in info.splits[split].filepaths]

    def decode(serialized):
        parsed = tf.io.parse_example(serialized, specs)
        return (
            image_feature.decode_batch_example(parsed[image_key]),
            label_feature.decode_batch_example(parsed[label_key]),
        )

    return (
        tf.data.TFRecordDataset(files)
        .batch(_LOAD_BATCH)
        .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(2)
    )
