"""Model families: what differs between GAN variants in the train step, behind one interface.

The trainer (tf_amgan.training.trainer) owns what every variant shares: forward passes, tapes, optimizers,
loss scaling, averaging over the global batch, distribution and RNG. A `Family` owns the rest:

- which networks are trained in the D step besides D (`critics`, e.g. the classifier Q of P003);
- what G is conditioned on (`fake_condition`: predefined labels, or codes c_f ~ P(C)) and how that
  enters G (`generator_inputs`);
- the per-example losses of every critic (`critic_losses`: real targets are data labels, or
  categories from Q) and of G (`generator_loss`: predefined, dynamic or code targets);
- input-gradient penalties on generated samples and the critic each one trains (`penalties`);
- per-step metrics, and state updated once per step (`after_step`, e.g. a dynamic prior).

Two families exist: `ClassLabelFamily` (every class-label objective, incl. projection and
semi-/unsupervised K+1) and `LatentCodeFamily` (CGPGAN, InfoGAN family; P003). The model registry
(`tf_amgan.losses.registry`) names each model's family kind; `get_family` builds it from a Config.

Replica-side methods (`fake_condition` ... `generator_loss`) run inside `strategy.run`; losses and
per-example metrics are `[B_replica]` tensors the trainer averages over the global batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tensorflow as tf

from tf_amgan import data
from tf_amgan.losses import cgpgan, common, registry
from tf_amgan.losses.cgpgan import CLASSIFIER, adversarial_score, prob_normalize
from tf_amgan.losses.common import InputPenalty
from tf_amgan.training import selfsup

__all__ = [
    "DISCRIMINATOR",
    "ClassLabelFamily",
    "Critic",
    "Family",
    "LatentCodeFamily",
    "ReplicaContext",
    "get_family",
    "register_family",
]

DISCRIMINATOR = cgpgan.DISCRIMINATOR


@dataclasses.dataclass(frozen=True)
class Critic:
    """A network trained in the D step on the real and the generated batch (D's architecture).

    Attributes:
      name: the network's (and its checkpoint entry's) name, e.g. "discriminator", "classifier".
      key: short prefix of its metrics and optimizer ("d" -> d_loss, d_grad_norm, d_optimizer).
      units: number of outputs of its head.
    """

    name: str
    key: str
    units: int


@dataclasses.dataclass(frozen=True)
class ReplicaContext:
    """What replica-side family code may ask of the trainer.

    Attributes:
      step: the global step variable (0-based index of the running iteration).
      global_batch: the global batch size.
      global_batch_mean: `[B_replica, n]` -> `[n]` mean over the global batch (an all-reduce).
    """

    step: tf.Variable
    global_batch: int
    global_batch_mean: Callable[[tf.Tensor], tf.Tensor]


class Family:
    """Interface between the trainer and a model family (see the module docstring).

    Attributes:
      objective: the `common.Objective` (D head layout and losses).
      num_classes: K of the data (what `trainer.num_classes` reports).
      num_categories: d_c of a categorical latent code, 0 for class-label models.
      latent_code: whether G takes a latent code c_f ~ P(C) (for callers that sample or export).
      prior: the `tf_amgan.training.selfsup.CategoricalPrior` of latent-code models, else None.
      critics: the networks trained in the D step, D first.
      penalties: the `InputPenalty`s on generated samples.
      generator_critics: names of the critics G's loss reads on its samples.
      generator_real_critics: names of the critics G's loss reads on the real batch.
    """

    objective: common.Objective
    num_classes: int
    num_categories: int = 0
    latent_code: bool = False
    prior = None
    penalties: tuple[InputPenalty, ...] = ()
    generator_critics: tuple[str, ...] = (DISCRIMINATOR,)
    generator_real_critics: tuple[str, ...] = ()

    @property
    def critics(self) -> tuple[Critic, ...]:
        return (Critic(DISCRIMINATOR, "d", self.objective.head_units),)

    def generator_spec(self) -> dict:
        """kwargs of `networks.build_generator` that depend on the family."""
        raise NotImplementedError

    # ---- state (cross-replica) -------------------------------------------------------------
    def build(self) -> None:
        """Creates the family's state; called once inside the strategy scope."""

    @property
    def variables(self) -> dict:
        """Checkpointed state: name -> tf.Variable or trackable."""
        return {}

    @property
    def generator_step_variables(self) -> list[tf.Variable]:
        """Variables trained by G's loss besides G's (e.g. a learned prior's logits)."""
        return []

    def apply_generator_step_gradients(self, grads, step, loss_scale) -> None:
        """Applies G's-loss gradients of `generator_step_variables` (loss_scale: None or the
        dynamic scale G's loss was multiplied by)."""
        return None  # a docstring-only body makes AutoGraph warn on every trace

    def input_noise(self, batch_size: int, seed_for: Callable[[int], tf.Tensor]) -> dict:
        """Extra per-batch draws of the input pipeline; seed_for(i) seeds the i-th (i < 3)."""
        return {}

    def after_step(self, step, metrics: dict) -> dict:
        """Cross-replica hook after D and G stepped; metrics are the replica-summed values."""
        return metrics

    # ---- replica side ----------------------------------------------------------------------
    def fake_condition(self, batch: dict, phase: str, hard: bool = False):
        """What G is conditioned on for phase "d" or "g" (labels or codes; hard: no relaxation)."""
        raise NotImplementedError

    def generator_inputs(self, z, condition):
        """G's inputs from noise and a condition (None: unconditional samples)."""
        raise NotImplementedError

    def critic_losses(self, batch: dict, condition, real: dict, fake: dict, ctx: ReplicaContext):
        """Per-example losses of every critic (without penalties) and the step's metrics.

        Args:
          batch: the replica's batch (images, labels, noise).
          condition: `fake_condition(batch, "d")`.
          real, fake: {critic name: logits} on the real and on the generated batch.
          ctx: ReplicaContext.

        Returns:
          (losses {critic name: `[B]`}, per-example metrics {name: `[B]`} the trainer averages,
           batch sums {name: tensor} already divided by the global batch, summed over replicas).
        """
        raise NotImplementedError

    def generator_loss(self, batch: dict, condition, fake: dict, real: dict):
        """Per-example G loss `[B]` from the critics' outputs on G's samples (and on real data)."""
        raise NotImplementedError

    # ---- inference -------------------------------------------------------------------------
    def sampling_condition(self, n: int, labels=None):
        """The condition for `n` samples at inference (labels: int `[n]` or None)."""
        raise NotImplementedError

    def classify(self, critics: dict, images):
        """int32 `[N]` class (or category) of each image, -1 when the model has none."""
        raise NotImplementedError

    def sample_categories(self, n: int, index: int = 0):
        """`[n]` int32 latent categories in the proportions of the prior (latent-code models)."""
        raise ValueError(f"model {self.objective.name!r} has no latent categories")


