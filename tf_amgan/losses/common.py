"""Shared, numerically stable loss math and the `Objective` interface.

Notation follows seed-spec §0.2: K real classes; a K+1 head emits logits l = [l_1..l_K, l_{K+1}]
(fake class last, 0-based index K); D = softmax(l); the overall real logit is
l_r = logsumexp(l_1..l_K) and D_r = sigmoid(l_r - l_{K+1}). A binary(+aux) head emits
[l_real, a_1..a_K]: D_r = sigmoid(l_real) and C = softmax(a).

Every function here takes logits (any float dtype, incl. float16), computes in float32 and uses
the stable forms of seed-spec §0.4 (logsumexp, log_softmax, softplus, sparse softmax CE), so it
stays finite and accurate for logits of magnitude 100. H(p, q) = -Σ_i p_i log q_i throughout.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence

import tensorflow as tf

__all__ = [
    "DYNAMIC",
    "PREDEFINED",
    "FAKE_LOGIT_CHOICES",
    "InputPenalty",
    "Objective",
    "as_float32",
    "as_labels",
    "binary_cross_entropy",
    "kplus1_logits",
    "log_real_probability",
    "real_logit",
    "soft_cross_entropy",
    "sparse_cross_entropy",
    "uniform_cross_entropy",
]

DYNAMIC = "dynamic"
PREDEFINED = "predefined"
FAKE_LOGIT_CHOICES = ("trainable", "zero")


# ----------------------------------------------------------------------------------------------
# Tensor helpers.


def as_float32(x, name: str = "logits") -> tf.Tensor:
    """Casts logits (float16/bfloat16/float32/float64) to float32; rejects non-float input."""
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise TypeError(f"{name} must be a float tensor, got dtype {x.dtype.name}")
    return tf.cast(x, tf.float32)


def as_labels(labels, name: str = "labels") -> tf.Tensor:
    """Integer class labels -> int32 `[batch]` (a trailing unit axis is squeezed)."""
    if labels is None:
        raise ValueError(f"{name} are required by this objective, got None")
    labels = tf.convert_to_tensor(labels)
    if not labels.dtype.is_integer:
        raise TypeError(f"{name} must be integer class indices, got dtype {labels.dtype.name}")
    if labels.shape.rank == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape.rank is not None and labels.shape.rank != 1:
        raise ValueError(f"{name} must have shape [batch], got {labels.shape}")
    return tf.cast(labels, tf.int32)


def check_logits(logits, units: int, name: str) -> tf.Tensor:
    """float32 `[batch, units]` logits, with a clear error for a wrong head width."""
    logits = as_float32(logits, name)
    if logits.shape.rank is not None and logits.shape.rank != 2:
        raise ValueError(f"{name} must have shape [batch, {units}], got {logits.shape}")
    if logits.shape.rank == 2 and logits.shape[-1] is not None and logits.shape[-1] != units:
        raise ValueError(
            f"{name} has {logits.shape[-1]} logits per example, this objective's head emits {units}"
        )
    return logits


def kplus1_logits(logits: tf.Tensor, fake_logit: str = "trainable") -> tf.Tensor:
    """The K+1 logits the softmax sees: with fake_logit="zero" the last one is replaced by 0.

    Q-6 / [CODE] `FAKE_LOGIT=False`: a constant zero fake logit gives the same function class as
    a trainable one (softmax is shift invariant); the emitted last logit is then ignored.
    """
    if fake_logit == "zero":
        return tf.concat([logits[:, :-1], tf.zeros_like(logits[:, -1:])], axis=-1)
    return logits


# ----------------------------------------------------------------------------------------------
# Cross-entropies (all per example, float32).


def sparse_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """H(onehot(labels), softmax(logits)) `[batch]`."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def soft_cross_entropy(targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """H(targets, softmax(logits)) `[batch]` for probability targets `[batch, n]` (no renorm).

    Its gradient w.r.t. the logits is softmax(logits) * Σ targets - targets, i.e. Lemma 1
    (-∂H(p̂, σ(l))/∂l = p̂ - σ(l)) for normalised targets.
    """
    return -tf.reduce_sum(tf.cast(targets, tf.float32) * tf.nn.log_softmax(logits), axis=-1)


def uniform_cross_entropy(logits: tf.Tensor) -> tf.Tensor:
    """H(u(·), softmax(logits)) = -mean_k log softmax(logits)_k, `[batch]` (u uniform)."""
    return -tf.reduce_mean(tf.nn.log_softmax(logits), axis=-1)


def binary_cross_entropy(target_real, logit: tf.Tensor) -> tf.Tensor:
    """H([a, 1-a], [sigmoid(l), 1-sigmoid(l)]) = a·softplus(-l) + (1-a)·softplus(l), `[batch]`.

    Args:
      target_real: the target real-probability a (python float or broadcastable tensor).
      logit: `[batch]` real-vs-fake logit (l_real, or l_r - l_{K+1} for a K+1 head).
    """
    target = tf.broadcast_to(tf.cast(target_real, tf.float32), tf.shape(logit))
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logit)


def real_logit(class_logits: tf.Tensor) -> tf.Tensor:
    """l_r = log Σ_{k≤K} exp(l_k) `[batch]` (seed-spec §0.2, §0.4)."""
    return tf.reduce_logsumexp(class_logits, axis=-1)


def log_real_probability(logits: tf.Tensor) -> tf.Tensor:
    """log D_r = -softplus(l_{K+1} - l_r) `[batch]` for K+1 logits `[batch, K+1]`."""
    return -tf.nn.softplus(logits[:, -1] - real_logit(logits[:, :-1]))


# ----------------------------------------------------------------------------------------------
# Option validation.


def check_probability(value, name: str, *, low_open: bool = True) -> float:
    """A python float in (0, 1] (or [0, 1] when low_open=False)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"option {name} must be a real number, got {value!r}")
    value = float(value)
    ok = (0.0 < value <= 1.0) if low_open else (0.0 <= value <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"option {name} must be in {interval}, got {value}")
    return value


