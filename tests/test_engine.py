"""Training engine: every objective through the one loop, strategies, resume, NaN guard, run directory."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config, max_weight_diff, toy_config

from tf_amgan import data, losses, train
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute, experiment
from tf_amgan.training import trainer as trainer_lib
from tf_amgan.training.flags import MODELS


def _trainer(cfg, strategy=None):
    strategy = strategy or distribute.get_strategy("default")
    info = data.get_info(cfg.dataset, **cfg.data_options)
    return trainer_lib.GANTrainer(cfg, strategy, info)


def _train(trainer, steps, start=0):
    ds = trainer.make_dataset(start)
    if start == 0:
        trainer.initialize(next(iter(ds.take(1))))
    it = iter(trainer.strategy.experimental_distribute_dataset(ds))
    step_fn = trainer.build_train_step()
    outs = [{k: v.numpy() for k, v in step_fn(it).items()} for _ in range(steps)]
    return outs[-1] if steps else None


def _losses(trainer, steps):
    ds = trainer.make_dataset(0)
    trainer.initialize(next(iter(ds.take(1))))
    it = iter(trainer.strategy.experimental_distribute_dataset(ds))
    step_fn = trainer.build_train_step()
    return np.array(
        [[float(o["d_loss"]), float(o["g_loss"])] for o in (step_fn(it) for _ in range(steps))]
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_on_toy_data(tmp_path, model):
    for labeling in losses.get_objective(model, 8).labelings:
        cfg = toy_config(tmp_path, model=model, labeling=labeling)
        t = _trainer(cfg)
        before = [np.array(v) for v in t.generator.trainable_variables]
        out = _train(t, 3)
        assert out["finite"], (model, labeling, out)
        assert int(t.step.numpy()) == 3
        # Both optimizers took exactly one update per step (catches double counting under strategies).
        assert int(t.g_optimizer.iterations.numpy()) == 3
        assert int(t.d_optimizer.iterations.numpy()) == 3
        after = [np.array(v) for v in t.generator.trainable_variables]
        assert any(np.abs(a - b).max() > 0 for a, b in zip(before, after, strict=True))
        for key in ("d_loss", "g_loss", "d_real_acc", "d_fake_acc", "d_grad_norm", "g_grad_norm"):
            assert np.isfinite(out[key]), key
        assert 0.0 <= out["d_real_acc"] <= 1.0


@pytest.mark.parametrize("model,labeling", [("amgan", "dynamic"), ("acgan_plus", "predefined")])
def test_image_models_train(tmp_path, model, labeling):
    cfg = image_config(tmp_path, model=model, labeling=labeling)
    t = _trainer(cfg)
    out = _train(t, 2)
    assert out["finite"]
    images = t.generate(t.fixed_noise(4), tf.constant([0, 1, 2, 3]) if t.conditional else None)
    assert images.shape == (4, 32, 32, 1)
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0


def test_d_steps_consume_separate_batches(tmp_path):
    cfg = toy_config(tmp_path, d_steps=2)
    t = _trainer(cfg)
    _train(t, 2)
    assert int(t.d_optimizer.iterations.numpy()) == 4
    assert int(t.g_optimizer.iterations.numpy()) == 2


def test_mirrored_matches_single_device(tmp_path):
    # Same global batch; stochastic layers off (their per-replica streams differ by design).
    # Without batch norm every weight must match; biases feeding a BN layer have an exactly-zero
    # true gradient, so Adam turns their float noise into full-size steps and they are compared
    # through the losses instead (next test).
    common = dict(dropout=0.0, input_noise_std=0.0, batch_norm=False, train_steps=3)
    single = _trainer(toy_config(tmp_path / "a", **common))
    a = _losses(single, 3)
    strategy = distribute.get_strategy("mirrored", ("/cpu:0", "/cpu:1"))
    assert strategy.num_replicas_in_sync == 2
    mirrored = _trainer(toy_config(tmp_path / "b", **common), strategy)
    b = _losses(mirrored, 3)
    assert int(mirrored.g_optimizer.iterations.numpy()) == 3
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert max_weight_diff(single.generator, mirrored.generator) < 1e-6
    assert max_weight_diff(single.discriminator, mirrored.discriminator) < 1e-6


@pytest.mark.parametrize("cfg_fn", [toy_config, image_config])
def test_mirrored_with_synchronized_batch_norm_matches_losses(tmp_path, cfg_fn):
    common = dict(dropout=0.0, input_noise_std=0.0, batch_size=8, train_steps=4)
    a = _losses(_trainer(cfg_fn(tmp_path / "a", **common)), 4)
    strategy = distribute.get_strategy("mirrored", ("/cpu:0", "/cpu:1"))
    b = _losses(_trainer(cfg_fn(tmp_path / "b", **common), strategy), 4)
    # Per-replica batch statistics (unsynchronized BN) or per-replica loss averaging would
    # change these by far more than float noise.
    np.testing.assert_allclose(a, b, rtol=2e-4)


def test_run_resume_equals_uninterrupted(tmp_path):
    full = toy_config(tmp_path / "full", train_steps=6)
    r = train.run(full, log=lambda *a: None)
    assert r.status == "completed" and r.step == 6

    part = toy_config(tmp_path / "part", train_steps=4)  # checkpoints at 3 and (final) 4
    train.run(part, log=lambda *a: None)
    resumed = train.run(part.replace(train_steps=6), log=lambda *a: None)
    assert resumed.step == 6

    a = _trainer(full)
    a.checkpoint.restore(tf.train.latest_checkpoint(os.path.join(full.output_dir, "checkpoints")))
    b = _trainer(part)
    b.checkpoint.restore(tf.train.latest_checkpoint(os.path.join(part.output_dir, "checkpoints")))
    assert max_weight_diff(a.generator, b.generator) == 0.0
    assert max_weight_diff(a.discriminator, b.discriminator) == 0.0
    # metrics.jsonl has each step once, in order.
    steps = [
        json.loads(line)["step"] for line in open(os.path.join(part.output_dir, "metrics.jsonl"))
    ]
    assert steps == sorted(set(steps)) and steps[-1] == 6


def test_run_directory_contents(tmp_path):
    cfg = image_config(tmp_path, train_steps=2, sample_every=1, export_dir=str(tmp_path / "export"))
    r = train.run(cfg, log=lambda *a: None)
    out = cfg.output_dir
    saved = json.load(open(os.path.join(out, "config.json")))
    assert saved["model"] == "amgan" and saved["train_steps"] == 2
    records = [json.loads(x) for x in open(os.path.join(out, "metrics.jsonl"))]
    assert [rec["step"] for rec in records] == [1, 2]
    for key in (
        "d_loss",
        "g_loss",
        "d_real_acc",
        "d_fake_acc",
        "lr_g",
        "lr_d",
        "step_time",
        "images_per_sec",
    ):
        assert key in records[-1]
    assert os.path.exists(os.path.join(out, "samples", "step_00000002.png"))
    assert tf.train.latest_checkpoint(os.path.join(out, "checkpoints"))
    assert any(f.startswith("events") for f in os.listdir(os.path.join(out, "tensorboard")))
    assert r.export_path == os.path.join(str(tmp_path / "export"), "amgan", "1")
    assert os.path.exists(os.path.join(r.export_path, "saved_model.pb"))


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = toy_config(tmp_path, train_steps=8, checkpoint_every=2)
    orig = trainer_lib.GANTrainer._g_replica_step

    def poisoned(self, batch):
        out = orig(self, batch)
        # The 5th iteration (step counter 4) reports a NaN generator loss.
        out["g_loss"] = tf.where(self.step >= 4, tf.constant(np.nan), out["g_loss"])
        return out

    monkeypatch.setattr(trainer_lib.GANTrainer, "_g_replica_step", poisoned)
    messages = []
    r = train.run(cfg, log=messages.append)
    assert r.status == "diverged" and r.exit_code == experiment.EXIT_NAN
    assert r.step == 4
    assert any("non-finite loss at step 5" in m for m in messages)
    latest = tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    assert latest.endswith("ckpt-4")


def test_bad_options_fail_before_writing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(config_lib.ConfigError, match="cannot use --labeling=predefined"):
        config_lib.Config(model="samgan", labeling="predefined", output_dir=str(out)).validate()
    with pytest.raises(config_lib.ConfigError, match="unknown --model"):
        config_lib.Config(model="nope", output_dir=str(out)).validate()
    with pytest.raises(config_lib.ConfigError, match="not divisible"):
        experiment.prepare(
            toy_config(tmp_path, batch_size=15, strategy="mirrored", devices=("/cpu:0", "/cpu:1"))
        )
    assert not out.exists()


def test_resume_refuses_changed_model(tmp_path):
    cfg = toy_config(tmp_path, train_steps=2)
    train.run(cfg, log=lambda *a: None)
    with pytest.raises(config_lib.ConfigError, match="model"):
        experiment.prepare(cfg.replace(model="labelgan"))
    with pytest.raises(config_lib.ConfigError, match="already holds a run"):
        experiment.prepare(cfg.replace(resume=False))


def test_mixed_precision_step_is_finite(tmp_path):
    cfg = image_config(tmp_path, mixed_precision=True)
    try:
        t = _trainer(cfg)
        out = _train(t, 2)
    finally:
        import keras

        keras.mixed_precision.set_dtype_policy("float32")
    assert out["finite"]
    assert t.generator.layers[-1].compute_dtype == "float16" or any(
        getattr(layer, "compute_dtype", None) == "float16" for layer in t.generator.layers
    )


def test_jit_compile_matches_plain(tmp_path):
    common = dict(dropout=0.0, input_noise_std=0.0, train_steps=2)
    plain = _trainer(toy_config(tmp_path / "a", **common))
    _train(plain, 2)
    xla = _trainer(toy_config(tmp_path / "b", jit_compile=True, **common))
    _train(xla, 2)
    assert max_weight_diff(plain.generator, xla.generator) < 1e-4


def test_ema_generator(tmp_path):
    cfg = toy_config(tmp_path, ema_decay=0.9)
    t = _trainer(cfg)
    _train(t, 3)
    live = [np.array(v) for v in t.generator.trainable_variables]
    t.g_optimizer.finalize_variable_values(t.generator.trainable_variables)
    ema = [np.array(v) for v in t.generator.trainable_variables]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(live, ema, strict=True))


def test_periodic_evaluation_logs_eval_jsonl(tmp_path):
    cfg = toy_config(
        tmp_path, train_steps=4, eval_every=2, eval_samples=200, eval_metrics=("nll", "modes", "am")
    )
    train.run(cfg, log=lambda *a: None)
    records = [json.loads(x) for x in open(os.path.join(cfg.output_dir, "eval.jsonl"))]
    assert [r["step"] for r in records] == [2, 4]
    assert all(np.isfinite(r["nll"]) and r["num_samples"] == 200 for r in records)


def test_periodic_evaluation_needs_a_classifier_for_images(tmp_path):
    cfg = image_config(tmp_path, eval_every=1, eval_metrics=("am",))
    with pytest.raises(config_lib.ConfigError, match="classifier"):
        train.run(cfg, log=lambda *a: None)
    assert not os.path.exists(cfg.output_dir)
