"""Tests for tf_amgan.metrics.fid: feature statistics, FID, k-NN precision/recall."""

import os
import tempfile

import numpy as np
import scipy.linalg
import scipy.spatial.distance
from absl.testing import parameterized

from tf_amgan import metrics


def ref_fid(feats1, feats2):
    """TTUR-style reference: np.cov + scipy sqrtm on the raw features."""
    mu1, mu2 = feats1.mean(0), feats2.mean(0)
    s1, s2 = np.cov(feats1, rowvar=False), np.cov(feats2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)


def ref_gaussian_w2(mu1, s1, mu2, s2):
    """Closed form via the symmetric product Σ1^½ Σ2 Σ1^½ and eigendecompositions."""
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(inner))


def ref_precision_recall(real, fake, k):
    d_rr = scipy.spatial.distance.cdist(real, real)
    d_ff = scipy.spatial.distance.cdist(fake, fake)
    d_fr = scipy.spatial.distance.cdist(fake, real)
    r_real = np.sort(d_rr, axis=1)[:, k]
    r_fake = np.sort(d_ff, axis=1)[:, k]
    precision = np.mean((d_fr <= r_real[None, :]).any(axis=1))
    recall = np.mean((d_fr.T <= r_fake[None, :]).any(axis=1))
    return precision, recall


def random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


class _Case(parameterized.TestCase):
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


class FeatureStatisticsTest(_Case):
    def test_streaming_matches_numpy(self):
        rng = np.random.default_rng(0)
        # A large offset makes naive E[xxᵀ] - μμᵀ lose precision; the centred merge must not.
        feats = (rng.normal(size=(1001, 16)) * 0.01 + 1e3).astype(np.float32)
        stats = metrics.FeatureStatistics()
        for s, e in [(0, 1), (1, 100), (100, 101), (101, 1001)]:
            stats.update(feats[s:e])
        self.assertEqual(stats.num_samples, 1001)
        x = feats.astype(np.float64)
        self.assertAllClose(stats.mean, x.mean(0), rtol=1e-12)
        self.assertAllClose(stats.covariance, np.cov(x, rowvar=False), rtol=1e-7, atol=1e-12)

    def test_merge_and_save_load(self):
        rng = np.random.default_rng(1)
        feats = rng.normal(size=(300, 8))
        a = metrics.FeatureStatistics.from_features(feats[:120])
        b = metrics.FeatureStatistics.from_features(feats[120:], batch_size=50)
        a.merge(b)
        self.assertAllClose(a.covariance, np.cov(feats, rowvar=False), rtol=1e-10)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "real_stats.npz")
            a.save(path)
            loaded = metrics.FeatureStatistics.load(path)
        self.assertEqual(loaded.num_samples, 300)
        self.assertAllClose(loaded.mean, a.mean, rtol=0, atol=0)
        self.assertAllClose(loaded.covariance, a.covariance, rtol=0, atol=0)

    def test_errors(self):
        stats = metrics.FeatureStatistics(4)
        with self.assertRaises(ValueError):
            _ = stats.mean
        stats.update(np.zeros((1, 4)))
        with self.assertRaises(ValueError):
            _ = stats.covariance
        with self.assertRaises(ValueError):
            stats.update(np.zeros((2, 5)))


class FIDTest(_Case):
    def test_identical_features_give_zero(self):
        feats = np.random.default_rng(2).normal(size=(500, 32))
        self.assertAllClose(metrics.fid_from_features(feats, feats), 0.0, atol=1e-8)

    def test_diagonal_gaussians_closed_form(self):
        mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
        sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
        fid = metrics.frechet_distance(mu1, np.diag(sd1**2), mu2, np.diag(sd2**2))
        self.assertAllClose(fid, 5.0 + 4.0 + 1.0 + 0.0)

    @parameterized.parameters(0, 1, 2)
    def test_general_gaussians_closed_form(self, seed):
        rng = np.random.default_rng(seed)
        mu1, mu2 = rng.normal(size=10), rng.normal(size=10)
        s1, s2 = random_spd(rng, 10), random_spd(rng, 10)
        self.assertAllClose(
            metrics.frechet_distance(mu1, s1, mu2, s2), ref_gaussian_w2(mu1, s1, mu2, s2), rtol=1e-8
        )

    def test_matches_reference_on_random_features(self):
        rng = np.random.default_rng(3)
        f1 = rng.normal(size=(800, 24))
        f2 = rng.normal(size=(600, 24)) @ random_spd(rng, 24) + 0.3
        expected = ref_fid(f1, f2)
        self.assertAllClose(metrics.fid_from_features(f1, f2), expected, rtol=1e-8)
        stats1, stats2 = metrics.FeatureStatistics(), metrics.FeatureStatistics()
        for s in range(0, 800, 128):
            stats1.update(f1[s : s + 128])
            stats2.update(f2[s : s + 128])
        self.assertAllClose(metrics.fid_from_statistics(stats1, stats2), expected, rtol=1e-8)

    def test_singular_covariances_stay_finite(self):
        # Fewer samples than dimensions: both covariances are singular.
        rng = np.random.default_rng(4)
        f1, f2 = rng.normal(size=(20, 64)), rng.normal(size=(20, 64)) + 1.0
        fid = metrics.fid_from_features(f1, f2)
        self.assertTrue(np.isfinite(fid))
        self.assertGreater(fid, 60.0)  # ‖μ1 - μ2‖² ≈ 64

    def test_shape_mismatch(self):
        with self.assertRaises(ValueError):
            metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


class PrecisionRecallTest(_Case):
    def test_identical_sets(self):
        feats = np.random.default_rng(5).normal(size=(300, 64))
        result = metrics.precision_recall(feats, feats, batch_size=64)
        self.assertEqual((result.precision, result.recall, result.k), (1.0, 1.0, 3))

    @parameterized.parameters((3, 1000), (3, 37), (5, 50))
    def test_matches_brute_force(self, k, batch_size):
        rng = np.random.default_rng(6)
        real = rng.normal(size=(400, 16))
        fake = rng.normal(size=(350, 16)) * 1.3 + 0.4
        p, r = ref_precision_recall(real, fake, k)
        result = metrics.precision_recall(real, fake, k=k, batch_size=batch_size)
        self.assertAllClose([result.precision, result.recall], [p, r], atol=0)
        self.assertTrue(0.0 < p < 1.0 and 0.0 < r < 1.0)

    def test_disjoint_and_partial(self):
        rng = np.random.default_rng(7)
        real = rng.normal(size=(200, 8))
        far = rng.normal(size=(100, 8)) + 100.0
        self.assertAllClose(
            [getattr(metrics.precision_recall(real, far), a) for a in ("precision", "recall")],
            [0.0, 0.0],
        )
        # Half of the fakes are real samples, half are far away: precision 1/2.
        fake = np.concatenate([real[:100], far])
        self.assertAllClose(metrics.precision_recall(real, fake).precision, 0.5)

    def test_knn_radii(self):
        feats = np.random.default_rng(8).normal(size=(120, 5))
        expected = np.sort(scipy.spatial.distance.cdist(feats, feats), axis=1)[:, 3]
        self.assertAllClose(metrics.knn_radii(feats, 3, batch_size=17), expected, rtol=1e-9)
        with self.assertRaises(ValueError):
            metrics.knn_radii(feats[:3], 3)
