"""Extra AM-GAN terms for K+1 heads: semi-/unsupervised D terms, class-level mode loss, M-15.

All functions take K+1 logits `[n, K+1]` (K class logits first, fake logit last; any float dtype)
and compute in float32 with stable log-space forms. R(v) = v_{1:K} / Σ_{k≤K} v_k (spec §0.2);
E_batch[D] is the batch mean of D(x) = softmax(l(x)), and

  log R(E_batch D)_k = logsumexp_i log D_ik - logsumexp_{i, j≤K} log D_ij   (the 1/n cancels).

Batch-level terms (`unsupervised_marginal_loss`, `class_mode_loss`) are scalars estimated on
the given batch (P000 F.2: inaccurate for large K); under a distribution strategy each replica
estimates them on its own shard. Reference distributions computed from D's output carry no
gradient (stop-gradient), like every other target in this package.
"""

from __future__ import annotations

import tensorflow as tf

from tf_amgan.losses import common, kplus1

__all__ = [
    "class_distribution",
    "class_mode_loss",
    "extended_discriminator_loss",
    "extended_generator_loss",
    "log_class_distribution",
    "semi_supervised_loss",
    "unsupervised_marginal_loss",
]


def _logits(logits, name: str, fake_logit: str) -> tf.Tensor:
    common.check_choice(fake_logit, "fake_logit", common.FAKE_LOGIT_CHOICES)
    logits = common.as_float32(logits, name)
    if logits.shape.rank != 2 or (logits.shape[-1] is not None and logits.shape[-1] < 2):
        raise ValueError(
            f"{name} must be K+1 logits [n, K+1] with K >= 1, got shape {logits.shape}"
        )
    return common.kplus1_logits(logits, fake_logit)


def _dynamic_labels(logits: tf.Tensor) -> tf.Tensor:
    return tf.stop_gradient(tf.argmax(logits[:, :-1], axis=-1, output_type=tf.int32))


def semi_supervised_loss(
    unlabeled_logits, *, label_smoothing: float = 1.0, fake_logit: str = "trainable"
) -> tf.Tensor:
    """M-12 unlabeled-data D term per example (P000 App. E.1 Eq. 37; P001 App. C.1 Eq. 38).

    L_D^{unl'}(x) = H(v(x), D(x)), v(x) = v(argmax_{k≤K} D_k(x)) the dynamic label
    (stop-gradient); with smoothing s the target is [s·u(y(x)), 1-s] like real data. By Lemma 2 it
    equals v_r·H(R(v), R(D)) + H(F(v), F(D)) (P000 Eq. 39): a LabelGAN real term plus a
    "being one class" cross-entropy.

    Args:
      unlabeled_logits: `[n, K+1]` D logits on unlabeled real data.

    Returns:
      float32 `[n]`.
    """
    s = common.check_probability(label_smoothing, "label_smoothing")
    logits = _logits(unlabeled_logits, "unlabeled_logits", fake_logit)
    return kplus1._real_target_ce(logits, _dynamic_labels(logits), s)


def log_class_distribution(logits, *, fake_logit: str = "trainable") -> tf.Tensor:
    """log R(E_batch[D(x)]) float32 `[K]`: log of the batch's mean class distribution."""
    logits = _logits(logits, "logits", fake_logit)
    per_class = tf.reduce_logsumexp(tf.nn.log_softmax(logits)[:, :-1], axis=0)
    return per_class - tf.reduce_logsumexp(per_class)


def class_distribution(logits, *, fake_logit: str = "trainable") -> tf.Tensor:
    """R(E_batch[D(x)]) float32 `[K]` (sums to 1). E.g. p_ref = E_data[D] for M-13."""
    return tf.exp(log_class_distribution(logits, fake_logit=fake_logit))


def _reference(p, num_classes, name: str) -> tf.Tensor:
    p = tf.stop_gradient(common.as_float32(p, name))
    if p.shape.rank != 1 or (
        p.shape[0] is not None and num_classes is not None and p.shape[0] != num_classes
    ):
        raise ValueError(
            f"{name} must be a distribution of shape [K] = [{num_classes}], got {p.shape}"
        )
    return p


