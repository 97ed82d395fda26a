"""Binary-discriminator objectives: GAN (M-1), GAN* (M-2) and the AC-GAN family (M-6..M-9).

Head layouts:
  - `gan`: `[batch, 1]`, the real logit l; D_r = sigmoid(l).
  - binary+aux (`gan_star`, `acgan`, `acgan_star`, `acgan_star_lowaux`, `acgan_plus`):
    `[batch, 1+K]` = [l_real, a_1..a_K]; D_r = sigmoid(l_real), C(x) = softmax(a) (P004 "Soft-Sigmoid").

The real/fake ("source", F(·)) terms are binary cross-entropies H([a, 1-a], [D_r, D_f]) computed
as sigmoid CE on the logit ([CODE]'s 2-way softmax over [l, 0] is the same thing, §0.4).
Label smoothing with on-target probability s (M-11, Q-3) sets the F targets to [s, 1-s] (real),
[1-s, s] (fake) and [s, 1-s] (G); the aux-classifier terms are not smoothed (P000 App. C.3: only
the F(·) part).
"""

from __future__ import annotations

import tensorflow as tf

from tf_amgan.losses import common

__all__ = [
    "BinaryAuxObjective",
    "GANObjective",
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "gan_discriminator_loss",
    "gan_generator_loss",
]

SOURCE_LOSSES = ("nonsaturating", "minimax")
FAKE_AUX = ("none", "target", "uniform")


def gan_discriminator_loss(real_logit, fake_logit, *, label_smoothing: float = 1.0) -> tf.Tensor:
    """GAN D loss per example (P000 Eq. 1; P001 Eq. 1; smoothed: P000 Eq. 24).

    L_D(i) = H([s, 1-s], [D_r(x_i), D_f(x_i)]) + H([1-s, s], [D_r(G(z_i)), D_f(G(z_i))]);
    with s = 1 this is -log D_r(x_i) - log(1 - D_r(G(z_i))).

    Args:
      real_logit: `[batch]` real logit on data.
      fake_logit: `[batch]` real logit on generated samples.
      label_smoothing: on-target probability s in (0, 1].

    Returns:
      float32 `[batch]`.
    """
    s = label_smoothing
    return common.binary_cross_entropy(s, real_logit) + common.binary_cross_entropy(
        1.0 - s, fake_logit
    )


def gan_generator_loss(
    fake_logit, *, label_smoothing: float = 1.0, source_loss: str = "nonsaturating"
) -> tf.Tensor:
    """GAN G loss per example.

    - "nonsaturating" (-log D, used in all AM-GAN experiments; P000 Eq. 2, smoothed P000 Eq. 28 /
      P001 Eq. 32): H([s, 1-s], [D_r, D_f]) = -log D_r for s = 1.
    - "minimax" (P004's saturating L_S term, Q-8; smoothed P000 Eq. 25 / P001 Eq. 29):
      -H([1-s, s], [D_r, D_f]) = log(1 - D_r) for s = 1, i.e. minus D's fake term.

    Args:
      fake_logit: `[batch]` real logit on generated samples.

    Returns:
      float32 `[batch]`.
    """
    s = label_smoothing
    if source_loss == "minimax":
        return -common.binary_cross_entropy(1.0 - s, fake_logit)
    return common.binary_cross_entropy(s, fake_logit)


def acgan_discriminator_loss(
    real_logits,
    real_labels,
    fake_logits,
    fake_targets=None,
    *,
    d_aux_weight: float = 1.0,
    fake_aux: str = "none",
    label_smoothing: float = 1.0,
) -> tf.Tensor:
    """Binary+aux D loss per example: GAN* / AC-GAN* / AC-GAN*+ / AC-GAN (P001 Eq. 7, Eq. 20; P004).

    L_D(i) = H([s,1-s], F(x_i)) + H([1-s,s], F(G(z_i)))
             + w · (H(u(y_i), C(x_i)) + fake aux term), with the fake aux term
      - "none":    0                                   (GAN*, AC-GAN*, M-2/M-7);
      - "target":  H(u(c_i), C(G(z_i))), c_i = G's target (original AC-GAN, M-6, P000 Eq. 9);
      - "uniform": H(u(·), C(G(z_i))), u(·) uniform over K (AC-GAN*+, P001 Eq. 20).

    Args:
      real_logits, fake_logits: `[batch, 1+K]` float32 = [l_real, aux logits].
      real_labels: int32 `[batch]` data labels y.
      fake_targets: int32 `[batch]` G targets c (only for fake_aux="target").
      d_aux_weight: w, applied to every aux term in D.

    Returns:
      float32 `[batch]`.
    """
    loss = gan_discriminator_loss(
        real_logits[:, 0], fake_logits[:, 0], label_smoothing=label_smoothing
    )
    aux = common.sparse_cross_entropy(real_labels, real_logits[:, 1:])
    if fake_aux == "target":
        aux += common.sparse_cross_entropy(fake_targets, fake_logits[:, 1:])
    elif fake_aux == "uniform":
        aux += common.uniform_cross_entropy(fake_logits[:, 1:])
    return loss + d_aux_weight * aux


