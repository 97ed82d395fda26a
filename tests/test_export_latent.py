"""Export of latent-code models (CGPGAN, InfoGAN family): noise + categories in, P(C) in `sample`."""

import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import toy_config

from tf_amgan import evaluation, export, runs, train


@pytest.fixture(scope="module")
def cgpgan_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cgp")
    # A fast-moving dynamic prior (decay 0.5 from step 0) so the final P(C) is not uniform.
    cfg = toy_config(
        tmp,
        model="cgpgan",
        dataset="clusters4",
        num_categories=6,
        batch_norm=False,
        optimizer="adamw",
        beta1=0.0,
        beta2=0.99,
        prior_decay=0.5,
        prior_update_start=0,
        prob_normalize_until=0,
        export_dir=str(tmp / "export"),
    )
    result = train.run(cfg, log=lambda *a: None)
    trainer, _ = runs.restore_run(cfg.output_dir)
    return cfg, result.export_path, trainer


def test_layout_and_signatures(cgpgan_run):
    cfg, path, _ = cgpgan_run
    assert path.endswith(os.path.join("cgpgan", "1"))
    sigs = tf.saved_model.load(path).signatures
    serve = sigs["serving_default"]
    assert set(serve.structured_input_signature[1]) == {"noise", "categories"}
    assert set(serve.structured_outputs) == {"images", "categories"}
    assert set(sigs["sample"].structured_outputs) == {"images", "categories", "noise"}


def test_serving_default_is_the_generator_on_the_given_categories(cgpgan_run):
    cfg, path, trainer = cgpgan_run
    serve = tf.saved_model.load(path).signatures["serving_default"]
    z = tf.random.stateless_normal([7, cfg.z_dim], [3, 4])
    cats = tf.constant([0, 1, 2, 3, 4, 5, 5], tf.int32)
    out = serve(noise=z, categories=cats)
    assert out["images"].shape == (7, 2) and out["images"].dtype == tf.float32
    np.testing.assert_array_equal(out["categories"].numpy(), cats.numpy())
    np.testing.assert_allclose(
        out["images"].numpy(), trainer.generate(z, cats).numpy(), rtol=1e-5, atol=1e-5
    )
    # Different categories give different samples for the same noise.
    other = serve(noise=z, categories=tf.zeros([7], tf.int32))["images"].numpy()
    assert np.abs(other[1:6] - out["images"].numpy()[1:6]).max() > 1e-4


def test_bad_inputs_raise_clear_errors(cgpgan_run):
    cfg, path, _ = cgpgan_run
    serve = tf.saved_model.load(path).signatures["serving_default"]
    z = tf.zeros([2, cfg.z_dim])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_categories \(6\)"):
        serve(noise=z, categories=tf.constant([0, 6], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=">= 0"):
        serve(noise=z, categories=tf.constant([-1, 0], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same N"):
        serve(noise=z, categories=tf.constant([0, 1, 2], tf.int32))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        serve(noise=tf.zeros([2, cfg.z_dim + 1]), categories=tf.constant([0, 1], tf.int32))
    sample = tf.saved_model.load(path).signatures["sample"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples must be positive"):
        sample(num_samples=tf.constant(0), seed=tf.constant(1))


def test_sample_draws_categories_from_the_final_prior(cgpgan_run):
    cfg, path, trainer = cgpgan_run
    probs = trainer.prior.probs().numpy()
    assert np.abs(probs - 1 / 6).max() > 0.02, probs  # the prior moved during training
    loaded = tf.saved_model.load(path)
    n = 1000
    s1 = loaded.signatures["sample"](num_samples=tf.constant(n), seed=tf.constant(11))
    s2 = loaded.signatures["sample"](num_samples=tf.constant(n), seed=tf.constant(11))
    np.testing.assert_array_equal(s1["images"].numpy(), s2["images"].numpy())
    counts = np.bincount(s1["categories"].numpy(), minlength=6)
    # Stratified: each category floor or ceil of n·P(k) times.
    assert np.all(np.abs(counts - n * probs) <= 1.0 + 1e-6), (counts, n * probs)
    assert s1["noise"].shape == (n, cfg.z_dim)
    direct = loaded.signatures["serving_default"](noise=s1["noise"], categories=s1["categories"])
    np.testing.assert_allclose(direct["images"].numpy(), s1["images"].numpy(), atol=1e-6)


def test_saved_model_source_reports_categories(cgpgan_run, tmp_path):
    cfg, path, trainer = cgpgan_run
    source, kind = evaluation.open_source(os.path.dirname(path), dataset="clusters4")
    assert kind == "saved_model" and source.latent and not source.conditional
    batches = list(source.batches(600, 300, seed=2))
    cats = np.concatenate([b.classes for b in batches])
    assert not any(b.classes_are_labels for b in batches)
    assert cats.min() >= 0 and cats.max() < 6
    probs = trainer.prior.probs().numpy()
    assert np.abs(np.bincount(cats, minlength=6) - 600 * probs).max() <= 2.0
    result = evaluation.evaluate(
        source,
        evaluation.EvalOptions(metrics=("nll", "modes"), num_samples=600, batch_size=300),
        dataset="clusters4",
    )
    assert np.isfinite(result.metrics["nll"]) and 0 <= result.metrics["modes_covered"] <= 4


def test_export_run_of_a_latent_run(cgpgan_run):
    cfg, path, trainer = cgpgan_run
    again = export.export_run(cfg.output_dir, cfg.export_dir, standing_stats_batches=1)
    assert again.endswith(os.path.join("cgpgan", "2"))
    z = tf.random.stateless_normal([3, cfg.z_dim], [5, 6])
    cats = tf.constant([2, 0, 1], tf.int32)
    a = tf.saved_model.load(path).signatures["serving_default"](noise=z, categories=cats)
    b = tf.saved_model.load(again).signatures["serving_default"](noise=z, categories=cats)
    np.testing.assert_allclose(a["images"].numpy(), b["images"].numpy(), atol=1e-6)


def test_image_infogan_export_with_batch_norm(tmp_path):
    from helpers import image_config

    # Batch norm: standing statistics over codes drawn from P(C); rows are independent.
    cfg = image_config(
        tmp_path,
        model="infogan",
        num_categories=4,
        category_prior=(0.1, 0.2, 0.3, 0.4),
        export_dir=str(tmp_path / "export"),
        standing_stats_batches=2,
    )
    path = train.run(cfg, log=lambda *a: None).export_path
    loaded = tf.saved_model.load(path)
    s = loaded.signatures["sample"](num_samples=tf.constant(20), seed=tf.constant(1))
    assert s["images"].shape == (20, 32, 32, 1)
    np.testing.assert_array_equal(np.bincount(s["categories"].numpy(), minlength=4), [2, 4, 6, 8])
    serve = loaded.signatures["serving_default"]
    one = serve(noise=s["noise"][:1], categories=s["categories"][:1])["images"].numpy()
    np.testing.assert_allclose(one[0], s["images"].numpy()[0], atol=1e-5)
