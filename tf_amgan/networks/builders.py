"""What the G / D builders of every architecture share: widths, layer factory, options and specs.

The architectures (amgan.py, acgan.py, mlp.py) differ only in their layer lists; the wrapping of a
layer (weight norm, equalized learning rate, batch norm, noise, dropout), the checks of widths, head
sizes and image shapes, and the inputs of a conditional G are defined here once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import keras
import tensorflow as tf
from keras import ops

from tf_amgan.networks.layers import (
    Dropout,
    GaussianNoise,
    WeightNormalization,
    batch_norm,
)


def scaled_width(channels: int, width: float, what: str) -> int:
    """channels * width rounded half up; must be >= 1 (`what` names the layer in the error)."""
    units = int(math.floor(channels * width + 0.5))
    if units < 1:
        raise ValueError(
            f"width={width} leaves {what} with {channels} * {width} -> {units} units; use a larger width"
        )
    return units


def check_width(width: float, what: str = "width") -> float:
    """Validates a width multiplier (finite, > 0)."""
    try:
        value = float(width)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive number, got {width!r}") from None
    if not (value > 0 and value != float("inf")):
        raise ValueError(f"{what} must be a positive finite number, got {width!r}")
    return value


@keras.saving.register_keras_serializable(package="tf_amgan")
class EqualizedDense(keras.layers.Dense):
    """Dense layer with the equalized learning rate of ProGAN (P003 A-8: "for all weights").

    The kernel is stored N(0, 1) and scaled at run time by sqrt(1 / fan_in) (He's constant without
    the gain, as the P003 reference code does), so Adam's per-parameter step sizes are the same for
    every layer. Biases start at zero. Shapes as keras.layers.Dense.
    """

    def __init__(self, units, seed=None, **kwargs):
        kwargs.pop("kernel_initializer", None)
        init = keras.initializers.RandomNormal(0.0, 1.0, seed=seed)
        super().__init__(units, kernel_initializer=init, **kwargs)
        self.seed = seed

    def build(self, input_shape):
        super().build(input_shape)
        self.runtime_scale = 1.0 / math.sqrt(int(input_shape[-1]))

    def call(self, inputs, training=None):
        kernel = ops.cast(self.kernel, inputs.dtype) * self.runtime_scale
        x = ops.matmul(inputs, kernel)
        if self.use_bias:
            x = ops.add(x, ops.cast(self.bias, x.dtype))
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        config = super().get_config()
        config.pop("kernel_initializer", None)
        return {**config, "seed": self.seed}


class LayerFactory:
    """Creates the named, optionally weight-normalised / seeded layers of one network.

    Args:
      weight_norm: wrap Dense / Conv2D / Conv2DTranspose in `WeightNormalization(data_init=True)`.
      kernel_initializer: callable seed -> Keras initializer for kernels (v under weight norm).
      batch_norm: whether `bn()` creates layers (else it returns None).
      bn_momentum: BatchNormalization momentum.
      sync_batch_norm: BatchNormalization(synchronized=...).
      rng: optional tf.random.Generator shared by all noise / dropout layers.
      seed: optional int; when given, initializers and (rng-less) noise layers get seeds seed, seed+1, ...
        in creation order, so two networks built with the same seed are identical.
      equalized_lr: dense layers are `EqualizedDense` (not combinable with weight_norm).
    """

    def __init__(
        self,
        *,
        weight_norm: bool,
        kernel_initializer: Callable[[int | None], keras.initializers.Initializer],
        batch_norm: bool,
        bn_momentum: float = 0.99,
        sync_batch_norm: bool = False,
        rng: tf.random.Generator | None = None,
        seed: int | None = None,
        equalized_lr: bool = False,
    ):
        if equalized_lr and weight_norm:
            raise ValueError("equalized_lr and weight_norm are alternative parametrisations")
        self.equalized_lr = bool(equalized_lr)
        self.weight_norm = bool(weight_norm)
        self.kernel_initializer = kernel_initializer
        self.batch_norm = bool(batch_norm)
        self.bn_momentum = bn_momentum
        self.sync_batch_norm = bool(sync_batch_norm)
        self.rng = rng
        self.seed = seed
        self._count = 0

    def next_seed(self) -> int | None:
        if self.seed is None:
            return None
        self._count += 1
        return int(self.seed) * 1009 + self._count

    def _wrap(self, layer, name):
        if self.weight_norm:
            return WeightNormalization(layer, data_init=True, name=name)
        return layer

    def _name(self, name):
        return f"{name}_v" if self.weight_norm else name

    def dense(self, units: int, name: str):
        if self.equalized_lr:
            return EqualizedDense(units, seed=self.next_seed(), name=name)
        layer = keras.layers.Dense(
            units,
            kernel_initializer=self.kernel_initializer(self.next_seed()),
            name=self._name(name),
        )
        return self._wrap(layer, name)

    def _conv(self, cls, filters: int, kernel: int, stride: int, name: str):
        layer = cls(
            filters,
            kernel,
            strides=stride,
            padding="same",
            kernel_initializer=self.kernel_initializer(self.next_seed()),
            name=self._name(name),
        )
        return self._wrap(layer, name)

    def conv(self, filters: int, kernel: int, stride: int, name: str):
        return self._conv(keras.layers.Conv2D, filters, kernel, stride, name)

    def deconv(self, filters: int, kernel: int, stride: int, name: str):
        return self._conv(keras.layers.Conv2DTranspose, filters, kernel, stride, name)

    def bn(self, x, name: str):
        """Applies batch norm to x if enabled."""
        if not self.batch_norm:
            return x
        return batch_norm(self.bn_momentum, self.sync_batch_norm, name=name)(x)

    def noise(self, x, stddev: float, name: str):
        """Adds GaussianNoise(stddev) if stddev > 0."""
        if not stddev >= 0:
            raise ValueError(f"{name}: noise stddev must be >= 0, got {stddev}")
        if stddev == 0:
            return x
        return GaussianNoise(stddev, rng=self.rng, seed=self.next_seed(), name=name)(x)

    def dropout(self, x, rate: float, name: str):
        """Applies Dropout(rate) if rate > 0."""
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"{name}: dropout rate must be in [0, 1), got {rate}")
        if rate == 0:
            return x
        return Dropout(rate, rng=self.rng, seed=self.next_seed(), name=name)(x)


@dataclasses.dataclass(frozen=True)
class NetworkOptions:
    """The options every arch's G and D builder takes (validated by `tf_amgan.networks`).

    Attributes:
      width: multiplier of every hidden width. image_shape: (H, W, C), or (data_dim,) for "mlp".
      weight_norm, batch_norm, bn_momentum, sync_batch_norm, rng, seed, equalized_lr: as in
        `LayerFactory`. name: the model's name.
      depth, units: hidden layers and their width ("mlp" only).
    """

    width: float
    image_shape: tuple
    weight_norm: bool
    batch_norm: bool
    name: str
    bn_momentum: float = 0.99
    sync_batch_norm: bool = False
    rng: tf.random.Generator | None = None
    seed: int | None = None
    equalized_lr: bool = False
    depth: int = 4
    units: int = 512

    def factory(self, kernel_initializer) -> LayerFactory:
        return LayerFactory(
            weight_norm=self.weight_norm,
            kernel_initializer=kernel_initializer,
            batch_norm=self.batch_norm,
            bn_momentum=self.bn_momentum,
            sync_batch_norm=self.sync_batch_norm,
            rng=self.rng,
            seed=self.seed,
            equalized_lr=self.equalized_lr,
        )


@dataclasses.dataclass(frozen=True)
class GeneratorSpec:
    """What a generator takes and adds: its inputs (`generator_inputs`) and hidden-layer noise.

    layer_noise_std: training-only Gaussian noise on every hidden (deconv) input; 0 = off.
    """

    num_classes: int
    conditional: bool
    z_dim: int = 100
    layer_noise_std: float = 0.0
    normalize_code: bool = False

    def inputs(self):
        return generator_inputs(self.z_dim, self.num_classes, self.conditional, self.normalize_code)


@dataclasses.dataclass(frozen=True)
class DiscriminatorSpec:
    """What a discriminator adds to the trunk: head size, extra block, input noise, dropout."""

    head_units: int
    extra_conv: bool = False
    input_noise_std: float = 0.0
    dropout: float = 0.0


def leaky_relu(x, name: str):
    """Leaky ReLU with slope 0.2 ([CODE] `ops_wn.lrelu`, P004 Tables 1-2)."""
    return keras.layers.LeakyReLU(negative_slope=0.2, name=name)(x)


def float32_output(x, activation: str, name: str):
    """Final activation computed and returned in float32 (also under mixed precision)."""
    return keras.layers.Activation(activation, dtype="float32", name=name)(x)


def generator_inputs(z_dim: int, num_classes: int, conditional: bool, normalize_code: bool = False):
    """Keras inputs of a generator and the concatenated input vector.

    Args:
      normalize_code: standardise the one-hot (or relaxed) code c before the concatenation,
        (c·K - 1) / sqrt(K - 1), so that a one-hot has zero mean and unit variance over its K
        entries like the noise (P003 reference code, CGPGAN `Models.Generator`); K = 1 unchanged.

    Returns:
      (inputs, x): inputs is the `noise` Input [N, z_dim] or [noise, onehot [N, num_classes]]
      (predefined labeling, spec 1.2); x is [N, z_dim (+ num_classes)].
    """
    if int(z_dim) < 1:
        raise ValueError(f"z_dim must be >= 1, got {z_dim}")
    noise = keras.Input((int(z_dim),), name="noise")
    if not conditional:
        return noise, noise
    if num_classes is None or int(num_classes) < 1:
        raise ValueError(f"a conditional generator needs num_classes >= 1, got {num_classes}")
    onehot = keras.Input((int(num_classes),), name="onehot")
    code = onehot
    k = int(num_classes)
    if normalize_code and k > 1:
        code = keras.layers.Rescaling(
            k / math.sqrt(k - 1), offset=-1.0 / math.sqrt(k - 1), name="code_norm"
        )(onehot)
    x = keras.layers.Concatenate(name="noise_onehot")([noise, code])
    return [noise, onehot], x


def check_head_units(head_units) -> int:
    if head_units is None or int(head_units) < 1 or int(head_units) != head_units:
        raise ValueError(f"head_units must be a positive integer, got {head_units!r}")
    return int(head_units)


def check_image_shape(image_shape, min_size: int, arch: str) -> tuple[int, int, int]:
    """Validates a square channels-last image shape (H, W, C) with H >= min_size."""
    shape = tuple(int(s) for s in image_shape) if image_shape is not None else ()
    if len(shape) != 3:
        raise ValueError(f"arch {arch!r} needs image_shape (H, W, C), got {image_shape!r}")
    h, w, c = shape
    if h != w:
        raise ValueError(f"arch {arch!r} needs square images, got image_shape {shape}")
    if h < min_size or c < 1:
        raise ValueError(
            f"arch {arch!r} needs images of at least {min_size}x{min_size} with >= 1 channel, got {shape}"
        )
    return shape


def conv_generator_shape(o: NetworkOptions, arch: str) -> tuple[float, int, int, int]:
    """(width, output channels, start size, stride-2 upsamplings) of a conv generator, validated."""
    width = check_width(o.width)
    h, _, channels = check_image_shape(o.image_shape, 8, arch)
    start, n_up = generator_start_size(h, arch)
    return width, channels, start, n_up


def generator_start_size(size: int, arch: str) -> tuple[int, int]:
    """(start, n): halve `size` while it stays even and >= 4 after halving; size = start * 2**n.

    32 -> (4, 3); 28 -> (7, 2) (A-3: G starts at 7x7); 64 -> (4, 4). Requires n >= 1.
    """
    start, n = size, 0
    while start % 2 == 0 and start // 2 >= 4:
        start //= 2
        n += 1
    if n < 1:
        raise ValueError(
            f"arch {arch!r}: the generator cannot reach {size}x{size} from a >= 4x4 start by "
            "stride-2 upsampling; use a size like 28, 32 or 64"
        )
    return start, n
