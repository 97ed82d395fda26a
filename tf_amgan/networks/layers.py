"""Building blocks of the G and D networks: weight normalisation, stochastic layers, batch norm.

- `WeightNormalization` wraps a Keras 3 Dense / Conv2D / Conv2DTranspose so that its kernel is
  w = g * v / ||v|| (Salimans & Kingma 2016), as P001 App. E ("weight normalization for each weight")
  and the authors' `ops_wn.py` do. `data_dependent_init` is their data-dependent initialisation.
- `GaussianNoise` / `Dropout`: active only with training=True; they draw from a `tf.random.Generator`
  when one is given (one stream per replica under a tf.distribute strategy, checkpointable), else from
  a seeded `keras.random.SeedGenerator`.
- `batch_norm` / `set_standing_statistics`: Keras BatchNormalization with the authors' epsilon, and
  "standing statistics" so inference mode does not depend on the rest of the batch.

Tensor layout is channels-last everywhere: images [N, H, W, C], vectors [N, D].
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf
from keras import ops

__all__ = [
    "WeightNormalization",
    "GaussianNoise",
    "Dropout",
    "batch_norm",
    "walk_layers",
    "data_dependent_init",
    "set_standing_statistics",
    "standing_statistics",
    "stochastic_layers_suspended",
]

_WN_LAYERS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def walk_layers(model: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """Yields `model` and every layer nested in it (models' `.layers`, wrappers' `.layer`), depth first.

    Uses only public Keras attributes, so layers hidden inside custom layers are not visited.
    """
    seen = set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        yield layer
        if isinstance(layer, keras.Model):
            for child in layer.layers:
                yield from visit(child)
        if isinstance(layer, keras.layers.Wrapper):
            yield from visit(layer.layer)

    yield from visit(model)


# --------------------------------------------------------------------------- weight normalisation
@keras.saving.register_keras_serializable(package="tf_amgan")
class WeightNormalization(keras.layers.Wrapper):
    """Weight-normalised Dense / Conv2D / Conv2DTranspose: w = g * v / ||v||.

    The wrapped layer's `kernel` is v and its `bias` is reused; the wrapper adds `g` with one entry per
    output channel. The norm runs over every kernel axis except the output-channel axis: Dense
    (in, out) -> axis 1, Conv2D (kh, kw, in, out) -> axis 3, and Keras 3 Conv2DTranspose
    (kh, kw, out, in) -> axis 2. `g` starts at ||v||, so before `data_dependent_init` the layer
    computes exactly what the unwrapped layer computes.

    Args:
      layer: an unbuilt or built `keras.layers.Dense`, `Conv2D` or `Conv2DTranspose`
        (channels_last). Its activation, if any, is applied after the normalised linear map.
      data_init: whether `data_dependent_init` re-initialises g and the bias from a first batch.
      **kwargs: passed to `keras.layers.Wrapper` (e.g. name).

    Raises:
      TypeError: unsupported layer type.
      ValueError: channels_first convolutions.
    """

    def __init__(self, layer, data_init: bool = True, **kwargs):
        if not isinstance(layer, _WN_LAYERS):
            raise TypeError(
                "WeightNormalization supports Dense, Conv2D and Conv2DTranspose, "
                f"got {type(layer).__name__}"
            )
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError("WeightNormalization supports channels_last convolutions only")
        super().__init__(layer, **kwargs)
        self.data_init = bool(data_init)
        self._init_mode = False
        self._init_stats = None

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        kernel = self.layer.kernel
        ndim = len(kernel.shape)
        transpose = isinstance(self.layer, keras.layers.Conv2DTranspose)
        self._out_axis = ndim - 2 if transpose else ndim - 1
        self._reduce_axes = tuple(a for a in range(ndim) if a != self._out_axis)
        reduce_axes = self._reduce_axes

        def norm_of_v(shape, dtype=None):
            v = ops.convert_to_tensor(kernel.value)
            return ops.cast(ops.sqrt(ops.sum(ops.square(v), axis=reduce_axes)), dtype or "float32")

        self.g = self.add_weight(
            name="g", shape=(kernel.shape[self._out_axis],), initializer=norm_of_v, trainable=True
        )
        self.built = True

    def normalized_kernel(self):
        """w = g * v / ||v||, same shape as the wrapped layer's kernel."""
        v = ops.convert_to_tensor(self.layer.kernel)  # the compute dtype (autocast)
        dtype = v.dtype
        # The norm is a sum over up to ~10^4 squares: float32 also under mixed (b)float16.
        v = ops.cast(v, "float32")
        shape = [1] * len(v.shape)
        shape[self._out_axis] = -1
        inv_norm = ops.rsqrt(
            ops.maximum(ops.sum(ops.square(v), axis=self._reduce_axes, keepdims=True), 1e-12)
        )
        g = ops.cast(ops.reshape(self.g, shape), "float32")
        return ops.cast(v * inv_norm * g, dtype)

    def _linear(self, x, w):
        layer = self.layer
        if isinstance(layer, keras.layers.Conv2DTranspose):
            return ops.conv_transpose(
                x,
                w,
                strides=list(layer.strides),
                padding=layer.padding,
                output_padding=layer.output_padding,
                dilation_rate=layer.dilation_rate,
                data_format=layer.data_format,
            )
        if isinstance(layer, keras.layers.Conv2D):
            return ops.conv(
                x,
                w,
                strides=list(layer.strides),
                padding=layer.padding,
                dilation_rate=layer.dilation_rate,
                data_format=layer.data_format,
            )
        return ops.matmul(x, w)

    def call(self, inputs):
        layer = self.layer
        y = self._linear(inputs, self.normalized_kernel())
        if self._init_mode:
            # Salimans & Kingma init: record the pre-activation moments of this batch and pass the
            # normalised output on, i.e. what the layer computes once g, b are set from them. The
            # variables are assigned by data_dependent_init, outside any autocast scope.
            axes = tuple(range(len(y.shape) - 1))
            y32 = ops.cast(y, "float32")
            mean = ops.mean(y32, axis=axes)
            std = ops.sqrt(ops.var(y32, axis=axes) + 1e-8)
            self._init_stats = (mean, std)
            y = ops.cast((y32 - mean) / std, y.dtype)
        elif layer.use_bias:
            y = y + ops.cast(layer.bias, y.dtype)
        if layer.activation is not None:
            y = layer.activation(y)
        return y

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_init": self.data_init}


