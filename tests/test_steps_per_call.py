"""--steps_per_call: several train steps per tf.function call, the same run as one step per call."""

import json
import os

import numpy as np
import tensorflow as tf
from helpers import max_weight_diff, toy_config

from tf_amgan import data, evaluation
from tf_amgan.training import distribute, experiment
from tf_amgan.training import trainer as trainer_lib


def _restore(cfg):
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    t.checkpoint.restore(tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints")))
    return t


def _run(cfg):
    experiment.run(cfg, log=lambda *a: None, evaluator=evaluation.make_periodic_evaluator(cfg))


def _records(cfg, name="metrics.jsonl"):
    drop = ("step_time", "images_per_sec", "wall_time", "seconds")
    with open(os.path.join(cfg.output_dir, name)) as f:
        return [{k: v for k, v in json.loads(x).items() if k not in drop} for x in f]


def test_steps_until_event_stops_at_every_event(tmp_path):
    cfg = toy_config(
        tmp_path, train_steps=50, steps_per_call=16, log_every=10, checkpoint_every=25,
        sample_every=0, eval_every=7,
    )  # fmt: skip
    step, stops = 0, []
    while step < cfg.train_steps:
        step += experiment.steps_until_event(step, cfg, evaluating=True)
        stops.append(step)
    assert stops == [7, 10, 14, 20, 21, 25, 28, 30, 35, 40, 42, 49, 50]
    # Without an evaluator --eval_every does not cut calls; the run's end does.
    assert experiment.steps_until_event(0, cfg.replace(log_every=100), evaluating=False) == 16
    assert experiment.steps_until_event(48, cfg.replace(log_every=100), evaluating=False) == 2


def test_multi_step_calls_equal_single_steps_and_resume(tmp_path):
    # log / checkpoint / eval at steps that do not divide the call length.
    common = dict(train_steps=9, log_every=2, checkpoint_every=4, eval_every=3,
                  eval_samples=200, eval_metrics=("modes",))  # fmt: skip
    one = toy_config(tmp_path / "one", **common)
    _run(one)
    many = toy_config(tmp_path / "many", steps_per_call=5, **common)
    _run(many)
    # Interrupted after 5 steps and resumed with another --steps_per_call.
    part = toy_config(tmp_path / "part", steps_per_call=3, **{**common, "train_steps": 5})
    _run(part)
    _run(part.replace(train_steps=9, steps_per_call=4))

    a = _restore(one)
    for cfg in (many, part):
        b = _restore(cfg)
        assert int(b.step.numpy()) == 9
        assert max_weight_diff(a.generator, b.generator) == 0.0
        assert max_weight_diff(a.discriminator, b.discriminator) == 0.0
        # Every logged value at the same steps (the first part also logged its last step, 5).
        assert [r for r in _records(cfg) if r["step"] != 5 or cfg is many] == _records(one)
        assert _records(cfg, "eval.jsonl") == _records(one, "eval.jsonl")
        ckpts = tf.train.get_checkpoint_state(os.path.join(cfg.output_dir, "checkpoints"))
        names = [os.path.basename(p) for p in ckpts.all_model_checkpoint_paths]
        assert names[-2:] == ["ckpt-8", "ckpt-9"], names
    assert [r["step"] for r in _records(many)] == [2, 4, 6, 8, 9]


def test_non_finite_loss_inside_a_call_stops_at_its_step(tmp_path, monkeypatch):
    cfg = toy_config(tmp_path, train_steps=12, checkpoint_every=4, log_every=4, steps_per_call=4)
    orig = trainer_lib.GANTrainer._g_replica_step

    def poisoned(self, batch):
        out = orig(self, batch)
        # The 7th step (step counter 6 during it) reports a NaN generator loss.
        out["g_loss"] = tf.where(self.step >= 6, tf.constant(np.nan), out["g_loss"])
        return out

    monkeypatch.setattr(trainer_lib.GANTrainer, "_g_replica_step", poisoned)
    messages = []
    r = experiment.run(cfg, log=messages.append)
    assert r.status == "diverged" and r.step == 6
    assert any("non-finite loss at step 7" in m for m in messages), messages
    latest = tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    assert latest.endswith("ckpt-4")
