"""Latent-code objectives (P003): CGPGAN, InfoGAN, Elastic InfoGAN, GAN + code; the prior P(C)."""

import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import losses
from tf_amgan.losses import cgpgan, registry
from tf_amgan.training import selfsup

RNG = np.random.default_rng(0)


def _softplus(x):
    return np.logaddexp(0.0, x)


# ------------------------------------------------------------------------------ formulas
def test_argmax_onehot_and_prob_normalize():
    np.testing.assert_array_equal(cgpgan.argmax_onehot([[0.2, 0.5, 0.3]]).numpy(), [[0, 1, 0]])
    probs = tf.nn.softmax(RNG.normal(size=(7, 5)).astype(np.float32)).numpy()
    normalized = cgpgan.prob_normalize(probs).numpy()
    # P003 Eq. 13: the batch average becomes exactly uniform; rows keep their differences.
    np.testing.assert_allclose(normalized.mean(0), np.full(5, 0.2), atol=1e-7)
    np.testing.assert_allclose(
        normalized - probs, np.broadcast_to(0.2 - probs.mean(0), (7, 5)), atol=1e-7
    )
    given = cgpgan.prob_normalize(probs, batch_mean=np.full(5, 0.2, np.float32)).numpy()
    np.testing.assert_allclose(given, probs, atol=1e-7)


def test_cagan_losses_match_formulas():
    a_r = RNG.normal(size=(6, 4)).astype(np.float32) * 3
    a_f = RNG.normal(size=(6, 4)).astype(np.float32) * 3
    c_r = RNG.integers(0, 4, 6)
    c_f = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, 6)]
    got = cgpgan.cagan_discriminator_loss(a_r, np.eye(4)[c_r], a_f, c_f).numpy()
    sel_r = a_r[np.arange(6), c_r]
    sel_f = (a_f * c_f).sum(1)
    np.testing.assert_allclose(got, _softplus(-sel_r) + _softplus(sel_f), rtol=1e-6)  # Eq. 11
    np.testing.assert_allclose(
        cgpgan.cagan_generator_loss(a_f, c_f).numpy(), _softplus(-sel_f), rtol=1e-6
    )  # Eq. 12
    # A single adversarial output ignores the code (InfoGAN Eq. 4).
    single = cgpgan.cagan_discriminator_loss(a_r[:, :1], None, a_f[:, :1], c_f).numpy()
    np.testing.assert_allclose(single, _softplus(-a_r[:, 0]) + _softplus(a_f[:, 0]), rtol=1e-6)


def test_losses_stable_for_large_logits_and_float16():
    big = np.array([[100.0, -100.0], [-100.0, 100.0]], np.float32)
    codes = np.eye(2, dtype=np.float32)
    d = cgpgan.cagan_discriminator_loss(big, codes[::-1], big, codes).numpy()
    np.testing.assert_allclose(d, [200.0, 200.0], rtol=1e-6)
    g = cgpgan.cagan_generator_loss(tf.constant(big, tf.float16), codes)
    assert g.dtype == tf.float32 and np.all(np.isfinite(g.numpy()))
    cls = cgpgan.category_classification_loss(big, codes[::-1]).numpy()
    np.testing.assert_allclose(cls, [200.0, 200.0], rtol=1e-6)
    score = cgpgan.classifier_penalty_score(big, codes[::-1]).numpy()
    np.testing.assert_allclose(score, [1.0, 1.0])


def test_classification_loss_is_cross_entropy_and_accepts_soft_codes():
    logits = RNG.normal(size=(5, 3)).astype(np.float32)
    labels = RNG.integers(0, 3, 5)
    np.testing.assert_allclose(
        cgpgan.category_classification_loss(logits, np.eye(3)[labels]).numpy(),
        losses.common.sparse_cross_entropy(labels, logits).numpy(),
        rtol=1e-6,
    )
    soft = np.full((5, 3), 1 / 3, np.float32)
    expected = -np.mean(tf.nn.log_softmax(logits).numpy(), axis=1)
    np.testing.assert_allclose(
        cgpgan.category_classification_loss(logits, soft).numpy(), expected, rtol=1e-6
    )


# ------------------------------------------------------------------------------ Eq. 10 vs finite differences
class _TinyClassifier:
    """q(x) = tanh(x W1 + b1) W2 + b2 with float64 NumPy twins of its float32 TF variables."""

    def __init__(self, d_in=3, hidden=5, d_c=4, seed=1):
        rng = np.random.default_rng(seed)
        self.params = [
            rng.normal(size=(d_in, hidden)),
            rng.normal(size=hidden) * 0.1,
            rng.normal(size=(hidden, d_c)),
            rng.normal(size=d_c) * 0.1,
        ]
        self.variables = [tf.Variable(p.astype(np.float32)) for p in self.params]

    def tf_logits(self, x):
        w1, b1, w2, b2 = self.variables
        return tf.tanh(x @ w1 + b1) @ w2 + b2

    @staticmethod
    def np_logits(x, params):
        w1, b1, w2, b2 = params
        return np.tanh(x @ w1 + b1) @ w2 + b2


