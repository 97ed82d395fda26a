"""Tests of tf_amgan.networks.layers: weight norm + data init, stochastic layers, batch norm."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import networks
from tf_amgan.networks import layers as L
from tf_amgan.training import distribute


def _strategy():
    return distribute.get_strategy("mirrored", ("/cpu:0", "/cpu:1"))


def _np_normalized_kernel(v, g, out_axis):
    """Independent NumPy w = g * v / ||v||, norm over all axes but out_axis."""
    axes = tuple(a for a in range(v.ndim) if a != out_axis)
    norm = np.sqrt((v.astype(np.float64) ** 2).sum(axis=axes, keepdims=True))
    shape = [1] * v.ndim
    shape[out_axis] = -1
    return (g.reshape(shape) * v / norm).astype(np.float32)


# ------------------------------------------------------------------ weight normalisation
WN_CASES = [
    # (layer factory, input shape, output-channel axis of the kernel)
    (lambda: keras.layers.Dense(5), (4, 7), 1),
    (lambda: keras.layers.Conv2D(6, 3, strides=2, padding="same"), (2, 9, 9, 4), 3),
    (lambda: keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same"), (2, 5, 5, 4), 2),
]


@pytest.mark.parametrize("make, shape, out_axis", WN_CASES)
def test_weight_norm_forward_equals_plain_layer_with_w(make, shape, out_axis):
    rs = np.random.RandomState(0)
    x = rs.randn(*shape).astype(np.float32)
    wn = networks.WeightNormalization(make())
    y_initial = wn(x).numpy()
    # g starts at ||v||: the wrapper computes exactly what the wrapped layer does with v.
    np.testing.assert_allclose(y_initial, wn.layer(x).numpy(), rtol=1e-5, atol=1e-5)

    g = rs.uniform(0.5, 2.0, size=wn.g.shape).astype(np.float32)
    wn.g.assign(g)
    wn.layer.bias.assign(rs.randn(*wn.layer.bias.shape).astype(np.float32))
    v = wn.layer.kernel.numpy()
    assert v.shape[out_axis] == g.shape[0]
    plain = make()
    plain.build(shape)
    plain.kernel.assign(_np_normalized_kernel(v, g, out_axis))
    plain.bias.assign(wn.layer.bias.numpy())
    np.testing.assert_allclose(wn(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)
    assert not np.allclose(wn(x).numpy(), y_initial, atol=1e-3)


@pytest.mark.parametrize("make, shape, out_axis", WN_CASES)
def test_weight_norm_gradients_reach_g_and_v_under_tf_function(make, shape, out_axis):
    x = tf.constant(np.random.RandomState(1).randn(*shape).astype(np.float32))
    wn = networks.WeightNormalization(make())
    wn(x)
    v_var, g_var = wn.layer.kernel, wn.g
    variables = [g_var, v_var, wn.layer.bias]

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(wn(x)))
        return tape.gradient(loss, variables)

    dg, dv, db = (t.numpy() for t in grads(x))
    assert np.abs(dg).max() > 0 and np.abs(dv).max() > 0 and np.abs(db).max() > 0
    # Salimans & Kingma Eq. 4: the gradient w.r.t. v is orthogonal to v (per output channel).
    axes = tuple(a for a in range(dv.ndim) if a != out_axis)
    dots = (dv * v_var.numpy()).sum(axis=axes)
    scale = np.abs(dv).sum(axis=axes) * np.abs(v_var.numpy()).max()
    assert np.all(np.abs(dots) <= 1e-4 * scale)


def test_weight_norm_rejects_unsupported_layers():
    with pytest.raises(TypeError, match="Dense, Conv2D and Conv2DTranspose"):
        networks.WeightNormalization(keras.layers.Conv1D(3, 3))
    with pytest.raises(ValueError, match="channels_last"):
        networks.WeightNormalization(keras.layers.Conv2D(3, 3, data_format="channels_first"))


def _small_wn_model():
    x_in = keras.Input((8, 8, 3))
    h = networks.WeightNormalization(keras.layers.Conv2D(6, 3, padding="same"), name="c1")(x_in)
    h = L.batch_norm(name="bn1")(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = networks.WeightNormalization(
        keras.layers.Conv2DTranspose(5, 3, strides=2, padding="same"), name="c2"
    )(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Flatten()(h)
    h = networks.Dropout(0.3, seed=1)(h)
    out = networks.WeightNormalization(keras.layers.Dense(4), name="d1")(h)
    return keras.Model(x_in, out)


def _preactivations(model, x):
    wn = [
        layer
        for layer in networks.walk_layers(model)
        if isinstance(layer, networks.WeightNormalization)
    ]
    probe = keras.Model(model.input, [layer.output for layer in wn])
    with networks.stochastic_layers_suspended(model):
        outs = probe(x, training=True)
    return [o.numpy().reshape(-1, o.shape[-1]) for o in outs]


def test_data_dependent_init_normalizes_preactivations_layer_by_layer():
    keras.utils.set_random_seed(2)
    model = _small_wn_model()
    # Off-centre, badly scaled inputs: without the init the pre-activations are far from N(0, 1).
    x = (3.0 + 5.0 * np.random.RandomState(3).randn(32, 8, 8, 3)).astype(np.float32)
    bn = model.get_layer("bn1")
    before = _preactivations(model, x)
    assert max(np.abs(p.mean(0)).max() for p in before) > 0.5
    moving = (bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy())

    assert networks.data_dependent_init(model, x) == 3
    # Init must not disturb the BN inference statistics.
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving[1])
    for p in _preactivations(model, x):
        np.testing.assert_allclose(p.mean(0), 0.0, atol=1e-4)
        np.testing.assert_allclose(p.std(0), 1.0, atol=1e-3)


def test_data_dependent_init_skips_layers_without_data_init_and_refuses_graph_mode():
    x_in = keras.Input((3,))
    layer = networks.WeightNormalization(keras.layers.Dense(2), data_init=False)
    model = keras.Model(x_in, layer(x_in))
    g = layer.g.numpy().copy()
    assert networks.data_dependent_init(model, np.ones((4, 3), np.float32)) == 0
    np.testing.assert_array_equal(layer.g.numpy(), g)

    model2 = _small_wn_model()

    @tf.function
    def init_in_graph(x):
        networks.data_dependent_init(model2, x)
        return x

    with pytest.raises(RuntimeError, match="eagerly"):
        init_in_graph(tf.zeros((2, 8, 8, 3)))


def test_data_init_and_train_step_under_mirrored_strategy():
    """Cross-replica eager init equals single-device init; WN trains in strategy.run + tf.function."""
    x = np.random.RandomState(4).randn(8, 8, 8, 3).astype(np.float32)
    strategy = _strategy()
    kwargs = dict(head_units=3, image_shape=(8, 8, 3), width=0.0625, seed=7, sync_batch_norm=True)
    with strategy.scope():
        rng = tf.random.Generator.from_seed(1)
        d_mirrored = networks.build_discriminator("amgan", rng=rng, **kwargs)
        assert networks.data_dependent_init(d_mirrored, x) == 3  # conv1, conv2, head
        opt = keras.optimizers.Adam(1e-2)
        opt.build(d_mirrored.trainable_variables)
    d_single = networks.build_discriminator("amgan", **kwargs)
    networks.data_dependent_init(d_single, x)

    single = {v.path: v.numpy() for v in d_single.variables}
    for var in d_mirrored.variables:
        per_replica = strategy.experimental_local_results(var.value)
        assert len(per_replica) == 2
        for value in per_replica:
            np.testing.assert_allclose(value.numpy(), single[var.path], rtol=1e-5, atol=1e-6)

    @tf.function
    def step(batch):
        def replica_fn(xb):
            with tf.GradientTape() as tape:
                per_example = tf.reduce_sum(tf.square(d_mirrored(xb, training=True)), -1)
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=8)
            grads = tape.gradient(loss, d_mirrored.trainable_variables)
            opt.apply(grads, d_mirrored.trainable_variables)
            return loss

        return strategy.reduce("SUM", strategy.run(replica_fn, args=(batch,)), axis=None)

    data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(x).repeat(2))
    losses = [float(step(batch)) for batch in data]
    assert all(np.isfinite(losses)) and losses[1] < losses[0]
    assert int(opt.iterations.numpy()) == 2
    g = [v for v in d_mirrored.trainable_variables if v.path.endswith("/g")][0]
    first, second = strategy.experimental_local_results(g.value)
    np.testing.assert_array_equal(first.numpy(), second.numpy())


def test_weight_norm_under_mixed_precision():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        g = networks.build_generator(
            "amgan", num_classes=3, conditional=True, z_dim=4, width=0.0625, seed=0
        )
        z = np.random.RandomState(0).randn(8, 4).astype(np.float32)
        onehot = np.eye(3, dtype=np.float32)[np.arange(8) % 3]
        assert networks.data_dependent_init(g, [z, onehot]) == 5
        out = g([z, onehot], training=True)
        assert out.dtype == tf.float32 and np.isfinite(out.numpy()).all()
        assert all(v.dtype == "float32" for v in g.trainable_variables)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


# ------------------------------------------------------------------ stochastic layers
def _noise_model(rng=None, seed=None, std=1.0, rate=0.0):
    x_in = keras.Input((64,))
    h = networks.GaussianNoise(std, rng=rng, seed=seed)(x_in)
    h = networks.Dropout(rate, rng=rng, seed=None if seed is None else seed + 1)(h)
    return keras.Model(x_in, h)


@pytest.mark.parametrize("use_rng", [False, True])
def test_stochastic_layers_active_only_in_training(use_rng):
    rng = tf.random.Generator.from_seed(0) if use_rng else None
    x = np.ones((500, 64), np.float32)
    noise = _noise_model(rng=rng, seed=0, std=0.1)
    np.testing.assert_array_equal(noise(x).numpy(), x)
    np.testing.assert_array_equal(noise(x, training=False).numpy(), x)
    diff = noise(x, training=True).numpy() - x
    assert abs(diff.std() - 0.1) < 0.005 and abs(diff.mean()) < 0.005
    with networks.stochastic_layers_suspended(noise):
        np.testing.assert_array_equal(noise(x, training=True).numpy(), x)

    drop = _noise_model(rng=rng, seed=0, std=0.0, rate=0.3)
    y = drop(x, training=True).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(drop(x, training=False).numpy(), x)


def test_stochastic_layer_argument_checks():
    with pytest.raises(ValueError, match="stddev"):
        networks.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="rate"):
        networks.Dropout(1.0)


def test_generator_backed_noise_in_tf_function_is_reproducible_and_resumable(tmp_path):
    x = tf.zeros((4, 64))
    rng_a = tf.random.Generator.from_seed(5)
    model_a = _noise_model(rng=rng_a, rate=0.2)
    fn_a = tf.function(lambda x: model_a(x, training=True))
    first, second = fn_a(x).numpy(), fn_a(x).numpy()
    assert not np.allclose(first, second)  # the generator state advances between calls

    rng_b = tf.random.Generator.from_seed(5)
    model_b = _noise_model(rng=rng_b, rate=0.2)
    fn_b = tf.function(lambda x: model_b(x, training=True))
    np.testing.assert_array_equal(fn_b(x).numpy(), first)

    # Checkpoint the state, draw, restore: the resumed draw repeats the uninterrupted one.
    ckpt = tf.train.Checkpoint(rng=rng_b)
    path = ckpt.save(str(tmp_path / "rng"))
    expected = fn_b(x).numpy()
    np.testing.assert_array_equal(expected, second)
    fn_b(x)
    ckpt.restore(path)
    np.testing.assert_array_equal(fn_b(x).numpy(), expected)


def test_seeded_keras_random_fallback_is_reproducible():
    x = np.zeros((4, 64), np.float32)
    a = _noise_model(seed=11, rate=0.5)(x, training=True).numpy()
    b = _noise_model(seed=11, rate=0.5)(x, training=True).numpy()
    c = _noise_model(seed=12, rate=0.5)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_generator_backed_noise_differs_between_replicas():
    strategy = _strategy()
    with strategy.scope():
        rng = tf.random.Generator.from_seed(3)
        model = _noise_model(rng=rng, rate=0.5)

    @tf.function
    def run(x):
        return strategy.run(lambda xb: model(xb, training=True), args=(x,))

    data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(tf.zeros((4, 64))))
    first, second = (t.numpy() for t in strategy.experimental_local_results(run(next(iter(data)))))
    assert first.shape == (2, 64) and np.abs(first).max() > 0
    assert not np.allclose(first, second)


# ------------------------------------------------------------------ batch norm
def test_batch_norm_options():
    bn = networks.batch_norm(momentum=0.9, synchronized=True, name="b")
    assert (bn.epsilon, bn.momentum, bn.synchronized, bn.name) == (1e-3, 0.9, True, "b")
    assert networks.batch_norm().momentum == 0.99
    with pytest.raises(ValueError, match="momentum"):
        networks.batch_norm(momentum=1.5)


def test_set_standing_statistics_averages_batch_statistics():
    x_in = keras.Input((3,))
    bn = networks.batch_norm(momentum=0.99)
    model = keras.Model(x_in, bn(x_in))
    rs = np.random.RandomState(0)
    batches = [(rs.randn(16, 3) * (i + 1) + i).astype(np.float32) for i in range(4)]
    it = iter(batches)
    assert networks.set_standing_statistics(model, lambda: next(it), 4) == 1
    np.testing.assert_allclose(
        bn.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5
    )
    np.testing.assert_allclose(
        bn.moving_variance.numpy(), np.mean([b.var(0) for b in batches], 0), rtol=1e-5
    )
    assert bn.momentum == 0.99
    with pytest.raises(ValueError, match="num_batches"):
        networks.set_standing_statistics(model, lambda: batches[0], 0)


def test_standing_statistics_make_inference_independent_of_the_batch():
    g = networks.build_generator(
        "amgan",
        num_classes=4,
        conditional=True,
        z_dim=8,
        width=0.0625,
        image_shape=(8, 8, 1),
        layer_noise=True,
        seed=1,
    )
    rs = np.random.RandomState(1)

    def inputs(n):
        return [rs.randn(n, 8).astype(np.float32), np.eye(4, dtype=np.float32)[rs.randint(0, 4, n)]]

    networks.data_dependent_init(g, inputs(32))
    networks.set_standing_statistics(g, lambda: inputs(32), 3)
    z, y = inputs(10)
    full = g([z, y], training=False).numpy()
    one = g([z[:1], y[:1]], training=False).numpy()
    np.testing.assert_allclose(one[0], full[0], rtol=1e-5, atol=1e-6)
    # Training mode (batch statistics) does depend on the rest of the batch.
    with networks.stochastic_layers_suspended(g):
        full_t = g([z, y], training=True).numpy()
        one_t = g([z[:2], y[:2]], training=True).numpy()
    assert not np.allclose(one_t[0], full_t[0], atol=1e-4)
    bns = [
        layer
        for layer in networks.walk_layers(g)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(bns) == 2 and all(not np.allclose(b.moving_variance.numpy(), 1.0) for b in bns)


def test_synchronized_batch_norm_mirrored_equals_single_device():
    x = np.random.RandomState(6).randn(8, 8, 8, 3).astype(np.float32)
    kwargs = dict(
        head_units=2, image_shape=(8, 8, 3), width=0.0625, seed=3, input_noise_std=0.0, dropout=0.0
    )
    single = networks.build_discriminator("amgan", **kwargs)
    expected = single(x, training=True).numpy()
    strategy = _strategy()
    with strategy.scope():
        mirrored = networks.build_discriminator("amgan", sync_batch_norm=True, **kwargs)

    @tf.function
    def run(batch):
        return strategy.run(lambda xb: mirrored(xb, training=True), args=(batch,))

    data = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(x))
    got = np.concatenate(
        [t.numpy() for t in strategy.experimental_local_results(run(next(iter(data))))]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # Without synchronisation each replica normalises with its own half batch.
    for bn in networks.walk_layers(mirrored):
        if isinstance(bn, keras.layers.BatchNormalization):
            bn.synchronized = False
    got_local = np.concatenate(
        [
            t.numpy()
            for t in strategy.experimental_local_results(
                tf.function(run.python_function)(next(iter(data)))
            )
        ]
    )
    assert not np.allclose(got_local, expected, atol=1e-4)


def test_nested_models_are_walked_and_keras_files_round_trip(tmp_path):
    inner = keras.Sequential(
        [
            keras.Input((4,)),
            networks.WeightNormalization(keras.layers.Dense(3)),
            networks.batch_norm(),
        ]
    )
    x_in = keras.Input((4,))
    outer = keras.Model(x_in, networks.GaussianNoise(0.1, seed=0)(inner(x_in)))
    x = (2.0 + np.random.RandomState(0).randn(16, 4)).astype(np.float32)
    assert networks.data_dependent_init(outer, x) == 1
    pre = inner.layers[0](x).numpy()
    np.testing.assert_allclose(pre.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(pre.std(0), 1.0, atol=1e-4)

    d = networks.build_discriminator(
        "amgan", head_units=3, image_shape=(8, 8, 1), width=0.125, seed=1
    )
    path = str(tmp_path / "d.keras")
    d.save(path)
    restored = keras.models.load_model(path)
    images = np.random.RandomState(1).randn(2, 8, 8, 1).astype(np.float32)
    np.testing.assert_array_equal(restored(images).numpy(), d(images).numpy())
    wn_layers = [
        la for la in networks.walk_layers(restored) if isinstance(la, networks.WeightNormalization)
    ]
    assert len(wn_layers) == 3  # conv1, conv2, head
