"""K+1 objectives: LabelGAN / K+1 GAN (M-3, M-16), AM-GAN / Mode GAN (M-4, M-17), SAM-GAN (M-5).

Head layout: `[batch, K+1]` = [l_1..l_K, l_{K+1}], the K class logits first and the fake logit
last (0-based index K); D = softmax(l). All three models share the D loss (P001 Eq. 15) and differ
only in the G loss. v(y) is the K+1 one-hot of class y, u(y) the K-class one-hot.

Label smoothing (M-11, Q-3) with on-target probability s uses the full K+1 targets of the spec:
real (x, y) -> [s·u(y), 1-s]; fake -> [((1-s)/K)·1_K, s]; LabelGAN G -> F-target [s, 1-s];
AM-GAN G -> [s·u(y), 1-s]; SAM-GAN G -> [s·softmax(l_{1:K}/t), 1-s]. By Lemma 2 the R(·) parts
are then weighted by v_r (s on real / G targets, 1-s on fakes), as [CODE] `f2Smoothed` does.
s = 1 (default) is no smoothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tf_amgan.losses import common

__all__ = [
    "GENERATOR_LOSSES",
    "KPlusOneObjective",
    "amgan_generator_loss",
    "kplus1_discriminator_loss",
    "labelgan_generator_loss",
    "samgan_generator_loss",
]

GENERATOR_LOSSES = ("labelgan", "amgan", "samgan")


def _real_target_ce(logits, labels, s):
    """H([s·u(y), 1-s], D) = s·H(v(y), D) + (1-s)·H(v(K+1), D), `[batch]`."""
    ce = common.sparse_cross_entropy(labels, logits)
    if s < 1.0:
        fake_class = tf.fill(tf.shape(labels), tf.shape(logits)[-1] - 1)
        ce = s * ce + (1.0 - s) * common.sparse_cross_entropy(fake_class, logits)
    return ce


def kplus1_discriminator_loss(
    real_logits,
    real_labels,
    fake_logits,
    *,
    label_smoothing: float = 1.0,
    fake_logit: str = "trainable",
    class_priors: Sequence[float] | None = None,
) -> tf.Tensor:
    """K+1 D loss per example (LabelGAN = AM-GAN = SAM-GAN D; P001 Eq. 3, Eq. 15; P002 Eq. 1).

    L_D(i) = w_{y_i} · H(v_real(y_i), D(x_i)) + w_0 · H(v_fake, D(G(z_i))), with the targets
    v_real(y) = [s·u(y), 1-s] and v_fake = [((1-s)/K)·1_K, s] (= v(y), v(K+1) for s = 1).

    Args:
      real_logits, fake_logits: `[batch, K+1]` float32.
      real_labels: int32 `[batch]` in [0, K).
      label_smoothing: s in (0, 1].
      fake_logit: "trainable" or "zero" (Q-6: the last logit is replaced by 0).
      class_priors: P002's priors (p_0, p_1, ..., p_K) in P002's order, p_0 = fake class: the
        real term of an example of (0-based) class y is weighted by p_{y+1}, the fake term by p_0
        (M-16). Used as given, not renormalised. None: all weights 1 (LabelGAN).

    Returns:
      float32 `[batch]`.
    """
    s = label_smoothing
    real_labels = tf.cast(real_labels, tf.int32)
    real = common.kplus1_logits(real_logits, fake_logit)
    fake = common.kplus1_logits(fake_logits, fake_logit)
    real_term = _real_target_ce(real, real_labels, s)
    fake_log_d = tf.nn.log_softmax(fake)
    fake_term = -s * fake_log_d[:, -1]
    if s < 1.0:
        # R(v_fake) is uniform (P000 Eq. 35): -(1-s) · mean_{k≤K} log D_k.
        fake_term -= (1.0 - s) * tf.reduce_mean(fake_log_d[:, :-1], axis=-1)
    if class_priors is not None:
        priors = tf.constant(class_priors, tf.float32)
        real_term *= tf.gather(priors[1:], real_labels)
        fake_term *= priors[0]
    return real_term + fake_term


def labelgan_generator_loss(
    fake_logits, *, label_smoothing: float = 1.0, fake_logit: str = "trainable"
) -> tf.Tensor:
    """LabelGAN / K+1 GAN G loss per example (P001 Eq. 4-5; P000 Eq. 4; P002 §2.2).

    L_G(i) = H([s, 1-s], [D_r, D_{K+1}]) = -log D_r for s = 1, computed as the sigmoid CE of
    l_r - l_{K+1}, l_r = logsumexp(l_1..l_K).

    Returns:
      float32 `[batch]`.
    """
    logits = common.kplus1_logits(fake_logits, fake_logit)
    margin = common.real_logit(logits[:, :-1]) - logits[:, -1]
    return common.binary_cross_entropy(label_smoothing, margin)


def amgan_generator_loss(
    fake_logits, fake_targets, *, label_smoothing: float = 1.0, fake_logit: str = "trainable"
) -> tf.Tensor:
    """AM-GAN / Mode GAN G loss per example (P001 Eq. 14; P000 Eq. 13; P002 Eq. 3).

    L_G(i) = H(v(y_i), D(G(z_i))) = -log D_{y_i}, with target [s·u(y), 1-s] under smoothing.
    y_i is the predefined label or the dynamic label argmax_{k≤K} l_k (stop-gradient).

    Returns:
      float32 `[batch]`.
    """
    logits = common.kplus1_logits(fake_logits, fake_logit)
    targets = tf.stop_gradient(tf.cast(fake_targets, tf.int32))
    return _real_target_ce(logits, targets, label_smoothing)


def samgan_soft_targets(fake_logits, temperature: float) -> tf.Tensor:
    """SAM-GAN soft target R(v(x, t)) = softmax(l_{1:K} / t), `[batch, K]`, stop-gradient (M-5)."""
    return tf.stop_gradient(tf.nn.softmax(fake_logits[:, :-1] / temperature, axis=-1))


def samgan_generator_loss(
    fake_logits,
    *,
    temperature: float = 0.5,
    label_smoothing: float = 1.0,
    fake_logit: str = "trainable",
) -> tf.Tensor:
    """SAM-GAN G loss per example (P000 §4.4).

    L_G(i) = H(v(x_i, t), D(x_i)) = -Σ_{k≤K} v_k log D_k(x_i), v = [softmax(l_{1:K}/t), 0]
    (target [s·v_{1:K}, 1-s] under smoothing). The target carries no gradient ([CODE]).
    t -> 0+ recovers AM-GAN; the paper suggests t = 1/1.5 or 1/2.0.

    Returns:
      float32 `[batch]`.
    """
    logits = common.kplus1_logits(fake_logits, fake_logit)
    target = samgan_soft_targets(logits, temperature)
    log_d = tf.nn.log_softmax(logits)
    loss = -label_smoothing * tf.reduce_sum(target * log_d[:, :-1], axis=-1)
    if label_smoothing < 1.0:
        loss -= (1.0 - label_smoothing) * log_d[:, -1]
    return loss


def check_class_priors(class_priors, num_classes: int) -> tuple[float, ...] | None:
    """Validates P002 priors (p_0 fake, p_1..p_K): K+1 finite values >= 0, not all zero."""
    if class_priors is None:
        return None
    if isinstance(class_priors, str):
        raise TypeError(f"option class_priors must be a sequence of numbers, got {class_priors!r}")
    try:
        values = np.asarray(class_priors, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"option class_priors must be a sequence of numbers, got {class_priors!r}"
        ) from e
    if values.shape != (num_classes + 1,):
        raise ValueError(
            f"option class_priors needs K+1 = {num_classes + 1} values (p_0 = fake, then p_1..p_K), "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0) or not values.sum() > 0:
        raise ValueError(
            f"option class_priors must be finite, >= 0 and not all 0, got {values.tolist()}"
        )
    return tuple(float(v) for v in values)


class KPlusOneObjective(common.Objective):
    """A K+1 objective: shared D loss, G loss "labelgan", "amgan" or "samgan".

    Args:
      name: registry name.
      num_classes: K >= 1.
      generator: which G loss (see GENERATOR_LOSSES).
      label_smoothing: on-target probability s (M-11).
      fake_logit: "trainable" (default) or "zero" (Q-6; head still emits K+1 logits, the last is
        ignored).
      class_priors: P002 priors (p_0 fake, p_1..p_K) weighting the D terms (M-16), or None.
      temperature: SAM-GAN temperature t (only for generator="samgan"; default 1/2.0).
    """

    def __init__(
        self,
        name: str,
        num_classes: int,
        *,
        generator: str,
        label_smoothing: float = 1.0,
        fake_logit: str = "trainable",
        class_priors: Sequence[float] | None = None,
        temperature: float | None = None,
    ):
        common.check_choice(generator, "generator", GENERATOR_LOSSES)
        options = {
            "label_smoothing": common.check_probability(label_smoothing, "label_smoothing"),
            "fake_logit": common.check_choice(fake_logit, "fake_logit", common.FAKE_LOGIT_CHOICES),
            "class_priors": check_class_priors(class_priors, num_classes),
        }
        if generator == "samgan":
            options["temperature"] = common.check_positive(
                0.5 if temperature is None else temperature, "temperature"
            )
        elif temperature is not None:
            raise TypeError(f"option temperature applies only to samgan, not {name!r}")
        super().__init__(name, num_classes, options)
        self._generator = generator
        self.head_units = num_classes + 1
        self.uses_targets = generator == "amgan"
        # The soft target comes from the logits, so a predefined label has no role (spec §1.2).
        self.labelings = (
            (common.DYNAMIC,) if generator == "samgan" else (common.DYNAMIC, common.PREDEFINED)
        )

    def _check(self, logits, name):
        return common.check_logits(logits, self.head_units, name)

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        o = self.options
        return kplus1_discriminator_loss(
            self._check(real_logits, "real_logits"),
            common.as_labels(real_labels, "real_labels"),
            self._check(fake_logits, "fake_logits"),
            label_smoothing=o["label_smoothing"],
            fake_logit=o["fake_logit"],
            class_priors=o["class_priors"],
        )

    def generator_loss(self, fake_logits, fake_targets=None):
        fake = self._check(fake_logits, "fake_logits")
        s, fake_logit = self.options["label_smoothing"], self.options["fake_logit"]
        if self._generator == "labelgan":
            return labelgan_generator_loss(fake, label_smoothing=s, fake_logit=fake_logit)
        if self._generator == "amgan":
            return amgan_generator_loss(
                fake, self._fake_targets(fake_targets), label_smoothing=s, fake_logit=fake_logit
            )
        return samgan_generator_loss(
            fake, temperature=self.options["temperature"], label_smoothing=s, fake_logit=fake_logit
        )

    def class_logits(self, logits):
        return self._check(logits, "logits")[:, :-1]

    def real_probability(self, logits, labels=None):
        logits = common.kplus1_logits(self._check(logits, "logits"), self.options["fake_logit"])
        return tf.sigmoid(common.real_logit(logits[:, :-1]) - logits[:, -1])
