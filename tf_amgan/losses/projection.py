"""Projection-discriminator heads (P002 §2.3, §3.1; Miyato & Koyama 2018) for binary, AC-GAN and K+1.

Projection adds e_y·φ(x) to the discriminator output, where φ(x) are the penultimate features and
e_y a learned class embedding. Since D's head is linear in φ(x), the K projections of all classes
are simply K more head units: the network emits [base logits (head_units of the wrapped objective),
p_1..p_K] with p_k = e_k·φ(x) (+ a per-class bias, a learned class offset), so no architecture
change is needed. The wrapper then adds p_y for the hypothesised class y:

- binary GAN (`gan`): l_real + p_y, y = the data label (real) or G's predefined label (fake). This
  is the usual projection cGAN and needs predefined labeling.
- binary + aux (AC-GAN family, `gan_star`): the source logit l_real + p_y; the auxiliary logits
  are unchanged. y = data label (real), G's target (fake: predefined or dynamic argmax of C(x)).
- K+1 (LabelGAN / K+1 GAN, AM-GAN / Mode GAN, SAM-GAN): **design choice** (P002 does not say how
  projection meets a K+1 head, M-19/Q-13): p_y is added to the real-class logit l_y only,
  l' = l + p_y·v(y), with y = the data label for real samples and, for generated samples, G's
  target (predefined label, or the dynamic label). The dynamic label of x is
  argmax_k (l_k(x) + p_k(x)), the class whose projected logit is largest; adding p_k to every l_k
  would collapse to a plain K+1 head (linear heads compose), which is why only the hypothesised
  class is projected. Class logits (for `classify`) are l_k + p_k.

All losses stay per example; the wrapped objective computes them on the projected logits.
"""

from __future__ import annotations

import tensorflow as tf

from tf_amgan.losses import binary, common, kplus1

__all__ = ["ProjectionObjective"]


class ProjectionObjective(common.Objective):
    """Wraps a binary (`gan`), binary+aux (AC-GAN family) or K+1 objective with projection.

    Args:
      base: the wrapped objective; its head gets K extra units.
    """

    def __init__(self, base: common.Objective):
        if isinstance(base, kplus1.KPlusOneObjective):
            self._kind = "kplus1"
        elif isinstance(base, binary.BinaryAuxObjective):
            self._kind = "aux"
        elif isinstance(base, binary.GANObjective):
            self._kind = "binary"
        else:
            raise TypeError(f"projection is not defined for {type(base).__name__}")
        if base.num_classes < 1:
            raise ValueError("projection needs num_classes >= 1")
        super().__init__(base.name, base.num_classes, {**base.options, "projection": True})
        self.base = base
        self.head_units = base.head_units + base.num_classes
        # Fakes need a class to project: a predefined label or a dynamic target.
        self.uses_targets = True
        self.labelings = (common.PREDEFINED,) if self._kind == "binary" else tuple(base.labelings)

    def _split(self, logits, name):
        logits = common.check_logits(logits, self.head_units, name)
        return logits[:, : self.base.head_units], logits[:, self.base.head_units :]

    def _project(self, logits, labels, name):
        base_logits, proj = self._split(logits, name)
        labels = common.as_labels(labels, name.replace("logits", "labels"))
        p_y = tf.gather(proj, labels, axis=1, batch_dims=1)
        if self._kind == "kplus1":
            return base_logits + p_y[:, None] * tf.one_hot(
                labels, self.base.head_units, dtype=tf.float32
            )
        # The source (real/fake) logit is the first unit of binary and binary+aux heads.
        return tf.concat([base_logits[:, :1] + p_y[:, None], base_logits[:, 1:]], axis=1)

    def _targets_for(self, logits, fake_targets):
        if fake_targets is not None:
            return tf.stop_gradient(common.as_labels(fake_targets, "fake_targets"))
        if self._kind == "binary":
            raise ValueError("a projection binary GAN needs the fakes' (predefined) labels")
        return self.dynamic_targets(logits)

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        y_fake = self._targets_for(fake_logits, fake_targets)
        real = self._project(real_logits, real_labels, "real_logits")
        fake = self._project(fake_logits, y_fake, "fake_logits")
        return self.base.discriminator_loss(real, real_labels, fake, y_fake)

    def generator_loss(self, fake_logits, fake_targets=None):
        y_fake = self._targets_for(fake_logits, fake_targets)
        fake = self._project(fake_logits, y_fake, "fake_logits")
        return self.base.generator_loss(fake, y_fake)

    def class_logits(self, logits):
        """`[B, K]`: l_k + p_k (K+1), the aux logits (AC-GAN), or the projections p_k (binary)."""
        base_logits, proj = self._split(logits, "logits")
        if self._kind == "kplus1":
            return base_logits[:, :-1] + proj
        if self._kind == "aux":
            return base_logits[:, 1:]
        return proj

    def dynamic_targets(self, fake_logits):
        if self._kind == "binary":
            raise ValueError("a projection binary GAN has no dynamic targets (use predefined)")
        return tf.stop_gradient(
            tf.argmax(self.class_logits(fake_logits), axis=-1, output_type=tf.int32)
        )

    def real_probability(self, logits, labels=None):
        """D_r with the projection of `labels` (default: the dynamic label) applied."""
        if labels is None:
            labels = self._targets_for(logits, None) if self._kind != "binary" else None
        if labels is None:
            raise ValueError("a projection binary GAN needs labels to give D_r")
        return self.base.real_probability(self._project(logits, labels, "logits"))
