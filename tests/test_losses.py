"""tf_amgan.losses objectives: values vs. float64 NumPy, API, numerics at |logit| = 100, errors."""

import losses_reference as ref
import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import losses

K = 5
N = 7

# Every registry name, plus the documented options (smoothing, minimax, zero fake logit, priors).
CASES = [
    ("gan", {}),
    ("gan", {"label_smoothing": 0.75}),
    ("gan_star", {}),
    ("gan_star", {"d_aux_weight": 0.3, "label_smoothing": 0.8}),
    ("labelgan", {}),
    ("labelgan", {"label_smoothing": 0.75}),
    ("labelgan", {"fake_logit": "zero"}),
    ("kplus1", {"class_priors": [0.5, 0.1, 0.2, 0.3, 0.15, 0.25]}),
    ("amgan", {}),
    ("amgan", {"label_smoothing": 0.75, "fake_logit": "zero"}),
    ("modegan", {"class_priors": [2.0, 1.0, 0.0, 1.0, 3.0, 1.0], "label_smoothing": 0.9}),
    ("samgan", {}),
    ("samgan", {"temperature": 1 / 1.5, "label_smoothing": 0.75, "fake_logit": "zero"}),
    ("acgan", {}),
    ("acgan", {"source_loss": "minimax"}),
    (
        "acgan",
        {
            "source_loss": "minimax",
            "label_smoothing": 0.75,
            "d_aux_weight": 0.5,
            "g_aux_weight": 2.0,
        },
    ),
    ("acgan_star", {}),
    ("acgan_star", {"label_smoothing": 0.9, "g_aux_weight": 0.5}),
    ("acgan_star_lowaux", {}),
    ("acgan_plus", {}),
    ("acgan_plus", {"d_aux_weight": 0.5, "label_smoothing": 0.75}),
]
IDS = [f"{name}-{'-'.join(map(str, opts.values())) or 'default'}" for name, opts in CASES]


def _batch(units, scale, seed):
    rng = np.random.default_rng(seed)
    if scale == "huge":
        real = rng.uniform(-100.0, 100.0, (N, units))
        fake = rng.uniform(-100.0, 100.0, (N, units))
    else:
        real, fake = scale * rng.normal(size=(N, units)), scale * rng.normal(size=(N, units))
    y = rng.integers(0, K, N)
    c = rng.integers(0, K, N)
    return real.astype(np.float32), y.astype(np.int32), fake.astype(np.float32), c.astype(np.int32)