def _weight_norm_layers(model) -> list[WeightNormalization]:
    return [
        layer
        for layer in walk_layers(model)
        if isinstance(layer, WeightNormalization) and layer.data_init
    ]


def data_dependent_init(model: keras.Model, inputs, init_scale: float = 1.0) -> int:
    """Data-dependent initialisation of every `WeightNormalization(data_init=True)` layer in `model`.

    One forward pass over `inputs` in "init mode": each weight-normalised layer measures the per-channel
    mean mu and std sigma of its pre-activation t = v.x / ||v|| * g and outputs (t - mu) / sigma, which is
    what it computes after the update g <- g * init_scale / sigma, b <- -mu * init_scale / sigma. So
    each layer is initialised on the outputs of the already-initialised layers before it, as the
    authors' `initialization_wn` does variable by variable (Salimans & Kingma 2016, Sec. 3).

    Batch norm uses the batch statistics (as in training) but its moving statistics are left
    unchanged; noise and dropout are switched off so the result is deterministic.

    Must be called eagerly. Inside `strategy.scope()` of a MirroredStrategy (cross-replica context)
    the statistics come from the whole `inputs` batch and the assignments reach every replica.

    Args:
      model: a Keras model (nested models / wrappers are searched).
      inputs: the model's inputs for one batch (e.g. [N, 32, 32, 3] images or [noise, onehot]).
      init_scale: target standard deviation of the pre-activations (1.0 in the authors' code).

    Returns:
      The number of layers initialised.
    """
    if not tf.executing_eagerly():
        raise RuntimeError("data_dependent_init must run eagerly (not inside tf.function)")
    layers = _weight_norm_layers(model)
    if not layers:
        return 0
    bn_layers = _batch_norm_layers(model)
    saved = [(bn.moving_mean.numpy(), bn.moving_variance.numpy()) for bn in bn_layers]
    for layer in layers:
        layer._init_mode = True
        layer._init_stats = None
    try:
        with stochastic_layers_suspended(model):
            model(inputs, training=True)
    finally:
        for layer in layers:
            layer._init_mode = False
        for bn, (mean, var) in zip(bn_layers, saved, strict=True):
            bn.moving_mean.assign(mean)
            bn.moving_variance.assign(var)
    for layer in layers:
        if layer._init_stats is None:
            raise RuntimeError(f"layer {layer.name} was not reached by the init forward pass")
        mean, std = layer._init_stats
        layer._init_stats = None
        scale = init_scale / std
        layer.g.assign(ops.cast(ops.convert_to_tensor(layer.g) * scale, layer.g.dtype))
        if layer.layer.use_bias:
            bias = layer.layer.bias
            bias.assign(ops.cast(-mean * scale, bias.dtype))
    return len(layers)


# --------------------------------------------------------------------------- stochastic layers
class _Stochastic(keras.layers.Layer):
    """Base of the noise layers: identity unless training=True (and not suspended).

    Randomness comes from `rng` (a tf.random.Generator; created in a strategy scope it gives each
    replica its own stream, and its state is checkpointable) or, without one, from a Keras
    SeedGenerator seeded with `seed` (None = drawn from the global Keras seed).
    """

    def __init__(self, rng: tf.random.Generator | None = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rng = rng
        self.seed = seed
        self.seed_generator = None if rng is not None else keras.random.SeedGenerator(seed)
        self.suspended = False

    def _normal(self, x):
        shape = ops.shape(x)
        if self.rng is not None:
            return ops.cast(self.rng.normal(tf.shape(x), dtype=tf.float32), x.dtype)
        return ops.cast(keras.random.normal(shape, seed=self.seed_generator), x.dtype)

    def _uniform(self, x):
        if self.rng is not None:
            return self.rng.uniform(tf.shape(x), dtype=tf.float32)
        return keras.random.uniform(ops.shape(x), seed=self.seed_generator)

    def _active(self, training) -> bool:
        return bool(training) and not self.suspended

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        # The Generator itself is runtime state and is not serialised.
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="tf_amgan")
class GaussianNoise(_Stochastic):
    """x + N(0, stddev^2) noise, only with training=True.

    Used as D's input noise (P001 App. E, std 0.1), P004's activation noise (Q-15) and the optional
    G per-layer noise (P000 §5.1, Q-4). Shapes: any -> same.
    """

    def __init__(self, stddev: float, rng=None, seed=None, **kwargs):
        super().__init__(rng=rng, seed=seed, **kwargs)
        if not stddev >= 0:
            raise ValueError(f"noise stddev must be >= 0, got {stddev}")
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        if not self._active(training) or self.stddev == 0:
            return inputs
        return inputs + ops.cast(self.stddev, inputs.dtype) * self._normal(inputs)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


