"""The single GAN trainer: networks, optimizers, RNG and the distributed D-then-G train step.

Every model variant goes through the same step; only the objective (tf_amgan.losses) differs.
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

from tf_amgan import data, losses, networks
from tf_amgan.config import Config

# Offsets that keep the stateless seeds of the different random draws of one batch apart.
_Z_D, _Y_D, _Z_G, _Y_G, _Z_FIXED = range(5)


@dataclasses.dataclass
class StepBatch:
    """What one D (+G) iteration consumes, per replica."""

    images: tf.Tensor  # [B, ...] real samples in [-1, 1]
    labels: tf.Tensor  # int32 [B]
    z_d: tf.Tensor  # noise of the fakes in the D step
    y_d: tf.Tensor  # predefined labels of those fakes
    z_g: tf.Tensor  # noise of the G step
    y_g: tf.Tensor


def _stateless_seed(seed: int, index, offset: int):
    index = tf.cast(index, tf.int64)
    return tf.stack([tf.constant(seed, tf.int64), index * 8 + offset])


class GANTrainer:
    """Owns G, D, their optimizers, the step counter and the RNG; builds the train step.

    Args:
      config: validated Config.
      strategy: the tf.distribute strategy everything is created under.
      info: tf_amgan.data.DatasetInfo of the training set.
    """

    def __init__(self, config: Config, strategy: tf.distribute.Strategy, info):
        self.config = config
        self.strategy = strategy
        self.info = info
        self.num_classes = int(info.num_classes)
        self.objective = losses.get_objective(
            config.model, self.num_classes, **config.objective_options()
        )
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
        with strategy.scope():
            self.rng = tf.random.Generator.from_seed(config.seed)
            keras.utils.set_random_seed(config.seed)
            self.generator = networks.build_generator(
                self.arch,
                num_classes=self.num_classes,
                conditional=self.conditional,
                z_dim=config.z_dim,
                width=config.g_width,
                image_shape=self.image_shape,
                weight_norm=config.weight_norm,
                batch_norm=config.batch_norm,
                layer_noise=config.g_layer_noise,
                sync_batch_norm=sync_bn,
                rng=self.rng,
                **arch_kwargs,
            )
            self.discriminator = networks.build_discriminator(
                self.arch,
                head_units=self.objective.head_units,
                image_shape=self.image_shape,
                width=config.d_width,
                extra_conv=config.resolved_extra_conv,
                input_noise_std=config.input_noise_std,
                dropout=config.dropout,
                weight_norm=config.weight_norm,
                batch_norm=config.batch_norm,
                sync_batch_norm=sync_bn,
                rng=self.rng,
                **arch_kwargs,
            )
            self.g_optimizer = self._make_optimizer(config.lr, ema=config.ema_decay, name="g_adam")
            self.d_optimizer = self._make_optimizer(
                config.lr * config.d_lr_multiplier, ema=0.0, name="d_adam"
            )
            # Building here (not lazily inside strategy.run) is required under tf.distribute.
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="global_step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            step=self.step,
            rng=self.rng,
        )
        self._train_step = None

    # ------------------------------------------------------------------ set-up helpers
    def _make_optimizer(self, lr: float, ema: float, name: str):
        c = self.config
        schedule = keras.optimizers.schedules.ExponentialDecay(
            lr, decay_steps=c.lr_decay_steps, decay_rate=c.lr_decay, staircase=True
        )
        kwargs = {}
        if ema > 0:
            kwargs = {"use_ema": True, "ema_momentum": ema}
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

        return {"lr_g": lr_of(self.g_optimizer), "lr_d": lr_of(self.d_optimizer)}

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
            return {
                "images": images,
                "labels": tf.cast(labels, tf.int32),
                "z_d": tf.random.stateless_normal([gb, z_dim], _stateless_seed(seed, b, _Z_D)),
                "y_d": self._sample_labels(gb, _stateless_seed(seed, b, _Y_D)),
                "z_g": tf.random.stateless_normal([gb, z_dim], _stateless_seed(seed, b, _Z_G)),
                "y_g": self._sample_labels(gb, _stateless_seed(seed, b, _Y_G)),
            }

        ds = tf.data.Dataset.zip((real, index)).map(add_noise, num_parallel_calls=1)
        options = tf.data.Options()
        options.deterministic = True
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return ds.with_options(options).prefetch(2)

    def _sample_labels(self, n, seed):
        return data.sample_labels(seed, n, self.num_classes)

    def generator_inputs(self, z, y):
        if self.conditional:
            return [z, tf.one_hot(y, self.num_classes, dtype=z.dtype)]
        return z

    def fixed_noise(self, n: int, index: int = 0):
        """Noise for sample grids: fixed for the whole run (independent of the step)."""
        return tf.random.stateless_normal(
            [n, self.config.z_dim], _stateless_seed(self.config.seed, index, _Z_FIXED)
        )

    # ------------------------------------------------------------------ initialisation
    def initialize(self, first_batch: dict) -> None:
        """Data-dependent weight-norm init (Salimans & Kingma) of G, then D on real data."""
        with self.strategy.scope():
            z = first_batch["z_d"]
            networks.data_dependent_init(
                self.generator, self.generator_inputs(z, first_batch["y_d"])
            )
            networks.data_dependent_init(self.discriminator, first_batch["images"])

    # ------------------------------------------------------------------ the step
    def _targets(self, given, logits):
        if self.conditional:
            return given
        if not self.objective.uses_targets:
            return given  # the objective ignores them
        return self.objective.dynamic_targets(logits)

    def _scale(self, optimizer, loss):
        # Inside the tape: the loss-scale multiplication must be recorded (mixed precision).
        return optimizer.scale_loss(loss) if self.config.mixed_precision else loss

    def _apply(self, optimizer, scaled_loss, tape, variables):
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

    def _d_replica_step(self, batch: dict):
        G, D, obj = self.generator, self.discriminator, self.objective
        d_vars = D.trainable_variables
        with tf.GradientTape() as tape:
            fake = G(self.generator_inputs(batch["z_d"], batch["y_d"]), training=True)
            fake = tf.stop_gradient(fake)
            real_logits = D(batch["images"], training=True)
            fake_logits = D(fake, training=True)
            targets = self._targets(batch["y_d"], fake_logits)
            per_example = obj.discriminator_loss(real_logits, batch["labels"], fake_logits, targets)
            loss = self._average(per_example)
            scaled = self._scale(self.d_optimizer, loss)
        grad_norm = self._apply(self.d_optimizer, scaled, tape, d_vars)
        real_p = tf.cast(obj.real_probability(real_logits), tf.float32)
        fake_p = tf.cast(obj.real_probability(fake_logits), tf.float32)
        out = {
            "d_loss": loss,
            "d_real_acc": self._average(tf.cast(real_p > 0.5, tf.float32)),
            "d_fake_acc": self._average(tf.cast(fake_p < 0.5, tf.float32)),
            "d_grad_norm": grad_norm,
        }
        if self.num_classes and obj.head_units > 1:
            class_pred = tf.argmax(obj.class_logits(real_logits), axis=-1, output_type=tf.int32)
            out["d_class_acc"] = self._average(
                tf.cast(tf.equal(class_pred, batch["labels"]), tf.float32)
            )
        return out

    def _g_replica_step(self, batch: dict):
        G, D, obj = self.generator, self.discriminator, self.objective
        g_vars = G.trainable_variables
        with tf.GradientTape() as tape:
            fake = G(self.generator_inputs(batch["z_g"], batch["y_g"]), training=True)
            fake_logits = D(fake, training=True)
            targets = self._targets(batch["y_g"], fake_logits)
            per_example = obj.generator_loss(fake_logits, targets)
            loss = self._average(per_example)
            scaled = self._scale(self.g_optimizer, loss)
        grad_norm = self._apply(self.g_optimizer, scaled, tape, g_vars)
        return {"g_loss": loss, "g_grad_norm": grad_norm}

    def _compile(self, fn):
        return tf.function(fn, jit_compile=True) if self.config.jit_compile else fn

    def build_train_step(self):
        """Returns train_step(iterator) -> dict of scalar metrics (global means)."""
        strategy = self.strategy
        d_steps = self.config.d_steps
        d_fn = self._compile(self._d_replica_step)
        g_fn = self._compile(self._g_replica_step)

        @tf.function
        def train_step(iterator):
            batch = None
            d_out = None
            for _ in range(d_steps):
                batch = next(iterator)
                d_out = strategy.run(d_fn, args=(batch,))
            g_out = strategy.run(g_fn, args=(batch,))
            self.step.assign_add(1)
            metrics = {}
            for key, value in {**d_out, **g_out}.items():
                metrics[key] = strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            metrics["finite"] = tf.reduce_all(
                [tf.math.is_finite(metrics["d_loss"]), tf.math.is_finite(metrics["g_loss"])]
            )
            return metrics

        self._train_step = train_step
        return train_step

    # ------------------------------------------------------------------ sampling
    def generate(self, z, labels=None, training=False):
        """Images (float32) from noise (and labels for predefined models), in inference mode."""
        if self.conditional:
            if labels is None:
                raise ValueError("predefined-labeling models need labels")
            return tf.cast(
                self.generator([z, tf.one_hot(labels, self.num_classes)], training=training),
                tf.float32,
            )
        return tf.cast(self.generator(z, training=training), tf.float32)

    def classify(self, images):
        """The class D (or its aux classifier) assigns, inference mode; -1 for models without classes."""
        if self.objective.head_units == 1:
            return tf.fill([tf.shape(images)[0]], -1)
        logits = self.discriminator(images, training=False)
        return tf.argmax(self.objective.class_logits(logits), axis=-1, output_type=tf.int32)
