"""Tests for tf_amgan.metrics.scores: IS, Mode Score, AM Scores, accuracies, the accumulator."""

import itertools

import numpy as np
import scipy.special
import scipy.stats
from absl.testing import parameterized

from tf_amgan import metrics

# ---------------------------------------------------------------------------------------------
# Independent references, written from the formulas (openai/improved-gan and AM-GAN score.py).


def ref_inception_score(preds, splits):
    preds = preds + 1e-18
    scores = []
    n = preds.shape[0]
    for i in range(splits):
        part = preds[i * n // splits : (i + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part) - np.log(py)), axis=1)
        scores.append(np.exp(kl.mean()))
    return np.mean(scores), np.std(scores), np.array(scores)


def ref_am_score(preds, ref):
    preds = preds + 1e-18
    avg = preds.mean(axis=0)
    am_per = np.mean(-np.sum(preds * np.log(preds), axis=1))
    am_avg = -np.sum(ref * np.log(avg / ref))
    return am_per + am_avg, am_per, am_avg


def ref_am_score_v1(preds, ref):
    preds = preds + 1e-18
    avg = preds.mean(axis=0)
    per_sample_kl = [scipy.stats.entropy(ref, p) for p in preds]
    return np.mean(per_sample_kl) - scipy.stats.entropy(ref, avg)


def one_hot(labels, k):
    return np.eye(k)[labels]


class _Case(parameterized.TestCase):
    # absl TestCase rather than tf.test.TestCase: pytest would collect (and skip) its test_session.
    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)

    def assertAllEqual(self, a, b):
        np.testing.assert_array_equal(a, b)


class InceptionScoreTest(_Case):
    def setUp(self):
        super().setUp()
        self.rng = np.random.default_rng(0)

    @parameterized.parameters(2, 10, 1008)
    def test_uniform_one_hot_gives_k(self, k):
        preds = one_hot(np.arange(5 * k) % k, k)
        result = metrics.inception_score(preds, splits=5)
        self.assertAllClose(result.score, k, rtol=1e-9)
        self.assertAllClose(result.split_scores, np.full(5, k), rtol=1e-9)
        self.assertAllClose(result.split_std, 0.0, atol=1e-9)
        self.assertAllClose(result.entropy_of_mean, np.log(k), rtol=1e-9)
        self.assertAllClose(result.mean_entropy, 0.0, atol=1e-12)

    def test_collapsed_samples_give_one(self):
        p = self.rng.dirichlet(np.ones(10))
        result = metrics.inception_score(np.tile(p, (100, 1)), splits=10)
        self.assertAllClose(result.score, 1.0, atol=1e-12)
        self.assertAllClose(result.split_mean, 1.0, atol=1e-12)

    def test_matches_reference(self):
        preds = self.rng.dirichlet(np.full(20, 0.3), size=1003)
        mean, std, scores = ref_inception_score(preds, 10)
        result = metrics.inception_score(preds, splits=10)
        self.assertAllClose(result.split_mean, mean, rtol=1e-10)
        self.assertAllClose(result.split_std, std, rtol=1e-8)
        self.assertAllClose(result.split_scores, scores, rtol=1e-10)
        self.assertAllClose(result.score, ref_inception_score(preds, 1)[0], rtol=1e-10)
        # Decomposition, P001 Eq. 25.
        self.assertAllClose(np.log(result.score), result.entropy_of_mean - result.mean_entropy)
        self.assertAllClose(result.mean_entropy, np.mean(scipy.stats.entropy(preds, axis=1)))
        self.assertAllClose(result.entropy_of_mean, scipy.stats.entropy(preds.mean(0)))

    def test_logits_match_probabilities(self):
        logits = self.rng.normal(size=(300, 12)) * 4
        probs = scipy.special.softmax(logits, axis=1)
        a = metrics.inception_score(logits, from_logits=True, splits=3)
        b = metrics.inception_score(probs, splits=3)
        self.assertAllClose(a.score, b.score, rtol=1e-9)
        self.assertAllClose(a.split_scores, b.split_scores, rtol=1e-9)

    def test_large_float16_logits_are_stable(self):
        labels = np.arange(200) % 10
        logits = (100.0 * one_hot(labels, 10) - 100.0 * (1 - one_hot(labels, 10))).astype(
            np.float16
        )
        result = metrics.inception_score(logits, from_logits=True, splits=2)
        self.assertAllClose(result.score, 10.0, rtol=1e-9)
        am = metrics.am_score(logits, np.full(10, 0.1), from_logits=True)
        self.assertAllClose(am.score, 0.0, atol=1e-9)
        v1 = metrics.am_score_v1(logits, np.full(10, 0.1), from_logits=True)
        self.assertTrue(np.isfinite(v1.score))

    def test_chunked_large_input(self):
        preds = self.rng.dirichlet(np.ones(7), size=20_000).astype(np.float32)
        result = metrics.inception_score(preds, splits=10)
        mean, _, _ = ref_inception_score(preds.astype(np.float64), 10)
        self.assertAllClose(result.split_mean, mean, rtol=1e-9)

    def test_shuffled_splits_fix_class_ordered_samples(self):
        # A conditional generator emitting samples in class order: contiguous splits each hold one
        # class (IS 1), random groups see all classes.
        preds = one_hot(np.repeat(np.arange(10), 50), 10)
        self.assertAllClose(metrics.inception_score(preds, splits=10).split_mean, 1.0)
        shuffled = metrics.inception_score(preds, splits=10, shuffle_seed=3)
        self.assertGreater(shuffled.split_mean, 6.0)
        self.assertAllClose(shuffled.score, 10.0)

    def test_p004_protocol(self):
        select = self.rng.dirichlet(np.full(10, 0.2), size=500)
        report = self.rng.dirichlet(np.full(10, 0.2), size=250)
        result = metrics.inception_score_p004(select, report, seed=7)
        self.assertLen(result.select.split_scores, 10)
        self.assertLen(result.report.split_scores, 5)
        perm = np.random.default_rng(8).permutation(250)
        groups = [report[perm[i * 50 : (i + 1) * 50]] for i in range(5)]
        expected = [ref_inception_score(g, 1)[0] for g in groups]
        self.assertAllClose(result.report_mean, np.mean(expected), rtol=1e-10)
        self.assertAllClose(result.report_std, np.std(expected), rtol=1e-8)
        self.assertEqual(result.select_mean, result.select.split_mean)

    def test_invalid_splits(self):
        with self.assertRaises(ValueError):
            metrics.inception_score(np.full((3, 2), 0.5), splits=4)
        with self.assertRaises(ValueError):
            metrics.inception_score(np.full((3,), 0.5))


