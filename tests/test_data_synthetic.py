"""2-D mixtures (spec D-4, D-5, D-7, Q-10): parameters, exact densities, sampling, pipelines."""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

from tf_amgan import data

MIXTURES = ("ring8", "overlap10", "clusters4")


def _grid_integral(mixture, lo, hi, step):
    xs = np.arange(lo[0], hi[0], step) + step / 2
    ys = np.arange(lo[1], hi[1], step) + step / 2
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    return float(np.sum(mixture.prob(pts)) * step * step)


def test_parameters_follow_the_spec():
    ring = data.get_mixture("ring8")
    assert ring.num_components == 8 and ring.dim == 2
    np.testing.assert_allclose(ring.stds, 0.01)  # P000: std 0.01, not variance
    np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 1.0)
    np.testing.assert_allclose(ring.means[0], [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(ring.means[2], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(ring.weights, 1 / 8)

    clusters = data.get_mixture("clusters4")
    np.testing.assert_array_equal(clusters.means, [[-1, 2], [0, -2], [1, -1], [2, 1]])
    np.testing.assert_allclose(clusters.weights, [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(clusters.stds, 0.3)

    custom = data.get_mixture("ring8", std=0.1, radius=2.0, modes=5)
    assert custom.num_components == 5
    np.testing.assert_allclose(custom.stds, 0.1)
    np.testing.assert_allclose(np.linalg.norm(custom.means, axis=1), 2.0)
    with pytest.raises(ValueError, match="unknown"):
        data.get_mixture("clusters4", radius=1.0)
    with pytest.raises(ValueError, match="positive"):
        data.get_mixture("ring8", std=0.0)


def test_overlap10_neighbours_overlap_inside_the_plot_box():
    m = data.get_mixture("overlap10")
    assert m.num_components == 10
    centre = m.means.mean(0)
    np.testing.assert_allclose(centre, [2.0, 2.0], atol=1e-12)
    # Density along the circle barely dips between neighbours: "highly overlapping" (D-5).
    r = np.linalg.norm(m.means[0] - centre)
    at_mean = centre + r * np.array([1.0, 0.0])
    between = centre + r * np.array([np.cos(np.pi / 10), np.sin(np.pi / 10)])
    ratio = np.exp(m.log_prob(between[None]) - m.log_prob(at_mean[None]))[0]
    assert ratio > 0.9
    x, _ = m.sample(20000, seed=0)
    inside = (x[:, 0] > 0) & (x[:, 0] < 4) & (x[:, 1] > -1) & (x[:, 1] < 5)
    assert inside.mean() > 0.99


@pytest.mark.parametrize(
    "name, options, lo, hi, step",
    [
        ("ring8", dict(std=0.1), (-1.8, -1.8), (1.8, 1.8), 0.01),
        ("overlap10", {}, (-0.5, -0.5), (4.5, 4.5), 0.01),
        ("clusters4", {}, (-3.0, -4.0), (4.0, 4.0), 0.01),
    ],
)
def test_density_integrates_to_one(name, options, lo, hi, step):
    assert _grid_integral(data.get_mixture(name, **options), lo, hi, step) == pytest.approx(
        1, abs=1e-4
    )


def test_ring_density_with_paper_std_integrates_to_one():
    # std 0.01: integrate a fine grid around each mode (the modes are 76σ apart).
    m = data.get_mixture("ring8")
    total = sum(_grid_integral(m, mu - 0.08, mu + 0.08, 0.001) for mu in m.means)
    assert total == pytest.approx(1, abs=1e-4)


@pytest.mark.parametrize("name", MIXTURES)
def test_log_prob_matches_scipy_and_tf(name):
    m = data.get_mixture(name)
    x, _ = m.sample(500, seed=1)
    x = x.astype(np.float64) + np.random.default_rng(2).normal(0, 0.5 * m.stds[0], x.shape)
    pdf = sum(
        w * scipy.stats.multivariate_normal(mu, s**2 * np.eye(2)).pdf(x)
        for mu, s, w in zip(m.means, m.stds, m.weights, strict=True)
    )
    expected = np.log(pdf)
    np.testing.assert_allclose(m.log_prob(x), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(m.log_prob(tf.constant(x)).numpy(), expected, rtol=1e-10, atol=1e-10)
    got32 = m.log_prob(tf.constant(x, tf.float32))
    assert got32.dtype == tf.float32
    np.testing.assert_allclose(got32.numpy(), expected, rtol=1e-4, atol=2e-3)
    assert m.log_prob(tf.constant(x, tf.float16)).dtype == tf.float32
    post = np.exp(m.log_posterior(x))
    np.testing.assert_allclose(post.sum(1), 1.0, rtol=1e-12)


def test_log_prob_is_finite_far_from_all_modes():
    m = data.get_mixture("ring8")  # std 0.01: naive exp() underflows 1 unit away
    x = np.array([[0.0, 0.0], [10.0, 0.0]])
    lp = m.log_prob(x)
    assert np.all(np.isfinite(lp))
    # Far away the nearest mode dominates: log w - d²/(2σ²) - 2 log σ - log 2π.
    expected = np.log(1 / 8) - 81 / (2 * 1e-4) - 2 * np.log(0.01) - np.log(2 * np.pi)
    assert lp[1] == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(m.log_prob(tf.constant(x, tf.float32)).numpy()))


@pytest.mark.parametrize("name", ("ring8", "clusters4"))
def test_sample_statistics_match_parameters(name):
    m = data.get_mixture(name)
    n = 100_000
    for x, y in (
        m.sample(n, seed=3),
        tuple(t.numpy() for t in m.sample_tf(n, tf.constant([3, 4]))),
    ):
        assert x.dtype == np.float32 and y.dtype == np.int32 and x.shape == (n, 2)
        freq = np.bincount(y, minlength=m.num_components) / n
        se = np.sqrt(m.weights * (1 - m.weights) / n)
        assert np.all(np.abs(freq - m.weights) < 5 * se)
        for k in range(m.num_components):
            xk = x[y == k].astype(np.float64)
            np.testing.assert_allclose(
                xk.mean(0), m.means[k], atol=5 * m.stds[k] / np.sqrt(len(xk))
            )
            np.testing.assert_allclose(xk.std(0), m.stds[k], rtol=0.03)
    np.testing.assert_array_equal(m.sample(10, seed=5)[0], m.sample(10, seed=5)[0])
    assert not np.array_equal(m.sample(10, seed=5)[0], m.sample(10, seed=6)[0])


def test_synthetic_dataset_is_deterministic_and_resumable():
    def batches(**kw):
        ds = data.get_dataset("clusters4", batch_size=16, **kw)
        return [(x.numpy(), y.numpy()) for x, y in ds.take(6)]

    a, b = batches(seed=1), batches(seed=1)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        assert xa.shape == (16, 2) and xa.dtype == np.float32 and ya.dtype == np.int32
    resumed = batches(seed=1, start_step=3)
    for (xa, _), (xr, _) in zip(a[3:], resumed, strict=False):
        np.testing.assert_array_equal(xa, xr)
    assert not np.array_equal(a[0][0], a[1][0])
    assert not np.array_equal(a[0][0], batches(seed=2)[0][0])
    test = data.get_dataset("clusters4", split="test", batch_size=16, seed=1)
    assert not np.array_equal(next(iter(test))[0].numpy(), a[0][0])


def test_synthetic_finite_epoch_and_load_arrays():
    ds = data.get_dataset(
        "ring8", batch_size=300, repeat=False, drop_remainder=False, num_samples=1000
    )
    sizes = [int(y.shape[0]) for _, y in ds]
    assert sizes == [300, 300, 300, 100]
    x, y = data.load_arrays("ring8", std=0.05, num_samples=2000)
    assert x.shape == (2000, 2) and y.shape == (2000,)
    np.testing.assert_allclose(np.std(np.linalg.norm(x, axis=1)), 0.05, rtol=0.1)
    x2, _ = data.load_arrays("ring8", std=0.05, num_samples=2000)
    np.testing.assert_array_equal(x, x2)
    xt, _ = data.load_arrays("ring8", split="test", std=0.05, num_samples=2000)
    assert not np.array_equal(x, xt)


@pytest.mark.parametrize("name", MIXTURES)
def test_info_of_synthetic_sets(name):
    info = data.get_info(name)
    m = data.get_mixture(name)
    assert info.shape == (2,) and not info.is_image and info.num_train is None
    assert info.num_classes == m.num_components
    np.testing.assert_array_equal(info.class_prior, m.weights)
    assert info.class_prior.dtype == np.float64
    assert data.get_info("ring8", std=0.2, modes=6).num_classes == 6