def check_weight(value, name: str) -> float:
    """A finite, non-negative python float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"option {name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"option {name} must be finite and >= 0, got {value}")
    return value


def check_positive(value, name: str) -> float:
    """A finite, strictly positive python float."""
    value = check_weight(value, name)
    if value <= 0:
        raise ValueError(f"option {name} must be > 0, got {value}")
    return value


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(
            f"option {name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )
    return value


# ----------------------------------------------------------------------------------------------
# The interface every objective implements.


@dataclasses.dataclass(frozen=True)
class InputPenalty:
    """A per-example penalty weight · ‖∇_{x'} score(x')‖² on generated samples x'.

    Attributes:
      name: metrics key ("r2", "creg").
      network: the name of the critic whose loss it joins (and whose parameters it trains).
      weight: λ (> 0; zero-weight penalties are not declared at all).
      score: (critic outputs on x' {name: logits}, the fakes' condition) -> `[B]`.
    """

    name: str
    network: str
    weight: float
    score: Callable[[dict, tf.Tensor], tf.Tensor]


class Objective:
    """A GAN objective: the D head layout plus per-example D and G losses.

    Attributes:
      name: the registry name it was built under (aliases keep their own name).
      num_classes: K.
      head_units: number of logits the discriminator emits.
      labelings: allowed target selections, a subset of ("dynamic", "predefined") (spec §1.2).
      uses_targets: True when the G loss depends on an integer class target (`fake_targets`).
      options: the resolved options (defaults filled in), for logging.

    All losses are per example (float32 `[batch]`); the trainer averages over the global batch.
    """

    head_units: int
    labelings: tuple[str, ...] = (DYNAMIC, PREDEFINED)
    uses_targets: bool = False
    # True when generator_loss takes D's logits on the real batch as a third argument (M-14).
    generator_needs_data_logits: bool = False

    def __init__(self, name: str, num_classes: int, options: dict):
        self.name = name
        self.num_classes = num_classes
        self.options = dict(options)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"{type(self).__name__}(name={self.name!r}, num_classes={self.num_classes}, {opts})"

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        """Per-example D loss `[batch]`: real term of example i + fake term of example i.

        Args:
          real_logits: `[batch, head_units]` D logits on real data.
          real_labels: int `[batch]` data labels (ignored by `gan`; may then be None).
          fake_logits: `[batch, head_units]` D logits on generated samples (same batch size).
          fake_targets: int `[batch]` G targets; only the original AC-GAN's D uses them.
        """
        raise NotImplementedError

    def generator_loss(self, fake_logits, fake_targets=None):
        """Per-example G loss `[batch]` from D's logits on generated samples.

        Args:
          fake_logits: `[batch, head_units]`.
          fake_targets: int `[batch]` class targets (predefined labels, or `dynamic_targets`);
            required when `uses_targets`, ignored (may be None) otherwise.
        """
        raise NotImplementedError

    def class_logits(self, logits) -> tf.Tensor:
        """`[batch, K]` class logits (K+1 head) or aux-classifier logits (binary+aux head)."""
        raise ValueError(f"objective {self.name!r} has no class logits (a 1-logit real/fake head)")

    def dynamic_targets(self, fake_logits) -> tf.Tensor:
        """int32 `[batch]` dynamic labels y(x) = argmax_{i≤K} of the class logits (spec §1.2).

        argmax over l_1..l_K of a K+1 head equals argmax_i D_i(x); for binary+aux heads it is the
        argmax of C(x) (Q-9). No gradient flows through the result.
        """
        if self.head_units == 1:
            raise ValueError(
                f"objective {self.name!r} has no classes, so it has no dynamic targets; "
                "dynamic labeling needs a K+1 or binary+aux head"
            )
        targets = tf.argmax(self.class_logits(fake_logits), axis=-1, output_type=tf.int32)
        return tf.stop_gradient(targets)

    def real_probability(self, logits, labels=None) -> tf.Tensor:
        """D_r(x) float32 `[batch]` (for D accuracy logging).

        labels: int `[batch]` classes of the examples; only heads that depend on the class
        (projection) use them.
        """
        raise NotImplementedError

    def _fake_targets(self, fake_targets) -> tf.Tensor:
        if fake_targets is None:
            raise ValueError(
                f"objective {self.name!r} needs fake_targets: the predefined labels, or "
                "obj.dynamic_targets(fake_logits) for dynamic labeling"
            )
        return tf.stop_gradient(as_labels(fake_targets, "fake_targets"))