class ModeScoreTest(_Case):
    @parameterized.parameters(0, 1, 2, 3)
    def test_equals_inception_score_for_any_prior(self, seed):
        # Lemma 3 (P001 Eq. 25-26): C̄^train cancels.
        rng = np.random.default_rng(seed)
        preds = rng.dirichlet(np.full(10, 0.5), size=400)
        prior = rng.dirichlet(np.full(10, 0.3 + seed))
        self.assertAllClose(
            metrics.mode_score(preds, prior),
            metrics.inception_score(preds, splits=None).score,
            rtol=1e-10,
        )

    def test_matches_definition(self):
        rng = np.random.default_rng(5)
        preds = rng.dirichlet(np.ones(6), size=50)
        prior = rng.dirichlet(np.ones(6))
        p = preds + 1e-18
        expected = np.exp(
            np.mean([scipy.stats.entropy(x, prior) for x in p])
            - scipy.stats.entropy(p.mean(0), prior)
        )
        self.assertAllClose(metrics.mode_score(preds, prior), expected, rtol=1e-10)


class AMScoreTest(_Case):
    def test_zero_for_one_hot_mixture_matching_prior(self):
        prior = np.array([0.5, 0.3, 0.2])
        preds = one_hot(np.array([0] * 5 + [1] * 3 + [2] * 2), 3)
        result = metrics.am_score(preds, prior)
        self.assertAllClose(result.score, 0.0, atol=1e-12)
        self.assertAllClose(result.kl_term, 0.0, atol=1e-12)
        self.assertAllClose(result.entropy_term, 0.0, atol=1e-12)
        self.assertAllClose(result.mean_prediction, prior)

    def test_positive_otherwise(self):
        prior = np.full(4, 0.25)
        self.assertGreater(metrics.am_score(one_hot(np.zeros(8, int), 4), prior).score, 1.0)
        self.assertGreater(metrics.am_score(np.full((8, 4), 0.25), prior).score, 1.0)

    def test_matches_reference(self):
        rng = np.random.default_rng(1)
        preds = rng.dirichlet(np.full(10, 0.1), size=1000)
        prior = rng.dirichlet(np.full(10, 5.0))
        score, am_per, am_avg = ref_am_score(preds, prior)
        result = metrics.am_score(preds, prior, splits=10)
        self.assertAllClose(result.score, score, rtol=1e-10)
        self.assertAllClose(result.entropy_term, am_per, rtol=1e-10)
        self.assertAllClose(result.kl_term, am_avg, rtol=1e-9)
        self.assertAllClose(result.entropy_of_mean, scipy.stats.entropy(preds.mean(0)))
        splits = [ref_am_score(preds[i * 100 : (i + 1) * 100], prior)[0] for i in range(10)]
        self.assertAllClose(result.split_scores, splits, rtol=1e-10)
        self.assertAllClose(result.split_std, np.std(splits), rtol=1e-8)

    def test_zero_prior_entries_contribute_zero(self):
        prior = np.array([0.5, 0.5, 0.0])
        preds = one_hot(np.array([0, 1]), 3)
        self.assertAllClose(metrics.am_score(preds, prior).score, 0.0, atol=1e-12)

    def test_v1_matches_reference(self):
        rng = np.random.default_rng(2)
        preds = rng.dirichlet(np.full(8, 0.7), size=200)
        prior = rng.dirichlet(np.full(8, 3.0))
        result = metrics.am_score_v1(preds, prior)
        self.assertAllClose(result.score, ref_am_score_v1(preds, prior), rtol=1e-10)
        self.assertAllClose(result.score, result.sample_term - result.mean_term)

    def test_v1_prefers_sharp_balanced_samples(self):
        prior = np.full(4, 0.25)
        sharp = one_hot(np.arange(40) % 4, 4) * 0.97 + 0.0075
        blurry = np.full((40, 4), 0.25)
        self.assertGreater(
            metrics.am_score_v1(sharp, prior).score, metrics.am_score_v1(blurry, prior).score
        )

    def test_prior_shape_checked(self):
        with self.assertRaises(ValueError):
            metrics.am_score(np.full((4, 3), 1 / 3), np.full(4, 0.25))


