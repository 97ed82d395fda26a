"""Tests for tf_amgan.metrics.synthetic and tf_amgan.metrics.correlation."""

import functools

import numpy as np
import scipy.stats
from absl.testing import parameterized

from tf_amgan import metrics


class _Case(parameterized.TestCase):
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


class MixtureTest(_Case):
    def test_ring_means(self):
        means = metrics.ring_means(8)
        self.assertAllClose(np.linalg.norm(means, axis=1), np.ones(8))
        self.assertAllClose(means[2], [0.0, 1.0], atol=1e-12)

    def test_log_prob_matches_scipy(self):
        rng = np.random.default_rng(0)
        means = np.array([[-1.0, 2.0], [0.0, -2.0], [1.0, -1.0], [2.0, 1.0]])  # P003 clusters
        weights = np.array([0.1, 0.2, 0.3, 0.4])
        stds = np.array([0.3, 0.3, 0.5, 0.2])
        x = rng.normal(size=(50, 2)) * 2
        expected = np.log(
            sum(
                w * scipy.stats.multivariate_normal(m, s**2 * np.eye(2)).pdf(x)
                for m, s, w in zip(means, stds, weights, strict=True)
            )
        )
        self.assertAllClose(
            metrics.gaussian_mixture_log_prob(x, means, stds, weights), expected, rtol=1e-10
        )

    def test_log_prob_far_from_modes_is_finite(self):
        # σ = 0.01: densities underflow far away; log-sum-exp keeps them finite.
        log_p = metrics.gaussian_mixture_log_prob(
            np.array([[5.0, 5.0]]), metrics.ring_means(), 0.01
        )
        self.assertTrue(np.isfinite(log_p).all())
        self.assertLess(log_p[0], -1e5)

    def test_oracle_nll_closed_form(self):
        sigma = 0.01
        means = metrics.ring_means(8)
        log_prob = functools.partial(metrics.gaussian_mixture_log_prob, means=means, stds=sigma)
        # Samples exactly at the means: other modes contribute nothing measurable.
        expected = -(np.log(1 / 8) - np.log(2 * np.pi * sigma**2))
        self.assertAllClose(metrics.oracle_nll(np.repeat(means, 3, axis=0), log_prob), expected)
        # Worse samples give a larger NLL.
        noisy = np.repeat(means, 3, axis=0) + 0.02
        self.assertGreater(metrics.oracle_nll(noisy, log_prob), expected)

    def test_oracle_nll_checks_output(self):
        with self.assertRaises(ValueError):
            metrics.oracle_nll(np.zeros((4, 2)), lambda x: np.zeros(3))

    def test_invalid_mixture(self):
        with self.assertRaises(ValueError):
            metrics.gaussian_mixture_log_prob(np.zeros((1, 2)), metrics.ring_means(4), 0.0)
        with self.assertRaises(ValueError):
            metrics.gaussian_mixture_log_prob(
                np.zeros((1, 2)), metrics.ring_means(4), 0.1, weights=[0.5, 0.5, 0.5, 0.5]
            )


class ModeCoverageTest(_Case):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(1)
        self.means = metrics.ring_means(8)
        self.sigma = 0.01
        # Modes 0..5 get 100, 100, 100, 100, 100, 3 samples; modes 6, 7 none; plus 50 outliers
        # halfway between modes 6 and 7.
        counts = [100, 100, 100, 100, 100, 3]
        parts = [
            self.means[m] + self.sigma * rng.normal(size=(n, 2)) * 0.5 for m, n in enumerate(counts)
        ]
        parts.append(np.tile((self.means[6] + self.means[7]) / 2, (50, 1)))
        self.samples = np.concatenate(parts)

    def test_counts_and_quality(self):
        result = metrics.mode_coverage(self.samples, self.means, self.sigma)
        np.testing.assert_array_equal(result.counts, [100, 100, 100, 100, 100, 3, 0, 0])
        self.assertEqual(result.num_covered, 6)
        self.assertAllClose(result.coverage, 6 / 8)
        self.assertAllClose(result.high_quality_fraction, 503 / 553)
        self.assertEqual(result.num_samples, 553)

    def test_thresholds(self):
        by_count = metrics.mode_coverage(self.samples, self.means, self.sigma, min_count=10)
        self.assertEqual(by_count.num_covered, 5)
        by_fraction = metrics.mode_coverage(self.samples, self.means, self.sigma, min_fraction=0.2)
        self.assertEqual(by_fraction.min_count_threshold, int(np.ceil(0.2 * 553)))
        self.assertEqual(by_fraction.num_covered, 0)

    def test_overlapping_balls_count_once(self):
        # Two modes closer than 3σ: a sample between them is assigned to the nearer one only.
        means = np.array([[0.0, 0.0], [0.1, 0.0]])
        samples = np.array([[0.04, 0.0], [0.06, 0.0], [1.0, 1.0]])
        result = metrics.mode_coverage(samples, means, 0.1)
        np.testing.assert_array_equal(result.counts, [1, 1])
        self.assertAllClose(result.high_quality_fraction, 2 / 3)


class CorrelationTest(_Case):
    def test_pearson_matches_scipy(self):
        rng = np.random.default_rng(2)
        x = rng.normal(size=40)
        y = 0.7 * x + rng.normal(size=40)
        self.assertAllClose(metrics.pearson_correlation(x, y), scipy.stats.pearsonr(x, y)[0])

    def test_metric_nll_correlation_sign(self):
        nll = np.array([5.0, 3.0, 2.5, 1.0, 0.2])
        self.assertAllClose(metrics.metric_nll_correlation(-2 * nll + 1, nll), 1.0)
        study = metrics.nll_correlation_study({"is": 10 - nll, "am_p001": nll}, nll)
        self.assertAllClose(study["is"], 1.0)
        self.assertAllClose(study["am_p001"], -1.0)

    def test_degenerate_inputs(self):
        self.assertTrue(np.isnan(metrics.pearson_correlation([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])))
        with self.assertRaises(ValueError):
            metrics.pearson_correlation([1.0], [2.0])
        with self.assertRaises(ValueError):
            metrics.pearson_correlation([1.0, 2.0], [1.0, np.nan])
