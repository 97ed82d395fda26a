"""MS-SSIM (Wang et al. 2003) for small images, and per-class diversity (P004 §4.2, P001 Table 3).

Standard 5-scale MS-SSIM with an 11x11 window needs images of at least 176x176, so
`tf.image.ssim_multiscale` cannot score 32x32 samples. `ms_ssim` follows the AM-GAN reference
code instead (seed-spec E-4 [CODE], Q-11):

- Gaussian window of size min(11, H, W) at every scale, with σ = 1.5·size/11, VALID padding;
- K1 = 0.01, K2 = 0.03, dynamic range L = hi - lo of `value_range` (2 for [-1, 1] images;
  images are shifted so that lo maps to 0, as the reference's `images + 1`);
- |σ12| in the contrast-structure term;
- 5 scales with 2x2 average pooling (SAME) between them, weights
  [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
- SSIM and cs maps averaged over height, width *and channels* at each scale.

With `shrink_window=False, abs_covariance=False, per_channel=True` on images of at least
176x176 with even sizes at every scale, the result equals `tf.image.ssim_multiscale` (tested).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

__all__ = [
    "MS_SSIM_WEIGHTS",
    "IntraClassMSSSIM",
    "gaussian_window",
    "intra_class_ms_ssim",
    "ms_ssim",
]


def gaussian_window(size: int, sigma: float) -> np.ndarray:
    """`[size, size]` normalised Gaussian (MATLAB `fspecial`; centred also for even sizes)."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2.0 * sigma**2))
    return g / g.sum()


def ms_ssim(
    images1,
    images2,
    *,
    value_range: tuple[float, float] = (-1.0, 1.0),
    filter_size: int = 11,
    filter_sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    power_factors=MS_SSIM_WEIGHTS,
    shrink_window: bool = True,
    abs_covariance: bool = True,
    per_channel: bool = False,
) -> tf.Tensor:
    """MS-SSIM of image pairs, [CODE] small-image variant by default (E-4, Q-11).

    Pure TF ops on static shapes, so it also runs inside a tf.function.

    Args:
      images1: `[N, H, W, C]` images with values in `value_range`.
      images2: `[N, H, W, C]` images, paired with images1 row by row.
      value_range: (lo, hi) of the pixel values; L = hi - lo.
      filter_size: Gaussian window size at full resolution (11).
      filter_sigma: Gaussian σ for `filter_size` (1.5).
      k1, k2: SSIM stabilisers (0.01, 0.03).
      power_factors: per-scale exponents; their number is the number of scales.
      shrink_window: use min(filter_size, H, W) at each scale with σ scaled alike ([CODE]).
        False keeps the full window and fails on scales smaller than it (tf.image behaviour).
      abs_covariance: use |σ12| ([CODE]); False as tf.image.
      per_channel: False ([CODE]): average the SSIM/cs maps over channels at each scale.
        True (tf.image): MS-SSIM per channel, then the mean over channels.

    Returns:
      `[N]` float32 MS-SSIM values in [0, 1]; 1 for identical images.
    """
    x = tf.cast(tf.convert_to_tensor(images1), tf.float32)
    y = tf.cast(tf.convert_to_tensor(images2), tf.float32)
    if x.shape.rank != 4 or x.shape != y.shape:
        raise ValueError(
            f"expected two [N, H, W, C] batches of one shape, got {x.shape}, {y.shape}"
        )
    lo, hi = (float(v) for v in value_range)
    dynamic_range = hi - lo
    if dynamic_range <= 0:
        raise ValueError(f"value_range must be increasing, got {value_range}")
    x, y = x - lo, y - lo
    c1 = (k1 * dynamic_range) ** 2
    c2 = (k2 * dynamic_range) ** 2
    channels = x.shape[-1]
    axes = [1, 2] if per_channel else [1, 2, 3]
    weights = tf.constant(power_factors, dtype=tf.float32)
    levels = len(power_factors)

    terms = []
    for level in range(levels):
        if level > 0:
            x = tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="SAME")
            y = tf.nn.avg_pool2d(y, ksize=2, strides=2, padding="SAME")
        height, width = x.shape[1], x.shape[2]
        size, sigma = filter_size, filter_sigma
        if shrink_window:
            size = min(filter_size, height, width)
            sigma = filter_sigma * size / filter_size
        elif height < size or width < size:
            raise ValueError(f"scale {level} is {height}x{width}, smaller than the {size} window")
        window = gaussian_window(size, sigma).astype(np.float32)
        kernel = tf.tile(tf.constant(window[:, :, None, None]), [1, 1, 5 * channels, 1])
        # One depthwise conv gives all five local moments.
        stacked = tf.concat([x, y, x * x, y * y, x * y], axis=-1)
        moments = tf.nn.depthwise_conv2d(stacked, kernel, [1, 1, 1, 1], padding="VALID")
        mu1, mu2, e11, e22, e12 = tf.split(moments, 5, axis=-1)
        var1 = e11 - mu1 * mu1
        var2 = e22 - mu2 * mu2
        cov = e12 - mu1 * mu2
        if abs_covariance:
            cov = tf.abs(cov)
        luminance = (2.0 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)
        cs = (2.0 * cov + c2) / (var1 + var2 + c2)
        # relu as tf.image; a no-op for valid inputs with |σ12|, where every term is positive.
        if level < levels - 1:
            terms.append(tf.nn.relu(tf.reduce_mean(cs, axis=axes)))
        else:
            terms.append(tf.nn.relu(tf.reduce_mean(luminance * cs, axis=axes)))
    stacked_terms = tf.stack(terms, axis=-1)  # [N, levels] or [N, C, levels]
    value = tf.reduce_prod(tf.pow(stacked_terms, weights), axis=-1)
    if per_channel:
        value = tf.reduce_mean(value, axis=-1)
    return value


