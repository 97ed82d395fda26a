"""Tests of the network builders (spec A-1..A-8): parameter counts, shapes, structure, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import networks

K = 10


def _count(model, trainable_only=False):
    variables = model.trainable_variables if trainable_only else model.weights
    return sum(int(np.prod(v.shape)) for v in variables)


def _of_type(model, cls):
    return [layer for layer in networks.walk_layers(model) if isinstance(layer, cls)]


def _wn(fan_in, units):
    """Weight-normalised layer: v (fan_in x units) + bias + g."""
    return fan_in * units + 2 * units


def _bn(channels):
    """BatchNormalization: gamma, beta trainable; moving mean/variance not."""
    return 4 * channels


# ------------------------------------------------------------------ parameter counts (width 1)
def test_amgan_cifar_generator_parameter_count():
    # [z 100 | onehot 10] -> 4x4x768 -> 8x8x384 -> 16x16x192 -> 32x32x96 -> 32x32x3, 3x3 deconvs.
    wn_params = (
        _wn(110, 4 * 4 * 768)  # linear: 1,363,968 + 12,288 (g)
        + _wn(3 * 3 * 768, 384)  # deconv 3x3 s2
        + _wn(3 * 3 * 384, 192)
        + _wn(3 * 3 * 192, 96)
        + _wn(3 * 3 * 96, 3)  # deconv 3x3 s1 to RGB, no BN
    )
    bn_params = _bn(768) + _bn(384) + _bn(192) + _bn(96)
    assert wn_params == 4_863_846  # = platform-notes §8 "G 4.86 M" (its prototype had no BN)
    assert bn_params == 5_760
    g = networks.build_generator("amgan", num_classes=K, conditional=True)
    assert g.count_params() == _count(g) == wn_params + bn_params == 4_869_606
    assert _count(g, trainable_only=True) == wn_params + bn_params // 2
    # Unconditional (dynamic labeling): 100-d input, 10 * 12,288 fewer weights.
    g100 = networks.build_generator("amgan", num_classes=K, conditional=False)
    assert g100.count_params() == 4_869_606 - 10 * 4 * 4 * 768
    # Without weight norm the g vectors disappear.
    plain = networks.build_generator("amgan", num_classes=K, conditional=True, weight_norm=False)
    assert plain.count_params() == 4_869_606 - (4 * 4 * 768 + 384 + 192 + 96 + 3)


def test_amgan_cifar_discriminator_parameter_count():
    # 64 (s1), 128, 256, 512 (s2), [512 (s1) extra], avg-pool, linear to 11 (K+1).
    convs = (
        _wn(3 * 3 * 3, 64) + _wn(3 * 3 * 64, 128) + _wn(3 * 3 * 128, 256) + _wn(3 * 3 * 256, 512)
    )
    extra = _wn(3 * 3 * 512, 512)
    head = _wn(512, K + 1)
    bn = _bn(64) + _bn(128) + _bn(256) + _bn(512)
    assert (
        convs + extra + head == 3_917_910
    )  # = platform-notes §8 "D 3.92 M" (prototype: extra conv, no BN)
    d = networks.build_discriminator("amgan", head_units=K + 1, extra_conv=True)
    assert d.count_params() == convs + extra + head + bn + _bn(512) == 3_923_798
    d_plain = networks.build_discriminator("amgan", head_units=K + 1)
    assert d_plain.count_params() == convs + head + bn == 1_561_430
    # A-2 enhanced D: widths 96/192/384/768.
    d_wide = networks.build_discriminator("amgan", head_units=K + 1, width=1.5)
    wide = (
        _wn(27, 96)
        + _wn(9 * 96, 192)
        + _wn(9 * 192, 384)
        + _wn(9 * 384, 768)
        + _wn(768, K + 1)
        + _bn(96)
        + _bn(192)
        + _bn(384)
        + _bn(768)
    )
    assert d_wide.count_params() == wide


def test_amgan_mnist_generator_parameter_count():
    # A-3 28x28: 7x7x768 -> 14x14x192 -> 28x28x96 -> 28x28x1 (platform-notes §8: 5.71 M without BN).
    wn_params = _wn(110, 7 * 7 * 768) + _wn(9 * 768, 192) + _wn(9 * 192, 96) + _wn(9 * 96, 1)
    assert wn_params == 5_709_218
    g = networks.build_generator("amgan", num_classes=K, conditional=True, image_shape=(28, 28, 1))
    assert g.count_params() == wn_params + _bn(768) + _bn(192) + _bn(96)
    d = networks.build_discriminator(
        "amgan", head_units=K + 1, image_shape=(28, 28, 1), extra_conv=True
    )
    assert d.output_shape == (None, K + 1)
    assert d.count_params() == 3_923_798 - 2 * 9 * 64  # only the first conv's fan-in changes


def test_acgan_cifar_parameter_counts():
    # A-6 G: 110 -> 4x4x384 (ReLU, no BN) -> 5x5 s2 deconvs 192, 96 (BN) -> 3 (tanh); plain layers.
    g_expected = (
        (110 * 6144 + 6144)
        + (5 * 5 * 384 * 192 + 192)
        + _bn(192)
        + (5 * 5 * 192 * 96 + 96)
        + _bn(96)
        + (5 * 5 * 96 * 3 + 3)
    )
    g = networks.build_generator("acgan", num_classes=K, conditional=True)
    assert g.count_params() == g_expected == 2_994_627
    # A-6 D: 3x3 convs 16 s2, 32, 64 s2, 128, 256 s2, 512 (BN except first), flatten 4x4x512 -> 11.
    chans = [3, 16, 32, 64, 128, 256, 512]
    convs = sum(9 * a * b + b for a, b in zip(chans[:-1], chans[1:], strict=True))
    d_expected = convs + sum(_bn(c) for c in chans[2:]) + (4 * 4 * 512 * 11 + 11)
    d = networks.build_discriminator("acgan", head_units=11)
    assert d.count_params() == d_expected


# ------------------------------------------------------------------ shapes
IMAGE_SHAPES = [(32, 32, 3), (32, 32, 1), (28, 28, 1), (64, 64, 3)]


@pytest.mark.parametrize("arch", ["amgan", "acgan"])
@pytest.mark.parametrize("image_shape", IMAGE_SHAPES)
@pytest.mark.parametrize("conditional", [False, True])
def test_conv_output_shapes(arch, image_shape, conditional):
    g = networks.build_generator(
        arch,
        num_classes=K,
        conditional=conditional,
        z_dim=6,
        width=1 / 32,
        image_shape=image_shape,
        seed=0,
    )
    z = np.random.RandomState(0).randn(2, 6).astype(np.float32)
    inputs = [z, np.eye(K, dtype=np.float32)[[1, 7]]] if conditional else z
    images = g(inputs, training=True)
    assert g.output_shape == (None, *image_shape)
    assert images.shape == (2, *image_shape) and images.dtype == tf.float32
    assert np.abs(images.numpy()).max() <= 1.0
    d = networks.build_discriminator(
        arch,
        head_units=K + 1,
        image_shape=image_shape,
        width=1 / 32,
        extra_conv=conditional,
        seed=0,
    )
    logits = d(images, training=True)
    assert (
        d.output_shape == (None, K + 1)
        and logits.shape == (2, K + 1)
        and logits.dtype == tf.float32
    )


@pytest.mark.parametrize("data_dim", [2, 5])
@pytest.mark.parametrize("conditional", [False, True])
def test_mlp_output_shapes_and_structure(data_dim, conditional):
    g = networks.build_generator(
        "mlp",
        num_classes=4,
        conditional=conditional,
        z_dim=3,
        image_shape=(data_dim,),
        depth=3,
        units=8,
        seed=0,
    )
    z = np.zeros((5, 3), np.float32)
    out = g([z, np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]]] if conditional else z, training=False)
    assert out.shape == (5, data_dim) and g.output_shape == (None, data_dim)
    assert len(_of_type(g, keras.layers.Dense)) == 4
    d = networks.build_discriminator("mlp", head_units=5, image_shape=(data_dim,), depth=3, units=8)
    assert d(out).shape == (5, 5)
    assert len(_of_type(d, keras.layers.Dense)) == 4
    assert len(_of_type(d, keras.layers.BatchNormalization)) == 2  # not on the first layer
    assert not _of_type(d, networks.Dropout) and not _of_type(d, networks.GaussianNoise)
    d_extra = networks.build_discriminator(
        "mlp", head_units=5, image_shape=(data_dim,), depth=3, units=8, extra_conv=True, dropout=0.3
    )
    assert (
        len(_of_type(d_extra, keras.layers.Dense)) == 5
        and len(_of_type(d_extra, networks.Dropout)) == 4
    )


def test_mlp_defaults_are_a8():
    g = networks.build_generator(
        "mlp", num_classes=4, conditional=False, z_dim=256, image_shape=(2,)
    )
    dense = _of_type(g, keras.layers.Dense)
    assert [layer.units for layer in dense] == [512] * 4 + [2]
    assert not _of_type(g, networks.WeightNormalization)


# ------------------------------------------------------------------ structure
def test_amgan_discriminator_structure():
    d = networks.build_discriminator("amgan", head_units=3, width=0.125, extra_conv=True, rng=None)
    convs = [layer for layer in _of_type(d, keras.layers.Conv2D)]
    assert [c.strides for c in convs] == [(1, 1), (2, 2), (2, 2), (2, 2), (1, 1)]
    assert [c.filters for c in convs] == [8, 16, 32, 64, 64]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert len(_of_type(d, networks.WeightNormalization)) == 6
    assert len(_of_type(d, keras.layers.BatchNormalization)) == 5
    assert all(bn.epsilon == 1e-3 for bn in _of_type(d, keras.layers.BatchNormalization))
    assert [n.stddev for n in _of_type(d, networks.GaussianNoise)] == [0.1]
    assert [dr.rate for dr in _of_type(d, networks.Dropout)] == [
        0.3
    ] * 6  # 5 blocks + after the pool
    assert all(
        lr.negative_slope == pytest.approx(0.2) for lr in _of_type(d, keras.layers.LeakyReLU)
    )
    assert _of_type(d, keras.layers.GlobalAveragePooling2D)


def test_acgan_discriminator_structure():
    d = networks.build_discriminator("acgan", head_units=11, width=0.25)
    convs = _of_type(d, keras.layers.Conv2D)
    assert [c.strides[0] for c in convs] == [2, 1, 2, 1, 2, 1]
    assert [c.filters for c in convs] == [4, 8, 16, 32, 64, 128]
    bns = _of_type(d, keras.layers.BatchNormalization)
    assert [bn.name for bn in bns] == [f"bn{i}" for i in range(2, 7)]  # no BN on the first conv
    assert [n.stddev for n in _of_type(d, networks.GaussianNoise)] == [0.1] * 6
    assert [dr.rate for dr in _of_type(d, networks.Dropout)] == [0.5] * 6
    assert not _of_type(d, networks.WeightNormalization)
    assert d.get_layer("flatten").output.shape == (None, 4 * 4 * 128)
    init = convs[0].kernel_initializer
    assert isinstance(init, keras.initializers.RandomNormal) and init.stddev == 0.02


def test_generator_layer_noise_and_options():
    g = networks.build_generator(
        "amgan",
        num_classes=K,
        conditional=False,
        width=0.0625,
        layer_noise=True,
        layer_noise_std=0.2,
    )
    assert [n.stddev for n in _of_type(g, networks.GaussianNoise)] == [
        0.2
    ] * 4  # every deconv input
    assert not _of_type(
        networks.build_generator("amgan", num_classes=K, conditional=False, width=0.0625),
        networks.GaussianNoise,
    )
    g_nobn = networks.build_generator(
        "amgan", num_classes=K, conditional=False, width=0.0625, batch_norm=False, bn_momentum=0.9
    )
    assert not _of_type(g_nobn, keras.layers.BatchNormalization)
    g_sync = networks.build_generator(
        "acgan",
        num_classes=K,
        conditional=True,
        width=0.0625,
        sync_batch_norm=True,
        bn_momentum=0.9,
    )
    assert all(
        bn.synchronized and bn.momentum == 0.9
        for bn in _of_type(g_sync, keras.layers.BatchNormalization)
    )
    convt = _of_type(g_sync, keras.layers.Conv2DTranspose)
    assert [c.kernel_size for c in convt] == [(5, 5)] * 3 and [c.strides for c in convt] == [
        (2, 2)
    ] * 3


def test_rng_is_shared_by_all_stochastic_layers():
    rng = tf.random.Generator.from_seed(0)
    d = networks.build_discriminator("acgan", head_units=2, width=0.0625, rng=rng)
    layers = _of_type(d, networks.GaussianNoise) + _of_type(d, networks.Dropout)
    assert len(layers) == 12 and all(layer.rng is rng for layer in layers)


def test_same_seed_gives_same_networks():
    def build(seed):
        return networks.build_discriminator(
            "amgan", head_units=3, image_shape=(8, 8, 1), width=0.125, seed=seed
        )

    x = np.random.RandomState(0).randn(4, 8, 8, 1).astype(np.float32)
    a, b, c = build(5)(x, training=True), build(5)(x, training=True), build(6)(x, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), c.numpy())


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(arch="dcgan"), "unknown network arch 'dcgan'"),
        (dict(arch="amgan", image_shape=(32, 28, 3)), "square"),
        (dict(arch="amgan", image_shape=(4, 4, 3)), "at least 8x8"),
        (dict(arch="amgan", image_shape=(9, 9, 3)), "stride-2"),
        (dict(arch="acgan", image_shape=(32, 32)), r"image_shape \(H, W, C\)"),
        (dict(arch="mlp", image_shape=(32, 32, 3)), r"\(data_dim,\)"),
        (dict(arch="amgan", width=0), "positive"),
        (dict(arch="amgan", width=float("nan")), "positive"),
        (dict(arch="amgan", width=0.0001), "width=0.0001"),
        (dict(arch="amgan", conditional=True, num_classes=0), "num_classes"),
        (dict(arch="amgan", z_dim=0), "z_dim"),
        (dict(arch="amgan", depth=3), r"unexpected options \['depth'\]"),
        (dict(arch="mlp", image_shape=(2,), depth=0), "depth"),
        (dict(arch="mlp", image_shape=(2,), units=2.5), "units"),
    ],
)
def test_generator_errors(kwargs, match):
    args = dict(num_classes=K, conditional=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        networks.build_generator(args.pop("arch"), **args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(arch="resnet"), "unknown network arch"),
        (dict(head_units=0), "head_units"),
        (dict(image_shape=(6, 6, 3)), "at least 8x8"),
        (dict(width=-1.0), "positive"),
        (dict(width=0.001), "discriminator conv1"),
        (dict(dropout=1.0), "dropout rate"),
        (dict(input_noise_std=-0.1), "stddev"),
        (dict(layer_noise=True), "unexpected options"),
    ],
)
def test_discriminator_errors(kwargs, match):
    args = dict(arch="amgan", head_units=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        networks.build_discriminator(args.pop("arch"), **args)
