"""Extra K+1 terms (M-12..M-15): values vs. float64 NumPy, gradients, stop-gradient, errors."""

import losses_reference as ref
import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import losses

K = 4


def _logits(seed, n, scale=2.0):
    rng = np.random.default_rng(seed)
    if scale == "huge":
        return rng.uniform(-100.0, 100.0, (n, K + 1)).astype(np.float32)
    return (scale * rng.normal(size=(n, K + 1))).astype(np.float32)


@pytest.mark.parametrize("scale", [2.0, "huge"])
@pytest.mark.parametrize("s,fake_logit", [(1.0, "trainable"), (0.75, "zero")])
def test_semi_supervised_loss(scale, s, fake_logit):
    # M-12: H(v(argmax_{k<=K} D_k), D) per example.
    logits = _logits(0, 11, scale)
    out = losses.semi_supervised_loss(logits, label_smoothing=s, fake_logit=fake_logit)
    assert out.shape == (11,) and out.dtype == tf.float32
    np.testing.assert_allclose(
        out.numpy(), ref.semi_supervised(logits, s, fake_logit), rtol=2e-5, atol=2e-5
    )


def test_semi_supervised_gradient_has_no_target_gradient():
    # Dynamic label is a stop-gradient target: -∂L/∂l = v(y(x)) - D(x) (Lemma 1).
    logits = _logits(1, 6)
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(losses.semi_supervised_loss(x))
    y = np.argmax(logits[:, :K], axis=1)
    np.testing.assert_allclose(
        -tape.gradient(loss, x).numpy(), ref.onehot(y, K + 1) - ref.softmax(logits), atol=1e-6
    )


@pytest.mark.parametrize("scale", [2.0, "huge"])
def test_class_distribution_and_marginal_loss(scale):
    logits = _logits(2, 13, scale)
    dist = losses.class_distribution(logits).numpy()
    np.testing.assert_allclose(dist, ref.class_distribution(logits), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dist.sum(), 1.0, rtol=1e-6)
    # M-13 with the uniform reference and with a given p_ref.
    out = losses.unsupervised_marginal_loss(logits)
    assert out.shape == () and np.isfinite(out.numpy())
    np.testing.assert_allclose(out.numpy(), ref.marginal(logits), rtol=1e-5)
    p_ref = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(
        losses.unsupervised_marginal_loss(logits, p_ref).numpy(),
        ref.marginal(logits, p_ref),
        rtol=1e-5,
    )
    zero = losses.unsupervised_marginal_loss(logits, fake_logit="zero").numpy()
    np.testing.assert_allclose(zero, ref.marginal(logits, None, "zero"), rtol=1e-5)


def test_marginal_loss_is_minimal_for_matching_marginal():
    # H(p_ref, q) >= H(p_ref): equality when the batch's class marginal equals p_ref.
    p_ref = np.array([0.1, 0.2, 0.3, 0.4])
    matching = np.concatenate([np.log(p_ref), [-3.0]])[None].astype(np.float32)
    val = losses.unsupervised_marginal_loss(matching, p_ref).numpy()
    np.testing.assert_allclose(val, -np.sum(p_ref * np.log(p_ref)), rtol=1e-5)
    assert losses.unsupervised_marginal_loss(_logits(3, 8), p_ref).numpy() > val


def test_class_mode_loss_value_and_gradient():
    data, fake = _logits(4, 10), _logits(5, 12, 3.0)
    out = losses.class_mode_loss(data, fake)
    np.testing.assert_allclose(out.numpy(), ref.class_mode(data, fake), rtol=1e-5)
    np.testing.assert_allclose(
        losses.class_mode_loss(data, fake, fake_logit="zero").numpy(),
        ref.class_mode(data, fake, "zero"),
        rtol=1e-5,
    )
    # M-14 gradient for one generated sample: -∂L/∂l_k = R(E_data D)_k - R(D(x))_k, 0 on the fake logit.
    one = tf.constant(fake[:1])
    data_t = tf.constant(data)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([one, data_t])
        loss = losses.class_mode_loss(data_t, one)
    g = -tape.gradient(loss, one).numpy()[0]
    want = ref.class_distribution(data) - ref.softmax(fake[:1, :K])[0]
    np.testing.assert_allclose(g[:K], want, atol=1e-6)
    assert g[K] == 0.0
    # The data distribution is a reference: no gradient into D's logits on data.
    assert tape.gradient(loss, data_t) is None


