"""Architectures of the dataset classifiers: a small CNN (MNIST-like sets), DenseNet-BC
(CIFAR / Tiny ImageNet) and an MLP (2-D mixtures), each behind a fixed per-channel Normalization
by the training-set statistics, so that callers always pass [-1, 1] images."""

from __future__ import annotations

import math

import numpy as np


def _normalization(input_shape, mean, variance):
    import keras

    channels = int(input_shape[-1])
    mean = np.zeros(channels) if mean is None else np.asarray(mean, np.float64)
    variance = np.ones(channels) if variance is None else np.asarray(variance, np.float64)
    return keras.layers.Normalization(
        axis=-1, mean=mean.tolist(), variance=np.maximum(variance, 1e-6).tolist(), name="normalize"
    )


def build_cnn(
    input_shape,
    num_classes: int,
    *,
    filters=(32, 64),
    dense_units: int = 128,
    dropout: float = 0.3,
    mean=None,
    variance=None,
    seed: int | None = None,
):
    """Small CNN for MNIST / Fashion-MNIST at the GAN's resolution (our choice; P001 gives none).

    | Layer                 | Output (32x32x1 input) |
    |-----------------------|------------------------|
    | Normalization (fixed) | 32x32x1                |
    | Conv 3x3 32, ReLU     | 32x32x32               |
    | MaxPool 2             | 16x16x32               |
    | Conv 3x3 64, ReLU     | 16x16x64               |
    | MaxPool 2             | 8x8x64                 |
    | Dropout, Dense 128, ReLU ("features") | 128    |
    | Dropout, Dense K ("logits")           | K      |

    Args:
      input_shape: (H, W, C) of the images in [-1, 1].
      num_classes: K.
      filters: conv widths (one conv + max-pool per entry).
      dense_units: F, the feature dimension.
      dropout: rate before each dense layer.
      mean, variance: per-channel training statistics for the input normalization.
      seed: initializer seed.

    Returns:
      keras.Model: images -> logits `[N, K]`.
    """
    import keras

    layers = keras.layers
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(tuple(input_shape), name="images")
    h = _normalization(input_shape, mean, variance)(inputs)
    for i, f in enumerate(filters):
        h = layers.Conv2D(f, 3, padding="same", activation="relu", kernel_initializer=init,
                          name=f"conv{i}")(h)  # fmt: skip
        h = layers.MaxPooling2D(name=f"pool{i}")(h)
    h = layers.Flatten()(h)
    h = layers.Dropout(dropout, seed=seed)(h)
    h = layers.Dense(dense_units, activation="relu", kernel_initializer=init, name="features")(h)
    h = layers.Dropout(dropout, seed=None if seed is None else seed + 1)(h)
    logits = layers.Dense(num_classes, kernel_initializer=init, name="logits")(h)
    return keras.Model(inputs, logits, name="cnn")


