"""A new model variant is one small objective and one registration: least-squares GAN, here.

LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks", arXiv:1611.04076, Eq. 2
with a=0, b=c=1) is defined below and trained through the unchanged trainer, the library loop and
the command line (`--import_modules` names a module that registers it).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import data, losses, train
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LeastSquaresObjective(losses.Objective):
    """D: ½(D(x) - 1)² + ½D(G(z))²; G: ½(D(G(z)) - 1)², per example; a 1-unit head, no classes."""

    head_units = 1

    def __init__(self, name, num_classes):
        super().__init__(name, num_classes, {})

    def discriminator_loss(self, real_logits, real_labels, fake_logits, fake_targets=None):
        real, fake = tf.cast(real_logits[:, 0], tf.float32), tf.cast(fake_logits[:, 0], tf.float32)
        return 0.5 * tf.square(real - 1.0) + 0.5 * tf.square(fake)

    def generator_loss(self, fake_logits, fake_targets=None):
        return 0.5 * tf.square(tf.cast(fake_logits[:, 0], tf.float32) - 1.0)

    def real_probability(self, logits, labels=None):
        # D's output is a score with targets 1 (real) and 0 (fake): above 0.5 reads as "real".
        return tf.cast(logits[:, 0], tf.float32)


def register():
    losses.register_model("lsgan", LeastSquaresObjective, summary="least-squares GAN (a test)")


@pytest.fixture
def lsgan():
    register()
    try:
        yield "lsgan"
    finally:
        losses.unregister_model("lsgan")


def _config(tmp_path, **overrides):
    values = dict(
        model="lsgan",
        dataset="ring8",
        train_steps=4,
        batch_size=16,
        seed=2,
        mlp_depth=2,
        mlp_units=16,
        z_dim=4,
        log_every=2,
        checkpoint_every=2,
        sample_every=0,
        progress=False,
        standing_stats_batches=2,
        output_dir=str(tmp_path / "run"),
    )
    values.update(overrides)
    return config_lib.Config(**values).validate()


def _trainer(cfg):
    info = data.get_info(cfg.dataset)
    return trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)


def test_unregistered_name_is_refused(tmp_path):
    with pytest.raises(config_lib.ConfigError, match="unknown --model='lsgan'"):
        _config(tmp_path)


def test_registering_a_taken_name_fails(lsgan):
    with pytest.raises(ValueError, match="already registered"):
        register()
    with pytest.raises(ValueError, match="built in"):
        losses.unregister_model("amgan")


def test_trainer_feeds_the_new_objective(tmp_path, lsgan):
    cfg = _config(tmp_path)
    # The first D step's loss is the LSGAN formula on the initial networks' outputs.
    ref = _trainer(cfg)
    batch = next(iter(ref.make_dataset(0).take(1)))
    ref.initialize(batch)
    fake = ref.generator(ref.generator_inputs(batch["z_d"], batch["y_d"]), training=True)
    real_score = ref.discriminator(batch["images"], training=True)[:, 0]
    fake_score = ref.discriminator(fake, training=True)[:, 0]
    expected = np.mean(0.5 * (real_score - 1.0) ** 2 + 0.5 * fake_score**2)

    t = _trainer(cfg)
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    step = t.build_train_step()
    it = iter(t.strategy.experimental_distribute_dataset(ds))
    first = {k: v.numpy() for k, v in step(it).items()}
    np.testing.assert_allclose(first["d_loss"], expected, rtol=1e-5)
    before = [np.array(v) for v in t.generator.trainable_variables]
    for _ in range(5):
        out = step(it)
    assert bool(out["finite"])
    after = [np.array(v) for v in t.generator.trainable_variables]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, after, strict=True))


def test_library_loop_trains_and_resumes(tmp_path, lsgan):
    result = train.run(_config(tmp_path), log=lambda *a: None)
    assert result.status == "completed" and result.step == 4
    resumed = train.run(_config(tmp_path, train_steps=6), log=lambda *a: None)
    assert resumed.status == "completed" and resumed.step == 6


def test_command_line_trains_a_registered_variant(tmp_path):
    plugin = tmp_path / "lsgan_plugin.py"
    plugin.write_text("import test_new_variant\n\ntest_new_variant.register()\n")
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
        "TF_AMGAN_NO_DOWNLOAD": "1",
        "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "tests"), str(tmp_path)]),
    }
    out = tmp_path / "run"
    res = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "run_experiment.py"),
            "--import_modules=lsgan_plugin",
            "--model=lsgan",
            "--dataset=ring8",
            "--mlp_depth=2",
            "--mlp_units=16",
            "--batch_size=16",
            "--train_steps=4",
            "--log_every=2",
            "--checkpoint_every=2",
            "--sample_every=0",
            f"--output_dir={out}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1])["status"] == "completed"
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"] == "lsgan" and saved["import_modules"] == ["lsgan_plugin"]