class AccumulatorTest(_Case):
    def test_matches_array_functions(self):
        rng = np.random.default_rng(3)
        logits = (rng.normal(size=(997, 10)) * 5).astype(np.float32)
        labels = rng.integers(0, 10, size=997)
        prior = rng.dirichlet(np.ones(10))
        acc = metrics.PredictionAccumulator(10, from_logits=True, splits=10, total=997)
        for s in range(0, 997, 64):
            acc.update(logits[s : s + 64], labels[s : s + 64])
        self.assertEqual(acc.num_samples, 997)
        is_arr = metrics.inception_score(logits, from_logits=True, splits=10)
        is_acc = acc.inception_score()
        self.assertAllClose(is_acc.score, is_arr.score, rtol=1e-10)
        self.assertAllClose(is_acc.split_scores, is_arr.split_scores, rtol=1e-10)
        self.assertAllClose(is_acc.mean_entropy, is_arr.mean_entropy, rtol=1e-10)
        am_arr = metrics.am_score(logits, prior, from_logits=True, splits=10)
        am_acc = acc.am_score(prior)
        self.assertAllClose(am_acc.score, am_arr.score, rtol=1e-10)
        self.assertAllClose(am_acc.kl_term, am_arr.kl_term, rtol=1e-9)
        self.assertAllClose(am_acc.split_scores, am_arr.split_scores, rtol=1e-10)
        v1_arr = metrics.am_score_v1(logits, prior, from_logits=True)
        self.assertAllClose(acc.am_score_v1(prior).score, v1_arr.score, rtol=1e-10)
        self.assertAllClose(
            acc.mode_score(prior), metrics.mode_score(logits, prior, from_logits=True)
        )
        self.assertAllClose(acc.mean_prediction(), am_arr.mean_prediction)
        ca_arr = metrics.class_accuracy(logits, labels)
        ca_acc = acc.class_accuracy()
        self.assertAllClose(ca_acc.mean_class_accuracy, ca_arr.mean_class_accuracy)
        self.assertAllClose(ca_acc.per_class, ca_arr.per_class)
        self.assertAllClose(ca_acc.overall, ca_arr.overall)

    def test_probabilities_and_no_splits(self):
        preds = np.random.default_rng(4).dirichlet(np.ones(5), size=123)
        acc = metrics.PredictionAccumulator(5)
        acc.update(preds[:100]).update(preds[100:])
        self.assertAllClose(
            acc.inception_score().score, metrics.inception_score(preds).score, rtol=1e-10
        )

    def test_errors(self):
        with self.assertRaises(ValueError):
            metrics.PredictionAccumulator(3, splits=2)
        acc = metrics.PredictionAccumulator(3, splits=2, total=4)
        acc.update(np.full((3, 3), 1 / 3))
        with self.assertRaises(ValueError):
            acc.inception_score()  # incomplete
        with self.assertRaises(ValueError):
            acc.update(np.full((2, 3), 1 / 3))  # beyond total
        with self.assertRaises(ValueError):
            acc.class_accuracy()  # no labels
        with self.assertRaises(ValueError):
            acc.update(np.full((1, 4), 0.25))


