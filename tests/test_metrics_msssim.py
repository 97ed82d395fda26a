"""Tests for tf_amgan.metrics.msssim: small-image MS-SSIM and per-class diversity."""

import numpy as np
import scipy.signal
import tensorflow as tf
from absl.testing import parameterized

from tf_amgan import metrics

WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]


def ref_window(size, sigma):
    # MATLAB fspecial('gaussian'), as in the AM-GAN reference.
    radius = size // 2
    offset = 0.5 if size % 2 == 0 else 0.0
    stop = radius + 1 - (1 if size % 2 == 0 else 0)
    xs, ys = np.mgrid[offset - radius : stop, offset - radius : stop]
    g = np.exp(-(xs**2 + ys**2) / (2.0 * sigma**2))
    return g / g.sum()


def ref_avg_pool_same(img):
    # 2x2, stride 2, SAME; TF averages only the valid pixels of a border window.
    h, w, c = img.shape
    padded = np.full((h + h % 2, w + w % 2, c), np.nan)
    padded[:h, :w] = img
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2, c)
    return np.nanmean(blocks, axis=(1, 3))


def ref_ms_ssim(img1, img2, L=2.0):
    """Independent float64 NumPy/SciPy version of the [CODE] MS-SSIM for one [H, W, C] pair."""
    img1 = img1.astype(np.float64) + 1.0  # [-1, 1] -> [0, 2]
    img2 = img2.astype(np.float64) + 1.0
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    cs_levels, ssim_last = [], None
    for level in range(5):
        if level:
            img1, img2 = ref_avg_pool_same(img1), ref_avg_pool_same(img2)
        size = min(11, img1.shape[0], img1.shape[1])
        win = ref_window(size, 1.5 * size / 11.0)

        def filt(x, win=win):
            return np.stack(
                [
                    scipy.signal.correlate2d(x[..., ch], win, mode="valid")
                    for ch in range(x.shape[-1])
                ],
                axis=-1,
            )

        mu1, mu2 = filt(img1), filt(img2)
        s11 = filt(img1 * img1) - mu1**2
        s22 = filt(img2 * img2) - mu2**2
        s12 = np.abs(filt(img1 * img2) - mu1 * mu2)
        cs = (2 * s12 + c2) / (s11 + s22 + c2)
        ssim = (2 * mu1 * mu2 + c1) / (mu1**2 + mu2**2 + c1) * cs
        cs_levels.append(cs.mean())
        ssim_last = ssim.mean()
    return np.prod(np.array(cs_levels[:4]) ** WEIGHTS[:4]) * ssim_last ** WEIGHTS[4]


def correlated_pairs(rng, n, h, w, c, noise=0.5):
    base = rng.uniform(-1, 1, size=(n, h, w, c))
    # Smooth images so that every scale carries structure.
    base = tf.nn.avg_pool2d(base, 3, 1, "SAME").numpy()
    other = np.clip(base + noise * rng.normal(size=base.shape) * 0.3, -1, 1)
    return base.astype(np.float32), other.astype(np.float32)


class _Case(parameterized.TestCase):
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


