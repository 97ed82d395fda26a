"""Fully connected networks for low-dimensional data (spec A-4 P000 synthetic, A-8 P003 clusters)."""

from __future__ import annotations

import keras

from tf_amgan.networks import builders as L

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


def _trunk(o: L.NetworkOptions, what: str) -> tuple[int, int, int]:
    """(data_dim, depth, hidden units) of an MLP, validated."""
    width = L.check_width(o.width)
    data_dim = _data_dim(o.image_shape)
    depth, units = _check_depth_units(o.depth, o.units)
    return data_dim, depth, L.scaled_width(units, width, what)


def build_generator(o: L.NetworkOptions, g: L.GeneratorSpec) -> keras.Model:
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
      o: network options (`o.image_shape` = (data_dim,); `o.depth` hidden layers of `o.units`
        before `o.width` scaling; `o.equalized_lr`: EqualizedDense layers, P003 A-8).
      g: inputs (`g.normalize_code` standardises the one-hot, see `layers.generator_inputs`) and
        the optional training-only noise on every hidden layer's input.

    Returns:
      keras.Model: noise [N, z_dim] (and onehot [N, K]) -> samples float32 [N, data_dim].
    """
    data_dim, depth, hidden = _trunk(o, "the generator's hidden layers")
    f = o.factory(_kernel_init)
    inputs, x = g.inputs()
    noise_std = g.layer_noise_std
    for i in range(depth):
        x = f.noise(x, noise_std, name=f"noise{i + 1}")
        x = f.dense(hidden, name=f"dense{i + 1}")(x)
        x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
    x = f.dense(data_dim, name="out")(x)
    out = L.float32_output(x, "linear", name="samples")
    return keras.Model(inputs, out, name=o.name)


def build_discriminator(o: L.NetworkOptions, d: L.DiscriminatorSpec) -> keras.Model:
    """MLP discriminator (A-4 / A-8).

    | Layer          | Units         | BN                  | Activation     | Dropout  |
    |----------------|---------------|---------------------|----------------|----------|
    | Input (+noise) | data_dim      |                     |                |          |
    | Linear x depth | units * width | True except layer 1 | Leaky ReLU 0.2 | dropout  |
    | Linear         | head_units    |                     | (linear)       |          |

    [CODE] (A-4 refactored) has no BN on D's first layer; A-8 uses no dropout or input noise, so both
    default to 0 here. `extra_conv` (the A-1 class-condition block) becomes one extra hidden layer.

    Args:
      o: network options, as for the generator.
      d: head units, the extra hidden layer, input noise std and dropout rate.

    Returns:
      keras.Model: samples float32 [N, data_dim] -> logits float32 [N, head_units].
    """
    head_units = L.check_head_units(d.head_units)
    data_dim, depth, hidden = _trunk(o, "the discriminator's hidden layers")
    f = o.factory(_kernel_init)
    inputs = keras.Input((data_dim,), name="samples")
    x = f.noise(inputs, d.input_noise_std, name="input_noise")
    for i in range(depth + int(bool(d.extra_conv))):
        x = f.dense(hidden, name=f"dense{i + 1}")(x)
        if i > 0:
            x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
        x = f.dropout(x, d.dropout, name=f"dropout{i + 1}")
    x = f.dense(head_units, name="head")(x)
    out = L.float32_output(x, "linear", name="logits")
    return keras.Model(inputs, out, name=o.name)