@dataclasses.dataclass(frozen=True)
class IntraClassMSSSIM:
    """Per-class mean MS-SSIM of random within-class pairs (P004 §4.2; P001 Table 3; E-4).

    Higher = more similar = less diverse. Classes with fewer than 2 samples have NaN entries.

    Attributes:
      per_class_mean: `[K]` mean MS-SSIM per class.
      per_class_std: `[K]` std of the pair scores per class.
      per_class_count: `[K]` samples per class.
      max: max over classes of the mean (P001 Table 3 "Max MS-SSIM among 10 classes").
      argmax: the class attaining `max`.
      mean: mean over classes of the per-class mean.
      mean_std: mean over classes of the per-class std (P004: 0.06 real, 0.08 samples).
      threshold: the threshold used for `fraction_below` (P004: the real data's `max`), or None.
      fraction_below: fraction of scored classes with mean < threshold (P004: 84.7%), or None.
      pairs_per_class: random pairs per class.
      label_source: how samples were grouped ("conditioning", "model_argmax",
        "eval_classifier", "real", ...), recorded as the caller stated it (Q-11).
    """

    per_class_mean: np.ndarray
    per_class_std: np.ndarray
    per_class_count: np.ndarray
    max: float
    argmax: int
    mean: float
    mean_std: float
    threshold: float | None
    fraction_below: float | None
    pairs_per_class: int
    label_source: str


def intra_class_ms_ssim(
    images,
    labels,
    *,
    num_classes: int | None = None,
    pairs_per_class: int = 100,
    threshold: float | None = None,
    label_source: str = "unspecified",
    seed: int = 0,
    batch_size: int = 500,
    **ms_ssim_kwargs,
) -> IntraClassMSSSIM:
    """Intra-class diversity: mean MS-SSIM over random pairs within each group (E-4, Q-11).

    Pairs (i, j), i != j, are drawn uniformly (with replacement across pairs) inside each group.
    The grouping is whatever `labels` holds: the conditioning label (predefined models), the
    model's own argmax class (dynamic models, [CODE]) or an evaluation classifier's argmax.

    Args:
      images: `[N, H, W, C]` images (values in `value_range`, default [-1, 1]).
      labels: `[N]` int group of each image.
      num_classes: K (default max(labels) + 1).
      pairs_per_class: random pairs per class (our default 100; unspecified in the papers).
      threshold: if given, also report the fraction of classes whose mean is below it (P004 uses
        the maximum class mean of the real training data: `real_result.max`).
      label_source: recorded in the result.
      seed: pair-sampling seed.
      batch_size: pairs per `ms_ssim` call (memory bound).
      **ms_ssim_kwargs: forwarded to `ms_ssim` (value_range, filter_size, ...).

    Returns:
      IntraClassMSSSIM.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).astype(np.int64)
    if images.ndim != 4 or labels.shape != (images.shape[0],):
        raise ValueError(
            f"need [N, H, W, C] images and [N] labels, got {images.shape}, {labels.shape}"
        )
    if pairs_per_class < 1:
        raise ValueError("pairs_per_class must be >= 1")
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must lie in [0, {k})")
    rng = np.random.default_rng(seed)
    counts = np.bincount(labels, minlength=k)[:k]
    first, second, owner = [], [], []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        n = members.size
        if n < 2:
            continue
        i = rng.integers(0, n, size=pairs_per_class)
        j = (i + rng.integers(1, n, size=pairs_per_class)) % n  # uniform over j != i
        first.append(members[i])
        second.append(members[j])
        owner.append(np.full(pairs_per_class, c))
    means = np.full(k, np.nan)
    stds = np.full(k, np.nan)
    if owner:
        first, second, owner = (np.concatenate(a) for a in (first, second, owner))
        scores = np.concatenate(
            [
                ms_ssim(
                    images[first[s : s + batch_size]],
                    images[second[s : s + batch_size]],
                    **ms_ssim_kwargs,
                ).numpy()
                for s in range(0, first.size, batch_size)
            ]
        ).astype(np.float64)
        for c in np.unique(owner):
            means[c] = scores[owner == c].mean()
            stds[c] = scores[owner == c].std()
    scored = ~np.isnan(means)
    if not scored.any():
        raise ValueError("no class has two or more samples")
    fraction = None if threshold is None else float(np.mean(means[scored] < threshold))
    return IntraClassMSSSIM(
        per_class_mean=means,
        per_class_std=stds,
        per_class_count=counts,
        max=float(np.nanmax(means)),
        argmax=int(np.nanargmax(means)),
        mean=float(np.nanmean(means)),
        mean_std=float(np.nanmean(stds)),
        threshold=threshold,
        fraction_below=fraction,
        pairs_per_class=pairs_per_class,
        label_source=label_source,
    )