def _np_score(x, codes, params):
    logits = _TinyClassifier.np_logits(x, params)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (1.0 - (p * codes).sum(1)) ** 2  # Eq. 10: (1 - Q(x')·c_f)^2


def _np_penalty(x, codes, params, h=1e-5):
    """‖∇_x (1 - Q(x)·c)²‖² per example by central differences (float64)."""
    grad = np.zeros_like(x)
    for d in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, d] = h
        grad[:, d] = (_np_score(x + e, codes, params) - _np_score(x - e, codes, params)) / (2 * h)
    return (grad**2).sum(1)


def test_classifier_gradient_penalty_matches_finite_differences():
    q = _TinyClassifier()
    x = RNG.normal(size=(6, 3))
    codes = np.eye(4)[RNG.integers(0, 4, 6)]
    got = cgpgan.input_gradient_penalty(
        lambda inp: cgpgan.classifier_penalty_score(q.tf_logits(inp), codes),
        tf.constant(x, tf.float32),
    ).numpy()
    np.testing.assert_allclose(got, _np_penalty(x, codes, q.params), rtol=2e-4, atol=1e-8)
    assert np.all(got > 0)


def test_classifier_gradient_penalty_parameter_gradient_double_backprop():
    # d/dθ mean_i ‖∇_x (1 - Q_θ(x_i)·c_i)²‖² by the nested tapes vs finite differences in θ.
    q = _TinyClassifier(seed=2)
    x = RNG.normal(size=(4, 3))
    codes = np.eye(4)[RNG.integers(0, 4, 4)]
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(
            cgpgan.input_gradient_penalty(
                lambda inp: cgpgan.classifier_penalty_score(q.tf_logits(inp), codes),
                tf.constant(x, tf.float32),
            )
        )
    grads = tape.gradient(penalty, q.variables)
    h = 1e-4
    for which, index in [(0, (1, 2)), (2, (3, 1)), (3, (0,)), (1, (4,))]:
        plus = [p.copy() for p in q.params]
        minus = [p.copy() for p in q.params]
        plus[which][index] += h
        minus[which][index] -= h
        fd = (_np_penalty(x, codes, plus).mean() - _np_penalty(x, codes, minus).mean()) / (2 * h)
        np.testing.assert_allclose(grads[which].numpy()[index], fd, rtol=2e-3, atol=1e-6)


def test_r2_penalty_of_linear_head_is_squared_weight_norm():
    # D(x) = x W: ∇_x (D(x)·c) = W c, so R2 = ‖W c‖² for every example (written without ½).
    w = RNG.normal(size=(3, 4)).astype(np.float32)
    codes = np.eye(4, dtype=np.float32)[[0, 2, 3]]
    x = tf.constant(RNG.normal(size=(3, 3)), tf.float32)
    got = cgpgan.input_gradient_penalty(lambda inp: cgpgan.adversarial_score(inp @ w, codes), x)
    np.testing.assert_allclose(got.numpy(), ((w @ codes.T) ** 2).sum(0), rtol=1e-5)


# ------------------------------------------------------------------------------ objectives
def test_registry_entries():
    for name in ("cgpgan", "infogan", "elastic_infogan", "gan_categorical"):
        assert name in losses.available_objectives()
        assert registry.uses_latent_code(name)
    assert not registry.uses_latent_code("amgan")
    cg = losses.get_objective("cgpgan", 16)
    assert (cg.head_units, cg.classifier_units, cg.prior_kind) == (16, 16, "dynamic")
    assert {p.name: (p.network, p.weight) for p in cg.input_penalties} == {
        "r2": ("discriminator", 1.0),
        "creg": ("classifier", 0.1),
    }
    assert not cg.generator_uses_classifier and cg.labelings == ("dynamic",)
    info = losses.get_objective("infogan", 4)
    assert (info.head_units, info.classifier_units, info.prior_kind) == (1, 4, "fixed")
    assert info.generator_uses_classifier
    assert [p.name for p in info.input_penalties] == ["r2"]
    assert losses.get_objective("elastic_infogan", 4).prior_kind == "gumbel"
    plain = losses.get_objective("gan_categorical", 1, lambda_r2=0.0)
    assert (plain.head_units, plain.classifier_units, plain.input_penalties) == (1, 0, ())
    with pytest.raises(TypeError, match="lambda_creg"):
        losses.get_objective("amgan", 10, lambda_creg=1.0)
    with pytest.raises(ValueError, match="classifier"):
        losses.get_objective("gan_categorical", 4, prior="dynamic")
    with pytest.raises(ValueError, match="lambda_r2"):
        losses.get_objective("cgpgan", 4, lambda_r2=-1.0)


