"""Latent-code models in the one training engine: Q, penalties, the prior P(C), resume, strategies."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import max_weight_diff, toy_config

from tf_amgan import data, train
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib

LATENT_MODELS = ("cgpgan", "infogan", "elastic_infogan", "gan_categorical")


def _cfg(tmp_path, **overrides):
    values = dict(
        model="cgpgan",
        dataset="clusters4",
        num_categories=6,
        batch_norm=False,
        optimizer="adamw",
        beta1=0.0,
        beta2=0.99,
    )
    values.update(overrides)
    return toy_config(tmp_path, **values)


def _trainer(cfg, strategy=None):
    strategy = strategy or distribute.get_strategy("default")
    return trainer_lib.GANTrainer(cfg, strategy, data.get_info(cfg.dataset, **cfg.data_options))


def _run(trainer, steps):
    ds = trainer.make_dataset(0)
    trainer.initialize(next(iter(ds.take(1))))
    it = iter(trainer.strategy.experimental_distribute_dataset(ds))
    step_fn = trainer.build_train_step()
    return [{k: v.numpy() for k, v in step_fn(it).items()} for _ in range(steps)]


def _restore_latest(cfg):
    t = _trainer(cfg)
    t.checkpoint.restore(
        tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    ).assert_existing_objects_matched()
    return t


@pytest.mark.parametrize("model", LATENT_MODELS)
def test_latent_models_train_with_their_networks(tmp_path, model):
    t = _trainer(_cfg(tmp_path, model=model, prior_update_start=1))
    before = [np.array(v) for v in t.generator.trainable_variables]
    out = _run(t, 3)[-1]
    assert out["finite"]
    assert t.generator.inputs[1].shape[-1] == 6  # the code c_f has d_c entries
    assert t.discriminator.outputs[0].shape[-1] == (6 if model == "cgpgan" else 1)
    has_q = model != "gan_categorical"
    assert (t.classifier is not None) == has_q
    if has_q:
        assert int(t.q_optimizer.iterations.numpy()) == 3
        assert t.classifier.outputs[0].shape[-1] == 6
        for key in ("q_loss", "q_grad_norm", "q_fake_acc"):
            assert np.isfinite(out[key]), key
    assert ("creg" in out) == (model == "cgpgan")
    assert out["r2"] >= 0
    assert int(t.g_optimizer.iterations.numpy()) == int(t.d_optimizer.iterations.numpy()) == 3
    after = [np.array(v) for v in t.generator.trainable_variables]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, after, strict=True))
    for k in range(6):
        assert f"prior_{k}" in out
    assert out["prior_active"] == 6.0


def test_prior_uniform_while_prob_normalized_then_ema(tmp_path):
    # Early in training Q's real predictions are prob_normalize'd (P003 Eq. 13): their batch mean
    # is uniform, so P(C) stays uniform although it is updated (decay 0.5 to make moves visible).
    cfg = _cfg(tmp_path, prior_decay=0.5, prior_update_start=0, prob_normalize_until=3)
    t = _trainer(cfg)
    outs = _run(t, 5)
    for out in outs[:3]:
        np.testing.assert_allclose(
            [out[f"prior_{k}"] for k in range(6)], np.full(6, 1 / 6), atol=1e-6
        )
    moved = np.array([outs[-1][f"prior_{k}"] for k in range(6)])
    assert np.abs(moved - 1 / 6).max() > 1e-3
    np.testing.assert_allclose(moved.sum(), 1.0, rtol=1e-5)
    assert outs[-1]["prior_entropy"] < np.log(6)


def test_prior_not_updated_before_start(tmp_path):
    cfg = _cfg(tmp_path, prior_decay=0.5, prior_update_start=10, prob_normalize_until=0)
    t = _trainer(cfg)
    _run(t, 3)
    np.testing.assert_allclose(t.prior.probs().numpy(), np.full(6, 1 / 6), rtol=1e-6)


def test_fixed_prior_is_used_for_the_codes(tmp_path):
    cfg = _cfg(tmp_path, model="infogan", num_categories=4, category_prior=(0.1, 0.2, 0.3, 0.4))
    t = _trainer(cfg)
    _run(t, 2)
    np.testing.assert_allclose(t.prior.probs().numpy(), [0.1, 0.2, 0.3, 0.4], rtol=1e-6)
    cats = t.sample_categories(1000).numpy()
    np.testing.assert_allclose(
        np.bincount(cats, minlength=4) / 1000, [0.1, 0.2, 0.3, 0.4], atol=1e-3
    )
    x = t.generate(t.fixed_noise(10))
    assert x.shape == (10, 2)
    assert set(t.classify(x).numpy()) <= set(range(4))


def test_gumbel_prior_learns_only_after_start(tmp_path):
    cfg = _cfg(tmp_path, model="elastic_infogan", prior_update_start=2, prior_lr=0.05)
    t = _trainer(cfg)
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    it = iter(ds)
    step = t.build_train_step()
    step(it), step(it)
    np.testing.assert_allclose(t.prior.probs().numpy(), np.full(6, 1 / 6), rtol=1e-6)
    step(it)
    assert np.abs(t.prior.probs().numpy() - 1 / 6).max() > 1e-4


def test_classifier_penalty_trains_q_only(tmp_path):
    # One step with λ_creg = 0 vs 5 (λ_cls = 0, so only Eq. 10 moves Q): D and G get the same update
    # (the penalty is minimised over Q's parameters only), Q does not.
    common = dict(lambda_cls=0.0, prior_update_start=100)
    a = _trainer(_cfg(tmp_path / "a", lambda_creg=0.0, **common))
    b = _trainer(_cfg(tmp_path / "b", lambda_creg=5.0, **common))
    q0 = [np.array(v) for v in b.classifier.trainable_variables]
    _run(a, 1)
    out = _run(b, 1)[-1]
    assert out["creg"] > 0
    assert max_weight_diff(a.discriminator, b.discriminator) == 0.0
    assert max_weight_diff(a.generator, b.generator) == 0.0
    assert max_weight_diff(a.classifier, b.classifier) > 0
    # With λ_creg = 0 and λ_cls = 0, Q gets a zero gradient (AdamW still decays its weights).
    q_a = [np.array(v) for v in a.classifier.trainable_variables]
    assert max(np.abs(x - y).max() for x, y in zip(q0, q_a, strict=True)) < 1e-6


def test_cgpgan_resume_equals_uninterrupted(tmp_path):
    common = dict(prior_update_start=2, prob_normalize_until=3, prior_decay=0.7)
    full = _cfg(tmp_path / "full", train_steps=6, **common)
    assert train.run(full, log=lambda *a: None).step == 6
    part = _cfg(tmp_path / "part", train_steps=4, **common)
    train.run(part, log=lambda *a: None)
    assert train.run(part.replace(train_steps=6), log=lambda *a: None).step == 6
    a, b = _restore_latest(full), _restore_latest(part)
    for name in ("generator", "discriminator", "classifier"):
        assert max_weight_diff(getattr(a, name), getattr(b, name)) == 0.0, name
    np.testing.assert_array_equal(a.prior.probs().numpy(), b.prior.probs().numpy())
    assert np.abs(a.prior.probs().numpy() - 1 / 6).max() > 1e-4  # the prior moved and was restored
    assert int(a.q_optimizer.iterations.numpy()) == int(b.q_optimizer.iterations.numpy()) == 6
    records = [json.loads(x) for x in open(os.path.join(part.output_dir, "metrics.jsonl"))]
    assert [r["step"] for r in records] == [2, 4, 6]
    for key in ("prior_entropy", "prior_active", "prior_0", "q_loss", "creg", "r2", "lr_q"):
        assert key in records[-1], key


def test_elastic_infogan_resume_restores_learned_prior(tmp_path):
    common = dict(model="elastic_infogan", prior_update_start=1, prior_lr=0.05)
    full = _cfg(tmp_path / "full", train_steps=6, **common)
    train.run(full, log=lambda *a: None)
    part = _cfg(tmp_path / "part", train_steps=3, **common)
    train.run(part, log=lambda *a: None)
    train.run(part.replace(train_steps=6), log=lambda *a: None)
    a, b = _restore_latest(full), _restore_latest(part)
    np.testing.assert_array_equal(a.prior.probs().numpy(), b.prior.probs().numpy())
    assert max_weight_diff(a.generator, b.generator) == 0.0


def test_cgpgan_mirrored_matches_single_device(tmp_path):
    common = dict(train_steps=3, prior_update_start=1, prob_normalize_until=2, prior_decay=0.5)
    single = _trainer(_cfg(tmp_path / "a", **common))
    a = _run(single, 3)
    strategy = distribute.get_strategy("mirrored", ("/cpu:0", "/cpu:1"))
    mirrored = _trainer(_cfg(tmp_path / "b", **common), strategy)
    b = _run(mirrored, 3)
    for key in ("d_loss", "g_loss", "q_loss", "r2", "creg", "prior_entropy"):
        np.testing.assert_allclose([o[key] for o in a], [o[key] for o in b], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(
        single.prior.probs().numpy(), mirrored.prior.probs().numpy(), rtol=1e-5
    )
    assert max_weight_diff(single.classifier, mirrored.classifier) < 1e-5


def test_latent_model_options_are_validated(tmp_path):
    out = str(tmp_path / "run")
    with pytest.raises(config_lib.ConfigError, match="num_categories"):
        config_lib.Config(model="amgan", num_categories=4, output_dir=out).validate()
    with pytest.raises(config_lib.ConfigError, match="lambda_creg"):
        config_lib.Config(model="amgan", lambda_creg=1.0, output_dir=out).validate()
    with pytest.raises(config_lib.ConfigError, match="category_prior"):
        config_lib.Config(
            model="infogan", dataset="clusters4", category_prior=(0.5, 0.5), output_dir=out
        ).validate()
    with pytest.raises(config_lib.ConfigError, match="labeling"):
        config_lib.Config(model="cgpgan", labeling="predefined", output_dir=out).validate()


def test_same_seed_gives_the_same_run(tmp_path):
    common = dict(prior_update_start=1, prob_normalize_until=2, prior_decay=0.5)
    a = _trainer(_cfg(tmp_path / "a", **common))
    b = _trainer(_cfg(tmp_path / "b", **common))
    _run(a, 4), _run(b, 4)
    for name in ("generator", "discriminator", "classifier"):
        assert max_weight_diff(getattr(a, name), getattr(b, name)) == 0.0, name
    np.testing.assert_array_equal(a.prior.probs().numpy(), b.prior.probs().numpy())


def test_cli_trains_a_latent_code_model(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "run"
    args = [
        "--model=infogan",
        "--dataset=clusters4",
        "--num_categories=4",
        "--category_prior=0.1,0.2,0.3,0.4",
        "--lambda_cls=0.5",
        "--optimizer=adamw",
        "--equalized_lr",
        "--nobatch_norm",
        "--mlp_depth=2",
        "--mlp_units=16",
        "--z_dim=8",
        "--batch_size=16",
        "--train_steps=2",
        "--log_every=1",
        "--sample_every=0",
        "--noprogress",
        f"--output_dir={out}",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_AMGAN_NO_DOWNLOAD": "1"}
    proc = subprocess.run(
        [sys.executable, os.path.join(root, "run_experiment.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    saved = json.load(open(out / "config.json"))
    assert saved["category_prior"] == [0.1, 0.2, 0.3, 0.4] and saved["lambda_cls"] == 0.5
    last = [json.loads(x) for x in open(out / "metrics.jsonl")][-1]
    assert last["step"] == 2 and abs(last["prior_0"] - 0.1) < 1e-6 and "q_loss" in last
    assert os.path.exists(out / "samples" / "step_00000002.png")


@pytest.mark.parametrize("model", ["cgpgan", "elastic_infogan"])
def test_latent_models_under_mixed_precision(tmp_path, model):
    import keras

    try:
        t = _trainer(_cfg(tmp_path, model=model, mixed_precision=True, prior_update_start=0))
        outs = _run(t, 2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert all(o["finite"] for o in outs)
    assert np.all(np.isfinite(t.prior.probs().numpy()))