def build_densenet_bc(
    input_shape,
    num_classes: int,
    *,
    depth: int = 40,
    growth_rate: int = 40,
    compression: float = 0.5,
    dropout: float = 0.0,
    weight_decay: float = 1e-4,
    bn_momentum: float = 0.9,
    mean=None,
    variance=None,
    seed: int | None = None,
):
    """DenseNet-BC (Huang et al. 2017), the P001 AM Score classifier ([CODE]: depth 40, k = 40, C10+).

    Three dense blocks of (depth - 4) / 6 bottleneck layers each (BN-ReLU-Conv1x1(4k)-BN-ReLU-
    Conv3x3(k), concatenated), joined by transitions (BN-ReLU-Conv1x1(compression·C)-AvgPool 2).
    The stem is a 3x3 conv with 2k filters; the head BN-ReLU-global average pool ("features") and
    a linear layer ("logits"). Weight decay is an L2 penalty wd/2·‖w‖² on every kernel (as
    tf.nn.l2_loss · wd in the reference DenseNet code).

    Args:
      input_shape: (H, W, C), e.g. (32, 32, 3).
      num_classes: K.
      depth: total depth; (depth - 4) must be divisible by 6.
      growth_rate: k.
      compression: transition channel factor θ.
      dropout: after each conv (0 for augmented training, as C10+).
      weight_decay: wd.
      bn_momentum: moving-average momentum of the BN layers.
      mean, variance: per-channel statistics for the input normalization ("by channels").
      seed: initializer seed.

    Returns:
      keras.Model: images -> logits `[N, K]`.
    """
    import keras

    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"DenseNet-BC depth must be 6n + 4 with n >= 1, got {depth}")
    layers = keras.layers
    per_block = (depth - 4) // 6
    reg = keras.regularizers.L2(weight_decay / 2.0) if weight_decay else None
    counter = iter(range(10**6))

    def init():
        return keras.initializers.HeNormal(seed=None if seed is None else seed + next(counter))

    def conv(x, filters, kernel, name):
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=False,
                          kernel_initializer=init(), kernel_regularizer=reg, name=name)(x)  # fmt: skip
        if dropout:
            x = layers.Dropout(dropout)(x)
        return x

    def bn_relu(x, name):
        x = layers.BatchNormalization(momentum=bn_momentum, epsilon=1e-5, name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input(tuple(input_shape), name="images")
    h = _normalization(input_shape, mean, variance)(inputs)
    h = conv(h, 2 * growth_rate, 3, "stem")
    for block in range(3):
        for i in range(per_block):
            name = f"block{block}_layer{i}"
            y = conv(bn_relu(h, f"{name}_a"), 4 * growth_rate, 1, f"{name}_conv1x1")
            y = conv(bn_relu(y, f"{name}_b"), growth_rate, 3, f"{name}_conv3x3")
            h = layers.Concatenate(name=f"{name}_concat")([h, y])
        if block < 2:
            channels = int(math.floor(compression * h.shape[-1]))
            h = conv(bn_relu(h, f"transition{block}"), channels, 1, f"transition{block}_conv")
            h = layers.AveragePooling2D(2, name=f"transition{block}_pool")(h)
    h = bn_relu(h, "final")
    h = layers.GlobalAveragePooling2D(name="features")(h)
    logits = layers.Dense(num_classes, kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                          kernel_regularizer=reg, name="logits")(h)  # fmt: skip
    return keras.Model(inputs, logits, name=f"densenet_bc_{depth}_{growth_rate}")


def build_mlp(
    input_dim: int,
    num_classes: int,
    *,
    units: int = 128,
    depth: int = 2,
    mean=None,
    variance=None,
    seed: int | None = None,
):
    """MLP classifier for the 2-D mixtures (labels = mixture component; P000 App. B.4 toy classifier).

    Normalization (fixed) -> depth x (Dense units, ReLU; the last one is "features") -> Dense K.

    Returns:
      keras.Model: points `[N, input_dim]` -> logits `[N, K]`.
    """
    import keras

    layers = keras.layers
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input((int(input_dim),), name="points")
    h = _normalization((input_dim,), mean, variance)(inputs)
    for i in range(depth):
        name = "features" if i == depth - 1 else f"dense{i}"
        h = layers.Dense(units, activation="relu", kernel_initializer=init, name=name)(h)
    logits = layers.Dense(num_classes, kernel_initializer=init, name="logits")(h)
    return keras.Model(inputs, logits, name="mlp")


_BUILDERS = {"cnn": build_cnn, "densenet": build_densenet_bc, "mlp": None}


def build_classifier(arch: str, input_shape, num_classes: int, **options):
    """Builds `arch` ("cnn", "densenet" or "mlp"); options go to its builder."""
    if arch == "mlp":
        if len(input_shape) != 1:
            raise ValueError(f"arch 'mlp' needs a (dim,) input shape, got {input_shape}")
        return build_mlp(input_shape[0], num_classes, **options)
    if arch not in _BUILDERS:
        raise ValueError(f"unknown classifier arch {arch!r}; choose from {tuple(_BUILDERS)}")
    if len(input_shape) != 3:
        raise ValueError(f"arch {arch!r} needs an (H, W, C) input shape, got {input_shape}")
    return _BUILDERS[arch](input_shape, num_classes, **options)