@pytest.mark.parametrize("name,opts", CASES, ids=IDS)
@pytest.mark.parametrize("scale", [0.3, 3.0, "huge"])
def test_losses_match_numpy_reference(name, opts, scale):
    obj = losses.get_objective(name, K, **opts)
    real, y, fake, c = _batch(obj.head_units, scale, seed=len(name) + len(opts))
    want_d, want_g = ref.losses(name, real, y, fake, c, **opts)
    d = obj.discriminator_loss(real, y, fake, c)
    g = obj.generator_loss(fake, c)
    assert d.dtype == tf.float32 and g.dtype == tf.float32
    assert d.shape == (N,) and g.shape == (N,)
    # Values reach ~400 at |logit| = 100: compare relative to magnitude.
    np.testing.assert_allclose(d.numpy(), want_d, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(g.numpy(), want_g, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name,opts", CASES, ids=IDS)
def test_gradients_finite_at_logit_magnitude_100(name, opts):
    obj = losses.get_objective(name, K, **opts)
    real, y, fake, c = _batch(obj.head_units, "huge", seed=11)
    real, fake = tf.constant(real), tf.constant(fake)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        d = tf.reduce_mean(obj.discriminator_loss(real, y, fake, c))
        g = tf.reduce_mean(obj.generator_loss(fake, c))
    for grad in tape.gradient(d, [real, fake]) + [tape.gradient(g, fake)]:
        assert np.all(np.isfinite(grad.numpy()))
    assert np.isfinite(d.numpy()) and np.isfinite(g.numpy())


# The latent-code objectives (tf_amgan.losses.cgpgan) have their own tests (test_cgpgan_losses.py).
LATENT = {"cgpgan", "infogan", "elastic_infogan", "gan_categorical"}


@pytest.mark.parametrize("name", sorted(set(losses.available_objectives()) - LATENT))
def test_float16_logits_accepted(name):
    obj = losses.get_objective(name, K)
    real, y, fake, c = _batch(obj.head_units, 3.0, seed=5)
    real16, fake16 = real.astype(np.float16), fake.astype(np.float16)
    d = obj.discriminator_loss(real16, y, fake16, c)
    g = obj.generator_loss(fake16, c)
    assert d.dtype == tf.float32 and g.dtype == tf.float32
    want_d, want_g = ref.losses(name, real16, y, fake16, c)
    np.testing.assert_allclose(d.numpy(), want_d, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g.numpy(), want_g, rtol=1e-5, atol=1e-5)
    assert obj.real_probability(real16).dtype == tf.float32
    if obj.head_units > 1:
        np.testing.assert_array_equal(
            obj.dynamic_targets(fake16).numpy(), obj.dynamic_targets(fake).numpy()
        )


@pytest.mark.parametrize("name", ["gan", "gan_star", "labelgan", "amgan", "acgan", "acgan_plus"])
def test_discriminator_loss_is_real_term_plus_fake_term(name):
    # Per example i the D loss is r(real_i) + f(fake_i) iff exchanging the fake halves of two
    # batches preserves the sum; then its batch mean is real mean + fake mean.
    obj = losses.get_objective(name, K)
    real1, y1, fake1, c1 = _batch(obj.head_units, 2.0, seed=3)
    real2, y2, fake2, c2 = _batch(obj.head_units, 2.0, seed=4)
    d = obj.discriminator_loss
    lhs = d(real1, y1, fake1, c1) + d(real2, y2, fake2, c2)
    rhs = d(real1, y1, fake2, c2) + d(real2, y2, fake1, c1)
    np.testing.assert_allclose(lhs.numpy(), rhs.numpy(), rtol=1e-6, atol=1e-6)
    assert np.max(np.abs(d(real1, y1, fake1, c1) - d(real1, y1, fake2, c2))) > 1e-2


# ------------------------------------------------------------------------------- API attributes

HEADS = {
    "gan": 1,
    "gan_star": K + 1,
    "labelgan": K + 1,
    "kplus1": K + 1,
    "amgan": K + 1,
    "modegan": K + 1,
    "samgan": K + 1,
    "acgan": K + 1,
    "acgan_star": K + 1,
    "acgan_star_lowaux": K + 1,
    "acgan_plus": K + 1,
}
USES_TARGETS = {"amgan", "modegan", "acgan", "acgan_star", "acgan_star_lowaux", "acgan_plus"}


def test_available_objectives_sorted_and_complete():
    names = losses.available_objectives()
    assert names == sorted(set(HEADS) | LATENT)


@pytest.mark.parametrize("name", sorted(HEADS))
def test_attributes(name):
    obj = losses.get_objective(name, K)
    assert obj.name == name and obj.num_classes == K
    assert obj.head_units == HEADS[name]
    assert obj.uses_targets == (name in USES_TARGETS)
    want = ("dynamic",) if name == "samgan" else ("dynamic", "predefined")
    assert obj.labelings == want


@pytest.mark.parametrize("name", sorted(HEADS))
def test_class_logits_dynamic_targets_real_probability(name):
    obj = losses.get_objective(name, K)
    logits, _, _, _ = _batch(obj.head_units, 4.0, seed=21)
    p = obj.real_probability(logits).numpy()
    assert p.dtype == np.float32 and p.shape == (N,)
    if name == "gan":
        np.testing.assert_allclose(p, np.exp(ref.log_binary(logits[:, 0])[:, 0]), rtol=1e-6)
        with pytest.raises(ValueError, match="no class"):
            obj.class_logits(logits)
        with pytest.raises(ValueError, match="no dynamic targets"):
            obj.dynamic_targets(logits)
        return
    if name in ("gan_star",) or name.startswith("acgan"):
        cls = logits[:, 1:]  # binary+aux: real logit first
        want_p = np.exp(ref.log_binary(logits[:, 0])[:, 0])
    else:
        cls = logits[:, :K]  # K+1: fake logit last
        want_p = np.exp(ref.log_f(logits)[:, 0])
        # argmax of the K class logits == argmax_{i<=K} D_i (spec 1.2).
        np.testing.assert_array_equal(np.argmax(cls, 1), np.argmax(ref.softmax(logits)[:, :K], 1))
    np.testing.assert_allclose(p, want_p, rtol=1e-5)
    np.testing.assert_array_equal(obj.class_logits(logits).numpy(), cls)
    targets = obj.dynamic_targets(logits)
    assert targets.dtype == tf.int32
    np.testing.assert_array_equal(targets.numpy(), np.argmax(cls, axis=1))


def test_real_probability_with_zero_fake_logit():
    obj = losses.get_objective("labelgan", K, fake_logit="zero")
    logits, _, _, _ = _batch(K + 1, 3.0, seed=8)
    zeroed = logits.copy()
    zeroed[:, -1] = 0.0
    np.testing.assert_allclose(
        obj.real_probability(logits).numpy(), np.exp(ref.log_f(zeroed)[:, 0]), rtol=1e-6
    )


@pytest.mark.parametrize("name", ["labelgan", "amgan", "samgan"])
def test_zero_fake_logit_ignores_last_logit(name):
    obj = losses.get_objective(name, K, fake_logit="zero")
    real, y, fake, c = _batch(K + 1, 2.0, seed=4)
    real2, fake2 = real.copy(), fake.copy()
    real2[:, -1] += 50.0
    fake2[:, -1] -= 30.0
    np.testing.assert_array_equal(
        obj.discriminator_loss(real, y, fake, c).numpy(),
        obj.discriminator_loss(real2, y, fake2, c).numpy(),
    )
    np.testing.assert_array_equal(
        obj.generator_loss(fake, c).numpy(), obj.generator_loss(fake2, c).numpy()
    )


def test_unused_targets_may_be_none():
    for name in ("gan", "gan_star", "labelgan", "kplus1", "samgan", "acgan_star", "acgan_plus"):
        obj = losses.get_objective(name, K)
        real, y, fake, _ = _batch(obj.head_units, 1.0, seed=2)
        y_arg = None if name == "gan" else y
        assert np.all(np.isfinite(obj.discriminator_loss(real, y_arg, fake, None).numpy()))
        if not obj.uses_targets:
            assert np.all(np.isfinite(obj.generator_loss(fake, None).numpy()))


@pytest.mark.parametrize("name", ["amgan", "acgan", "acgan_star", "acgan_plus"])
def test_missing_targets_raise(name):
    obj = losses.get_objective(name, K)
    _, _, fake, _ = _batch(K + 1, 1.0, seed=2)
    with pytest.raises(ValueError, match="needs fake_targets"):
        obj.generator_loss(fake, None)


def test_acgan_discriminator_needs_targets_but_star_ignores_them():
    real, y, fake, _ = _batch(K + 1, 1.0, seed=2)
    with pytest.raises(ValueError, match="needs fake_targets"):
        losses.get_objective("acgan", K).discriminator_loss(real, y, fake, None)
    star = losses.get_objective("acgan_star", K)
    np.testing.assert_array_equal(
        star.discriminator_loss(real, y, fake, None).numpy(),
        star.discriminator_loss(real, y, fake, np.zeros(N, np.int32)).numpy(),
    )


def test_labels_accept_int64_and_column_shape():
    obj = losses.get_objective("amgan", K)
    real, y, fake, c = _batch(K + 1, 1.0, seed=9)
    base = obj.discriminator_loss(real, y, fake, c).numpy()
    np.testing.assert_array_equal(
        obj.discriminator_loss(real, y.astype(np.int64)[:, None], fake, c), base
    )
    np.testing.assert_array_equal(
        obj.generator_loss(fake, c.astype(np.int64)).numpy(), obj.generator_loss(fake, c).numpy()
    )


def test_objectives_trace_in_tf_function_with_unknown_batch():
    objs = [losses.get_objective(n, K) for n in ("gan", "gan_star", "amgan", "samgan", "acgan")]

    for obj in objs:
        spec = tf.TensorSpec([None, obj.head_units], tf.float32)
        label = tf.TensorSpec([None], tf.int32)

        @tf.function(input_signature=[spec, label, spec, label])
        def step(real, y, fake, c, obj=obj):
            return obj.discriminator_loss(real, y, fake, c), obj.generator_loss(fake, c)

        real, y, fake, c = _batch(obj.head_units, 2.0, seed=1)
        d, g = step(real, y, fake, c)
        np.testing.assert_allclose(
            d.numpy(), obj.discriminator_loss(real, y, fake, c).numpy(), rtol=1e-6
        )
        np.testing.assert_allclose(g.numpy(), obj.generator_loss(fake, c).numpy(), rtol=1e-6)


def test_jit_compile():
    obj = losses.get_objective("amgan", K, label_smoothing=0.75)
    real, y, fake, _ = _batch(K + 1, 2.0, seed=1)

    @tf.function(jit_compile=True)
    def step(real, y, fake):
        c = obj.dynamic_targets(fake)
        return obj.discriminator_loss(real, y, fake, c), obj.generator_loss(fake, c)

    d, g = step(real, y, fake)
    np.testing.assert_allclose(d.numpy(), ref.kplus1_d(real, y, fake, 0.75), rtol=1e-5)
    np.testing.assert_allclose(
        g.numpy(), ref.amgan_g(fake, np.argmax(fake[:, :K], 1), 0.75), rtol=1e-5
    )


# ------------------------------------------------------------------------------------- errors


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown objective 'wgan'.*acgan.*amgan.*samgan"):
        losses.get_objective("wgan", K)


@pytest.mark.parametrize(
    "name,opts,exc,match",
    [
        ("gan", {"temperature": 0.5}, TypeError, "does not accept option.*temperature"),
        ("amgan", {"temperature": 0.5}, TypeError, "temperature"),
        ("gan", {"fake_logit": "zero"}, TypeError, "fake_logit"),
        ("gan_star", {"g_aux_weight": 1.0}, TypeError, "g_aux_weight"),
        ("acgan_star", {"source_loss": "minimax"}, TypeError, "source_loss"),
        ("labelgan", {"d_aux_weight": 1.0}, TypeError, "d_aux_weight"),
        ("amgan", {"smoothing": 0.9}, TypeError, "smoothing"),
        ("amgan", {"label_smoothing": 0.0}, ValueError, "label_smoothing"),
        ("gan", {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
        ("gan", {"label_smoothing": "0.9"}, TypeError, "label_smoothing"),
        ("samgan", {"temperature": 0.0}, ValueError, "temperature"),
        ("samgan", {"temperature": float("inf")}, ValueError, "temperature"),
        ("labelgan", {"fake_logit": "fixed"}, ValueError, "fake_logit"),
        ("acgan", {"source_loss": "wasserstein"}, ValueError, "source_loss"),
        ("acgan_plus", {"d_aux_weight": -1.0}, ValueError, "d_aux_weight"),
        ("acgan_star", {"g_aux_weight": float("nan")}, ValueError, "g_aux_weight"),
        ("kplus1", {"class_priors": [0.5] * K}, ValueError, "class_priors needs K\\+1"),
        ("kplus1", {"class_priors": [0.5] * K + [-0.1]}, ValueError, "class_priors"),
        ("kplus1", {"class_priors": "uniform"}, TypeError, "class_priors"),
    ],
)
def test_bad_options(name, opts, exc, match):
    with pytest.raises(exc, match=match):
        losses.get_objective(name, K, **opts)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes >= 1"):
        losses.get_objective("amgan", 0)
    with pytest.raises(TypeError, match="num_classes"):
        losses.get_objective("amgan", 2.5)
    assert losses.get_objective("gan", 0).head_units == 1


def test_none_option_means_default():
    obj = losses.get_objective("gan_star", K, d_aux_weight=None, label_smoothing=None)
    assert obj.options["d_aux_weight"] == 0.1 and obj.options["label_smoothing"] == 1.0
    assert losses.get_objective("samgan", K).options["temperature"] == 0.5
    assert losses.get_objective("acgan_star_lowaux", K).options["g_aux_weight"] == 0.1


def test_wrong_head_width_raises():
    obj = losses.get_objective("amgan", K)
    real, y, fake, c = _batch(K + 2, 1.0, seed=1)
    with pytest.raises(ValueError, match="7 logits per example.*emits 6"):
        obj.discriminator_loss(real, y, fake, c)
    with pytest.raises(ValueError, match="shape"):
        obj.generator_loss(fake[0], c)
    with pytest.raises(TypeError, match="float"):
        obj.generator_loss(np.zeros((N, K + 1), np.int32), c)
    with pytest.raises(TypeError, match="integer"):
        obj.generator_loss(fake[:, : K + 1], c.astype(np.float32))
