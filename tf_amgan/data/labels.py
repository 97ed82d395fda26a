"""Class labels for predefined labeling (spec §1.2: y ~ p(y), fed to G as one-hot) and class priors."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf_amgan.data import registry

__all__ = ["class_prior", "sample_labels"]


def sample_labels(seed, batch_size, num_classes: int, prior=None, *, stratified: bool = False):
    """Samples `[batch_size]` int32 class labels, statelessly (usable inside tf.function).

    By default labels are i.i.d. uniform over the K classes (class-balanced in expectation, spec
    §1.2 "uniform for CIFAR-10"), or i.i.d. from `prior`. With `stratified=True` every batch is
    balanced exactly: systematic sampling gives class k either floor(B·p_k) or ceil(B·p_k) times,
    in a random order.

    Args:
      seed: `[2]` int32/int64 tensor or sequence; the same seed gives the same labels.
      batch_size: B, a Python int or scalar int tensor.
      num_classes: K. If 0/None (unlabelled data) the result is all zeros.
      prior: optional `[K]` class probabilities (NumPy or tensor), e.g. `class_prior(name)`.
        Classes with probability 0 are never drawn.
      stratified: exact per-batch balance instead of i.i.d. draws.

    Returns:
      `[B]` int32 labels in [0, K).
    """
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    if not num_classes:
        return tf.zeros([batch_size], tf.int32)
    if prior is None:
        probs = tf.fill([num_classes], tf.constant(1.0 / num_classes, tf.float32))
    else:
        if not tf.is_tensor(prior):
            prior = np.asarray(prior, np.float64)
            if prior.shape != (num_classes,) or np.any(prior < 0) or abs(prior.sum() - 1) > 1e-6:
                raise ValueError(f"prior must be [{num_classes}] probabilities summing to 1")
        probs = tf.cast(tf.convert_to_tensor(prior), tf.float32)
    if not stratified:
        logits = tf.math.log(probs)[None, :]  # log 0 = -inf: never drawn
        return tf.random.stateless_categorical(logits, batch_size, seed, dtype=tf.int32)[0]
    # Systematic sampling: B points u0 + j/B on [0, 1) read off the CDF, then shuffled.
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    n = tf.cast(batch_size, tf.float64)
    u0 = tf.random.stateless_uniform([], seeds[0], dtype=tf.float64)
    points = (u0 + tf.range(n, dtype=tf.float64)) / n
    cdf = tf.cumsum(tf.cast(probs, tf.float64))
    cdf = cdf / cdf[-1]
    labels = tf.searchsorted(cdf, points, side="right", out_type=tf.int32)
    labels = tf.minimum(labels, num_classes - 1)
    return tf.random.experimental.stateless_shuffle(labels, seeds[1])


def class_prior(
    name: str,
    *,
    from_data: bool = False,
    data_dir: str | None = None,
    download: bool | None = None,
    **options,
) -> np.ndarray:
    """Training-set label frequencies C̄^train-style prior, `[K]` float64.

    Args:
      name: data set name.
      from_data: count the labels of the actual training split (loads the data) instead of using
        the published counts (image sets) or mixture weights (synthetic).
      data_dir, download, **options: as for `load_arrays`.
    """
    info = registry.get_info(name, **options)
    if not from_data or not info.is_image:
        return info.class_prior.copy()
    from tf_amgan.data import images

    _, labels = images.load_uint8(name, "train", data_dir=data_dir, download=download, **options)
    counts = np.bincount(labels, minlength=info.num_classes).astype(np.float64)
    return counts / counts.sum()