class ClassLabelFamily(Family):
    """Class-label GANs (P000-P002, P004): G(z) or G(z, onehot(y)); one discriminator.

    Fake targets are the predefined labels (labeling "predefined") or the dynamic labels
    argmax of D's class logits; real targets are the data labels (< 0: unlabeled, M-12).

    Args:
      objective: a class-label objective (K = objective.num_classes).
      conditional: predefined labeling (G takes onehot(y)).
      labels_complete: every real example has its label (class accuracy is then logged).
    """

    def __init__(self, objective: common.Objective, *, conditional: bool, labels_complete: bool):
        self.objective = objective
        self.num_classes = objective.num_classes
        self.conditional = bool(conditional)
        self.labels_complete = bool(labels_complete)
        if getattr(objective, "generator_needs_data_logits", False):
            # M-14: the class distribution of D on real data is part of the G target.
            self.generator_real_critics = (DISCRIMINATOR,)

    @classmethod
    def from_config(cls, config, dataset_classes: int) -> ClassLabelFamily:
        # K: the data set's, or a free number of class logits for unsupervised K+1 models.
        k = config.resolved_num_classes(dataset_classes)
        objective = registry.get_objective(config.model, k, **config.objective_options())
        return cls(
            objective,
            conditional=config.conditional,
            labels_complete=config.labeled_fraction == 1.0,
        )

    def generator_spec(self) -> dict:
        return {"num_classes": self.num_classes, "conditional": self.conditional}

    def fake_condition(self, batch, phase, hard=False):
        return batch[f"y_{phase}"]

    def generator_inputs(self, z, condition):
        if self.conditional:
            return [z, tf.one_hot(condition, self.num_classes, dtype=z.dtype)]
        return z

    def _targets(self, given, fake_logits):
        if self.conditional or not self.objective.uses_targets:
            return given  # predefined labels (or ignored by the objective)
        return self.objective.dynamic_targets(fake_logits)

    def critic_losses(self, batch, condition, real, fake, ctx):
        obj, labels = self.objective, batch["labels"]
        real_logits, fake_logits = real[DISCRIMINATOR], fake[DISCRIMINATOR]
        targets = self._targets(condition, fake_logits)
        loss = obj.discriminator_loss(real_logits, labels, fake_logits, targets)
        real_p = tf.cast(obj.real_probability(real_logits, labels), tf.float32)
        fake_p = tf.cast(obj.real_probability(fake_logits, targets), tf.float32)
        metrics = {
            "d_real_acc": tf.cast(real_p > 0.5, tf.float32),
            "d_fake_acc": tf.cast(fake_p < 0.5, tf.float32),
        }
        if self.num_classes and obj.head_units > 1 and self.labels_complete:
            class_pred = tf.argmax(obj.class_logits(real_logits), axis=-1, output_type=tf.int32)
            metrics["d_class_acc"] = tf.cast(tf.equal(class_pred, labels), tf.float32)
        return {DISCRIMINATOR: loss}, metrics, {}

    def generator_loss(self, batch, condition, fake, real):
        fake_logits = fake[DISCRIMINATOR]
        targets = self._targets(condition, fake_logits)
        if self.generator_real_critics:
            return self.objective.generator_loss(fake_logits, targets, real[DISCRIMINATOR])
        return self.objective.generator_loss(fake_logits, targets)

    def sampling_condition(self, n, labels=None):
        if self.conditional and labels is None:
            raise ValueError("predefined-labeling models need labels")
        return labels if self.conditional else None

    def classify(self, critics, images):
        if self.objective.head_units == 1:
            return tf.fill([tf.shape(images)[0]], -1)
        logits = critics[DISCRIMINATOR](images, training=False)
        return tf.argmax(self.objective.class_logits(logits), axis=-1, output_type=tf.int32)


