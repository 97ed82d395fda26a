"""Spec identities (§0.3) and closed-form gradients (M-3, M-4, M-5, M-6) against tf.GradientTape."""

import losses_reference as ref
import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp

from tf_amgan import losses
from tf_amgan.losses import common

K = 6
N = 9


def _rng(seed):
    return np.random.default_rng(seed)


def _distributions(rng, n, m):
    return rng.dirichlet(np.full(m, 0.7), size=n)


def _grad(fn, logits):
    logits = tf.constant(logits, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.reduce_sum(fn(logits))
    return tape.gradient(loss, logits).numpy()


def _untied_logits(rng, n, units, scale=2.0):
    """Logits whose top-2 class logits are well separated (argmax stable in float32)."""
    logits = scale * rng.normal(size=(n, units))
    top = np.argmax(logits[:, :K], axis=1)
    logits[np.arange(n), top] += 0.5
    return logits.astype(np.float32)


# ------------------------------------------------------------------------------- Lemmas 1-3


def test_lemma1_cross_entropy_gradient():
    # -∂H(p̂, σ(l))/∂l = p̂ - σ(l) (P000/P001 App. D), for soft and hard targets.
    rng = _rng(0)
    logits = 3.0 * rng.normal(size=(N, K + 1))
    p_hat = _distributions(rng, N, K + 1)
    g = _grad(lambda x: common.soft_cross_entropy(p_hat, x), logits)
    np.testing.assert_allclose(-g, p_hat - ref.softmax(logits), atol=1e-6)
    labels = rng.integers(0, K + 1, N).astype(np.int32)
    g = _grad(lambda x: common.sparse_cross_entropy(labels, x), logits)
    np.testing.assert_allclose(-g, ref.onehot(labels, K + 1) - ref.softmax(logits), atol=1e-6)


def test_lemma2_decomposition():
    # H(p̂, p) = p̂_r H(R p̂, R p) + H(F p̂, F p) on random distributions.
    rng = _rng(1)
    p_hat = _distributions(rng, N, K + 1)
    logits = 2.0 * rng.normal(size=(N, K + 1))
    p = ref.softmax(logits)

    def R(v):
        return v[:, :K] / v[:, :K].sum(axis=1, keepdims=True)

    def F(v):
        return np.stack([v[:, :K].sum(axis=1), v[:, K]], axis=1)

    decomposed = p_hat[:, :K].sum(axis=1) * ref.cross_entropy(
        R(p_hat), np.log(R(p))
    ) + ref.cross_entropy(F(p_hat), np.log(F(p)))
    np.testing.assert_allclose(ref.cross_entropy(p_hat, np.log(p)), decomposed, rtol=1e-10)
    ours = common.soft_cross_entropy(p_hat, tf.constant(logits, tf.float32)).numpy()
    np.testing.assert_allclose(ours, decomposed, rtol=1e-5)


def test_lemma3_expectation_of_cross_entropy():
    # E_x[H(p(x), p̄)] = H(E_x[p(x)], p̄).
    rng = _rng(2)
    p = _distributions(rng, 50, K)
    logit_bar = rng.normal(size=(1, K)).astype(np.float32)
    per_sample = common.soft_cross_entropy(p, np.repeat(logit_bar, 50, axis=0)).numpy()
    of_mean = common.soft_cross_entropy(p.mean(axis=0, keepdims=True), logit_bar).numpy()
    np.testing.assert_allclose(per_sample.mean(), of_mean[0], rtol=1e-5)
    np.testing.assert_allclose(
        of_mean[0], ref.cross_entropy(p.mean(0), ref.log_softmax(logit_bar)[0]), rtol=1e-5
    )


# ------------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", ["labelgan", "kplus1"])
def test_labelgan_class_aware_gradient(name):
    # M-3 (P000 Eq. 6-8, P001 Eq. 11-13): -∂L/∂l_k = (1 - D_r) D_k / D_r (k <= K), -(1 - D_r) (k = K+1).
    rng = _rng(3)
    logits = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    obj = losses.get_objective(name, K)
    g = _grad(lambda x: obj.generator_loss(x, None), logits)
    d = ref.softmax(logits)
    d_r = d[:, :K].sum(axis=1, keepdims=True)
    want = np.concatenate([(1 - d_r) * d[:, :K] / d_r, -(1 - d_r)], axis=1)
    np.testing.assert_allclose(-g, want, atol=1e-6)


@pytest.mark.parametrize("labeling", ["dynamic", "predefined"])
def test_amgan_gradient(labeling):
    # M-4 (P000 Eq. 16-17): -∂L/∂l_k = v_k - D_k, v = v(y) the K+1 one-hot of the target.
    rng = _rng(4)
    logits = _untied_logits(rng, N, K + 1)
    obj = losses.get_objective("amgan", K)
    if labeling == "dynamic":
        y = np.argmax(logits[:, :K], axis=1)
        # Targets computed inside the tape, as the trainer does: no gradient through them.
        g = _grad(lambda x: obj.generator_loss(x, obj.dynamic_targets(x)), logits)
    else:
        y = rng.integers(0, K, N)
        g = _grad(lambda x: obj.generator_loss(x, y), logits)
    np.testing.assert_allclose(-g, ref.onehot(y, K + 1) - ref.softmax(logits), atol=1e-6)


def test_samgan_gradient_does_not_flow_through_soft_target():
    # With v = stop_gradient(softmax(l_{1:K}/t)) constant: -∂L/∂l = [v, 0] - D. Letting the
    # gradient through the target would add a term and fail this check.
    rng = _rng(5)
    logits = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    t = 0.5
    obj = losses.get_objective("samgan", K, temperature=t)
    g = _grad(lambda x: obj.generator_loss(x, None), logits)
    v = np.concatenate([ref.softmax(logits[:, :K] / t), np.zeros((N, 1))], axis=1)
    np.testing.assert_allclose(-g, v - ref.softmax(logits), atol=1e-6)


def test_acgan_gradients():
    # M-6 (P000 Eq. 10-12): aux logit k: u_k(y) - C_k; real logit: 1 - D_r (non-saturating G).
    rng = _rng(6)
    logits = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    y = rng.integers(0, K, N)
    obj = losses.get_objective("acgan", K)
    g = -_grad(lambda x: obj.generator_loss(x, y), logits)
    d_r = 1.0 / (1.0 + np.exp(-logits[:, 0].astype(np.float64)))
    np.testing.assert_allclose(g[:, 0], 1.0 - d_r, atol=1e-6)
    np.testing.assert_allclose(g[:, 1:], ref.onehot(y, K) - ref.softmax(logits[:, 1:]), atol=1e-6)
    # Minimax (P004): G minimises log(1 - D_r): -∂/∂l = D_r.
    minimax = losses.get_objective("acgan", K, source_loss="minimax")
    g = -_grad(lambda x: minimax.generator_loss(x, y), logits)
    np.testing.assert_allclose(g[:, 0], d_r, atol=1e-6)


def test_smoothed_g_gradient_stationary_point():
    # P000 Eq. 28 / P001 Eq. 32: G target [1-λ, λ] = [s, 1-s] gives -∂L/∂l = s - D_r on the
    # real logit, so the gradient vanishes exactly at D_r = s.
    s = 0.75
    obj = losses.get_objective("gan", 1, label_smoothing=s)
    logit = np.array([[np.log(s / (1 - s))], [0.0], [3.0]], np.float32)
    g = -_grad(lambda x: obj.generator_loss(x, None), logit)
    d_r = 1.0 / (1.0 + np.exp(-logit[:, 0].astype(np.float64)))
    np.testing.assert_allclose(g[:, 0], s - d_r, atol=1e-6)
    assert abs(g[0, 0]) < 1e-6


# ------------------------------------------------------------------------------- decompositions


def test_amgan_decomposition_p001_eq_17_18():
    rng = _rng(7)
    logits = (2.5 * rng.normal(size=(N, K + 1))).astype(np.float32)
    y = rng.integers(0, K, N).astype(np.int32)
    am = losses.get_objective("amgan", K).generator_loss(logits, y).numpy()
    lab = losses.get_objective("labelgan", K).generator_loss(logits, None).numpy()
    d = ref.softmax(logits)
    d_y, d_r = d[np.arange(N), y], d[:, :K].sum(axis=1)
    # L_G^AM = L_G^lab - log(D_y / D_r).
    np.testing.assert_allclose(am, lab - np.log(d_y / d_r), rtol=1e-5)
    # L_G^AM = H(R v, R D) + H(F v, F D), v = v(y), v_r = 1.
    r_term = -np.log(d_y / d_r)  # H(u(y), R(D))
    f_term = ref.cross_entropy(np.tile([1.0, 0.0], (N, 1)), np.log(np.stack([d_r, d[:, K]], 1)))
    np.testing.assert_allclose(am, r_term + f_term, rtol=1e-5)


def _acgan_as_kplus1_logits(logits):
    """Binary+aux logits -> K+1 logits of the implied distribution [D_r·C(x), D_f] (P001 Eq. 19)."""
    logits = logits.astype(np.float64)
    log_dr, log_df = ref.log_binary(logits[:, 0]).T
    return np.concatenate(
        [log_dr[:, None] + ref.log_softmax(logits[:, 1:]), log_df[:, None]], axis=1
    )


def test_acgan_star_is_a_kplus1_model_p001_eq_19():
    # H([1,0],[D_r,D_f]) + H(u(y), C) = H(v(y), [D_r·C, D_f]).
    rng = _rng(8)
    real = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    fake = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    y = rng.integers(0, K, N).astype(np.int32)
    c = rng.integers(0, K, N).astype(np.int32)
    star = losses.get_objective("acgan_star", K)
    g = star.generator_loss(fake, c).numpy()
    implied = _acgan_as_kplus1_logits(fake)
    np.testing.assert_allclose(np.exp(logsumexp(implied, axis=1)), 1.0, rtol=1e-12)
    np.testing.assert_allclose(g, ref.cross_entropy(ref.onehot(c, K + 1), implied), rtol=1e-5)
    # The same through our AM-GAN G loss on the implied K+1 logits.
    am = losses.get_objective("amgan", K)
    np.testing.assert_allclose(
        g, am.generator_loss(implied.astype(np.float32), c).numpy(), rtol=1e-5
    )
    # AC-GAN*'s D equals the K+1 D on the implied logits (real: v(y); fake: v(K+1)).
    d = star.discriminator_loss(real, y, fake, c).numpy()
    want = am.discriminator_loss(
        _acgan_as_kplus1_logits(real).astype(np.float32), y, implied.astype(np.float32)
    )
    np.testing.assert_allclose(d, want.numpy(), rtol=1e-5)


def test_samgan_tends_to_amgan_as_temperature_goes_to_zero():
    rng = _rng(9)
    logits = _untied_logits(rng, N, K + 1)
    am = losses.get_objective("amgan", K)
    am_loss = am.generator_loss(logits, am.dynamic_targets(logits)).numpy()
    gaps = []
    for t in (1.0, 0.5, 0.1, 0.02, 1e-3):
        sam = losses.get_objective("samgan", K, temperature=t).generator_loss(logits, None).numpy()
        gaps.append(np.max(np.abs(sam - am_loss)))
    assert all(b <= a + 1e-7 for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    assert gaps[0] > 0.05 and gaps[-1] < 1e-5, gaps


def test_labelgan_smoothed_d_matches_p000_eq_32_decomposition():
    # P000 Eq. 32 with smoothing s: real = s·H(u(y), R D) + H([s, 1-s], F D);
    # fake = (1-s)·H(uniform, R D) + H([1-s, s], F D).
    s = 0.75
    rng = _rng(10)
    real = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    fake = (2.0 * rng.normal(size=(N, K + 1))).astype(np.float32)
    y = rng.integers(0, K, N).astype(np.int32)
    d = (
        losses.get_objective("labelgan", K, label_smoothing=s)
        .discriminator_loss(real, y, fake)
        .numpy()
    )

    def parts(logits):
        p = ref.softmax(logits)
        r = p[:, :K] / p[:, :K].sum(axis=1, keepdims=True)
        f = np.stack([p[:, :K].sum(axis=1), p[:, K]], axis=1)
        return np.log(r), np.log(f)

    log_r, log_f = parts(real)
    want = s * -log_r[np.arange(N), y] + ref.cross_entropy(np.tile([s, 1 - s], (N, 1)), log_f)
    log_r, log_f = parts(fake)
    want += (1 - s) * -log_r.mean(axis=1) + ref.cross_entropy(np.tile([1 - s, s], (N, 1)), log_f)
    np.testing.assert_allclose(d, want, rtol=1e-5)
