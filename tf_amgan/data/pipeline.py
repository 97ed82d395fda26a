"""Training/evaluation input pipelines with a random-access, resumable batch order.

Determinism contract: batch s (s = 0, 1, ...) depends only on (seed, s). Image sets: the examples
form an endless stream of epochs, epoch e being a pseudorandom permutation of the N examples keyed
by (seed, e) (`RandomIndexShuffle`, evaluated pointwise, so nothing is materialised or skipped);
batch s holds stream positions [s·B, (s+1)·B), which may straddle two epochs. Every example appears
exactly once per epoch and epochs are reshuffled. Synthetic sets draw batch s i.i.d. from the
mixture with a stateless seed derived from (seed, s). `start_step` simply starts the batch counter,
so resuming costs nothing.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf_amgan.data import registry

__all__ = ["get_dataset"]

_SPLIT_SALT = {"train": 0x5EED0001, "test": 0x5EED0002, "validation": 0x5EED0002}
_INT64_MAX = np.iinfo(np.int64).max


def _salt(split: str) -> int:
    return _SPLIT_SALT.get(split, 0x5EED0000 + (sum(map(ord, split)) & 0xFFFF))


def get_dataset(
    name: str,
    *,
    split: str = "train",
    batch_size: int,
    seed: int = 0,
    start_step: int = 0,
    shuffle: bool = True,
    repeat: bool = True,
    drop_remainder: bool = True,
    data_dir: str | None = None,
    download: bool | None = None,
    **options,
) -> tf.data.Dataset:
    """Batched, shuffled, prefetched `tf.data.Dataset` of (images float32 `[B, ...]`, labels int32 `[B]`).

    Args:
      name: data set name (see `tf_amgan.data.DATASETS`).
      split: "train" or "test" (Tiny-ImageNet "test" = its labelled validation set).
      batch_size: B, the global batch size.
      seed: data-order seed (image sets) / sampling seed (synthetic).
      start_step: index of the first batch to produce (resume).
      shuffle: image sets: reshuffle every epoch; False keeps stored order (synthetic: ignored).
      repeat: endless stream; False stops after one epoch (synthetic: `num_samples` points,
        default 10,000).
      drop_remainder: without repeat, drop the last partial batch.
      data_dir, download, **options: see `load_arrays`.

    Returns:
      tf.data.Dataset; images in [−1, 1] (`[B, H, W, C]`, or `[B, 2]` for the mixtures).
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if start_step < 0:
        raise ValueError(f"start_step must be >= 0, got {start_step}")
    registry.check_options(name, options)
    if name in registry.SYNTHETIC_DATASETS:
        ds = _synthetic(name, split, batch_size, seed, start_step, repeat, drop_remainder, options)
    else:
        from tf_amgan.data import images

        x, y = images.load_uint8(name, split, data_dir=data_dir, download=download, **options)
        ds = _indexed(x, y, split, batch_size, seed, start_step, shuffle, repeat, drop_remainder)
    opts = tf.data.Options()
    opts.deterministic = True
    return ds.with_options(opts).prefetch(tf.data.AUTOTUNE)


def _batch_steps(num: int, batch_size: int, start_step: int, repeat: bool, drop_remainder: bool):
    if repeat:
        return tf.data.Dataset.range(start_step, _INT64_MAX)
    num_batches = num // batch_size if drop_remainder else -(-num // batch_size)
    return tf.data.Dataset.range(start_step, max(start_step, num_batches))


def _indexed(images, labels, split, batch_size, seed, start_step, shuffle, repeat, drop_remainder):
    num = int(labels.shape[0])
    if num == 0:
        raise ValueError("empty split")
    images_t = tf.constant(images)  # uint8, gathered per batch (CIFAR-10: 150 MB)
    labels_t = tf.constant(labels, tf.int32)
    n64 = tf.constant(num, tf.int64)
    bsz = tf.constant(batch_size, tf.int64)
    salt, seed = int(_salt(split)), int(seed)
    static_batch = batch_size if (repeat or drop_remainder) else None

    def make_batch(step):
        first = step * bsz
        pos = tf.range(first, tf.minimum(first + bsz, n64) if not repeat else first + bsz)
        epoch, index = pos // n64, pos % n64
        if shuffle:
            count = tf.shape(pos, out_type=tf.int64)[0]
            keys = tf.stack([tf.fill([count], tf.constant(salt, tf.int64)),
                             tf.fill([count], tf.constant(seed, tf.int64)), epoch], axis=1)  # fmt: skip
            index = tf.raw_ops.RandomIndexShuffle(
                index=index, seed=keys, max_index=tf.fill([count], n64 - 1), rounds=4
            )
        x = (tf.cast(tf.gather(images_t, index), tf.float32) - 127.5) / 127.5
        y = tf.gather(labels_t, index)
        x = tf.ensure_shape(x, [static_batch, *images.shape[1:]])
        y = tf.ensure_shape(y, [static_batch])
        return x, y

    steps = _batch_steps(num, batch_size, start_step, repeat, drop_remainder)
    return steps.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _synthetic(name, split, batch_size, seed, start_step, repeat, drop_remainder, options):
    from tf_amgan.data import synthetic

    mixture = synthetic.get_mixture(name, **options)
    num = int(options.get("num_samples") or 10000)
    base = tf.constant([_salt(split), int(seed)], tf.int64)
    bsz = tf.constant(batch_size, tf.int64)

    def make_batch(step):
        size = bsz if repeat else tf.minimum(bsz, num - step * bsz)
        x, y = mixture.sample_tf(size, tf.random.experimental.stateless_fold_in(base, step))
        if repeat or drop_remainder:
            x = tf.ensure_shape(x, [batch_size, mixture.dim])
            y = tf.ensure_shape(y, [batch_size])
        return x, y

    steps = _batch_steps(num, batch_size, start_step, repeat, drop_remainder)
    return steps.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
