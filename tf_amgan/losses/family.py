"""Model families: what differs between GAN variants in the train step, behind one interface.

The trainer (tf_amgan.trainer) owns what every variant shares: forward passes, tapes, optimizers,
loss scaling, averaging over the global batch, distribution and RNG. A `Family` owns the rest:

- which networks are trained in the D step besides D (`critics`, e.g. the classifier Q of P003);
- what G is conditioned on (`fake_condition`: predefined labels, or codes c_f ~ P(C)) and how that
  enters G (`generator_inputs`);
- the per-example losses of every critic (`critic_losses`: real targets are data labels, or
  categories from Q) and of G (`generator_loss`: predefined, dynamic or code targets);
- input-gradient penalties on generated samples and the critic each one trains (`penalties`);
- per-step metrics, and state updated once per step (`after_step`, e.g. a dynamic prior).

Two families exist: `ClassLabelFamily` here (every class-label objective, incl. projection and
semi-/unsupervised K+1) and `tf_amgan.losses.cgpgan.LatentCodeFamily` (CGPGAN, InfoGAN family).
The registry (`tf_amgan.losses.registry`) pairs each model name with its objective and family.

Replica-side methods (`fake_condition` ... `generator_loss`) run inside `strategy.run`; losses and
per-example metrics are `[B_replica]` tensors the trainer averages over the global batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import tensorflow as tf

from tf_amgan.losses import common

__all__ = [
    "DISCRIMINATOR",
    "ClassLabelFamily",
    "Critic",
    "Family",
    "InputPenalty",
    "ReplicaContext",
]

DISCRIMINATOR = "discriminator"


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
      prior: the `tf_amgan.selfsup.CategoricalPrior` of latent-code models, else None.
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
        from tf_amgan.losses import registry

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
