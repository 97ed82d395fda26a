"""Semi-supervised and unsupervised K+1 objectives (M-12, M-13, M-15) and the class-mode term (M-14).

`SemiSupervisedObjective` wraps a K+1 objective (LabelGAN / K+1 GAN, AM-GAN / Mode GAN, SAM-GAN).
Real examples whose label is negative (-1) are unlabeled (`--labeled_fraction` < 1 marks them in
the input pipeline; `--labeled_fraction=0` is the unsupervised model with a free K):

  D(i) = K+1 loss of the wrapped objective, where an unlabeled example's label is its dynamic label
         y(x) = argmax_{k≤K} D_k(x) (stop-gradient), i.e. its real term becomes
         H(v(y(x)), D(x)) = L_D^{unl'} (M-12, P000 Eq. 37; P001 Eq. 38), with the same label
         smoothing and class-prior weighting as labeled data;
       + λ_marg · H(p_ref, R(E_unl[D(x)]))   (M-13, P000 Eq. 38; p_ref uniform), a batch term.
  G(i) = the wrapped G loss + λ_mode · H(R(E_data[D(x)]), R(E_G[D(x)]))   (M-14, P000 Eq. 41).

With unit weights this is the extended (S)AM-GAN loss of M-15 (P000 App. G Eq. 43-44). Batch terms
are estimated on each replica's shard (as `tf_amgan.losses.extra` documents) and added to every
example of the shard, so that the trainer's global-batch average gives their mean over replicas.
"""

from __future__ import annotations

import tensorflow as tf

from tf_amgan.losses import common, extra, kplus1

__all__ = ["SemiSupervisedObjective", "masked_log_class_distribution"]


def masked_log_class_distribution(logits, mask, *, fake_logit: str = "trainable"):
    """log R(E_{rows with mask}[D(x)]) `[K]` for K+1 logits `[n, K+1]` and a bool mask `[n]`.

    Returns (log_r `[K]`, count) where count is the number of selected rows (float32); log_r is
    finite (and meaningless) when count is 0.
    """
    logits = common.kplus1_logits(common.as_float32(logits), fake_logit)
    mask = tf.cast(mask, tf.bool)
    log_mask = tf.where(mask, 0.0, -1e30)
    per_class = tf.reduce_logsumexp(tf.nn.log_softmax(logits)[:, :-1] + log_mask[:, None], axis=0)
    return per_class - tf.reduce_logsumexp(per_class), tf.reduce_sum(tf.cast(mask, tf.float32))


class SemiSupervisedObjective(common.Objective):
    """A K+1 objective that also learns from unlabeled real data (labels < 0) and/or M-14.

    Args:
      base: the wrapped `KPlusOneObjective`.
      unlabeled_marginal_weight: λ_marg of the M-13 term (P000: 1).
      class_mode_weight: λ_mode of the M-14 G term (M-15: 1; 0 = off).

    The G loss needs D's logits on the real batch when class_mode_weight > 0: the trainer passes
    them as `data_logits` (attribute `generator_needs_data_logits`).
    """

    def __init__(
        self,
        base: kplus1.KPlusOneObjective,
        *,
        unlabeled_marginal_weight: float = 1.0,
        class_mode_weight: float = 0.0,
    ):
        if not isinstance(base, kplus1.KPlusOneObjective):
            raise TypeError(
                f"semi-/unsupervised training needs a K+1 objective, not {type(base).__name__}"
            )
        options = {
            **base.options,
            "semi_supervised": True,
            "unlabeled_marginal_weight": common.check_weight(
                unlabeled_marginal_weight, "unlabeled_marginal_weight"
            ),
            "class_mode_weight": common.check_weight(class_mode_weight, "class_mode_weight"),
        }
        super().__init__(base.name, base.num_classes, options)
        self.base = base
        self.head_units = base.head_units
        self.uses_targets = base.uses_targets
        self.labelings = base.labelings
        self.generator_needs_data_logits = options["class_mode_weight"] > 0

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        """Per-example D loss `[B]`; real_labels < 0 mark unlabeled examples."""
        real = common.check_logits(real_logits, self.head_units, "real_logits")
        labels = common.as_labels(real_labels, "real_labels")
        unlabeled = labels < 0
        dynamic = tf.stop_gradient(tf.argmax(real[:, :-1], axis=-1, output_type=tf.int32))
        effective = tf.where(unlabeled, dynamic, labels)
        loss = self.base.discriminator_loss(real, effective, fake_logits, fake_targets)
        weight = self.options["unlabeled_marginal_weight"]
        if weight > 0:
            log_r, count = masked_log_class_distribution(
                real, unlabeled, fake_logit=self.options["fake_logit"]
            )
            marginal = tf.where(count > 0, -tf.reduce_mean(log_r), 0.0)  # p_ref uniform
            # Added to every example: the global-batch average then holds each shard's estimate
            # with weight shard size / global batch, i.e. their mean over replicas.
            loss += weight * marginal
        return loss

    def generator_loss(self, fake_logits, fake_targets=None, data_logits=None):
        loss = self.base.generator_loss(fake_logits, fake_targets)
        weight = self.options["class_mode_weight"]
        if weight > 0:
            if data_logits is None:
                raise ValueError("the class-mode term (M-14) needs data_logits")
            mode = extra.class_mode_loss(
                data_logits, fake_logits, fake_logit=self.options["fake_logit"]
            )
            loss += weight * mode
        return loss

    def class_logits(self, logits):
        return self.base.class_logits(logits)

    def real_probability(self, logits, labels=None):
        return self.base.real_probability(logits)
