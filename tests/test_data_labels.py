"""Label sampling for predefined labeling (spec §1.2), class priors and DatasetInfo."""

import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import data


def _freq(labels, k):
    return np.bincount(np.asarray(labels), minlength=k) / len(labels)


def test_uniform_labels_are_class_balanced_in_expectation():
    n, k = 200_000, 10
    y = data.sample_labels(tf.constant([1, 2]), n, k).numpy()
    assert y.dtype == np.int32 and y.shape == (n,) and y.min() == 0 and y.max() == k - 1
    se = np.sqrt(0.1 * 0.9 / n)
    assert np.all(np.abs(_freq(y, k) - 0.1) < 5 * se)


def test_labels_follow_a_given_prior_and_skip_zero_classes():
    prior = np.array([0.5, 0.0, 0.2, 0.3])
    n = 100_000
    y = data.sample_labels([7, 8], n, 4, prior=prior).numpy()
    se = np.sqrt(prior * (1 - prior) / n)
    assert np.all(np.abs(_freq(y, 4) - prior) <= 5 * se)
    assert not np.any(y == 1)
    with pytest.raises(ValueError, match="prior"):
        data.sample_labels([0, 0], 4, 3, prior=[0.5, 0.6, 0.0])


def test_labels_are_stateless_and_work_in_tf_function():
    a = data.sample_labels(tf.constant([3, 4], tf.int64), 64, 10)
    b = data.sample_labels(tf.constant([3, 4], tf.int64), 64, 10)
    c = data.sample_labels(tf.constant([3, 5], tf.int64), 64, 10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)

    @tf.function(jit_compile=False)
    def in_graph(seed):
        return data.sample_labels(seed, 64, 10), data.sample_labels(seed, 64, 10, stratified=True)

    g, s = in_graph(tf.constant([3, 4], tf.int64))
    np.testing.assert_array_equal(g, a)
    assert set(np.bincount(s.numpy(), minlength=10)) <= {6, 7}  # 64 labels over 10 classes
    assert np.all(data.sample_labels([1, 1], 5, 0).numpy() == 0)  # unlabelled data


def test_stratified_batches_are_exactly_balanced():
    for seed in range(5):
        y = data.sample_labels([seed, 0], 100, 10, stratified=True).numpy()
        np.testing.assert_array_equal(np.bincount(y, minlength=10), 10)
    first = data.sample_labels([0, 0], 100, 10, stratified=True).numpy()
    second = data.sample_labels([1, 0], 100, 10, stratified=True).numpy()
    assert not np.array_equal(first, second)  # same counts, random order
    prior = np.array([0.1, 0.2, 0.3, 0.4])
    for seed in range(5):
        counts = np.bincount(
            data.sample_labels([seed, 1], 17, 4, prior=prior, stratified=True).numpy(), minlength=4
        )
        assert counts.sum() == 17
        assert np.all(counts >= np.floor(17 * prior)) and np.all(counts <= np.ceil(17 * prior))


def test_class_priors():
    np.testing.assert_allclose(data.class_prior("cifar10"), 0.1)
    np.testing.assert_allclose(data.class_prior("cifar100"), 0.01)
    np.testing.assert_allclose(data.class_prior("tiny_imagenet"), 1 / 200)
    mnist = data.class_prior("mnist")
    assert mnist.dtype == np.float64 and mnist.sum() == pytest.approx(1.0)
    assert mnist[1] == pytest.approx(6742 / 60000)  # MNIST is not balanced
    np.testing.assert_allclose(data.class_prior("clusters4"), [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize(
    "name, options, shape, k, n",
    [
        ("cifar10", {}, (32, 32, 3), 10, 50000),
        ("cifar100", {}, (32, 32, 3), 100, 50000),
        ("mnist", {}, (32, 32, 1), 10, 60000),
        ("mnist", {"pad_to_32": False}, (28, 28, 1), 10, 60000),
        ("fashion_mnist", {"pad_to_32": True}, (32, 32, 1), 10, 60000),
        ("fashion_mnist", {"pad_to_32": False}, (28, 28, 1), 10, 60000),
        ("tiny_imagenet", {}, (32, 32, 3), 200, 100000),
        ("tiny_imagenet", {"image_size": 64}, (64, 64, 3), 200, 100000),
    ],
)
def test_image_info(name, options, shape, k, n):
    info = data.get_info(name, **options)
    assert (info.name, info.shape, info.num_classes, info.num_train, info.is_image) == (
        name,
        shape,
        k,
        n,
        True,
    )
    assert info.class_prior.shape == (k,) and info.class_prior.dtype == np.float64


def test_bad_names_and_options_are_rejected():
    with pytest.raises(ValueError, match="unknown data set"):
        data.get_info("imagenet")
    with pytest.raises(ValueError, match="unknown"):
        data.get_info("cifar10", pad_to_32=True)
    with pytest.raises(ValueError, match="image_size"):
        data.get_info("tiny_imagenet", image_size=128)
    with pytest.raises(ValueError, match="unknown"):
        data.get_dataset("ring8", batch_size=4, pad_to_32=True)
    assert set(data.DATASETS) == {
        "cifar10", "cifar100", "mnist", "fashion_mnist", "tiny_imagenet", "ring8", "overlap10", "clusters4"
    }  # fmt: skip
