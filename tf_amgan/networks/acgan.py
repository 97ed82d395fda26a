"""AC-GAN CIFAR-10 networks (P004 Table 2; spec A-6, Q-14, Q-15), channels-last Keras 3 models."""

from __future__ import annotations

import keras

from tf_amgan.networks import builders as L

G_LINEAR_CHANNELS = 384
G_KERNEL = 5
# P004 Table 2 discriminator: (feature maps, stride) of the six 3x3 convolutions.
D_BLOCKS = ((16, 2), (32, 1), (64, 2), (128, 1), (256, 2), (512, 1))
D_KERNEL = 3


def _kernel_init(seed):
    # P004: "isotropic Gaussian (mu = 0, sigma = 0.02)" weights, Constant(0) biases.
    return keras.initializers.RandomNormal(stddev=0.02, seed=seed)


def build_generator(o: L.NetworkOptions, g: L.GeneratorSpec) -> keras.Model:
    """AC-GAN CIFAR-10 generator, P004 Table 2 (A-6).

    | Operation              | Kernel | Strides | Feature maps     | BN? | Nonlinearity |
    |------------------------|--------|---------|------------------|-----|--------------|
    | G_x(z), 110x1x1 input  |        |         |                  |     |              |
    | Linear                 |        |         | 384 (4x4x384)    | x   | ReLU         |
    | Transposed convolution | 5x5    | 2x2     | 192              | yes | ReLU         |
    | Transposed convolution | 5x5    | 2x2     | 96               | yes | ReLU         |
    | Transposed convolution | 5x5    | 2x2     | 3                | x   | Tanh         |

    The linear output reshapes to 4x4x384 (Q-14 [INFERRED]); the 110-d input is 100 noise + 10 one-hot
    when `conditional` (P004's generator is always class-conditional). Other sizes halve H while it
    stays even and >= 4: 28 -> 7x7x384 -> 192 -> C (two stride-2 deconvs); 64 -> 4x4x384 -> 192 -> 96 ->
    48 -> C. Hidden widths (384/2**i) are multiplied by `width`. Weights N(0, 0.02), biases 0.

    Args:
      o: network options (weight norm off in P004; BN on the hidden deconvs, not on the linear
        layer or the output).
      g: inputs and the optional training-only noise on every deconv input.

    Returns:
      keras.Model: noise [N, z_dim] (and onehot [N, K]) -> images float32 [N, H, W, C] in [-1, 1].
    """
    width, channels, start, n_up = L.conv_generator_shape(o, "acgan")
    f = o.factory(_kernel_init)
    inputs, x = g.inputs()
    c0 = L.scaled_width(G_LINEAR_CHANNELS, width, "the generator's linear layer")
    x = f.dense(start * start * c0, name="linear")(x)
    x = keras.layers.ReLU(name="relu0")(x)
    x = keras.layers.Reshape((start, start, c0), name="reshape")(x)
    noise_std = g.layer_noise_std
    for i in range(n_up - 1):
        c = L.scaled_width(G_LINEAR_CHANNELS // 2 ** (i + 1), width, f"generator deconv{i + 1}")
        x = f.noise(x, noise_std, name=f"noise{i + 1}")
        x = f.deconv(c, G_KERNEL, 2, name=f"deconv{i + 1}")(x)
        x = f.bn(x, name=f"bn{i + 1}")
        x = keras.layers.ReLU(name=f"relu{i + 1}")(x)
    x = f.noise(x, noise_std, name=f"noise{n_up}")
    x = f.deconv(channels, G_KERNEL, 2, name=f"deconv{n_up}")(x)
    out = L.float32_output(x, "tanh", name="images")
    return keras.Model(inputs, out, name=o.name)


def build_discriminator(o: L.NetworkOptions, d: L.DiscriminatorSpec) -> keras.Model:
    """AC-GAN CIFAR-10 discriminator, P004 Table 2 (A-6).

    | Operation   | Kernel | Strides | Feature maps | BN? | Dropout | Nonlinearity |
    |-------------|--------|---------|--------------|-----|---------|--------------|
    | D(x), 32x32x3 input |  |       |              |     |         |              |
    | Convolution | 3x3    | 2x2     | 16           | x   | 0.5     | Leaky ReLU   |
    | Convolution | 3x3    | 1x1     | 32           | yes | 0.5     | Leaky ReLU   |
    | Convolution | 3x3    | 2x2     | 64           | yes | 0.5     | Leaky ReLU   |
    | Convolution | 3x3    | 1x1     | 128          | yes | 0.5     | Leaky ReLU   |
    | Convolution | 3x3    | 2x2     | 256          | yes | 0.5     | Leaky ReLU   |
    | Convolution | 3x3    | 1x1     | 512          | yes | 0.5     | Leaky ReLU   |
    | Linear      |        |         | head_units   | x   | 0.0     | (linear)     |

    Activation noise (P004 "as suggested in Salimans et al."): GaussianNoise(input_noise_std) on the
    input of every convolution (Q-15, our placement; P004 grid {0, 0.1, 0.2}). The last map
    (4x4x512 for 32x32) is flattened before the linear layer (Q-14). The "Soft-Sigmoid" output of P004
    is applied by the losses. `extra_conv` appends one 3x3 stride-1 block at the last width (not in
    P004; mirrors A-1's class-condition layer). Weights N(0, 0.02), biases 0.

    Args:
      o: network options (weight norm off in P004; BN on every conv except the first).
      d: head units (P004: 11 = 1 source + 10 classes), the extra block (see above), the
        activation-noise std and the dropout after every conv block (both training only).

    Returns:
      keras.Model: images float32 [N, H, W, C] -> logits float32 [N, head_units].
    """
    width = L.check_width(o.width)
    head_units = L.check_head_units(d.head_units)
    L.check_image_shape(o.image_shape, 8, "acgan")
    f = o.factory(_kernel_init)
    inputs = keras.Input(tuple(o.image_shape), name="images")
    x = inputs
    blocks = list(D_BLOCKS)
    if d.extra_conv:
        blocks.append((D_BLOCKS[-1][0], 1))
    for i, (channels, stride) in enumerate(blocks):
        units = L.scaled_width(channels, width, f"discriminator conv{i + 1}")
        x = f.noise(x, d.input_noise_std, name=f"noise{i + 1}")
        x = f.conv(units, D_KERNEL, stride, name=f"conv{i + 1}")(x)
        if i > 0:
            x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
        x = f.dropout(x, d.dropout, name=f"dropout{i + 1}")
    x = keras.layers.Flatten(name="flatten")(x)
    x = f.dense(head_units, name="head")(x)
    out = L.float32_output(x, "linear", name="logits")
    return keras.Model(inputs, out, name=o.name)
