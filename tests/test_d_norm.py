"""--d_norm (how D's batch norm sees real and fake) and the evaluation-time BN statistics."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config, toy_config

from tf_amgan import data, networks
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib
from tf_amgan.training.flags import MLP_D_NORM


def _trainer(cfg):
    info = data.get_info(cfg.dataset, **cfg.data_options)
    return trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)


def _first_batch(t):
    batch = next(iter(t.make_dataset(0)))
    t.initialize(batch)
    return batch


def _bn_layers(model):
    return [
        layer
        for layer in networks.walk_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


@pytest.mark.parametrize("d_norm", ["separate", "joint", "none"])
@pytest.mark.parametrize("make", [toy_config, image_config], ids=["ring8", "image"])
def test_each_d_norm_trains(tmp_path, make, d_norm):
    t = _trainer(make(tmp_path, d_norm=d_norm))
    assert t.d_norm == d_norm
    assert bool(_bn_layers(t.discriminator)) == (d_norm != "none")
    assert _bn_layers(t.generator)  # G keeps its batch norm
    _first_batch(t)
    it = iter(t.make_dataset(0))
    step = t.build_train_step()
    before = [np.array(v) for v in t.discriminator.trainable_variables]
    for _ in range(2):
        out = {k: v.numpy() for k, v in step(it).items()}
    assert out["finite"] and int(t.step.numpy()) == 2
    after = [np.array(v) for v in t.discriminator.trainable_variables]
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, after, strict=True))


def _d_loss(t, real_logits, fake_logits, batch):
    targets = t.family._targets(batch["y_d"], fake_logits)
    per_example = t.objective.discriminator_loss(real_logits, batch["labels"], fake_logits, targets)
    return float(t._average(per_example))


@pytest.mark.parametrize("d_norm", ["separate", "joint"])
def test_d_step_normalizes_as_configured(tmp_path, d_norm):
    """The D step's loss is the one of two separate D calls, or of one call on the joint batch."""
    t = _trainer(toy_config(tmp_path, d_norm=d_norm))  # MLP D: no noise, no dropout
    batch = _first_batch(t)
    D, real = t.discriminator, batch["images"]
    fake = t.generator(t.generator_inputs(batch["z_d"], batch["y_d"]), training=True)
    separate = _d_loss(t, D(real, training=True), D(fake, training=True), batch)
    both = D(tf.concat([real, fake], 0), training=True)
    n = int(real.shape[0])
    joint = _d_loss(t, both[:n], both[n:], batch)
    assert abs(separate - joint) > 1e-4  # the two modes differ on this batch
    got = float(t._d_replica_step(batch)["d_loss"])
    assert got == pytest.approx(joint if d_norm == "joint" else separate, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("d_norm", ["separate", "joint"])
def test_g_step_sees_d_as_configured(tmp_path, d_norm):
    t = _trainer(toy_config(tmp_path, d_norm=d_norm))
    batch = _first_batch(t)
    D, real = t.discriminator, batch["images"]
    fake = t.generator(t.generator_inputs(batch["z_g"], batch["y_g"]), training=True)
    if d_norm == "joint":
        fake_logits = D(tf.concat([real, fake], 0), training=True)[int(real.shape[0]) :]
    else:
        fake_logits = D(fake, training=True)
    targets = t.family._targets(batch["y_g"], fake_logits)
    expected = float(t._average(t.objective.generator_loss(fake_logits, targets)))
    assert float(t._g_replica_step(batch)["g_loss"]) == pytest.approx(expected, rel=1e-5)


def test_joint_batch_statistics_are_those_of_the_concatenated_batch(tmp_path):
    t = _trainer(toy_config(tmp_path, d_norm="joint", mlp_depth=2))
    batch = _first_batch(t)
    real = batch["images"]
    fake = t.generator(t.generator_inputs(batch["z_d"], batch["y_d"]), training=True)
    bn = _bn_layers(t.discriminator)[0]
    # The BN layer's input on the joint batch, and the batch moments it must normalize with.
    probe = keras.Model(t.discriminator.inputs, bn.input)
    x = probe(tf.concat([real, fake], 0), training=True).numpy()
    mean, var = x.mean(0), x.var(0)
    bn.momentum = 0.0  # the moving statistics become the last batch's moments
    try:
        _, real_logits_a = t._critic("discriminator", fake, real)
    finally:
        bn.momentum = 0.99
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-3, atol=1e-5)
    # Changing the fake batch changes D's outputs on the (same) real batch: one normalization.
    _, real_logits_b = t._critic("discriminator", fake + 1.0, real)
    assert np.abs(real_logits_a.numpy() - real_logits_b.numpy()).max() > 1e-3
    # In separate calls the real logits do not depend on the fakes.
    sep_a = t.discriminator(real, training=True).numpy()
    t._critic("discriminator", fake + 1.0)
    np.testing.assert_array_equal(sep_a, t.discriminator(real, training=True).numpy())


