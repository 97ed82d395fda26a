"""2-D Gaussian mixtures with exact densities (spec D-4, D-5, D-7; Q-10).

Each mixture component is one class. `log_prob` is the exact mixture log-density (log-sum-exp),
used for the oracle NLL (E-6); it accepts NumPy arrays (computes in float64) or TF tensors
(computes in the tensor's float dtype, float16 promoted to float32).
"""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import scipy.special

__all__ = ["GaussianMixture", "MIXTURE_DEFAULTS", "get_mixture"]

# Defaults per data set. overlap10 (P002, D-5) is unspecified in the paper; our choice: 10 modes on
# a circle of radius 1.0 around (2, 2), std 0.35. Neighbouring means are 2·r·sin(π/10) = 0.618 =
# 1.77σ apart, below the 2σ at which an equal two-component mixture turns bimodal, so neighbours
# merge into one bump (Bhattacharyya coefficient exp(−d²/8σ²) = 0.68), and the ±3σ region
# (0 − 0.05, 4 + 0.05) fills P002's plotting box (0, 4) × (−1, 5).
MIXTURE_DEFAULTS = {
    "ring8": dict(std=0.01, radius=1.0, modes=8),  # P000 App. A (std, not variance: Q-10)
    "overlap10": dict(std=0.35, radius=1.0, modes=10, center=(2.0, 2.0)),
    "clusters4": dict(std=0.3),  # P003 §4.1
}
_CLUSTERS4_MEANS = ((-1.0, 2.0), (0.0, -2.0), (1.0, -1.0), (2.0, 1.0))
_CLUSTERS4_WEIGHTS = (0.1, 0.2, 0.3, 0.4)


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
    """Mixture of isotropic Gaussians, component k = class k.

    Attributes:
      means: `[K, d]` float64 component means.
      stds: `[K]` float64 per-component standard deviations (isotropic).
      weights: `[K]` float64 mixture weights (sum to 1).
      name: data set name.
    """

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    name: str = ""

    def __post_init__(self):
        means = np.atleast_2d(np.asarray(self.means, np.float64))
        k = means.shape[0]
        stds = np.broadcast_to(np.asarray(self.stds, np.float64), (k,)).copy()
        weights = np.asarray(self.weights, np.float64)
        if not np.all(np.isfinite(stds)) or np.any(stds <= 0):
            raise ValueError(f"stds must be positive, got {stds}")
        if weights.shape != (k,) or np.any(weights < 0) or not math.isclose(weights.sum(), 1.0):
            raise ValueError(f"weights must be [{k}] non-negative and sum to 1, got {weights}")
        for field, value in (("means", means), ("stds", stds), ("weights", weights)):
            value.setflags(write=False)
            object.__setattr__(self, field, value)

    @property
    def num_components(self) -> int:
        return self.means.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    # ---------------------------------------------------------------------------- densities
    def component_log_prob(self, x):
        """`[N, K]` log w_k + log N(x; μ_k, σ_k² I), for NumPy `[N, d]` or a TF tensor."""
        if _is_tensor(x):
            return self._component_log_prob_tf(x)
        x = np.asarray(x, np.float64)
        sq = np.sum((x[:, None, :] - self.means[None]) ** 2, axis=-1)
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        return (
            log_w
            - 0.5 * sq / self.stds**2
            - self.dim * np.log(self.stds)
            - 0.5 * self.dim * np.log(2.0 * np.pi)
        )

    def log_prob(self, x):
        """`[N]` exact log p(x) = logsumexp_k [log w_k + log N(x; μ_k, σ_k² I)] (E-6).

        Args:
          x: `[N, d]` NumPy array (float64 result) or TF tensor (result in its float dtype).
        """
        if _is_tensor(x):
            import tensorflow as tf

            return tf.reduce_logsumexp(self._component_log_prob_tf(x), axis=-1)
        return scipy.special.logsumexp(self.component_log_prob(x), axis=-1)

    def prob(self, x):
        """`[N]` exp(log_prob(x))."""
        if _is_tensor(x):
            import tensorflow as tf

            return tf.exp(self.log_prob(x))
        return np.exp(self.log_prob(x))

    def log_posterior(self, x):
        """`[N, K]` log p(k | x): the Bayes-optimal classifier of the mixture's classes."""
        comp = self.component_log_prob(x)
        if _is_tensor(x):
            import tensorflow as tf

            return comp - tf.reduce_logsumexp(comp, axis=-1, keepdims=True)
        return comp - scipy.special.logsumexp(comp, axis=-1, keepdims=True)

    def _component_log_prob_tf(self, x):
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        dtype = x.dtype if x.dtype in (tf.float32, tf.float64) else tf.float32
        x = tf.cast(x, dtype)
        means = tf.constant(self.means, dtype)
        stds = tf.constant(self.stds, dtype)
        sq = tf.reduce_sum(tf.square(x[:, None, :] - means[None]), axis=-1)
        log_w = tf.math.log(tf.constant(self.weights, dtype))
        return (
            log_w
            - 0.5 * sq / tf.square(stds)
            - self.dim * tf.math.log(stds)
            - tf.constant(0.5 * self.dim * math.log(2.0 * math.pi), dtype)
        )

    # ---------------------------------------------------------------------------- sampling
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draws n i.i.d. points with NumPy; deterministic in `seed`.

        Returns:
          x: `[n, d]` float32; labels: `[n]` int32 component indices.
        """
        rng = np.random.default_rng(seed)
        labels = rng.choice(self.num_components, size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        x = self.means[labels] + self.stds[labels, None] * noise
        return x.astype(np.float32), labels.astype(np.int32)

    def sample_tf(self, n, seed):
        """Stateless TF sampling (usable in tf.function / tf.data).

        Args:
          n: number of points (int or scalar tensor).
          seed: `[2]` int tensor.

        Returns:
          x: `[n, d]` float32; labels: `[n]` int32.
        """
        import tensorflow as tf

        n = tf.cast(n, tf.int32)
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        labels = tf.random.stateless_categorical(
            tf.constant(log_w[None], tf.float32), n, seeds[0], dtype=tf.int32
        )[0]
        noise = tf.random.stateless_normal([n, self.dim], seeds[1], dtype=tf.float32)
        means = tf.gather(tf.constant(self.means, tf.float32), labels)
        stds = tf.gather(tf.constant(self.stds, tf.float32), labels)
        return means + stds[:, None] * noise, labels


def _is_tensor(x) -> bool:
    tf = sys.modules.get("tensorflow")
    return tf is not None and (tf.is_tensor(x) or isinstance(x, tf.Variable))


def ring_means(modes: int, radius: float, center=(0.0, 0.0)) -> np.ndarray:
    """`[modes, 2]` means evenly spaced on a circle, the first at angle 0."""
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return np.asarray(center, np.float64) + radius * np.stack([np.cos(angles), np.sin(angles)], 1)


def get_mixture(name: str, **options) -> GaussianMixture:
    """The mixture behind a synthetic data set.

    Args:
      name: "ring8" (P000: 8 equal Gaussians on the unit circle, std 0.01; options std, radius,
        modes), "overlap10" (P002: see MIXTURE_DEFAULTS; options std, radius, modes, center) or
        "clusters4" (P003: centres (−1, 2), (0, −2), (1, −1), (2, 1), weights 0.1/0.2/0.3/0.4,
        std 0.3; option std).
      **options: overrides of MIXTURE_DEFAULTS; `num_samples` (finite-sample size, see
        `load_arrays`) is accepted and ignored here.

    Returns:
      GaussianMixture.
    """
    if name not in MIXTURE_DEFAULTS:
        raise ValueError(
            f"unknown synthetic data set {name!r}; choose from {tuple(MIXTURE_DEFAULTS)}"
        )
    params = dict(MIXTURE_DEFAULTS[name])
    options = {k: v for k, v in options.items() if k != "num_samples"}
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ValueError(f"data set {name!r} takes options {tuple(params)}, got unknown {unknown}")
    params.update({k: v for k, v in options.items() if v is not None})
    std = float(params["std"])
    if name == "clusters4":
        means = np.asarray(_CLUSTERS4_MEANS)
        weights = np.asarray(_CLUSTERS4_WEIGHTS)
    else:
        modes = int(params["modes"])
        if modes < 1:
            raise ValueError(f"modes must be >= 1, got {modes}")
        means = ring_means(modes, float(params["radius"]), params.get("center", (0.0, 0.0)))
        weights = np.full(modes, 1.0 / modes)
    return GaussianMixture(means=means, stds=np.full(len(means), std), weights=weights, name=name)
