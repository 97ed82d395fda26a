"""The single GAN trainer: networks, optimizers, RNG and the distributed D-then-G train step.

Every model variant goes through the same step; what differs between model families lives behind
the objective and its family object (`tf_amgan.training.families`): which networks are trained in
the D step besides D (the classifier Q of the latent-code models), what G is conditioned on
(labels or codes), the per-example losses and their targets, input-gradient penalties and the
network each trains, per-step metrics and per-step state (a categorical prior). The trainer keeps
the forward passes, tapes, optimizers, loss scaling, averaging over the global batch, distribution
and RNG.
Noise and predefined labels are drawn statelessly from (seed, batch index) in the input pipeline, so
a batch is the same whatever the replica count, and a resumed run sees exactly the data and noise
of an uninterrupted one. Randomness inside the networks (input noise, dropout) comes from a
checkpointed tf.random.Generator created in the strategy scope (one stream per replica).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tf_amgan import data, networks
from tf_amgan.training import families
from tf_amgan.training.config import Config

# Offsets that keep the stateless seeds of the different random draws of one batch apart; the
# family's own draws (`Family.input_noise`) get _FAMILY_DRAWS.
_Z_D, _Y_D, _Z_G, _Y_G, _Z_FIXED = range(5)
_FAMILY_DRAWS = (5, 6, 7)


@dataclasses.dataclass
class StepBatch:
    """What one D (+G) iteration consumes, per replica."""

    images: tf.Tensor  # [B, ...] real samples in [-1, 1]
    labels: tf.Tensor  # int32 [B]
    z_d: tf.Tensor  # noise of the fakes in the D step
    y_d: tf.Tensor  # predefined labels of those fakes
    z_g: tf.Tensor  # noise of the G step
    y_g: tf.Tensor
    # Plus the family's own draws (`Family.input_noise`), e.g. the Gumbel noise c_d, c_g from
    # which latent-code models draw their codes.


def _stateless_seed(seed: int, index, offset: int):
    index = tf.cast(index, tf.int64)
    return tf.stack([tf.constant(seed, tf.int64), index * 8 + offset])


class GANTrainer:
    """Owns G, the critics (D, and Q for latent-code models), their optimizers, the step counter
    and the RNG; builds the train step.

    Args:
      config: validated Config.
      strategy: the tf.distribute strategy everything is created under.
      info: tf_amgan.data.DatasetInfo of the training set.
    """

    def __init__(self, config: Config, strategy: tf.distribute.Strategy, info):
        self.config = config
        self.strategy = strategy
        self.info = info
        self.family = families.get_family(config, info.num_classes)
        self.objective = self.family.objective
        self.num_classes = self.family.num_classes
        self.num_categories = self.family.num_categories  # d_c of a latent code, else 0
        self.labeled_fraction = float(config.labeled_fraction)
        self.global_batch = config.batch_size
        self.replicas = strategy.num_replicas_in_sync
        if self.global_batch % self.replicas:
            raise ValueError(
                f"--batch_size={self.global_batch} is not divisible by the {self.replicas} replicas"
            )
        self.conditional = config.conditional
        self.arch = config.resolved_arch
        self.image_shape = tuple(info.shape)
        if config.mixed_precision:
            keras.mixed_precision.set_dtype_policy("mixed_float16")
        else:
            keras.mixed_precision.set_dtype_policy("float32")
        sync_bn = self.replicas > 1
        arch_kwargs = {}
        if self.arch == "mlp":
            arch_kwargs = {"depth": config.mlp_depth, "units": config.mlp_units}
            if config.equalized_lr:
                arch_kwargs["equalized_lr"] = True
        with strategy.scope():
            self.rng = tf.random.Generator.from_seed(config.seed)
            keras.utils.set_random_seed(config.seed)
            self.generator = networks.build_generator(
                self.arch,
                z_dim=config.z_dim,
                width=config.g_width,
                image_shape=self.image_shape,
                weight_norm=config.weight_norm,
                batch_norm=config.batch_norm,
                layer_noise=config.g_layer_noise,
                sync_batch_norm=sync_bn,
                rng=self.rng,
                **arch_kwargs,
                **self.family.generator_spec(),
            )
            # Every critic has D's architecture and D's learning rate, with its own head.
            self.critics = {
                c.name: networks.build_discriminator(
                    self.arch,
                    head_units=c.units,
                    image_shape=self.image_shape,
                    width=config.d_width,
                    extra_conv=config.resolved_extra_conv,
                    input_noise_std=config.input_noise_std,
                    dropout=config.dropout,
                    weight_norm=config.weight_norm,
                    batch_norm=config.batch_norm,
                    sync_batch_norm=sync_bn,
                    rng=self.rng,
                    name=c.name,
                    **arch_kwargs,
                )
                for c in self.family.critics
            }
            self.g_optimizer = self._make_optimizer(config.lr, ema=config.ema_decay, name="g_adam")
            self.optimizers = {
                c.name: self._make_optimizer(
                    config.lr * config.d_lr_multiplier, ema=0.0, name=f"{c.key}_adam"
                )
                for c in self.family.critics
            }
            # Building here (not lazily inside strategy.run) is required under tf.distribute.
            self.g_optimizer.build(self.generator.trainable_variables)
            for name, opt in self.optimizers.items():
                opt.build(self.critics[name].trainable_variables)
            self.family.build()
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="global_step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator,
            g_optimizer=self.g_optimizer,
            step=self.step,
            rng=self.rng,
            **{c.name: self.critics[c.name] for c in self.family.critics},
            **{f"{c.key}_optimizer": self.optimizers[c.name] for c in self.family.critics},
            **self.family.variables,
        )
        self._context = families.ReplicaContext(
            self.step, self.global_batch, self._global_batch_mean
        )
        self._train_step = None

    # Named views for callers (export, evaluation, experiments); the step never uses them.
    @property
    def discriminator(self):
        return self.critics[families.DISCRIMINATOR]

    @property
    def d_optimizer(self):
        return self.optimizers[families.DISCRIMINATOR]

    @property
    def classifier(self):
        """The classifier Q of latent-code models, else None."""
        return self.critics.get("classifier")

    @property
    def q_optimizer(self):
        return self.optimizers.get("classifier")

    @property
    def latent(self) -> bool:
        """Whether G takes a categorical latent code c_f ~ P(C) (CGPGAN, InfoGAN family)."""
        return self.family.latent_code

    @property
    def prior(self):
        """The categorical prior P(C) of latent-code models, else None."""
        return self.family.prior

    # ------------------------------------------------------------------ set-up helpers
    def _make_optimizer(self, lr: float, ema: float, name: str):
        c = self.config
        schedule = keras.optimizers.schedules.ExponentialDecay(
            lr, decay_steps=c.lr_decay_steps, decay_rate=c.lr_decay, staircase=True
        )
        kwargs = {}
        if ema > 0:
            kwargs = {"use_ema": True, "ema_momentum": ema}
        if c.optimizer == "adamw":
            opt = keras.optimizers.AdamW(
                learning_rate=schedule,
                weight_decay=c.weight_decay,
                beta_1=c.beta1,
                beta_2=c.beta2,
                name=name,
                **kwargs,
            )
        else:
            opt = keras.optimizers.Adam(
                learning_rate=schedule, beta_1=c.beta1, beta_2=c.beta2, name=name, **kwargs
            )
        if c.mixed_precision:
            opt = keras.optimizers.LossScaleOptimizer(opt, name=f"{name}_loss_scale")
        return opt

    def learning_rates(self, step: int) -> dict[str, float]:
        def lr_of(opt):
            inner = getattr(opt, "inner_optimizer", opt)
            lr = inner.learning_rate
            if callable(getattr(inner, "_learning_rate", None)):
                return float(inner._learning_rate(step))
            return float(lr)

        out = {"lr_g": lr_of(self.g_optimizer)}
        for c in self.family.critics:
            out[f"lr_{c.key}"] = lr_of(self.optimizers[c.name])
        return out

    # ------------------------------------------------------------------ inputs
    def make_dataset(self, start_step: int) -> tf.data.Dataset:
        """Global batches of StepBatch fields; batch index b = step * d_steps + j."""
        c = self.config
        start_batch = start_step * c.d_steps
        real = data.get_dataset(
            c.dataset,
            split="train",
            batch_size=self.global_batch,
            seed=c.seed,
            start_step=start_batch,
            data_dir=c.data_dir,
            download=c.download_arg,
            **c.data_options,
        )
        index = tf.data.Dataset.range(start_batch, np.iinfo(np.int64).max)
        gb, z_dim, seed = self.global_batch, c.z_dim, c.seed

        def add_noise(batch, b):
            images, labels = batch
            labels = tf.cast(labels, tf.int32)
            if self.labeled_fraction < 1.0:
                labels = tf.where(self.labeled_mask(images), labels, -1)
            out = {
                "images": images,
                "labels": labels,
                "z_d": tf.random.stateless_normal([gb, z_dim], _stateless_seed(seed, b, _Z_D)),
                "y_d": self._sample_labels(gb, _stateless_seed(seed, b, _Y_D)),
                "z_g": tf.random.stateless_normal([gb, z_dim], _stateless_seed(seed, b, _Z_G)),
                "y_g": self._sample_labels(gb, _stateless_seed(seed, b, _Y_G)),
            }
            out.update(
                self.family.input_noise(gb, lambda i: _stateless_seed(seed, b, _FAMILY_DRAWS[i]))
            )
            return out

        ds = tf.data.Dataset.zip((real, index)).map(add_noise, num_parallel_calls=1)
        options = tf.data.Options()
        options.deterministic = True
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return ds.with_options(options).prefetch(2)

    def labeled_mask(self, images):
        """bool `[B]`: whether each real example's label is used (--labeled_fraction, M-12).

        The labeled subset is fixed for the whole run: an example is labeled when a keyed hash
        (farmhash fingerprint of its values and the seed) falls below labeled_fraction, so about
        that share of the training set keeps its labels, whatever the epoch, batch or replica.
        """
        fingerprint = tf.fingerprint(tf.reshape(images, [tf.shape(images)[0], -1]))
        seed_bytes = tf.io.decode_raw(
            tf.strings.as_string(tf.constant(self.config.seed, tf.int64)), tf.uint8
        )
        salted = tf.concat(
            [fingerprint, tf.tile(seed_bytes[None, :], [tf.shape(fingerprint)[0], 1])], axis=1
        )
        key = tf.cast(tf.fingerprint(salted)[:, :4], tf.int64)
        value = key[:, 0] + 256 * (key[:, 1] + 256 * (key[:, 2] + 256 * key[:, 3]))
        return tf.cast(value, tf.float64) < self.labeled_fraction * 2.0**32

    def _sample_labels(self, n, seed):
        return data.sample_labels(seed, n, self.num_classes)

    def generator_inputs(self, z, condition):
        """G's inputs: z, or [z, code] (predefined labels, or a latent-code model's category).

        For latent-code models the condition is int categories `[B]` (one-hot encoded) or float
        codes `[B, d_c]` (used as given, e.g. Gumbel-softmax relaxed).
        """
        return self.family.generator_inputs(z, condition)

    def fixed_noise(self, n: int, index: int = 0):
        """Noise for sample grids: fixed for the whole run (independent of the step)."""
        return tf.random.stateless_normal(
            [n, self.config.z_dim], _stateless_seed(self.config.seed, index, _Z_FIXED)
        )

    # ------------------------------------------------------------------ initialisation
    def initialize(self, first_batch: dict) -> None:
        """Data-dependent weight-norm init (Salimans & Kingma) of G, then the critics on real data."""
        with self.strategy.scope():
            condition = self.family.fake_condition(first_batch, "d", hard=True)
            networks.data_dependent_init(
                self.generator, self.generator_inputs(first_batch["z_d"], condition)
            )
            for critic in self.critics.values():
                networks.data_dependent_init(critic, first_batch["images"])

    # ------------------------------------------------------------------ the step
    def _scale(self, optimizer, loss):
        # Inside the tape: the loss-scale multiplication must be recorded (mixed precision).
        return optimizer.scale_loss(loss) if self.config.mixed_precision else loss

    def _loss_scale(self, optimizer):
        return optimizer.dynamic_scale if self.config.mixed_precision else None

    def _apply(self, optimizer, scaled_loss, tape, variables, grads=None):
        if grads is None:
            grads = tape.gradient(scaled_loss, variables)
        optimizer.apply(grads, variables)
        # Health logging: the norm of this replica's gradient; summed over replicas (train_step
        # reduces with SUM) it is exact for one replica and an estimate of the global norm otherwise.
        norm = tf.linalg.global_norm([g for g in grads if g is not None])
        if self.config.mixed_precision:
            norm = norm / tf.cast(optimizer.dynamic_scale, norm.dtype)
        return norm

    def _average(self, per_example):
        return tf.nn.compute_average_loss(
            tf.cast(per_example, tf.float32), global_batch_size=self.global_batch
        )

    def _global_batch_mean(self, per_example_vectors):
        """Mean over the global batch of `[B_replica, n]` rows, inside a replica (all-reduce)."""
        local = tf.reduce_sum(tf.cast(per_example_vectors, tf.float32), axis=0) / self.global_batch
        ctx = tf.distribute.get_replica_context()
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, local)

    def _discriminate(self, real, fake, condition, training=True):
        """Every critic on the real and on the (detached) generated batch, and the penalties.

        The critics' forward passes over real and fake data happen here only, so how the two
        batches are normalised is decided in one place. The input-gradient penalties the family
        declares are taken by an inner tape inside the caller's tape (double backprop).

        Returns:
          (real outputs, fake outputs: {critic name: logits},
           {penalty name: per-example ‖∇_{x'} score‖² `[B]`}).
        """
        real_out = {name: net(real, training=training) for name, net in self.critics.items()}
        penalties = self.family.penalties
        with tf.GradientTape(persistent=len(penalties) > 1) as inner:
            inner.watch(fake)
            fake_out = {name: net(fake, training=training) for name, net in self.critics.items()}
            scores = [p.score(fake_out, condition) for p in penalties]
        values = {}
        for p, score in zip(penalties, scores, strict=True):
            grad = tf.cast(inner.gradient(score, fake), tf.float32)
            values[p.name] = tf.reduce_sum(tf.square(grad), axis=list(range(1, grad.shape.rank)))
        return real_out, fake_out, values

    def _d_replica_step(self, batch: dict):
        """One update of every critic (D, and Q for latent-code models) from one forward pass."""
        fam = self.family
        with tf.GradientTape(persistent=len(self.critics) > 1) as tape:
            condition = fam.fake_condition(batch, "d")
            fake = self.generator(self.generator_inputs(batch["z_d"], condition), training=True)
            real_out, fake_out, penalty_values = self._discriminate(
                batch["images"], tf.stop_gradient(fake), condition
            )
            per_example, metrics, sums = fam.critic_losses(
                batch, condition, real_out, fake_out, self._context
            )
            for p in fam.penalties:
                per_example[p.network] = per_example[p.network] + p.weight * penalty_values[p.name]
            mean = {name: self._average(loss) for name, loss in per_example.items()}
            scaled = {name: self._scale(self.optimizers[name], mean[name]) for name in mean}
        out = {}
        for c in fam.critics:
            out[f"{c.key}_loss"] = mean[c.name]
            out[f"{c.key}_grad_norm"] = self._apply(
                self.optimizers[c.name],
                scaled[c.name],
                tape,
                self.critics[c.name].trainable_variables,
            )
        for name, value in {**penalty_values, **metrics}.items():
            out[name] = self._average(value)
        return {**out, **sums}

    def _g_replica_step(self, batch: dict):
        """One G update; variables the family trains by G's loss (a learned prior) come along."""
        fam, G = self.family, self.generator
        g_vars = G.trainable_variables
        extra_vars = fam.generator_step_variables
        with tf.GradientTape() as tape:
            # Inside the tape: relaxed (Gumbel-softmax) codes carry the prior's gradient.
            condition = fam.fake_condition(batch, "g")
            fake = G(self.generator_inputs(batch["z_g"], condition), training=True)
            fake_out = {
                name: self.critics[name](fake, training=True) for name in fam.generator_critics
            }
            real_out = {
                name: self.critics[name](batch["images"], training=True)
                for name in fam.generator_real_critics
            }
            loss = self._average(fam.generator_loss(batch, condition, fake_out, real_out))
            scaled = self._scale(self.g_optimizer, loss)
        grads = tape.gradient(scaled, g_vars + extra_vars)
        grad_norm = self._apply(self.g_optimizer, None, None, g_vars, grads[: len(g_vars)])
        fam.apply_generator_step_gradients(
            grads[len(g_vars) :], self.step, self._loss_scale(self.g_optimizer)
        )
        return {"g_loss": loss, "g_grad_norm": grad_norm}

    def _compile(self, fn):
        return tf.function(fn, jit_compile=True) if self.config.jit_compile else fn

    def build_train_step(self):
        """Returns train_step(iterator) -> dict of scalar metrics (global means)."""
        strategy, fam = self.strategy, self.family
        d_steps = self.config.d_steps
        d_fn = self._compile(self._d_replica_step)
        g_fn = self._compile(self._g_replica_step)
        loss_keys = ["g_loss"] + [f"{c.key}_loss" for c in fam.critics]

        @tf.function
        def train_step(iterator):
            batch = None
            d_out = None
            for _ in range(d_steps):
                batch = next(iterator)
                d_out = strategy.run(d_fn, args=(batch,))
            g_out = strategy.run(g_fn, args=(batch,))
            metrics = {}
            for key, value in {**d_out, **g_out}.items():
                metrics[key] = strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            metrics = fam.after_step(self.step, metrics)  # cross-replica, e.g. the prior update
            self.step.assign_add(1)
            metrics["finite"] = tf.reduce_all([tf.math.is_finite(metrics[k]) for k in loss_keys])
            return metrics

        self._train_step = train_step
        return train_step

    # ------------------------------------------------------------------ sampling
    def sample_categories(self, n: int, index: int = 0):
        """`[n]` int32 categories of a latent-code model in the proportions of the current P(C)."""
        return self.family.sample_categories(n, index)

    def generate(self, z, labels=None, training=False):
        """Images (float32) from noise (and labels for predefined models), in inference mode.

        Latent-code models take optional categories (int `[N]`); without them categories are drawn
        in the proportions of P(C) (`sample_categories`).
        """
        condition = self.family.sampling_condition(int(z.shape[0]), labels)
        inputs = self.generator_inputs(z, condition)
        return tf.cast(self.generator(inputs, training=training), tf.float32)

    def classify(self, images):
        """The class D (its aux classifier, or Q) assigns, inference mode; -1 without classes."""
        return self.family.classify(self.critics, images)