def test_marginal_reference_gets_no_gradient():
    logits, p = tf.constant(_logits(6, 5)), tf.constant([0.25, 0.25, 0.25, 0.25])
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = losses.unsupervised_marginal_loss(logits, p)
    assert tape.gradient(loss, p) is None


def test_extended_losses_compose_m12_to_m14():
    rng = np.random.default_rng(7)
    real, fake, unl = _logits(7, 8), _logits(8, 8), _logits(9, 5)
    y = rng.integers(0, K, 8).astype(np.int32)
    p_ref = np.array([0.4, 0.3, 0.2, 0.1])
    # M-15 D (P000 Eq. 43): means over each batch plus the batch marginal term.
    d = losses.extended_discriminator_loss(real, y, fake, unl, p_ref=p_ref)
    want_d = (
        ref.kplus1_d(real, y, fake).mean()
        + ref.semi_supervised(unl).mean()
        + ref.marginal(unl, p_ref)
    )
    np.testing.assert_allclose(d.numpy(), want_d, rtol=1e-5)
    d_s = losses.extended_discriminator_loss(
        real, y, fake, unl, label_smoothing=0.75, fake_logit="zero"
    )
    want_s = (
        ref.kplus1_d(real, y, fake, 0.75, "zero").mean()
        + ref.semi_supervised(unl, 0.75, "zero").mean()
        + ref.marginal(unl, None, "zero")
    )
    np.testing.assert_allclose(d_s.numpy(), want_s, rtol=1e-5)
    # M-15 G (P000 Eq. 44): AM-GAN (dynamic or given targets) or SAM-GAN, plus the mode term.
    mode = ref.class_mode(real, fake)
    g = losses.extended_generator_loss(fake, real)
    np.testing.assert_allclose(
        g.numpy(), ref.amgan_g(fake, np.argmax(fake[:, :K], 1)).mean() + mode, rtol=1e-5
    )
    c = rng.integers(0, K, 8)
    g = losses.extended_generator_loss(fake, real, c)
    np.testing.assert_allclose(g.numpy(), ref.amgan_g(fake, c).mean() + mode, rtol=1e-5)
    g = losses.extended_generator_loss(fake, real, temperature=0.5)
    np.testing.assert_allclose(g.numpy(), ref.samgan_g(fake, 0.5).mean() + mode, rtol=1e-5)


def test_extra_errors():
    logits = _logits(0, 3)
    with pytest.raises(ValueError, match="not both"):
        losses.extended_generator_loss(logits, logits, np.zeros(3, np.int32), temperature=0.5)
    with pytest.raises(ValueError, match="fake_logit"):
        losses.semi_supervised_loss(logits, fake_logit="none")
    with pytest.raises(ValueError, match="fake_logit"):
        losses.extended_discriminator_loss(
            logits, np.zeros(3, np.int32), logits, logits, fake_logit="x"
        )
    with pytest.raises(ValueError, match="K\\+1"):
        losses.class_distribution(logits[:, :1])
    with pytest.raises(ValueError, match="p_ref"):
        losses.unsupervised_marginal_loss(logits, np.ones(K + 1) / (K + 1))
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.semi_supervised_loss(logits, label_smoothing=0.0)
    with pytest.raises(ValueError, match="temperature"):
        losses.extended_generator_loss(logits, logits, temperature=-1.0)
