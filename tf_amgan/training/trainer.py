"""The single GAN trainer: networks, optimizers, RNG and the distributed D-then-G train step.

Every model variant goes through the same step; only the objective (tf_amgan.losses) differs.
Latent-code objectives (CGPGAN, InfoGAN family; `tf_amgan.losses.cgpgan`) plug into the same D and G
steps: they may declare a third network, the classifier Q (trained in the D step from the same
forward pass), penalties on the input gradient of generated samples (R2, P003 Eq. 10; double
backprop), and G's categorical code c_f is drawn from the prior P(C) of `tf_amgan.selfsup`, a
checkpointed, mirrored variable updated once per step from strategy-reduced means.
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
from tf_amgan.losses import cgpgan, projection, registry
from tf_amgan.training import selfsup
from tf_amgan.training.config import Config

# Offsets that keep the stateless seeds of the different random draws of one batch apart.
_Z_D, _Y_D, _Z_G, _Y_G, _Z_FIXED, _C_D, _C_G = range(7)


@dataclasses.dataclass
class StepBatch:
    """What one D (+G) iteration consumes, per replica."""

    images: tf.Tensor  # [B, ...] real samples in [-1, 1]
    labels: tf.Tensor  # int32 [B]
    z_d: tf.Tensor  # noise of the fakes in the D step
    y_d: tf.Tensor  # predefined labels of those fakes
    z_g: tf.Tensor  # noise of the G step
    y_g: tf.Tensor
    # Latent-code models only: Gumbel noise [B, d_c] from which the codes c_f are drawn (selfsup).
    c_d: tf.Tensor | None = None
    c_g: tf.Tensor | None = None


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
        self.latent = registry.uses_latent_code(config.model)
        # K: the data set's, or a free number of class logits for unsupervised K+1 models.
        self.num_classes = (
            int(info.num_classes) if self.latent else config.resolved_num_classes(info.num_classes)
        )
        self.labeled_fraction = float(config.labeled_fraction)
        # d_c of the categorical code c_f (latent-code models), else 0.
        self.num_categories = config.resolved_num_categories(self.num_classes) if self.latent else 0
        self.objective = losses.get_objective(
            config.model,
            self.num_categories if self.latent else self.num_classes,
            **config.objective_options(),
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
            if config.equalized_lr:
                arch_kwargs["equalized_lr"] = True
        g_kwargs = {"normalize_code": True} if self.latent else {}
        with strategy.scope():
            self.rng = tf.random.Generator.from_seed(config.seed)
            keras.utils.set_random_seed(config.seed)
            self.generator = networks.build_generator(
                self.arch,
                num_classes=self.num_categories if self.latent else self.num_classes,
                conditional=self.conditional or self.latent,
                z_dim=config.z_dim,
                width=config.g_width,
                image_shape=self.image_shape,
                weight_norm=config.weight_norm,
                batch_norm=config.batch_norm,
                layer_noise=config.g_layer_noise,
                sync_batch_norm=sync_bn,
                rng=self.rng,
                **arch_kwargs,
                **g_kwargs,
            )

            def build_d(head_units, name):
                return networks.build_discriminator(
                    self.arch,
                    head_units=head_units,
                    image_shape=self.image_shape,
                    width=config.d_width,
                    extra_conv=config.resolved_extra_conv,
                    input_noise_std=config.input_noise_std,
                    dropout=config.dropout,
                    weight_norm=config.weight_norm,
                    batch_norm=config.batch_norm,
                    sync_batch_norm=sync_bn,
                    rng=self.rng,
                    name=name,
                    **arch_kwargs,
                )

            self.discriminator = build_d(self.objective.head_units, "discriminator")
            # The classifier Q of latent-code models: D's architecture, separate weights (P003).
            q_units = getattr(self.objective, "classifier_units", 0)
            self.classifier = build_d(q_units, "classifier") if q_units else None
            self.g_optimizer = self._make_optimizer(config.lr, ema=config.ema_decay, name="g_adam")
            self.d_optimizer = self._make_optimizer(
                config.lr * config.d_lr_multiplier, ema=0.0, name="d_adam"
            )
            # Building here (not lazily inside strategy.run) is required under tf.distribute.
            self.g_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.q_optimizer = None
            if self.classifier is not None:
                self.q_optimizer = self._make_optimizer(
                    config.lr * config.d_lr_multiplier, ema=0.0, name="q_adam"
                )
                self.q_optimizer.build(self.classifier.trainable_variables)
            self.prior = None
            if self.latent:
                self.prior = selfsup.CategoricalPrior(
                    self.num_categories,
                    self.objective.prior_kind,
                    initial=config.category_prior,
                    decay=config.prior_decay,
                    update_start=config.prior_update_start,
                    normalize_until=(
                        None if config.prob_normalize_until < 0 else config.prob_normalize_until
                    ),
                    temperature=config.gumbel_temperature,
                    learning_rate=config.prior_lr,
                )
            self.step = tf.Variable(
                0,
                dtype=tf.int64,
                trainable=False,
                name="global_step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        tracked = {}
        if self.classifier is not None:
            tracked.update(classifier=self.classifier, q_optimizer=self.q_optimizer)
        if self.prior is not None:
            tracked.update(self.prior.variables)
        self.checkpoint = tf.train.Checkpoint(
            generator=self.generator,
            discriminator=self.discriminator,
            g_optimizer=self.g_optimizer,
            d_optimizer=self.d_optimizer,
            step=self.step,
            rng=self.rng,
            **tracked,
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

        out = {"lr_g": lr_of(self.g_optimizer), "lr_d": lr_of(self.d_optimizer)}
        if self.q_optimizer is not None:
            out["lr_q"] = lr_of(self.q_optimizer)
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
        gb, z_dim, seed, d_c = self.global_batch, c.z_dim, c.seed, self.num_categories

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
            if d_c:
                # Codes are drawn in the step from this noise and the current P(C) (selfsup).
                out["c_d"] = selfsup.gumbel_noise([gb, d_c], _stateless_seed(seed, b, _C_D))
                out["c_g"] = selfsup.gumbel_noise([gb, d_c], _stateless_seed(seed, b, _C_G))
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

    def generator_inputs(self, z, y):
        """G's inputs: z, or [z, code] (predefined labels, or a latent-code model's category).

        For latent-code models y is int categories `[B]` (one-hot encoded here) or float codes
        `[B, d_c]` (used as given, e.g. Gumbel-softmax relaxed).
        """
        if self.latent:
            if y.dtype.is_integer:
                y = tf.one_hot(y, self.num_categories, dtype=z.dtype)
            return [z, tf.cast(y, z.dtype)]
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
            y = first_batch["y_d"]
            if self.latent:
                y = self.prior.sample_codes(first_batch["c_d"], relaxed=False)
            networks.data_dependent_init(self.generator, self.generator_inputs(z, y))
            networks.data_dependent_init(self.discriminator, first_batch["images"])
            if self.classifier is not None:
                networks.data_dependent_init(self.classifier, first_batch["images"])

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

    def _codes(self, gumbel):
        """c_f `[B, d_c]` of latent-code models, drawn from the current P(C)."""
        return self.prior.sample_codes(gumbel)

    def _fake_outputs(self, fake, codes, penalties):
        """D (and Q) outputs on detached fakes, plus the declared input-gradient penalties.

        Returns (fake_logits, classifier_logits or None, {name: per-example ‖∇_{x'} score‖²}).
        The penalties are computed by an inner tape inside the caller's tape (double backprop).
        """
        D, Q = self.discriminator, self.classifier
        if not penalties:
            q = Q(fake, training=True) if Q is not None else None
            return D(fake, training=True), q, {}
        with tf.GradientTape(persistent=len(penalties) > 1) as inner:
            inner.watch(fake)
            fake_logits = D(fake, training=True)
            q = Q(fake, training=True) if Q is not None else None
            scores = [p.score(fake_logits, q, codes) for p in penalties]
        values = {}
        for p, score in zip(penalties, scores, strict=True):
            grad = tf.cast(inner.gradient(score, fake), tf.float32)
            values[p.name] = tf.reduce_sum(tf.square(grad), axis=list(range(1, grad.shape.rank)))
        return fake_logits, q, values

    def _d_replica_step(self, batch: dict):
        """One D update (and, for latent-code models, the Q update from the same pass).

        Latent-code models (P003 Alg. 1 lines 1-18): real categories c_r = argmax_onehot(c'_r) of
        Q's softmax c'_r on the real batch (prob_normalize'd early in training, with the global
        batch mean); D minimises L^d_adv + λ_r2 R2, Q minimises λ_cls L_cls + λ_creg L_creg.
        """
        G, D, Q, obj = self.generator, self.discriminator, self.classifier, self.objective
        d_vars = D.trainable_variables
        codes = self._codes(batch["c_d"]) if self.latent else None
        penalties = getattr(obj, "input_penalties", ())
        with tf.GradientTape(persistent=Q is not None) as tape:
            fake = G(
                self.generator_inputs(batch["z_d"], codes if self.latent else batch["y_d"]),
                training=True,
            )
            fake = tf.stop_gradient(fake)
            real_logits = D(batch["images"], training=True)
            q_real = Q(batch["images"], training=True) if Q is not None else None
            fake_logits, q_fake, penalty_values = self._fake_outputs(fake, codes, penalties)
            extra = {}
            if self.latent:
                real_categories = None
                if q_real is not None:
                    real_probs = tf.nn.softmax(tf.cast(q_real, tf.float32))
                    normalized = cgpgan.prob_normalize(
                        real_probs, self._global_batch_mean(real_probs)
                    )
                    real_probs = tf.where(
                        self.prior.normalize_active(self.step), normalized, real_probs
                    )
                    real_categories = tf.argmax(real_probs, axis=-1, output_type=tf.int32)
                    # Its global-batch mean feeds the dynamic prior after the G step (line 25).
                    extra["prior_batch_mean"] = (
                        tf.reduce_sum(real_probs, axis=0) / self.global_batch
                    )
                per_example = obj.discriminator_loss(
                    real_logits, real_categories, fake_logits, codes
                )
            else:
                targets = self._targets(batch["y_d"], fake_logits)
                per_example = obj.discriminator_loss(
                    real_logits, batch["labels"], fake_logits, targets
                )
            q_per_example = obj.classifier_loss(q_fake, codes) if Q is not None else None
            for p in penalties:
                term = p.weight * penalty_values[p.name]
                if p.network == cgpgan.CLASSIFIER:
                    q_per_example = q_per_example + term
                else:
                    per_example = per_example + term
            loss = self._average(per_example)
            scaled = self._scale(self.d_optimizer, loss)
            if Q is not None:
                q_loss = self._average(q_per_example)
                q_scaled = self._scale(self.q_optimizer, q_loss)
        grad_norm = self._apply(self.d_optimizer, scaled, tape, d_vars)
        out = {"d_loss": loss, "d_grad_norm": grad_norm}
        if Q is not None:
            out["q_loss"] = q_loss
            out["q_grad_norm"] = self._apply(
                self.q_optimizer, q_scaled, tape, Q.trainable_variables
            )
            out["q_fake_acc"] = self._average(
                tf.cast(tf.equal(tf.argmax(q_fake, axis=-1), tf.argmax(codes, axis=-1)), tf.float32)
            )
        for name, value in penalty_values.items():
            out[name] = self._average(value)
        if self.latent:
            real_codes = (
                codes
                if real_categories is None
                else tf.one_hot(real_categories, self.num_categories)
            )
            real_score = cgpgan.adversarial_score(real_logits, real_codes)
            fake_score = cgpgan.adversarial_score(fake_logits, codes)
            out["d_real_acc"] = self._average(tf.cast(real_score > 0, tf.float32))
            out["d_fake_acc"] = self._average(tf.cast(fake_score < 0, tf.float32))
        else:
            if isinstance(obj, projection.ProjectionObjective):
                real_p = obj.real_probability(real_logits, batch["labels"])
                fake_p = obj.real_probability(fake_logits, targets)
            else:
                real_p = tf.cast(obj.real_probability(real_logits), tf.float32)
                fake_p = tf.cast(obj.real_probability(fake_logits), tf.float32)
            out["d_real_acc"] = self._average(tf.cast(real_p > 0.5, tf.float32))
            out["d_fake_acc"] = self._average(tf.cast(fake_p < 0.5, tf.float32))
            if self.num_classes and obj.head_units > 1 and self.labeled_fraction == 1.0:
                class_pred = tf.argmax(obj.class_logits(real_logits), axis=-1, output_type=tf.int32)
                out["d_class_acc"] = self._average(
                    tf.cast(tf.equal(class_pred, batch["labels"]), tf.float32)
                )
        out.update(extra)
        return out

    def _g_replica_step(self, batch: dict):
        G, D, Q, obj = self.generator, self.discriminator, self.classifier, self.objective
        g_vars = G.trainable_variables
        prior_vars = self.prior.trainable_variables if self.prior is not None else []
        with tf.GradientTape() as tape:
            if self.latent:
                # Inside the tape: relaxed (Gumbel-softmax) codes carry the prior's gradient.
                codes = self._codes(batch["c_g"])
                fake = G(self.generator_inputs(batch["z_g"], codes), training=True)
                fake_logits = D(fake, training=True)
                q_fake = None
                if getattr(obj, "generator_uses_classifier", False):
                    q_fake = Q(fake, training=True)
                per_example = obj.generator_loss(fake_logits, codes, q_fake)
            else:
                fake = G(self.generator_inputs(batch["z_g"], batch["y_g"]), training=True)
                fake_logits = D(fake, training=True)
                targets = self._targets(batch["y_g"], fake_logits)
                if getattr(obj, "generator_needs_data_logits", False):
                    # M-14: the class distribution of D on real data is the G target.
                    data_logits = D(batch["images"], training=True)
                    per_example = obj.generator_loss(fake_logits, targets, data_logits)
                else:
                    per_example = obj.generator_loss(fake_logits, targets)
            loss = self._average(per_example)
            scaled = self._scale(self.g_optimizer, loss)
        if not prior_vars:
            grad_norm = self._apply(self.g_optimizer, scaled, tape, g_vars)
            return {"g_loss": loss, "g_grad_norm": grad_norm}
        grads = tape.gradient(scaled, g_vars + prior_vars)
        grad_norm = self._apply(self.g_optimizer, None, None, g_vars, grads[: len(g_vars)])
        # The learned prior (M-22) is trained by G's loss only from --prior_update_start on.
        active = tf.cast(self.prior.update_active(self.step), tf.float32)
        if self.config.mixed_precision:  # the G loss was scaled for G's LossScaleOptimizer
            active = active / tf.cast(self.g_optimizer.dynamic_scale, tf.float32)
        # Overflowing (loss-scaled) steps are skipped by G's optimizer; zero them here too.
        prior_grads = [
            tf.where(tf.math.is_finite(g), g * active, 0.0) for g in grads[len(g_vars) :]
        ]
        self.prior.optimizer.apply(prior_grads, prior_vars)
        return {"g_loss": loss, "g_grad_norm": grad_norm}

    def _compile(self, fn):
        return tf.function(fn, jit_compile=True) if self.config.jit_compile else fn

    def build_train_step(self):
        """Returns train_step(iterator) -> dict of scalar metrics (global means)."""
        strategy = self.strategy
        d_steps = self.config.d_steps
        d_fn = self._compile(self._d_replica_step)
        g_fn = self._compile(self._g_replica_step)
        prior = self.prior

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
            if prior is not None:
                # P003 Alg. 1 line 25, in cross-replica context: every replica gets the same P(C).
                batch_mean = metrics.pop("prior_batch_mean", None)
                if batch_mean is not None:
                    prior.update(self.step, batch_mean)
                metrics.update(prior.statistics())
            self.step.assign_add(1)
            losses_ = [metrics["d_loss"], metrics["g_loss"]]
            if "q_loss" in metrics:
                losses_.append(metrics["q_loss"])
            metrics["finite"] = tf.reduce_all([tf.math.is_finite(v) for v in losses_])
            return metrics

        self._train_step = train_step
        return train_step

    # ------------------------------------------------------------------ sampling
    def sample_categories(self, n: int, index: int = 0):
        """`[n]` int32 categories of a latent-code model in the proportions of the current P(C).

        Systematic (stratified) sampling with a fixed seed: each category k gets floor or ceil of
        n·P(k) samples, so evaluation batches follow P(C) without sampling noise.
        """
        seed = tf.constant([self.config.seed, 0x5A3E + index], tf.int64)
        return data.sample_labels(
            seed, n, self.num_categories, prior=self.prior.probs(), stratified=True
        )

    def generate(self, z, labels=None, training=False):
        """Images (float32) from noise (and labels for predefined models), in inference mode.

        Latent-code models take optional categories (int `[N]`); without them categories are drawn
        in the proportions of P(C) (`sample_categories`).
        """
        if self.latent:
            if labels is None:
                labels = self.sample_categories(int(z.shape[0]))
            codes = tf.one_hot(labels, self.num_categories)
            return tf.cast(self.generator([z, codes], training=training), tf.float32)
        if self.conditional:
            if labels is None:
                raise ValueError("predefined-labeling models need labels")
            return tf.cast(
                self.generator([z, tf.one_hot(labels, self.num_classes)], training=training),
                tf.float32,
            )
        return tf.cast(self.generator(z, training=training), tf.float32)

    def classify(self, images):
        """The class D (its aux classifier, or Q) assigns, inference mode; -1 without classes.

        Latent-code models: argmax of the classifier Q (P003), -1 without Q (M-21).
        """
        if self.latent:
            if self.classifier is None:
                return tf.fill([tf.shape(images)[0]], -1)
            logits = self.classifier(images, training=False)
            return tf.argmax(logits, axis=-1, output_type=tf.int32)
        if self.objective.head_units == 1:
            return tf.fill([tf.shape(images)[0]], -1)
        logits = self.discriminator(images, training=False)
        return tf.argmax(self.objective.class_logits(logits), axis=-1, output_type=tf.int32)