def acgan_generator_loss(
    fake_logits,
    fake_targets=None,
    *,
    g_aux_weight: float | None = 1.0,
    source_loss: str = "nonsaturating",
    label_smoothing: float = 1.0,
) -> tf.Tensor:
    """Binary+aux G loss per example (P001 Eq. 6; P000 Eq. 9; M-8; P004 for "minimax").

    L_G(i) = source term (see `gan_generator_loss`) + w_G · H(u(c_i), C(G(z_i))).
    With g_aux_weight=None the aux classifier is ignored (GAN*, M-2) and fake_targets too.

    Args:
      fake_logits: `[batch, 1+K]` float32.
      fake_targets: int32 `[batch]` targets c (predefined label or argmax C(x)).

    Returns:
      float32 `[batch]`.
    """
    loss = gan_generator_loss(
        fake_logits[:, 0], label_smoothing=label_smoothing, source_loss=source_loss
    )
    if g_aux_weight is None:
        return loss
    return loss + g_aux_weight * common.sparse_cross_entropy(fake_targets, fake_logits[:, 1:])


class GANObjective(common.Objective):
    """Vanilla GAN (M-1): one real logit, -log D generator loss.

    P001 reports "dynamic" and "predefined" columns for GAN; they differ only in the
    class-condition architecture (spec §1.2), so both labelings are allowed and no labels are used.
    """

    head_units = 1

    def __init__(self, name: str, num_classes: int, *, label_smoothing: float = 1.0):
        s = common.check_probability(label_smoothing, "label_smoothing")
        super().__init__(name, num_classes, {"label_smoothing": s})
        self._s = s

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        real = common.check_logits(real_logits, 1, "real_logits")
        fake = common.check_logits(fake_logits, 1, "fake_logits")
        return gan_discriminator_loss(real[:, 0], fake[:, 0], label_smoothing=self._s)

    def generator_loss(self, fake_logits, fake_targets=None):
        fake = common.check_logits(fake_logits, 1, "fake_logits")
        return gan_generator_loss(fake[:, 0], label_smoothing=self._s)

    def real_probability(self, logits, labels=None):
        return tf.sigmoid(common.check_logits(logits, 1, "logits")[:, 0])


class BinaryAuxObjective(common.Objective):
    """Binary real/fake logit + K-way auxiliary classifier: GAN*, AC-GAN, AC-GAN*, AC-GAN*+.

    Args:
      name: registry name.
      num_classes: K >= 1.
      d_aux_weight: weight of the aux-classifier CE terms in D (M-2: GAN* 0.1, Q-7).
      g_aux_weight: weight of H(u(y), C(x)) in G; None = G ignores the aux classifier (GAN*).
      fake_aux: D's aux term on fakes: "none" (GAN*, AC-GAN*), "target" (AC-GAN), "uniform" (AC-GAN*+).
      source_loss: "nonsaturating" (-log D_r) or "minimax" (P004's log(1 - D_r)).
      label_smoothing: on-target probability s of the F(·) targets (M-11).
    """

    def __init__(
        self,
        name: str,
        num_classes: int,
        *,
        d_aux_weight: float,
        g_aux_weight: float | None,
        fake_aux: str = "none",
        source_loss: str = "nonsaturating",
        label_smoothing: float = 1.0,
    ):
        options = {
            "label_smoothing": common.check_probability(label_smoothing, "label_smoothing"),
            "d_aux_weight": common.check_weight(d_aux_weight, "d_aux_weight"),
            "g_aux_weight": None
            if g_aux_weight is None
            else common.check_weight(g_aux_weight, "g_aux_weight"),
            "source_loss": common.check_choice(source_loss, "source_loss", SOURCE_LOSSES),
        }
        super().__init__(name, num_classes, options)
        self._fake_aux = common.check_choice(fake_aux, "fake_aux", FAKE_AUX)
        self.head_units = num_classes + 1
        self.uses_targets = g_aux_weight is not None

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        real = common.check_logits(real_logits, self.head_units, "real_logits")
        fake = common.check_logits(fake_logits, self.head_units, "fake_logits")
        labels = common.as_labels(real_labels, "real_labels")
        targets = self._fake_targets(fake_targets) if self._fake_aux == "target" else None
        o = self.options
        return acgan_discriminator_loss(
            real,
            labels,
            fake,
            targets,
            d_aux_weight=o["d_aux_weight"],
            fake_aux=self._fake_aux,
            label_smoothing=o["label_smoothing"],
        )

    def generator_loss(self, fake_logits, fake_targets=None):
        fake = common.check_logits(fake_logits, self.head_units, "fake_logits")
        targets = self._fake_targets(fake_targets) if self.uses_targets else None
        o = self.options
        return acgan_generator_loss(
            fake,
            targets,
            g_aux_weight=o["g_aux_weight"],
            source_loss=o["source_loss"],
            label_smoothing=o["label_smoothing"],
        )

    def class_logits(self, logits):
        return common.check_logits(logits, self.head_units, "logits")[:, 1:]

    def real_probability(self, logits, labels=None):
        return tf.sigmoid(common.check_logits(logits, self.head_units, "logits")[:, 0])