class LatentCodeFamily(Family):
    """Latent-code models in the train step (P003 Alg. 1): G(z, c_f), c_f ~ P(C); D and Q.

    D step (lines 1-18): real categories c_r = argmax_onehot(c'_r) of Q's softmax c'_r on the real
    batch (prob_normalize'd early in training, with the global-batch mean); D minimises
    L^d_adv + λ_r2 R2, Q minimises λ_cls L_cls + λ_creg L_creg. After the G step the dynamic prior
    takes the global-batch mean of c'_r (line 25); a Gumbel prior is trained by G's loss (M-22).

    Args:
      objective: a `cgpgan.LatentCodeObjective` (num_classes = d_c).
      num_classes: K of the data set (reported; the model never sees labels).
      prior: a `selfsup.CategoricalPrior` factory, called in the strategy scope.
      seed: the run's seed (stratified category sampling at inference).
    """

    latent_code = True

    def __init__(
        self, objective: cgpgan.LatentCodeObjective, *, num_classes: int, prior, seed: int
    ):
        self.objective = objective
        self.num_classes = int(num_classes)
        self.num_categories = objective.num_categories
        self.penalties = objective.input_penalties
        self._has_q = bool(objective.classifier_units)
        if objective.generator_uses_classifier:
            self.generator_critics = (DISCRIMINATOR, CLASSIFIER)
        self._make_prior = prior
        self._seed = int(seed)

    @classmethod
    def from_config(cls, config, dataset_classes: int) -> LatentCodeFamily:
        d_c = config.resolved_num_categories(dataset_classes)
        objective = registry.get_objective(config.model, d_c, **config.objective_options())
        until = config.prob_normalize_until

        def prior():
            return selfsup.CategoricalPrior(
                d_c,
                objective.prior_kind,
                initial=config.category_prior,
                decay=config.prior_decay,
                update_start=config.prior_update_start,
                normalize_until=None if until < 0 else until,
                temperature=config.gumbel_temperature,
                learning_rate=config.prior_lr,
            )

        return cls(objective, num_classes=dataset_classes, prior=prior, seed=config.seed)

    @property
    def critics(self):
        out = [Critic(DISCRIMINATOR, "d", self.objective.head_units)]
        if self._has_q:
            # The classifier Q: D's architecture, separate weights (P003).
            out.append(Critic(CLASSIFIER, "q", self.objective.classifier_units))
        return tuple(out)

    def generator_spec(self):
        return {"num_classes": self.num_categories, "conditional": True, "normalize_code": True}

    # ---- state -----------------------------------------------------------------------------
    def build(self):
        self.prior = self._make_prior()

    @property
    def variables(self):
        return dict(self.prior.variables)

    @property
    def generator_step_variables(self):
        return self.prior.trainable_variables

    def apply_generator_step_gradients(self, grads, step, loss_scale):
        if not grads:
            return
        # The learned prior (M-22) is trained by G's loss only from --prior_update_start on.
        active = tf.cast(self.prior.update_active(step), tf.float32)
        if loss_scale is not None:  # the G loss was scaled for G's LossScaleOptimizer
            active = active / tf.cast(loss_scale, tf.float32)
        # Overflowing (loss-scaled) steps are skipped by G's optimizer; zero them here too.
        grads = [tf.where(tf.math.is_finite(g), g * active, 0.0) for g in grads]
        self.prior.optimizer.apply(grads, self.prior.trainable_variables)

    def input_noise(self, batch_size, seed_for):
        # Codes are drawn in the step from this noise and the current P(C).
        shape = [batch_size, self.num_categories]
        return {
            "c_d": selfsup.gumbel_noise(shape, seed_for(0)),
            "c_g": selfsup.gumbel_noise(shape, seed_for(1)),
        }

    def after_step(self, step, metrics):
        # Alg. 1 line 25, in cross-replica context: every replica gets the same P(C).
        batch_mean = metrics.pop("prior_batch_mean", None)
        if batch_mean is not None:
            self.prior.update(step, batch_mean)
        metrics.update(self.prior.statistics())
        return metrics

    # ---- replica side ----------------------------------------------------------------------
    def fake_condition(self, batch, phase, hard=False):
        """c_f `[B, d_c]` from the pipeline's Gumbel noise and the current P(C)."""
        return self.prior.sample_codes(batch[f"c_{phase}"], relaxed=False if hard else None)

    def generator_inputs(self, z, condition):
        """[z, code]: int categories `[B]` are one-hot encoded, float codes used as given."""
        if condition.dtype.is_integer:
            condition = tf.one_hot(condition, self.num_categories, dtype=z.dtype)
        return [z, tf.cast(condition, z.dtype)]

    def critic_losses(self, batch, codes, real, fake, ctx):
        obj = self.objective
        real_logits, fake_logits = real[DISCRIMINATOR], fake[DISCRIMINATOR]
        real_categories, real_codes, metrics, sums = None, codes, {}, {}
        if self._has_q:
            real_probs = tf.nn.softmax(tf.cast(real[CLASSIFIER], tf.float32))
            normalized = prob_normalize(real_probs, ctx.global_batch_mean(real_probs))
            real_probs = tf.where(self.prior.normalize_active(ctx.step), normalized, real_probs)
            real_categories = tf.argmax(real_probs, axis=-1, output_type=tf.int32)
            real_codes = tf.one_hot(real_categories, self.num_categories)
            # Its global-batch mean feeds the dynamic prior after the G step (`after_step`).
            sums["prior_batch_mean"] = tf.reduce_sum(real_probs, axis=0) / ctx.global_batch
        losses = {
            DISCRIMINATOR: obj.discriminator_loss(real_logits, real_categories, fake_logits, codes)
        }
        if self._has_q:
            q_fake = fake[CLASSIFIER]
            losses[CLASSIFIER] = obj.classifier_loss(q_fake, codes)
            hit = tf.equal(tf.argmax(q_fake, axis=-1), tf.argmax(codes, axis=-1))
            metrics["q_fake_acc"] = tf.cast(hit, tf.float32)
        real_score = adversarial_score(real_logits, real_codes)
        fake_score = adversarial_score(fake_logits, codes)
        metrics["d_real_acc"] = tf.cast(real_score > 0, tf.float32)
        metrics["d_fake_acc"] = tf.cast(fake_score < 0, tf.float32)
        return losses, metrics, sums

    def generator_loss(self, batch, codes, fake, real):
        return self.objective.generator_loss(fake[DISCRIMINATOR], codes, fake.get(CLASSIFIER))

    # ---- inference -------------------------------------------------------------------------
    def sample_categories(self, n: int, index: int = 0):
        """`[n]` int32 categories in the proportions of the current P(C).

        Systematic (stratified) sampling with a fixed seed: each category k gets floor or ceil of
        n·P(k) samples, so evaluation batches follow P(C) without sampling noise.
        """
        seed = tf.constant([self._seed, 0x5A3E + index], tf.int64)
        return data.sample_labels(
            seed, n, self.num_categories, prior=self.prior.probs(), stratified=True
        )

    def sampling_condition(self, n, labels=None):
        return self.sample_categories(n) if labels is None else tf.convert_to_tensor(labels)

    def classify(self, critics, images):
        """argmax of the classifier Q (P003); -1 without Q (M-21)."""
        if not self._has_q:
            return tf.fill([tf.shape(images)[0]], -1)
        logits = critics[CLASSIFIER](images, training=False)
        return tf.argmax(logits, axis=-1, output_type=tf.int32)


_FAMILIES: dict[str, type] = {"class_label": ClassLabelFamily, "latent_code": LatentCodeFamily}


def register_family(kind: str, cls: type) -> None:
    """Adds a family kind that `register_model(..., family=kind)` can name."""
    if kind in _FAMILIES:
        raise ValueError(f"family {kind!r} is already registered")
    _FAMILIES[kind] = cls


def get_family(config, dataset_classes: int) -> Family:
    """The family (objective included) of `config.model` for a data set with K classes.

    Args:
      config: a validated tf_amgan.training.config.Config.
      dataset_classes: K of the training data.
    """
    kind = registry.family_of(config.model)
    if kind not in _FAMILIES:
        raise ValueError(f"model {config.model!r} names unknown family {kind!r}")
    return _FAMILIES[kind].from_config(config, int(dataset_classes))
