"""AM-GAN family networks (P001 App. E; spec A-1, A-2, A-3), channels-last Keras 3 functional models."""

from __future__ import annotations

import math

import keras

from tf_amgan.networks import builders as L

# Hidden widths at width=1 ([CODE] iFilterDimG=192 -> 768/384/192/96, iFilterDimD=128 -> 64..512).
G_LINEAR_CHANNELS = 768
G_LAST_DECONV_CHANNELS = 96
D_FIRST_CHANNELS = 64
KERNEL = 3


def _kernel_init(seed):
    # [CODE] ops_wn: v ~ truncated normal(0, 0.05) (the direction of w under weight norm).
    return keras.initializers.TruncatedNormal(stddev=0.05, seed=seed)


def build_generator(o: L.NetworkOptions, g: L.GeneratorSpec) -> keras.Model:
    """AM-GAN generator, P001 App. E (A-1; A-3 for 1-channel images).

    | Operation            | Kernel | Strides | Output dims (CIFAR)  | Activation | BN   |
    |----------------------|--------|---------|----------------------|------------|------|
    | Noise input          |        |         | 100 / 110 (+one-hot) | z ~ N(0,1) |      |
    | Linear               |        |         | 4x4x768              | Leaky ReLU | True |
    | Deconvolution        | 3x3    | 2x2     | 8x8x384              | Leaky ReLU | True |
    | Deconvolution        | 3x3    | 2x2     | 16x16x192            | Leaky ReLU | True |
    | Deconvolution        | 3x3    | 2x2     | 32x32x96             | Leaky ReLU | True |
    | Deconvolution        | 3x3    | 1x1     | 32x32x3              | Tanh       |      |

    Order per block: (WN) linear/deconv -> BN -> LeakyReLU(0.2) ([CODE]). The start size comes from
    halving H while it stays even and >= 4: 32 -> 4x4 with three stride-2 deconvs (384, 192, 96);
    28 -> 7x7 with two (192, 96) (A-3 28x28 variant); 64 -> 4x4 with four (768, 384, 192, 96). The
    linear layer always has 768 channels; every hidden width is multiplied by `width`
    ([CODE] `--iFilterDimG 256` = width 4/3).

    Args:
      o: network options (`o.width` multiplies every hidden width; `o.image_shape` (H, W, C) is
        square with H = start * 2**n, start in [4, 7]; weight norm on every linear/deconv, P001:
        "weight normalization for each weight"; BN after every hidden layer, the "True" column,
        Q-4).
      g: inputs (noise, plus the one-hot when conditional, spec 1.2) and `g.layer_noise_std`,
        Gaussian noise on every deconvolution input during training (P000 §5.1 "noise is
        introduced at each deconvolution layer", Q-4; off in [CODE]).

    Returns:
      keras.Model mapping noise float32 [N, z_dim] (and onehot float32 [N, K]) to images float32
      [N, H, W, C] in [-1, 1].
    """
    width, channels, start, n_up = L.conv_generator_shape(o, "amgan")
    f = o.factory(_kernel_init)
    inputs, x = g.inputs()
    c0 = L.scaled_width(G_LINEAR_CHANNELS, width, "the generator's linear layer")
    x = f.dense(start * start * c0, name="linear")(x)
    x = keras.layers.Reshape((start, start, c0), name="reshape")(x)
    x = f.bn(x, name="bn0")
    x = L.leaky_relu(x, name="lrelu0")
    noise_std = g.layer_noise_std
    for i in range(n_up):
        c = L.scaled_width(
            G_LAST_DECONV_CHANNELS * 2 ** (n_up - 1 - i), width, f"generator deconv{i + 1}"
        )
        x = f.noise(x, noise_std, name=f"noise{i + 1}")
        x = f.deconv(c, KERNEL, 2, name=f"deconv{i + 1}")(x)
        x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
    x = f.noise(x, noise_std, name=f"noise{n_up + 1}")
    x = f.deconv(channels, KERNEL, 1, name=f"deconv{n_up + 1}")(x)
    out = L.float32_output(x, "tanh", name="images")
    return keras.Model(inputs, out, name=o.name)