class MSSSIMTest(_Case):
    @parameterized.parameters((32, 32, 3), (28, 28, 1), (64, 48, 3))
    def test_identical_images_give_one(self, h, w, c):
        x = np.random.default_rng(0).uniform(-1, 1, size=(4, h, w, c)).astype(np.float32)
        self.assertAllClose(metrics.ms_ssim(x, x).numpy(), np.ones(4), atol=1e-5)
        x16 = tf.constant(x, tf.float16)  # mixed-precision generator output
        self.assertAllClose(metrics.ms_ssim(x16, x16).numpy(), np.ones(4), atol=1e-5)

    @parameterized.parameters((32, 32, 3), (28, 28, 1))
    def test_matches_numpy_reference(self, h, w, c):
        rng = np.random.default_rng(1)
        a, b = correlated_pairs(rng, 6, h, w, c)
        # Include an independent pair, where |σ12| matters.
        b[0] = rng.uniform(-1, 1, size=(h, w, c))
        ours = metrics.ms_ssim(a, b).numpy()
        expected = [ref_ms_ssim(a[i], b[i]) for i in range(6)]
        self.assertAllClose(ours, expected, rtol=2e-5, atol=2e-6)
        self.assertTrue(np.all((ours > 0) & (ours < 1)))

    @parameterized.parameters(1, 3)
    def test_matches_tf_image_when_configured_alike(self, channels):
        # 192x192: the 11x11 window fits every scale (needs >= 176) and all sizes stay even.
        a, b = correlated_pairs(np.random.default_rng(2), 3, 192, 192, channels)
        ours = metrics.ms_ssim(
            a, b, shrink_window=False, abs_covariance=False, per_channel=True
        ).numpy()
        theirs = tf.image.ssim_multiscale(a + 1.0, b + 1.0, max_val=2.0).numpy()
        self.assertAllClose(ours, theirs, rtol=1e-5, atol=1e-6)

    def test_symmetric_and_scale_invariant(self):
        a, b = correlated_pairs(np.random.default_rng(3), 4, 32, 32, 3)
        ab = metrics.ms_ssim(a, b).numpy()
        self.assertAllClose(ab, metrics.ms_ssim(b, a).numpy(), rtol=1e-5)
        # Same images in [0, 1] with L = 1.
        unit = metrics.ms_ssim((a + 1) / 2, (b + 1) / 2, value_range=(0.0, 1.0)).numpy()
        self.assertAllClose(unit, ab, rtol=1e-4)

    def test_more_similar_pairs_score_higher(self):
        rng = np.random.default_rng(4)
        a, close = correlated_pairs(rng, 8, 32, 32, 3, noise=0.2)
        far = np.clip(a + rng.normal(size=a.shape) * 0.8, -1, 1).astype(np.float32)
        self.assertTrue(np.all(metrics.ms_ssim(a, close).numpy() > metrics.ms_ssim(a, far).numpy()))

    def test_window_too_large_without_shrinking(self):
        x = np.zeros((1, 32, 32, 1), np.float32)
        with self.assertRaises(ValueError):
            metrics.ms_ssim(x, x, shrink_window=False)

    def test_runs_inside_tf_function(self):
        a, b = correlated_pairs(np.random.default_rng(5), 2, 32, 32, 3)
        compiled = tf.function(lambda x, y: metrics.ms_ssim(x, y))
        self.assertAllClose(compiled(a, b).numpy(), metrics.ms_ssim(a, b).numpy(), rtol=1e-6)


class IntraClassTest(_Case):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(6)
        self.images = rng.uniform(-1, 1, size=(31, 32, 32, 3)).astype(np.float32)
        self.labels = np.concatenate([np.zeros(10), np.ones(10), np.full(10, 2), [4]]).astype(int)
        self.images[:10] = self.images[0]  # class 0 collapsed to a single image
        self.images[10:20] = np.clip(
            self.images[10] + 0.05 * rng.normal(size=(10, 32, 32, 3)), -1, 1
        )  # class 1 nearly collapsed

    def test_per_class_statistics(self):
        result = metrics.intra_class_ms_ssim(
            self.images,
            self.labels,
            num_classes=5,
            pairs_per_class=20,
            threshold=0.9,
            label_source="conditioning",
        )
        self.assertAllClose(result.per_class_mean[0], 1.0, atol=1e-5)
        self.assertAllClose(result.per_class_std[0], 0.0, atol=1e-5)
        self.assertGreater(result.per_class_mean[1], result.per_class_mean[2])
        self.assertTrue(np.isnan(result.per_class_mean[3]) and np.isnan(result.per_class_mean[4]))
        np.testing.assert_array_equal(result.per_class_count, [10, 10, 10, 0, 1])
        self.assertEqual(result.argmax, 0)
        self.assertAllClose(result.max, 1.0, atol=1e-5)
        self.assertAllClose(result.mean, np.mean(result.per_class_mean[:3]))
        expected_fraction = np.mean(result.per_class_mean[:3] < 0.9)
        self.assertAllClose(result.fraction_below, expected_fraction)
        self.assertEqual(result.label_source, "conditioning")
        self.assertEqual(result.pairs_per_class, 20)

    def test_two_member_class_uses_its_only_pair(self):
        labels = np.array([0, 0, 1, 1, 1])
        images = self.images[20:25]
        result = metrics.intra_class_ms_ssim(images, labels, pairs_per_class=7)
        expected = metrics.ms_ssim(images[:1], images[1:2]).numpy()[0]
        self.assertAllClose(result.per_class_mean[0], expected, rtol=1e-5)
        self.assertAllClose(result.per_class_std[0], 0.0, atol=1e-6)
        self.assertIsNone(result.fraction_below)

    def test_seeded_and_batched(self):
        kwargs = dict(pairs_per_class=15, seed=3)
        a = metrics.intra_class_ms_ssim(self.images, self.labels, batch_size=7, **kwargs)
        b = metrics.intra_class_ms_ssim(self.images, self.labels, batch_size=500, **kwargs)
        self.assertAllClose(a.per_class_mean, b.per_class_mean, rtol=1e-5)

    def test_errors(self):
        with self.assertRaises(ValueError):
            metrics.intra_class_ms_ssim(self.images[:3], np.array([0, 1, 2]))
        with self.assertRaises(ValueError):
            metrics.intra_class_ms_ssim(self.images, self.labels, num_classes=3)