def test_objective_losses():
    a_r = RNG.normal(size=(5, 4)).astype(np.float32)
    a_f = RNG.normal(size=(5, 4)).astype(np.float32)
    q_f = RNG.normal(size=(5, 4)).astype(np.float32)
    c_f = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, 5)]
    real = RNG.integers(0, 4, 5).astype(np.int32)
    cg = losses.get_objective("cgpgan", 4, lambda_cls=2.0)
    np.testing.assert_allclose(
        cg.discriminator_loss(a_r, real, a_f, c_f).numpy(),
        cgpgan.cagan_discriminator_loss(a_r, np.eye(4)[real], a_f, c_f).numpy(),
    )
    # CGPGAN's G has no classification loss (Eq. 9), Q's is λ_cls·L_cls (Eq. 7 w/o the penalty).
    np.testing.assert_allclose(
        cg.generator_loss(a_f, c_f, q_f).numpy(), cgpgan.cagan_generator_loss(a_f, c_f).numpy()
    )
    np.testing.assert_allclose(
        cg.classifier_loss(q_f, c_f).numpy(),
        2.0 * cgpgan.category_classification_loss(q_f, c_f).numpy(),
    )
    info = losses.get_objective("infogan", 4, lambda_cls=0.5)
    expected = _softplus(-a_f[:, 0]) + 0.5 * cgpgan.category_classification_loss(q_f, c_f).numpy()
    np.testing.assert_allclose(
        info.generator_loss(a_f[:, :1], c_f, q_f).numpy(), expected, rtol=1e-6
    )
    with pytest.raises(ValueError, match="classifier_logits"):
        info.generator_loss(a_f[:, :1], c_f)
    with pytest.raises(ValueError, match="head emits 4"):
        cg.discriminator_loss(a_r[:, :3], real, a_f, c_f)


# ------------------------------------------------------------------------------ the prior
def test_prior_hard_sampling_is_categorical():
    prior = selfsup.CategoricalPrior(4, "fixed", initial=[0.1, 0.2, 0.3, 0.4])
    g = selfsup.gumbel_noise([40000, 4], tf.constant([1, 2], tf.int64))
    codes = prior.sample_codes(g).numpy()
    assert set(np.unique(codes)) == {0.0, 1.0} and np.all(codes.sum(1) == 1)
    np.testing.assert_allclose(codes.mean(0), [0.1, 0.2, 0.3, 0.4], atol=0.01)
    again = prior.sample_codes(selfsup.gumbel_noise([40000, 4], tf.constant([1, 2], tf.int64)))
    np.testing.assert_array_equal(codes, again.numpy())  # stateless


def test_dynamic_prior_ema_and_gating():
    prior = selfsup.CategoricalPrior(3, "dynamic", decay=0.9, update_start=5, normalize_until=7)
    mean = tf.constant([0.7, 0.2, 0.1])
    prior.update(tf.constant(4, tf.int64), mean)  # before the start: unchanged
    np.testing.assert_allclose(prior.probs().numpy(), np.full(3, 1 / 3), rtol=1e-6)
    prior.update(tf.constant(5, tf.int64), mean)
    np.testing.assert_allclose(
        prior.probs().numpy(), 0.9 * np.full(3, 1 / 3) + 0.1 * mean.numpy(), rtol=1e-6
    )
    assert bool(prior.normalize_active(6)) and not bool(prior.normalize_active(7))
    stats = {k: float(v) for k, v in prior.statistics().items()}
    p = prior.probs().numpy()
    assert stats["prior_active"] == 3.0
    np.testing.assert_allclose(stats["prior_entropy"], -(p * np.log(p)).sum(), rtol=1e-5)
    np.testing.assert_allclose([stats[f"prior_{k}"] for k in range(3)], p)


def test_prior_statistics_counts_categories_above_one_percent():
    stats = selfsup.prior_statistics(tf.constant([0.5, 0.495, 0.005, 0.0]))
    assert float(stats["prior_active"]) == 2.0
    expected = -(0.5 * np.log(0.5) + 0.495 * np.log(0.495) + 0.005 * np.log(0.005))
    np.testing.assert_allclose(float(stats["prior_entropy"]), expected, rtol=1e-5)


def test_gumbel_prior_codes_are_relaxed_and_differentiable():
    prior = selfsup.CategoricalPrior(4, "gumbel", temperature=0.5)
    g = selfsup.gumbel_noise([8, 4], tf.constant([3, 4], tf.int64))
    with tf.GradientTape() as tape:
        codes = prior.sample_codes(g)
        loss = tf.reduce_sum(codes[:, 0])
    np.testing.assert_allclose(codes.numpy().sum(1), np.ones(8), rtol=1e-6)
    assert 0 < codes.numpy().max() < 1
    grad = tape.gradient(loss, prior.trainable_variables)[0]
    assert grad is not None and np.abs(grad.numpy()).max() > 0
    hard = prior.sample_codes(g, relaxed=False).numpy()
    np.testing.assert_array_equal(hard.argmax(1), codes.numpy().argmax(1))
    prior.update(10, tf.constant([1.0, 0, 0, 0]))  # not an EMA prior: no-op
    np.testing.assert_allclose(prior.probs().numpy(), np.full(4, 0.25), rtol=1e-6)


def test_prior_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        selfsup.CategoricalPrior(3, "nope")
    with pytest.raises(ValueError, match="initial"):
        selfsup.CategoricalPrior(3, "fixed", initial=[0.5, 0.5])
    with pytest.raises(ValueError, match="decay"):
        selfsup.CategoricalPrior(3, "dynamic", decay=1.0)