def test_d_norm_resolution_and_errors(tmp_path):
    assert toy_config(tmp_path).resolved_d_norm == MLP_D_NORM
    assert image_config(tmp_path).resolved_d_norm == "separate"
    assert toy_config(tmp_path, batch_norm=False).resolved_d_norm == "none"
    with pytest.raises(config_lib.ConfigError, match="--d_norm"):
        toy_config(tmp_path, d_norm="both")
    with pytest.raises(config_lib.ConfigError, match="--d_norm=joint needs batch norm"):
        toy_config(tmp_path, d_norm="joint", batch_norm=False)


def test_runs_without_d_norm_in_config_json_load_as_separate(tmp_path):
    cfg = toy_config(tmp_path)
    values = cfg.to_dict()
    del values["d_norm"]
    (tmp_path / "config.json").write_text(json.dumps(values))
    loaded = config_lib.load(str(tmp_path))
    assert loaded.d_norm == "separate"
    # Resuming an old run with --d_norm=auto is refused where auto means something else (mlp).
    assert config_lib.incompatible_changes(loaded, cfg) == ["d_norm"]
    img = image_config(tmp_path)
    assert config_lib.incompatible_changes(img.replace(d_norm="separate"), img) == []


# ------------------------------------------------------------------ evaluation-time statistics
def _moving(model):
    return [
        v.numpy().copy() for bn in _bn_layers(model) for v in (bn.moving_mean, bn.moving_variance)
    ]


def test_evaluation_statistics_install_standing_statistics_and_restore(tmp_path):
    t = _trainer(toy_config(tmp_path, d_norm="separate", standing_stats_batches=3))
    batch = _first_batch(t)
    t._d_replica_step(batch)  # moves D's and G's moving statistics away from their init
    g0, d0 = _moving(t.generator), _moving(t.discriminator)
    z = t.fixed_noise(40, index=5)
    moving_g = t.generate(z).numpy()
    with t.evaluation_statistics():
        # G: the mean batch statistics of the fixed standing batches.
        bn = _bn_layers(t.generator)[0]
        probe = keras.Model(t.generator.inputs, bn.input)
        x = [
            probe(t.generator_inputs(*t.standing_inputs(i)), training=True).numpy()
            for i in range(3)
        ]
        np.testing.assert_allclose(
            bn.moving_mean.numpy(), np.mean([a.mean(0) for a in x], 0), rtol=1e-4, atol=1e-6
        )
        standing_g = t.generate(z).numpy()
        # A sample does not depend on the rest of its batch.
        np.testing.assert_allclose(t.generate(z[:7]).numpy(), standing_g[:7], rtol=1e-5, atol=1e-6)
        # D: statistics collected on G's samples (not the moving mix of real and fake batches).
        dbn = _bn_layers(t.discriminator)[0]
        dprobe = keras.Model(t.discriminator.inputs, dbn.input)
        fakes = [t.generate(t.standing_inputs(i)[0]) for i in range(3)]
        means = [dprobe(f, training=True).numpy().mean(0) for f in fakes]
        np.testing.assert_allclose(dbn.moving_mean.numpy(), np.mean(means, 0), rtol=1e-4, atol=1e-6)
        classes = t.classify(standing_g).numpy()
        np.testing.assert_array_equal(t.classify(standing_g[:5]).numpy(), classes[:5])
    assert np.abs(moving_g - standing_g).max() > 1e-4
    for a, b in zip(g0 + d0, _moving(t.generator) + _moving(t.discriminator), strict=True):
        np.testing.assert_array_equal(a, b)


def test_classify_data_uses_the_statistics_of_the_data(tmp_path):
    t = _trainer(toy_config(tmp_path, d_norm="separate", batch_size=16))
    batch = _first_batch(t)
    for _ in range(3):
        t._d_replica_step(batch)
    d0 = _moving(t.discriminator)
    mixture = data.get_mixture("ring8")
    real, _ = mixture.sample(64, seed=1)
    real = np.asarray(real, np.float32)
    got = t.classify_data(real).numpy()
    # Expected: D in inference mode with the mean batch statistics of the 4 chunks of 16.
    with networks.standing_statistics(t.discriminator, iter(np.split(real, 4)).__next__, 4):
        expected = t.classify(real).numpy()
    np.testing.assert_array_equal(got, expected)
    for a, b in zip(d0, _moving(t.discriminator), strict=True):
        np.testing.assert_array_equal(a, b)
