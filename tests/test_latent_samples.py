"""Sampling of latent-code image models: category-row grids (training loop) and evaluation samples
drawn from P(C) (TrainerSource)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config
from PIL import Image

from tf_amgan import data, evaluation
from tf_amgan.training import distribute, experiment, samples
from tf_amgan.training import trainer as trainer_lib


def _trainer(tmp_path, **overrides):
    cfg = image_config(tmp_path, **overrides)
    t = trainer_lib.GANTrainer(
        cfg, distribute.get_strategy("default"), data.get_info(cfg.dataset, **cfg.data_options)
    )
    return t


@pytest.fixture(scope="module")
def cgpgan(tmp_path_factory):
    t = _trainer(tmp_path_factory.mktemp("cgp"), model="cgpgan", num_categories=5)
    # A prior with one category under 1% and one at 0: neither gets a row.
    t.prior.probs_variable.assign([0.2, 0.005, 0.45, 0.0, 0.345])
    return t


def test_category_rows_one_row_per_active_category(cgpgan):
    images, rows = experiment.category_rows(cgpgan, ncols=3)
    assert rows == [0, 2, 4]
    assert images.shape == (9, 32, 32, 1)
    z = cgpgan.fixed_noise(3)
    for r, k in enumerate(rows):
        expected = cgpgan.generate(z, tf.fill([3], k)).numpy()
        np.testing.assert_allclose(images[3 * r : 3 * r + 3], expected, atol=1e-6)
    # Same noise, different codes: the rows differ.
    assert np.abs(images[0:3] - images[3:6]).max() > 1e-4
    by_prior, order = experiment.category_rows(cgpgan, ncols=3, by_prior=True)
    assert order == [2, 4, 0]
    np.testing.assert_allclose(by_prior[0:3], images[3:6], atol=1e-6)


def test_category_rows_rejects_other_models(tmp_path):
    t = _trainer(tmp_path, model="amgan")
    with pytest.raises(ValueError, match="latent-code"):
        experiment.category_rows(t)


@pytest.mark.parametrize(
    "model, prior", [("infogan", (0.5, 0.005, 0.0, 0.495)), ("gan_categorical", None)]
)
def test_training_grid_has_a_row_per_category(tmp_path, model, prior):
    kwargs = {"category_prior": prior} if prior else {}
    t = _trainer(tmp_path, model=model, num_categories=4, **kwargs)
    path = experiment.write_samples(t, str(tmp_path), 7)
    assert path == os.path.join(str(tmp_path), "samples", "step_00000007.png")
    with t.evaluation_statistics():  # as write_samples draws the grid
        images, rows = experiment.category_rows(t, 10)
    assert rows == ([0, 3] if prior else [0, 1, 2, 3])
    expected = samples.make_grid(images, 10)
    expected = np.repeat(np.repeat(expected, 2, axis=0), 2, axis=1)[..., 0]  # save_grid scale 2
    got = np.asarray(Image.open(path))
    assert got.shape == (len(rows) * 33 * 2 + 2, 10 * 33 * 2 + 2)
    np.testing.assert_array_equal(got, expected)


def test_trainer_source_draws_categories_from_the_prior(cgpgan):
    src = evaluation.TrainerSource(cgpgan)
    batches = list(src.batches(1000, 400, seed=3))
    assert [b.images.shape[0] for b in batches] == [400, 400, 200]
    probs = cgpgan.prior.probs().numpy()
    for b in batches:
        assert not b.classes_are_labels and b.labels is None
        n = b.classes.shape[0]
        counts = np.bincount(b.classes, minlength=5)
        # Stratified per batch: floor or ceil of n·P(k); P = 0 never drawn.
        assert np.all(np.abs(counts - n * probs) <= 1.0 + 1e-6), (counts, n * probs)
        assert counts[3] == 0
    # The images are G(z, category) of the reported categories.
    b = batches[0]
    z = tf.random.stateless_normal([400, cgpgan.config.z_dim], tf.constant([3, 0], tf.int64))
    with cgpgan.evaluation_statistics():  # the source samples with the evaluation-time statistics
        expected = cgpgan.generate(z[:8], tf.constant(b.classes[:8])).numpy()
    np.testing.assert_allclose(b.images[:8], expected, atol=1e-5)
    # Deterministic in the seed, different across seeds and batches.
    again = next(src.batches(400, 400, seed=3))
    np.testing.assert_array_equal(again.classes, b.classes)
    other = next(src.batches(400, 400, seed=4))
    assert not np.array_equal(other.classes, b.classes)
    assert not np.array_equal(batches[0].classes, batches[1].classes)
