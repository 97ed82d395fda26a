"""Latent-code objectives: CGPGAN (M-23), InfoGAN (M-20), Elastic InfoGAN (M-22), GAN + code (M-21).

These models feed G a categorical code c_f ~ P(C) over d_c categories next to the noise,
G(z, c_f), and (except M-21) train a third network, the classifier Q (d_c-way softmax, separate
from D as in all P003 experiments). `tf_amgan.training.families.LatentCodeFamily` draws c_f
from the prior and calls:

  D: discriminator_loss(a_r, real_categories, a_f, c_f) + Σ weight · ‖∇_{x'} score(x')‖²  (penalties
     with network "discriminator", e.g. R2)
  Q: classifier_loss(q_f, c_f)                       + the penalties with network "classifier"
     (Eq. 10)
  G: generator_loss(a_f, c_f, q_f)

Shapes: a_r, a_f `[B, head_units]` D outputs (head_units = d_c for CGPGAN's CAGAN head, 1 otherwise);
q_f `[B, d_c]` Q logits; c_f `[B, d_c]` float codes (one-hot, or Gumbel-softmax relaxed for M-22);
real_categories int32 `[B]` (CGPGAN: argmax_onehot of Q on the real batch, Eq. 11). The adversarial
functions A_d / A_g are the non-saturating logistic loss (Q-12 recommendation and the reference
code): A_d(a, b) = softplus(-a) + softplus(b), A_g(b) = softplus(-b). Everything is per example,
float32, and stable for logits of magnitude 100.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from tf_amgan.losses import common
from tf_amgan.losses.common import InputPenalty

__all__ = [
    "PRIOR_KINDS",
    "InputPenalty",
    "LatentCodeObjective",
    "adversarial_score",
    "argmax_onehot",
    "cagan_discriminator_loss",
    "cagan_generator_loss",
    "category_classification_loss",
    "classifier_penalty_score",
    "input_gradient_penalty",
    "prob_normalize",
]

PRIOR_KINDS = ("fixed", "dynamic", "gumbel")
DISCRIMINATOR, CLASSIFIER = "discriminator", "classifier"


# ----------------------------------------------------------------------------------------------
# Pure functions.


def argmax_onehot(probs) -> tf.Tensor:
    """argmax_onehot (P003 §3): 1 at each row's maximum, 0 elsewhere, `[B, d_c]`, no gradient.

    E.g. [0.2, 0.5, 0.3] -> [0, 1, 0]. Works on probabilities or logits (same argmax).
    """
    probs = common.as_float32(probs, "probs")
    return tf.stop_gradient(tf.one_hot(tf.argmax(probs, axis=-1), tf.shape(probs)[-1]))


def prob_normalize(probs, batch_mean=None) -> tf.Tensor:
    """prob_normalize (P003 Eq. 13): c - batch_average(c) + 1/d_c, `[B, d_c]`.

    The result's batch average is exactly uniform; entries may be negative (harmless for argmax).

    Args:
      probs: `[B, d_c]` Q's softmax on the real batch.
      batch_mean: optional `[d_c]` batch average to subtract (the global-batch mean under a
        distribution strategy); None = this batch's mean.
    """
    probs = common.as_float32(probs, "probs")
    if batch_mean is None:
        batch_mean = tf.reduce_mean(probs, axis=0)
    d_c = tf.cast(tf.shape(probs)[-1], tf.float32)
    return probs - tf.cast(batch_mean, tf.float32)[None, :] + 1.0 / d_c


def adversarial_score(logits, codes) -> tf.Tensor:
    """D(x)·c `[B]`: the adversarial output of each example's category (P003 Eq. 11-12).

    A 1-unit head (InfoGAN, M-21) ignores the code: the score is the single logit.
    """
    logits = common.as_float32(logits, "logits")
    if logits.shape[-1] == 1:
        return logits[:, 0]
    return tf.reduce_sum(logits * tf.cast(codes, tf.float32), axis=-1)


def cagan_discriminator_loss(real_logits, real_codes, fake_logits, fake_codes) -> tf.Tensor:
    """L^d_adv (P003 Eq. 11) per example: A_d(D(x)·c_r, D(x')·c_f), `[B]`.

    A_d(a, b) = softplus(-a) + softplus(b) (non-saturating logistic, Q-12). With a 1-unit head this
    is the plain GAN D loss of InfoGAN (Eq. 4).
    """
    a = adversarial_score(real_logits, real_codes)
    b = adversarial_score(fake_logits, fake_codes)
    return tf.nn.softplus(-a) + tf.nn.softplus(b)


def cagan_generator_loss(fake_logits, fake_codes) -> tf.Tensor:
    """L^g_adv (P003 Eq. 12) per example: A_g(D(x')·c_f) = softplus(-D(x')·c_f), `[B]`."""
    return tf.nn.softplus(-adversarial_score(fake_logits, fake_codes))


def category_classification_loss(classifier_logits, codes) -> tf.Tensor:
    """L_cls (P003 Eq. 5, Alg. 1 line 13) per example: -c_f · log Q(x'), `[B]`.

    Soft (Gumbel-softmax) codes are used as soft targets, as the reference code does.
    """
    logits = common.as_float32(classifier_logits, "classifier_logits")
    return -tf.reduce_sum(tf.cast(codes, tf.float32) * tf.nn.log_softmax(logits), axis=-1)


def classifier_penalty_score(classifier_logits, codes) -> tf.Tensor:
    """The function whose input gradient Eq. 10 penalises: (1 - Q(x')·c_f)², `[B]`.

    Follows the formula of Eq. 10 / Alg. 1 line 14, not the prose ("gradient of the cross-entropy"),
    per Q-12.
    """
    logits = common.as_float32(classifier_logits, "classifier_logits")
    p = tf.reduce_sum(tf.nn.softmax(logits) * tf.cast(codes, tf.float32), axis=-1)
    return tf.square(1.0 - p)


def input_gradient_penalty(score_fn: Callable[[tf.Tensor], tf.Tensor], x) -> tf.Tensor:
    """‖∇_x score(x)‖² per example `[B]`, differentiable in score_fn's variables (double backprop).

    Used for R2 on fakes (score = D(x')·c_f) and the classifier gradient penalty L_creg (P003
    Eq. 10, score = (1 - Q(x')·c_f)²). ‖·‖² sums over all data dimensions; the gradient is that of
    the batch sum, which equals the per-example gradient when examples do not interact (no
    batch-norm coupling). Call it inside the outer tape that differentiates the penalty.

    Args:
      score_fn: x `[B, ...]` -> `[B]`.
      x: `[B, ...]` inputs (e.g. generated samples, treated as constants of G).
    """
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = score_fn(x)
    grad = tf.cast(tape.gradient(score, x), tf.float32)
    return tf.reduce_sum(tf.square(grad), axis=list(range(1, grad.shape.rank)))


# ----------------------------------------------------------------------------------------------
# The objective.


def _r2_score(outputs, codes):
    return adversarial_score(outputs[DISCRIMINATOR], codes)


def _creg_score(outputs, codes):
    return classifier_penalty_score(outputs[CLASSIFIER], codes)


class LatentCodeObjective(common.Objective):
    """G(z, c_f) with c_f ~ P(C); optional classifier Q; CAGAN or single adversarial head.

    Args:
      name: registry name.
      num_classes: d_c, the number of categories of the code (>= 1).
      head: "categorical" (CGPGAN: one adversarial output per category, CAGAN) or "single".
      classifier: whether the model trains a classifier Q.
      generator_classification: whether G's loss includes λ_cls·L_cls (InfoGAN Eq. 3; not CGPGAN
        Eq. 9).
      lambda_cls: weight of L_cls in Q (and G when generator_classification).
      lambda_creg: weight of the classifier gradient penalty (Eq. 10) in Q.
      lambda_r2: weight of R2 on fakes in D (P003 uses 1 in all experiments).
      prior: "fixed" (InfoGAN, M-21), "dynamic" (EMA of Q on real data, CGPGAN) or "gumbel"
        (learned through Gumbel-softmax, M-22).

    Attributes (besides common.Objective's):
      num_categories: d_c.
      classifier_units: d_c if Q is trained else 0.
      generator_uses_classifier: G's loss needs Q(x').
      prior_kind: one of PRIOR_KINDS.
      input_penalties: tuple of InputPenalty (those with weight > 0).
    """

    labelings = (common.DYNAMIC,)
    uses_targets = False

    def __init__(
        self,
        name: str,
        num_classes: int,
        *,
        head: str,
        classifier: bool,
        generator_classification: bool,
        lambda_cls: float = 1.0,
        lambda_creg: float = 0.0,
        lambda_r2: float = 1.0,
        prior: str = "fixed",
    ):
        common.check_choice(head, "head", ("categorical", "single"))
        options = {
            "lambda_r2": common.check_weight(lambda_r2, "lambda_r2"),
            "prior": common.check_choice(prior, "prior", PRIOR_KINDS),
        }
        if classifier:
            options["lambda_cls"] = common.check_weight(lambda_cls, "lambda_cls")
            options["lambda_creg"] = common.check_weight(lambda_creg, "lambda_creg")
        super().__init__(name, num_classes, options)
        self.num_categories = num_classes
        self.head_units = num_classes if head == "categorical" else 1
        self.classifier_units = num_classes if classifier else 0
        self.generator_uses_classifier = bool(
            classifier and generator_classification and options["lambda_cls"] > 0
        )
        self.prior_kind = options["prior"]
        if prior == "dynamic" and not classifier:
            raise ValueError(f"objective {name!r}: a dynamic prior needs the classifier Q")
        penalties = []
        if options["lambda_r2"] > 0:
            penalties.append(InputPenalty("r2", DISCRIMINATOR, options["lambda_r2"], _r2_score))
        if classifier and options["lambda_creg"] > 0:
            penalties.append(InputPenalty("creg", CLASSIFIER, options["lambda_creg"], _creg_score))
        self.input_penalties = tuple(penalties)

    def _codes(self, codes, name="codes"):
        codes = common.as_float32(codes, name)
        if codes.shape.rank != 2 or (
            codes.shape[-1] is not None and codes.shape[-1] != self.num_categories
        ):
            raise ValueError(f"{name} must be [batch, {self.num_categories}], got {codes.shape}")
        return codes

    def real_codes(self, real_categories) -> tf.Tensor:
        """One-hot `[B, d_c]` of the real examples' categories (int `[B]`)."""
        labels = common.as_labels(real_categories, "real_categories")
        return tf.one_hot(labels, self.num_categories)

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        """L^d_adv (Eq. 11, Eq. 4 for a single head) per example, without the penalties.

        Args:
          real_logits, fake_logits: `[B, head_units]`.
          real_labels: int `[B]` categories of the real examples (argmax of Q; ignored by a single
            head, may then be None).
          fake_targets: `[B, d_c]` codes c_f of the fakes.
        """
        real = common.check_logits(real_logits, self.head_units, "real_logits")
        fake = common.check_logits(fake_logits, self.head_units, "fake_logits")
        codes = self._codes(self._fake_targets_codes(fake_targets))
        real_codes = codes if self.head_units == 1 else self.real_codes(real_labels)
        return cagan_discriminator_loss(real, real_codes, fake, codes)

    def generator_loss(self, fake_logits, fake_targets=None, classifier_logits=None):
        """L_g per example: A_g(D(x')·c_f) (Eq. 9/12), + λ_cls·L_cls for InfoGAN (Eq. 3)."""
        fake = common.check_logits(fake_logits, self.head_units, "fake_logits")
        codes = self._codes(self._fake_targets_codes(fake_targets))
        loss = cagan_generator_loss(fake, codes)
        if self.generator_uses_classifier:
            if classifier_logits is None:
                raise ValueError(f"objective {self.name!r}: the G loss needs classifier_logits")
            loss += self.options["lambda_cls"] * category_classification_loss(
                self._classifier_logits(classifier_logits), codes
            )
        return loss

    def classifier_loss(self, classifier_logits, fake_codes) -> tf.Tensor:
        """λ_cls·L_cls per example (Eq. 7 without the penalty; the trainer adds λ_creg·L_creg)."""
        if not self.classifier_units:
            raise ValueError(f"objective {self.name!r} has no classifier")
        return self.options["lambda_cls"] * category_classification_loss(
            self._classifier_logits(classifier_logits), self._codes(fake_codes, "fake_codes")
        )

    def _classifier_logits(self, logits):
        return common.check_logits(logits, self.num_categories, "classifier_logits")

    def _fake_targets_codes(self, fake_targets):
        if fake_targets is None:
            raise ValueError(f"objective {self.name!r} needs the fake codes c_f (fake_targets)")
        return fake_targets

    def real_probability(self, logits, codes=None) -> tf.Tensor:
        """sigmoid(D(x)·c) `[B]`; a categorical head needs the codes."""
        logits = common.check_logits(logits, self.head_units, "logits")
        if self.head_units > 1 and codes is None:
            raise ValueError("a categorical (CAGAN) head needs the codes to give D_r")
        return tf.sigmoid(adversarial_score(logits, codes))

    def class_logits(self, logits):
        raise ValueError(
            f"objective {self.name!r}: categories come from the classifier Q (or the code), "
            "not from D's head"
        )