def build_discriminator(o: L.NetworkOptions, d: L.DiscriminatorSpec) -> keras.Model:
    """AM-GAN discriminator trunk + linear head, P001 App. E (A-1; A-2 = width 1.5; A-3 1 channel).

    | Operation          | Kernel | Strides | Output dims (CIFAR) | Drop | Activation     | BN   |
    |--------------------|--------|---------|--------------------|------|----------------|------|
    | Add Gaussian noise |        |         | 32x32x3            | 0.0  | N(0, 0.1)      |      |
    | Convolution        | 3x3    | 1x1     | 32x32x64           | 0.3  | Leaky ReLU     | True |
    | Convolution        | 3x3    | 2x2     | 16x16x128          | 0.3  | Leaky ReLU     | True |
    | Convolution        | 3x3    | 2x2     | 8x8x256            | 0.3  | Leaky ReLU     | True |
    | Convolution        | 3x3    | 2x2     | 4x4x512            | 0.3  | Leaky ReLU     | True |
    | Convolution*       | 3x3    | 1x1     | 4x4x512            | 0.3  | Leaky ReLU     | True |
    | AvgPool            |        |         | 1x1x512            | 0.3  |                |      |
    | Linear             |        |         | head_units         | 0.0  | (linear)       |      |

    (*) only with `extra_conv` (class-condition runs). Order per block: (WN) conv -> BN ->
    LeakyReLU(0.2) -> dropout ([CODE]); stride-2 convs (channels doubling) are added until the map is
    at most 4x4 (28x28 -> 14, 7, 4 as [CODE] iMinSizeD=4). The head is linear: the losses apply the
    softmax / sigmoid heads (Q-6).

    Args:
      o: network options (`o.image_shape` square, H >= 8; `o.width` 1.5 = the enhanced D of A-2;
        BN after every conv, including the first, as [CODE]).
      d: head units (e.g. K+1 for LabelGAN/AM-GAN, 1+K for AC-GAN*, 1 for GAN), the extra
        stride-1 conv of class-condition runs, the std of the additive input noise and the dropout
        rate after every conv block and after the pool (both training only).

    Returns:
      keras.Model mapping images float32 [N, H, W, C] to logits float32 [N, head_units].
    """
    width = L.check_width(o.width)
    head_units = L.check_head_units(d.head_units)
    h, _, _ = L.check_image_shape(o.image_shape, 8, "amgan")
    f = o.factory(_kernel_init)
    inputs = keras.Input(tuple(o.image_shape), name="images")
    x = f.noise(inputs, d.input_noise_std, name="input_noise")
    blocks = [(D_FIRST_CHANNELS, 1)]
    size, c = h, D_FIRST_CHANNELS
    while size > 4:
        size, c = math.ceil(size / 2), c * 2
        blocks.append((c, 2))
    if d.extra_conv:
        blocks.append((c, 1))
    for i, (channels, stride) in enumerate(blocks):
        units = L.scaled_width(channels, width, f"discriminator conv{i + 1}")
        x = f.conv(units, KERNEL, stride, name=f"conv{i + 1}")(x)
        x = f.bn(x, name=f"bn{i + 1}")
        x = L.leaky_relu(x, name=f"lrelu{i + 1}")
        x = f.dropout(x, d.dropout, name=f"dropout{i + 1}")
    x = keras.layers.GlobalAveragePooling2D(name="avgpool")(x)
    x = f.dropout(x, d.dropout, name="dropout_pool")
    x = f.dense(head_units, name="head")(x)
    out = L.float32_output(x, "linear", name="logits")
    return keras.Model(inputs, out, name=o.name)
