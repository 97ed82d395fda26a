"""Fully connected networks for low-dimensional data (spec A-4 P000 synthetic, A-8 P003 clusters)."""

from __future__ import annotations

import keras

from tf_amgan.networks import layers as L

DEFAULT_DEPTH = 4
DEFAULT_UNITS = 512


def _kernel_init(seed):
    return keras.initializers.GlorotUniform(seed=seed)


def _data_dim(image_shape) -> int:
    shape = tuple(int(s) for s in image_shape) if image_shape is not None else ()
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"arch 'mlp' needs image_shape (data_dim,), got {image_shape!r}")
    return shape[0]


def _check_depth_units(depth, units) -> tuple[int, int]:
    if int(depth) != depth or depth < 1:
        raise ValueError(f"mlp depth must be a positive integer, got {depth!r}")
    if int(units) != units or units < 1:
        raise ValueError(f"mlp units must be a positive integer, got {units!r}")
    return int(depth), int(units)


def build_generator(
    *,
    num_classes: int,
    conditional: bool,
    z_dim: int = 100,
    width: float = 1.0,
    image_shape=(2,),
    weight_norm: bool = False,
    batch_norm: bool = True,
    layer_noise: bool = False,
    layer_noise_std: float = 0.1,
    bn_momentum: float = 0.99,
    sync_batch_norm: bool = False,
    rng=None,
    seed: int | None = None,
    normalize_code: bool = False,
    name: str = "generator",
    depth: int = DEFAULT_DEPTH,
    units: int = DEFAULT_UNITS,
    equalized_lr: bool = False,
) -> keras.Model:
    """MLP generator (A-4 P000 synthetic; A-8 P003 4-cluster toy).

    | Layer          | Units              | BN   | Activation      |
    |----------------|--------------------|------|-----------------|
    | Noise input    | z_dim (+K one-hot) |      |                 |
    | Linear x depth | units * width      | True | Leaky ReLU 0.2  |
    | Linear         | data_dim           |      | (linear)        |

    A-8: depth 4 x 512 units, Leaky ReLU (P003 §4.1; z_dim 256 there). A-4 gives no sizes; our choice
    (seed-spec recommendation, passed by the config) is depth 4 x 128 units; [CODE] used 5 FC layers
    with BN.

    Args:
      image_shape: (data_dim,).
      depth: number of hidden layers. units: hidden width before `width` scaling.
      equalized_lr: EqualizedDense layers (P003 A-8).
      normalize_code: standardise the one-hot input (see `layers.generator_inputs`).
      layer_noise, layer_noise_std: optional Gaussian noise on every hidden layer's input (training
        only).
      Others: as in `tf_amgan.networks.amgan.build_generator`.

    Returns:
      keras.Model: noise [N, z_dim] (and onehot [N, K]) -> samples float32 [N, data_dim].
    """
    width = L.check_width(width)
    data_dim = _data_dim(image_shape)
    depth, units = _check_depth_units(depth, units)
    hidden = L.scaled_width(units, width, "the generator's hidden layers")
    f = L.LayerFactory(
        weight_norm=weight_norm,
        kernel_initializer=_kernel_init,
        batch_norm=batch_norm,
        bn_momentum=bn_momentum,
        sync_batch_norm=sync_batch_norm,
        rng=rng,
        seed=seed,
        equalized_lr=equalized_lr,
    )
    inputs, x = L.generator_inputs(z_dim, num_classes, conditional, normalize_code)
    noise_std = layer_noise_std if layer_noise else 0.0
    for i in range(depth):
        x = f.noise(x, noise_std, name=f"noise{i + 1}")
        x = f.dense(hidden, name=f"dense{i + 1}")(x)
        x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
    x = f.dense(data_dim, name="out")(x)
    out = L.float32_output(x, "linear", name="samples")
    return keras.Model(inputs, out, name=name)


def build_discriminator(
    *,
    head_units: int,
    image_shape=(2,),
    width: float = 1.0,
    extra_conv: bool = False,
    input_noise_std: float = 0.0,
    dropout: float = 0.0,
    weight_norm: bool = False,
    batch_norm: bool = True,
    bn_momentum: float = 0.99,
    sync_batch_norm: bool = False,
    rng=None,
    seed: int | None = None,
    name: str = "discriminator",
    depth: int = DEFAULT_DEPTH,
    units: int = DEFAULT_UNITS,
    equalized_lr: bool = False,
) -> keras.Model:
    """MLP discriminator (A-4 / A-8).

    | Layer          | Units         | BN                  | Activation     | Dropout  |
    |----------------|---------------|---------------------|----------------|----------|
    | Input (+noise) | data_dim      |                     |                |          |
    | Linear x depth | units * width | True except layer 1 | Leaky ReLU 0.2 | dropout  |
    | Linear         | head_units    |                     | (linear)       |          |

    [CODE] (A-4 refactored) has no BN on D's first layer; A-8 uses no dropout or input noise, so both
    default to 0 here. `extra_conv` (the A-1 class-condition block) becomes one extra hidden layer.

    Args:
      image_shape: (data_dim,).
      depth, units: hidden layers and their width before `width` scaling.
      equalized_lr: EqualizedDense layers (P003 A-8).
      Others: as in `tf_amgan.networks.amgan.build_discriminator`.

    Returns:
      keras.Model: samples float32 [N, data_dim] -> logits float32 [N, head_units].
    """
    width = L.check_width(width)
    head_units = L.check_head_units(head_units)
    data_dim = _data_dim(image_shape)
    depth, units = _check_depth_units(depth, units)
    hidden = L.scaled_width(units, width, "the discriminator's hidden layers")
    f = L.LayerFactory(
        weight_norm=weight_norm,
        kernel_initializer=_kernel_init,
        batch_norm=batch_norm,
        bn_momentum=bn_momentum,
        sync_batch_norm=sync_batch_norm,
        rng=rng,
        seed=seed,
        equalized_lr=equalized_lr,
    )
    inputs = keras.Input((data_dim,), name="samples")
    x = f.noise(inputs, input_noise_std, name="input_noise")
    for i in range(depth + int(bool(extra_conv))):
        x = f.dense(hidden, name=f"dense{i + 1}")(x)
        if i > 0:
            x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
        x = f.dropout(x, dropout, name=f"dropout{i + 1}")
    x = f.dense(head_units, name="head")(x)
    out = L.float32_output(x, "linear", name="logits")
    return keras.Model(inputs, out, name=name)
