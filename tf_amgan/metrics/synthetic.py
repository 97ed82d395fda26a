"""Metrics for synthetic Gaussian mixtures: oracle NLL, mode coverage, high-quality share.

Used for the P000 8-Gaussian ring (X-3, σ = 0.01 by default, Q-10) and the P003 4-cluster toy
(X-10). Pure NumPy, float64.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import scipy.special

__all__ = [
    "ModeCoverage",
    "gaussian_mixture_log_prob",
    "mode_coverage",
    "oracle_nll",
    "ring_means",
]


def ring_means(num_modes: int = 8, radius: float = 1.0) -> np.ndarray:
    """`[num_modes, 2]` means evenly spaced on a circle, the first at angle 0 (P000 App. A)."""
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _mixture_params(means, stds, weights):
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    m = means.shape[0]
    stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), (m,)).copy()
    if np.any(stds <= 0):
        raise ValueError("stds must be positive")
    if weights is None:
        weights = np.full(m, 1.0 / m)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (m,) or np.any(weights < 0) or not math.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must be [{m}] non-negative and sum to 1")
    return means, stds, weights


def _squared_distances(samples: np.ndarray, means: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != means.shape[1]:
        raise ValueError(f"samples must be [N, {means.shape[1]}], got {samples.shape}")
    return np.sum((samples[:, None, :] - means[None, :, :]) ** 2, axis=-1)  # [N, M]


def gaussian_mixture_log_prob(samples, means, stds, weights=None) -> np.ndarray:
    """Exact log density of a mixture of isotropic Gaussians, with log-sum-exp (E-6).

    log p(x) = logsumexp_m [log w_m - d/2·log(2πσ_m²) - ‖x - μ_m‖²/(2σ_m²)].

    Args:
      samples: `[N, d]` points.
      means: `[M, d]` component means.
      stds: scalar or `[M]` per-component standard deviation.
      weights: `[M]` mixture weights (default equal).

    Returns:
      `[N]` float64 log densities.
    """
    means, stds, weights = _mixture_params(means, stds, weights)
    d = means.shape[1]
    sq = _squared_distances(samples, means)
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
    log_comp = log_w - 0.5 * d * np.log(2.0 * np.pi * stds**2) - sq / (2.0 * stds**2)
    return scipy.special.logsumexp(log_comp, axis=1)


def oracle_nll(samples, log_prob_fn: Callable[[np.ndarray], np.ndarray]) -> float:
    """NLL by oracle: -(1/N) Σ_i log p_true(x_i) over generated samples (P000 App. A; E-6).

    Lower is better; P000 Fig. 7 plots its negative.

    Args:
      samples: `[N, d]` generated samples.
      log_prob_fn: the true log density, `[N, d]` -> `[N]` (e.g. a partial of
        `gaussian_mixture_log_prob` with the data generator's means and σ).

    Returns:
      The mean negative log-likelihood.
    """
    log_p = np.asarray(log_prob_fn(np.asarray(samples)), dtype=np.float64)
    if log_p.ndim != 1 or log_p.shape[0] != np.shape(samples)[0]:
        raise ValueError("log_prob_fn must return one value per sample")
    return float(-np.mean(log_p))


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """Mode statistics of samples from a Gaussian-mixture target.

    Attributes:
      counts: `[M]` samples within `num_std`·σ of each mode (a sample is assigned to its nearest
        mode in σ units, so overlapping balls do not double count).
      covered: `[M]` bool, counts >= min_count_threshold.
      num_covered: number of covered modes.
      coverage: num_covered / M.
      high_quality_fraction: share of samples within `num_std`·σ of some mode.
      min_count_threshold: the effective count threshold used.
      num_samples: N.
    """

    counts: np.ndarray
    covered: np.ndarray
    num_covered: int
    coverage: float
    high_quality_fraction: float
    min_count_threshold: int
    num_samples: int


def mode_coverage(
    samples,
    means,
    stds,
    *,
    num_std: float = 3.0,
    min_count: int = 1,
    min_fraction: float = 0.0,
) -> ModeCoverage:
    """Mode coverage and high-quality share (the usual 2-D mixture protocol, 3σ balls).

    A sample is "high quality" when it lies within `num_std` standard deviations (Euclidean) of
    some mode mean; a mode is covered when at least max(min_count, ceil(min_fraction·N)) samples
    are assigned to it.

    Args:
      samples: `[N, d]` generated samples.
      means: `[M, d]` mode means.
      stds: scalar or `[M]` isotropic standard deviations (use the data generator's σ).
      num_std: ball radius in σ units.
      min_count: minimum samples per covered mode.
      min_fraction: minimum share of all N samples per covered mode.

    Returns:
      ModeCoverage.
    """
    means, stds, _ = _mixture_params(means, stds, None)
    sq = _squared_distances(samples, means)
    n, m = sq.shape
    if n == 0:
        raise ValueError("no samples")
    scaled = np.sqrt(sq) / stds[None, :]
    nearest = np.argmin(scaled, axis=1)
    good = scaled[np.arange(n), nearest] <= num_std
    counts = np.bincount(nearest[good], minlength=m)
    threshold = max(int(min_count), math.ceil(min_fraction * n))
    covered = counts >= threshold
    return ModeCoverage(
        counts=counts,
        covered=covered,
        num_covered=int(covered.sum()),
        coverage=float(covered.mean()),
        high_quality_fraction=float(good.mean()),
        min_count_threshold=threshold,
        num_samples=n,
    )