def unsupervised_marginal_loss(
    unlabeled_logits, p_ref=None, *, fake_logit: str = "trainable"
) -> tf.Tensor:
    """M-13 D term (P000 App. E.2 Eq. 38; P001 App. C.2 Eq. 39): H(p_ref, R(E_unl[D(x)])).

    Args:
      unlabeled_logits: `[n, K+1]` D logits on unlabeled data (the expectation is the batch mean).
      p_ref: reference label distribution `[K]` (stop-gradient); None = uniform (use all class
        logits). In the semi-supervised setting `class_distribution(labeled_logits)` is the
        spec's alternative.

    Returns:
      float32 scalar.
    """
    log_r = log_class_distribution(unlabeled_logits, fake_logit=fake_logit)
    if p_ref is None:
        return -tf.reduce_mean(log_r)
    return -tf.reduce_sum(_reference(p_ref, log_r.shape[0], "p_ref") * log_r)


def class_mode_loss(data_logits, fake_logits, *, fake_logit: str = "trainable") -> tf.Tensor:
    """M-14 class-level mode-collapse G term (P000 App. F.1 Eq. 41-42).

    L_G^{mode} = H(R(E_data[D(x)]), R(E_G[D(x)])). The data distribution is a stop-gradient
    reference; for a single generated sample -∂L/∂l_k = R(E_data D)_k - R(D(x))_k for k ≤ K.

    Args:
      data_logits: `[m, K+1]` D logits on real data.
      fake_logits: `[n, K+1]` D logits on generated samples.

    Returns:
      float32 scalar.
    """
    reference = tf.stop_gradient(class_distribution(data_logits, fake_logit=fake_logit))
    log_r = log_class_distribution(fake_logits, fake_logit=fake_logit)
    return -tf.reduce_sum(reference * log_r)


def extended_discriminator_loss(
    real_logits,
    real_labels,
    fake_logits,
    unlabeled_logits,
    *,
    p_ref=None,
    label_smoothing: float = 1.0,
    fake_logit: str = "trainable",
) -> tf.Tensor:
    """M-15 extended (S)AM-GAN D loss (P000 App. G Eq. 43), unit weights, batch scalar.

    L_D = E_data[H(v(y), D)] + E_G[H(v(K+1), D)] + E_unl[H(v(x), D)] + H(p_ref, R(E_unl D)),
    each expectation a mean over its batch (real and unlabeled batches may differ in size).

    Returns:
      float32 scalar.
    """
    s = common.check_probability(label_smoothing, "label_smoothing")
    common.check_choice(fake_logit, "fake_logit", common.FAKE_LOGIT_CHOICES)
    real = _logits(real_logits, "real_logits", "trainable")
    fake = _logits(fake_logits, "fake_logits", "trainable")
    labeled = kplus1.kplus1_discriminator_loss(
        real,
        common.as_labels(real_labels, "real_labels"),
        fake,
        label_smoothing=s,
        fake_logit=fake_logit,
    )
    unl = semi_supervised_loss(unlabeled_logits, label_smoothing=s, fake_logit=fake_logit)
    marginal = unsupervised_marginal_loss(unlabeled_logits, p_ref, fake_logit=fake_logit)
    return tf.reduce_mean(labeled) + tf.reduce_mean(unl) + marginal


def extended_generator_loss(
    fake_logits,
    data_logits,
    fake_targets=None,
    *,
    temperature: float | None = None,
    label_smoothing: float = 1.0,
    fake_logit: str = "trainable",
) -> tf.Tensor:
    """M-15 extended (S)AM-GAN G loss (P000 App. G Eq. 44), unit weights, batch scalar.

    L_G = E_G[H(v(x), D(x))] + H(R(E_data D), R(E_G D)), where v(x) is
      - the given `fake_targets` (predefined labels), else
      - the SAM soft target softmax(l_{1:K}/t) when `temperature` t is given ("(S)" variant), else
      - the AM-GAN dynamic label argmax_{k≤K} l_k.

    Returns:
      float32 scalar.
    """
    s = common.check_probability(label_smoothing, "label_smoothing")
    if fake_targets is not None and temperature is not None:
        raise ValueError("give either fake_targets (AM-GAN) or temperature (SAM-GAN), not both")
    fake = _logits(fake_logits, "fake_logits", fake_logit)
    if temperature is not None:
        t = common.check_positive(temperature, "temperature")
        per_example = kplus1.samgan_generator_loss(fake, temperature=t, label_smoothing=s)
    else:
        targets = (
            _dynamic_labels(fake)
            if fake_targets is None
            else common.as_labels(fake_targets, "fake_targets")
        )
        per_example = kplus1.amgan_generator_loss(fake, targets, label_smoothing=s)
    return tf.reduce_mean(per_example) + class_mode_loss(
        data_logits, fake_logits, fake_logit=fake_logit
    )