@keras.saving.register_keras_serializable(package="tf_amgan")
class Dropout(_Stochastic):
    """Inverted dropout with drop probability `rate`, only with training=True. Shapes: any -> same."""

    def __init__(self, rate: float, rng=None, seed=None, **kwargs):
        super().__init__(rng=rng, seed=seed, **kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = float(rate)

    def call(self, inputs, training=None):
        if not self._active(training) or self.rate == 0:
            return inputs
        keep = ops.cast(self._uniform(inputs) >= self.rate, inputs.dtype)
        return inputs * keep / ops.cast(1.0 - self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@contextlib.contextmanager
def stochastic_layers_suspended(model):
    """Within the block, every GaussianNoise / Dropout in `model` is the identity (even if training)."""
    layers = [layer for layer in walk_layers(model) if isinstance(layer, _Stochastic)]
    previous = [layer.suspended for layer in layers]
    for layer in layers:
        layer.suspended = True
    try:
        yield
    finally:
        for layer, flag in zip(layers, previous, strict=True):
            layer.suspended = flag


# --------------------------------------------------------------------------- batch norm
def batch_norm(
    momentum: float = 0.99, synchronized: bool = False, name: str | None = None
) -> keras.layers.BatchNormalization:
    """Keras BatchNormalization with the authors' epsilon 1e-3 (`ops_wn.batch_norm`).

    In training mode it normalises with batch statistics, as the authors' code always does.
    `synchronized=True` all-reduces the statistics over replicas, so a MirroredStrategy run equals a
    single-device run on the same global batch.
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"batch-norm momentum must be in [0, 1), got {momentum}")
    return keras.layers.BatchNormalization(
        momentum=momentum, epsilon=1e-3, synchronized=synchronized, name=name
    )


def _batch_norm_layers(model) -> list[keras.layers.BatchNormalization]:
    return [
        layer for layer in walk_layers(model) if isinstance(layer, keras.layers.BatchNormalization)
    ]


def set_standing_statistics(
    model: keras.Model, input_fn: Callable[[], object], num_batches: int
) -> int:
    """Replaces every BN layer's moving mean/variance by the average of its batch statistics.

    Runs `num_batches` eager forward passes in training mode (noise and dropout off), so each BN
    layer sees inputs normalised with batch statistics upstream, exactly as in training; afterwards
    moving_mean = mean_b(batch mean_b) and moving_variance = mean_b(batch variance_b) ("standing
    statistics", as StudioGAN's `-std_stat`). Inference mode then no longer depends on the rest of
    the batch, unlike the authors' batch-statistics generation.

    Args:
      model: a Keras model.
      input_fn: called once per batch; returns one batch of model inputs.
      num_batches: number of batches to average (>= 1).

    Returns:
      The number of BN layers updated.
    """
    if num_batches < 1:
        raise ValueError(f"num_batches must be >= 1, got {num_batches}")
    if not tf.executing_eagerly():
        raise RuntimeError("set_standing_statistics must run eagerly (not inside tf.function)")
    bn_layers = [bn for bn in _batch_norm_layers(model) if bn.trainable]
    if not bn_layers:
        return 0
    momenta = [bn.momentum for bn in bn_layers]
    try:
        with stochastic_layers_suspended(model):
            for i in range(num_batches):
                # Momentum i/(i+1) turns the exponential average into the running mean of batches.
                for bn in bn_layers:
                    bn.momentum = i / (i + 1.0)
                model(input_fn(), training=True)
    finally:
        for bn, momentum in zip(bn_layers, momenta, strict=True):
            bn.momentum = momentum
    return len(bn_layers)


@contextlib.contextmanager
def standing_statistics(model: keras.Model, input_fn: Callable[[], object], num_batches: int):
    """Within the block, `model`'s BN layers use standing statistics (`set_standing_statistics`).

    The moving statistics are put back on exit, so the model's state (and its checkpoint) is the
    same as before. `num_batches` 0 keeps the moving statistics.
    """
    saved = [
        (v, v.numpy())
        for bn in _batch_norm_layers(model)
        for v in (bn.moving_mean, bn.moving_variance)
    ]
    try:
        if num_batches:
            set_standing_statistics(model, input_fn, num_batches)
        yield
    finally:
        for v, value in saved:
            v.assign(value)
