"""Semi-/unsupervised K+1 objectives (M-12, M-13, M-15), the class-mode term (M-14), --labeled_fraction."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config, toy_config

from tf_amgan import data, losses
from tf_amgan.losses import extra, kplus1, semisup
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib

K, N = 4, 8
RNG = np.random.default_rng(7)


def _logits(scale=2.0, n=N):
    return (RNG.normal(size=(n, K + 1)) * scale).astype(np.float32)


def test_unlabeled_rows_use_the_dynamic_label_and_marginal_term():
    real, fake = _logits(), _logits()
    labels = np.array([0, -1, 2, -1, -1, 3, 1, -1], np.int32)
    obj = losses.get_objective("amgan", K, semi_supervised=True, unlabeled_marginal_weight=0.5)
    got = obj.discriminator_loss(real, labels, fake).numpy()
    unl = labels < 0
    base = kplus1.kplus1_discriminator_loss(real, np.maximum(labels, 0), fake).numpy()
    fake_term = -tf.nn.log_softmax(fake).numpy()[:, -1]  # H(v(K+1), D(G(z)))
    m12 = extra.semi_supervised_loss(real[unl]).numpy()  # M-12, P000 Eq. 37
    m13 = extra.unsupervised_marginal_loss(real[unl]).numpy()  # M-13, P000 Eq. 38
    np.testing.assert_allclose(got[~unl], base[~unl] + 0.5 * m13, rtol=1e-5)
    np.testing.assert_allclose(got[unl], m12 + fake_term[unl] + 0.5 * m13, rtol=1e-5)


def test_extended_loss_with_unit_weights_matches_m15():
    # M-15 (P000 App. G Eq. 43-44) with a labeled batch and an unlabeled batch of the same size.
    lab, unl, fake, data_logits = _logits(), _logits(), _logits(), _logits()
    y = RNG.integers(0, K, N).astype(np.int32)
    obj = losses.get_objective("amgan", K, semi_supervised=True, class_mode_weight=1.0)
    both = np.concatenate([lab, unl])
    labels = np.concatenate([y, np.full(N, -1, np.int32)])
    fakes = np.concatenate([fake, fake])
    d = obj.discriminator_loss(both, labels, fakes).numpy()
    extended = extra.extended_discriminator_loss(lab, y, fake, unl).numpy()
    # Eq. 43 has one fake term and one marginal term; our rows carry one each, so the labeled
    # half's mean plus the unlabeled half's mean counts them twice.
    fake_mean = -tf.nn.log_softmax(fake).numpy()[:, -1].mean()
    marginal = extra.unsupervised_marginal_loss(unl).numpy()
    np.testing.assert_allclose(
        d[:N].mean() + d[N:].mean() - fake_mean - marginal, extended, rtol=1e-5
    )
    targets = obj.dynamic_targets(fake)
    g = obj.generator_loss(fake, targets, data_logits).numpy()
    np.testing.assert_allclose(
        g.mean(), extra.extended_generator_loss(fake, data_logits).numpy(), rtol=1e-5
    )


def test_all_labeled_equals_base_objective_and_mode_term_needs_data():
    real, fake = _logits(), _logits()
    y = RNG.integers(0, K, N).astype(np.int32)
    obj = losses.get_objective("labelgan", K, semi_supervised=True)
    base = losses.get_objective("labelgan", K)
    np.testing.assert_allclose(
        obj.discriminator_loss(real, y, fake).numpy(),
        base.discriminator_loss(real, y, fake).numpy(),
        rtol=1e-6,
    )
    assert isinstance(obj, semisup.SemiSupervisedObjective) and not isinstance(
        base, semisup.SemiSupervisedObjective
    )
    mode = losses.get_objective("samgan", K, class_mode_weight=2.0)
    with pytest.raises(ValueError, match="data_logits"):
        mode.generator_loss(fake)
    with pytest.raises(TypeError, match="semi_supervised"):
        losses.get_objective("acgan", K, semi_supervised=True)


def test_marginal_term_is_finite_without_unlabeled_rows_and_for_huge_logits():
    obj = losses.get_objective("amgan", K, semi_supervised=True)
    real = _logits(100.0)
    y = RNG.integers(0, K, N).astype(np.int32)
    assert np.all(np.isfinite(obj.discriminator_loss(real, y, _logits(100.0)).numpy()))
    with tf.GradientTape() as tape:
        x = tf.constant(real)
        tape.watch(x)
        loss = tf.reduce_mean(obj.discriminator_loss(x, np.full(N, -1, np.int32), _logits(100.0)))
    assert np.all(np.isfinite(tape.gradient(loss, x).numpy()))
    log_r, count = semisup.masked_log_class_distribution(real, np.zeros(N, bool))
    assert float(count) == 0 and np.all(np.isfinite(log_r.numpy()))


# ------------------------------------------------------------------------------ trainer / config
def _trainer(cfg):
    info = data.get_info(cfg.dataset, **cfg.data_options)
    return trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)


def test_labeled_fraction_marks_a_fixed_subset(tmp_path):
    cfg = image_config(tmp_path, labeled_fraction=0.2, batch_size=50)
    t = _trainer(cfg)
    images, labels = data.load_arrays("fashion_mnist", "train")
    x = tf.constant(images[:2000])
    mask = t.labeled_mask(x).numpy()
    assert 0.17 < mask.mean() < 0.23
    np.testing.assert_array_equal(mask, t.labeled_mask(x).numpy())  # deterministic per example
    np.testing.assert_array_equal(mask[::-1], t.labeled_mask(x[::-1]).numpy())  # not positional
    other = _trainer(cfg.replace(seed=6, output_dir=str(tmp_path / "b"))).labeled_mask(x).numpy()
    assert np.mean(mask != other) > 0.1  # the subset depends on the seed
    batch = next(iter(t.make_dataset(0).take(1)))
    assert set(batch["labels"].numpy()) - set(range(10)) == {-1}


def test_unsupervised_model_trains_with_free_num_classes(tmp_path):
    cfg = toy_config(tmp_path, labeled_fraction=0.0, num_classes=5, class_mode_weight=1.0)
    t = _trainer(cfg)
    assert t.num_classes == 5 and t.objective.head_units == 6
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    step = t.build_train_step()
    it = iter(ds)
    outs = [step(it) for _ in range(3)]
    assert bool(outs[-1]["finite"]) and "d_class_acc" not in outs[-1]
    assert np.all(next(it)["labels"].numpy() == -1)


def test_semi_supervised_options_are_validated(tmp_path):
    out = str(pathlib.Path(tmp_path) / "run")
    with pytest.raises(config_lib.ConfigError, match="num_classes"):
        config_lib.Config(num_classes=5, labeled_fraction=0.5, output_dir=out).validate()
    with pytest.raises(config_lib.ConfigError, match="dynamic"):
        config_lib.Config(labeled_fraction=0.5, labeling="predefined", output_dir=out).validate()
    with pytest.raises(config_lib.ConfigError, match="semi_supervised"):
        config_lib.Config(model="acgan_star", labeled_fraction=0.5, output_dir=out).validate()
    with pytest.raises(config_lib.ConfigError, match="labeled_fraction"):
        config_lib.Config(labeled_fraction=1.5, output_dir=out).validate()