class AccuracyTest(_Case):
    def test_class_accuracy_averages_over_classes(self):
        labels = np.array([0, 0, 0, 0, 1, 1, 2])
        preds = np.array([0, 0, 0, 1, 0, 1, 2])
        result = metrics.class_accuracy(preds, labels, num_classes=4)
        self.assertAllClose(result.per_class[:3], [0.75, 0.5, 1.0])
        self.assertTrue(np.isnan(result.per_class[3]))
        self.assertAllClose(result.mean_class_accuracy, 0.75)
        self.assertAllClose(result.overall, 5 / 7)
        self.assertAllEqual(result.counts, [4, 2, 1, 0])

    def test_class_accuracy_from_scores_and_splits(self):
        rng = np.random.default_rng(6)
        labels = rng.integers(0, 5, size=1000)
        scores = rng.normal(size=(1000, 5)) + 2.0 * one_hot(labels, 5)
        result = metrics.class_accuracy(scores, labels, splits=10)
        pred = scores.argmax(1)
        per_split = []
        for i in range(10):
            sl = slice(i * 100, (i + 1) * 100)
            per_split.append(
                np.mean([np.mean(pred[sl][labels[sl] == c] == c) for c in np.unique(labels[sl])])
            )
        self.assertAllClose(result.split_mean, np.mean(per_split))
        self.assertAllClose(result.split_std, np.std(per_split))

    def test_clustering_accuracy_permutation(self):
        labels = np.random.default_rng(7).integers(0, 4, size=100)
        perm = np.array([2, 0, 3, 1])
        result = metrics.clustering_accuracy(perm[labels], labels)
        self.assertAllClose(result.accuracy, 1.0)
        self.assertAllEqual(result.cluster_to_class[perm], np.arange(4))

    def test_clustering_accuracy_more_clusters_than_classes(self):
        # Class 0 split over clusters 0 and 3: only one of them can be matched.
        labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])
        clusters = np.array([0, 0, 0, 3, 1, 1, 2, 2])
        result = metrics.clustering_accuracy(clusters, labels)
        self.assertAllClose(result.accuracy, 7 / 8)
        self.assertAllEqual(result.cluster_to_class, [0, 1, 2, -1])

    def test_clustering_accuracy_matches_brute_force(self):
        rng = np.random.default_rng(8)
        for _ in range(5):
            labels = rng.integers(0, 3, size=60)
            clusters = rng.integers(0, 5, size=60)
            best = 0
            for assign in itertools.permutations(range(5), 3):  # class c -> cluster assign[c]
                best = max(
                    best, sum(np.sum((labels == c) & (clusters == k)) for c, k in enumerate(assign))
                )
            self.assertAllClose(metrics.clustering_accuracy(clusters, labels).accuracy, best / 60)


class HelpersTest(_Case):
    def test_entropy_and_prior(self):
        preds = np.random.default_rng(9).dirichlet(np.ones(6), size=30)
        self.assertAllClose(metrics.entropy(preds), scipy.stats.entropy(preds, axis=1))
        self.assertAllClose(metrics.class_prior(preds), preds.mean(0))
        self.assertAllClose(metrics.entropy(one_hot(np.arange(3), 3)), np.zeros(3), atol=1e-15)
