"""Feature-based metrics: Fréchet distance (FID) and k-NN precision/recall.

Pure NumPy/SciPy in float64 on features of any network (P002/P003 use Inception pool features;
offline we use the in-project classifiers' penultimate features, Q-16). Neither metric is
reported by P000/P001/P004 (E-14a).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import scipy.linalg

__all__ = [
    "ClassFeatureStatistics",
    "FeatureStatistics",
    "IntraFID",
    "PrecisionRecall",
    "fid_from_features",
    "fid_from_statistics",
    "frechet_distance",
    "intra_fid",
    "intra_fid_from_statistics",
    "knn_radii",
    "precision_recall",
]


class FeatureStatistics:
    """Streaming mean and covariance of features (running sums, Chan et al.'s pairwise update).

    Memory is O(D²) whatever the number of samples (2048-d: 32 MiB). Batches are merged through
    their centred second moments, which avoids the cancellation of E[xxᵀ] - μμᵀ.

    Args:
      dim: feature dimension D (default: taken from the first batch).
    """

    def __init__(self, dim: int | None = None):
        self.dim = dim
        self.num_samples = 0
        self._mean = None if dim is None else np.zeros(dim)
        self._m2 = None if dim is None else np.zeros((dim, dim))

    @classmethod
    def from_features(cls, features, batch_size: int = 10_000) -> FeatureStatistics:
        """Statistics of a `[N, D]` array, accumulated in batches."""
        features = np.asarray(features)
        stats = cls(features.shape[1])
        for s in range(0, features.shape[0], batch_size):
            stats.update(features[s : s + batch_size])
        return stats

    def _merge(self, n_b: int, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        if self._mean is None:
            self.dim = mean_b.shape[0]
            self._mean = np.zeros(self.dim)
            self._m2 = np.zeros((self.dim, self.dim))
        if mean_b.shape != (self.dim,):
            raise ValueError(f"expected {self.dim}-d features, got {mean_b.shape[0]}-d")
        n_a = self.num_samples
        n = n_a + n_b
        delta = mean_b - self._mean
        self._m2 += m2_b + np.outer(delta, delta) * (n_a * n_b / n)
        self._mean += delta * (n_b / n)
        self.num_samples = n

    def update(self, features) -> FeatureStatistics:
        """Adds a `[B, D]` batch of features (any float dtype). Returns self."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"features must be [B, D], got {x.shape}")
        if x.shape[0] == 0:
            return self
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        self._merge(x.shape[0], mean_b, centred.T @ centred)
        return self

    def merge(self, other: FeatureStatistics) -> FeatureStatistics:
        """Adds another accumulator's samples (e.g. from another worker). Returns self."""
        if other.num_samples:
            self._merge(other.num_samples, other._mean, other._m2)
        return self

    @property
    def mean(self) -> np.ndarray:
        """`[D]` sample mean."""
        if self.num_samples == 0:
            raise ValueError("no features accumulated")
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """`[D, D]` unbiased sample covariance (ddof = 1, as np.cov in TTUR)."""
        if self.num_samples < 2:
            raise ValueError("covariance needs at least 2 samples")
        return self._m2 / (self.num_samples - 1)

    def save(self, path: str) -> None:
        """Writes the statistics to an .npz file (precomputed real-data statistics)."""
        if self.num_samples == 0:
            raise ValueError("no features accumulated")
        tmp = f"{path}.tmp.npz"
        np.savez(tmp, num_samples=self.num_samples, mean=self._mean, m2=self._m2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> FeatureStatistics:
        """Reads statistics written by `save`."""
        with np.load(path) as data:
            stats = cls(int(data["mean"].shape[0]))
            stats._merge(int(data["num_samples"]), data["mean"], data["m2"])
        return stats


def frechet_distance(mu1, sigma1, mu2, sigma2, *, eps: float = 1e-6) -> float:
    """Squared Fréchet distance ‖μ1 - μ2‖² + Tr(Σ1 + Σ2 - 2(Σ1Σ2)^½) (E-8; P002 §3.1, P003 §4.2).

    The square root is `scipy.linalg.sqrtm`, handled as TTUR / pytorch-fid do: if it is not
    finite (singular product, e.g. fewer samples than dimensions), eps·I is added to both
    covariances; a complex result whose diagonal has imaginary parts below 1e-3 is replaced by its
    real part, larger ones raise.

    Args:
      mu1, mu2: `[D]` means.
      sigma1, sigma2: `[D, D]` covariances.
      eps: diagonal offset for the singular case.

    Returns:
      The distance (lower is better; 0 for identical Gaussians up to round-off).

    Raises:
      ValueError: mismatched shapes or a significantly complex square root.
    """
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm has imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid_from_statistics(
    stats1: FeatureStatistics, stats2: FeatureStatistics, *, eps: float = 1e-6
) -> float:
    """FID between two accumulated feature statistics (E-8)."""
    return frechet_distance(stats1.mean, stats1.covariance, stats2.mean, stats2.covariance, eps=eps)


def fid_from_features(features1, features2, *, eps: float = 1e-6) -> float:
    """FID between two `[N, D]` feature arrays (E-8), e.g. real vs generated pool features."""
    return fid_from_statistics(
        FeatureStatistics.from_features(features1),
        FeatureStatistics.from_features(features2),
        eps=eps,
    )


# ----------------------------------------------------------------------------------------------
# Intra-class FID (FID per class, as the conditional / K+1 GAN literature reports it).


class ClassFeatureStatistics:
    """One FeatureStatistics per class: `update(features, labels)` routes each row to its class.

    Memory is O(K·D²) (10 classes of 128-d features: 1.3 MiB; of 2048-d Inception features:
    335 MiB). Classes are created on first use.

    Args:
      num_classes: K (labels must be in [0, K)).
      dim: feature dimension D (default: taken from the first batch).
    """

    def __init__(self, num_classes: int, dim: int | None = None):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.dim = dim
        self.classes: list[FeatureStatistics | None] = [None] * self.num_classes

    def update(self, features, labels) -> ClassFeatureStatistics:
        """Adds `[B, D]` features with their `[B]` int labels. Returns self."""
        x = np.asarray(features)
        y = np.asarray(labels).astype(np.int64)
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"need [B, D] features and [B] labels, got {x.shape}, {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(
                f"labels must be in [0, {self.num_classes}), got [{y.min()}, {y.max()}]"
            )
        for k in np.unique(y):
            if self.classes[k] is None:
                self.classes[k] = FeatureStatistics(self.dim or x.shape[1])
            self.classes[k].update(x[y == k])
        return self

    @property
    def counts(self) -> np.ndarray:
        """`[K]` samples per class."""
        return np.array([0 if s is None else s.num_samples for s in self.classes], np.int64)

    def save(self, path: str) -> None:
        """Writes every class's statistics to one .npz (atomically)."""
        present = [k for k, s in enumerate(self.classes) if s is not None and s.num_samples]
        if not present:
            raise ValueError("no features accumulated")
        dim = self.classes[present[0]].dim
        means, m2 = np.zeros((self.num_classes, dim)), np.zeros((self.num_classes, dim, dim))
        for k in present:
            means[k], m2[k] = self.classes[k]._mean, self.classes[k]._m2
        tmp = f"{path}.tmp.npz"
        np.savez(tmp, counts=self.counts, means=means, m2=m2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> ClassFeatureStatistics:
        """Reads statistics written by `save`."""
        with np.load(path) as data:
            counts, means, m2 = data["counts"], data["means"], data["m2"]
        stats = cls(counts.shape[0], means.shape[1])
        for k in np.flatnonzero(counts):
            stats.classes[k] = FeatureStatistics(means.shape[1])
            stats.classes[k]._merge(int(counts[k]), means[k], m2[k])
        return stats


@dataclasses.dataclass(frozen=True)
class IntraFID:
    """FID per class and its mean / max over the classes it is defined for.

    Attributes:
      mean, max: over classes with >= 2 samples on both sides (NaN if there is none).
      argmax: class of the max (-1 if none).
      per_class: `[K]` FID of each class (NaN where a side has < 2 samples).
      real_counts, fake_counts: `[K]` samples per class on each side.
      missing: classes without a FID (fewer than 2 generated or real samples); a generator that
        never produces class k is missing k, which the mean / max alone would hide.
    """

    mean: float
    max: float
    argmax: int
    per_class: np.ndarray
    real_counts: np.ndarray
    fake_counts: np.ndarray
    missing: tuple[int, ...]


def intra_fid_from_statistics(
    real: ClassFeatureStatistics, fake: ClassFeatureStatistics, *, eps: float = 1e-6
) -> IntraFID:
    """Intra-class FID: FID(real class k, generated class k) for every class k (Miyato & Koyama
    2018, used by the conditional / K+1 GAN papers), with its mean and max over classes."""
    if real.num_classes != fake.num_classes:
        raise ValueError(f"class counts differ: real {real.num_classes}, fake {fake.num_classes}")
    per_class = np.full(real.num_classes, np.nan)
    real_counts, fake_counts = real.counts, fake.counts
    for k in range(real.num_classes):
        if real_counts[k] >= 2 and fake_counts[k] >= 2:
            per_class[k] = fid_from_statistics(real.classes[k], fake.classes[k], eps=eps)
    defined = np.flatnonzero(np.isfinite(per_class))
    if defined.size:
        mean, argmax = float(per_class[defined].mean()), int(defined[np.argmax(per_class[defined])])
        worst = float(per_class[argmax])
    else:
        mean, argmax, worst = float("nan"), -1, float("nan")
    missing = tuple(int(k) for k in np.flatnonzero(~np.isfinite(per_class)))
    return IntraFID(mean=mean, max=worst, argmax=argmax, per_class=per_class,
                    real_counts=real_counts, fake_counts=fake_counts, missing=missing)  # fmt: skip


def intra_fid(
    real_features,
    real_labels,
    fake_features,
    fake_labels,
    *,
    num_classes: int | None = None,
    eps: float = 1e-6,
) -> IntraFID:
    """Intra-class FID of `[N, D]` real and `[M, D]` generated features with `[N]` / `[M]` labels
    (the conditioning label or a classifier's argmax). K defaults to the largest label + 1."""
    real_labels, fake_labels = np.asarray(real_labels), np.asarray(fake_labels)
    if num_classes is None:
        num_classes = int(max(real_labels.max(initial=-1), fake_labels.max(initial=-1))) + 1
    real = ClassFeatureStatistics(num_classes).update(real_features, real_labels)
    fake = ClassFeatureStatistics(num_classes).update(fake_features, fake_labels)
    return intra_fid_from_statistics(real, fake, eps=eps)


# ----------------------------------------------------------------------------------------------
# Precision and recall (Kynkäänniemi et al. 2019).


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _distance_block(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray):
    """`[len(a), len(b)]` Euclidean distances, via ‖a‖² + ‖b‖² - 2abᵀ (clamped at 0)."""
    d2 = a_sq[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(d2, 0.0))


def knn_radii(features, k: int = 3, *, batch_size: int = 1000) -> np.ndarray:
    """Distance of each sample to its k-th nearest other sample (the k-NN manifold radius).

    Args:
      features: `[N, D]`.
      k: neighbour rank (the sample itself is not counted).
      batch_size: rows per distance block; memory is O(batch_size · N).

    Returns:
      `[N]` float64 radii.
    """
    x = np.asarray(features, dtype=np.float64)
    if not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be in [1, N-1={x.shape[0] - 1}], got {k}")
    sq = _squared_norms(x)
    radii = np.empty(x.shape[0])
    for s in range(0, x.shape[0], batch_size):
        d = _distance_block(x[s : s + batch_size], sq[s : s + batch_size], x, sq)
        # Index k of the sorted row: index 0 is the sample itself (distance 0).
        radii[s : s + batch_size] = np.partition(d, k, axis=1)[:, k]
    return radii


def _coverage(
    manifold: np.ndarray, radii: np.ndarray, queries: np.ndarray, batch_size: int
) -> float:
    """Fraction of queries inside the union of balls B(manifold_j, radii_j)."""
    m_sq, q_sq = _squared_norms(manifold), _squared_norms(queries)
    inside = 0
    for s in range(0, queries.shape[0], batch_size):
        d = _distance_block(queries[s : s + batch_size], q_sq[s : s + batch_size], manifold, m_sq)
        inside += int(np.count_nonzero((d <= radii[None, :]).any(axis=1)))
    return inside / queries.shape[0]


@dataclasses.dataclass(frozen=True)
class PrecisionRecall:
    """k-NN manifold precision and recall (Kynkäänniemi et al. 2019; E-9, P003).

    Attributes:
      precision: fraction of generated samples inside the real manifold.
      recall: fraction of real samples inside the generated manifold.
      k: neighbour rank of the manifold radii.
    """

    precision: float
    recall: float
    k: int


def precision_recall(
    real_features, fake_features, *, k: int = 3, batch_size: int = 1000
) -> PrecisionRecall:
    """Improved precision and recall of a generative model (E-9; k = 3, the standard choice).

    The manifold of a set is the union of balls around its samples, each with the radius of the
    distance to its k-th nearest neighbour in the same set. Distances are computed in row blocks,
    so 10k x 10k 2048-d sets need only O(batch_size · 10k) memory.

    Args:
      real_features: `[N, D]` features of real samples.
      fake_features: `[M, D]` features of generated samples.
      k: neighbour rank (P003 does not state it; Q-19 → 3).
      batch_size: rows per distance block.

    Returns:
      PrecisionRecall.
    """
    real = np.asarray(real_features, dtype=np.float64)
    fake = np.asarray(fake_features, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need [N, D] and [M, D] features, got {real.shape}, {fake.shape}")
    real_radii = knn_radii(real, k, batch_size=batch_size)
    fake_radii = knn_radii(fake, k, batch_size=batch_size)
    return PrecisionRecall(
        precision=_coverage(real, real_radii, fake, batch_size),
        recall=_coverage(fake, fake_radii, real, batch_size),
        k=k,
    )
