"""Projection-discriminator heads (P002 §2.3, M-19) for the binary, AC-GAN and K+1 objectives."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import toy_config

from tf_amgan import data, losses
from tf_amgan.losses import binary, kplus1
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib

K, N = 3, 6
RNG = np.random.default_rng(11)


def _batch(units):
    real = (RNG.normal(size=(N, units)) * 2).astype(np.float32)
    fake = (RNG.normal(size=(N, units)) * 2).astype(np.float32)
    return (
        real,
        RNG.integers(0, K, N).astype(np.int32),
        fake,
        RNG.integers(0, K, N).astype(np.int32),
    )


def test_binary_projection_adds_the_label_embedding_to_the_logit():
    obj = losses.get_objective("gan", K, projection=True)
    assert obj.head_units == 1 + K and obj.labelings == ("predefined",)
    real, y, fake, c = _batch(1 + K)
    real_logit = real[:, 0] + real[np.arange(N), 1 + y]
    fake_logit = fake[:, 0] + fake[np.arange(N), 1 + c]
    np.testing.assert_allclose(
        obj.discriminator_loss(real, y, fake, c).numpy(),
        binary.gan_discriminator_loss(real_logit, fake_logit).numpy(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        obj.generator_loss(fake, c).numpy(),
        binary.gan_generator_loss(fake_logit).numpy(),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="predefined"):
        obj.generator_loss(fake)


def test_acgan_projection_shifts_only_the_source_logit():
    obj = losses.get_objective("acgan", K, projection=True)
    base = losses.get_objective("acgan", K)
    assert obj.head_units == 1 + K + K
    real, y, fake, c = _batch(1 + 2 * K)
    shifted_real = real[:, : 1 + K].copy()
    shifted_real[:, 0] += real[np.arange(N), 1 + K + y]
    shifted_fake = fake[:, : 1 + K].copy()
    shifted_fake[:, 0] += fake[np.arange(N), 1 + K + c]
    np.testing.assert_allclose(
        obj.discriminator_loss(real, y, fake, c).numpy(),
        base.discriminator_loss(shifted_real, y, shifted_fake, c).numpy(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(obj.class_logits(real).numpy(), real[:, 1 : 1 + K])


@pytest.mark.parametrize("name", ["kplus1", "modegan", "samgan"])
def test_kplus1_projection_adds_p_y_to_the_class_logit_only(name):
    obj = losses.get_objective(name, K, projection=True)
    base = losses.get_objective(name, K)
    assert obj.head_units == K + 1 + K and obj.uses_targets
    real, y, fake, _ = _batch(2 * K + 1)
    # Fakes are projected on their dynamic label argmax_k (l_k + p_k) (the documented choice).
    dyn = np.argmax(fake[:, :K] + fake[:, K + 1 :], axis=1)
    np.testing.assert_array_equal(obj.dynamic_targets(fake).numpy(), dyn)

    def project(logits, labels):
        out = logits[:, : K + 1].copy()
        out[np.arange(N), labels] += logits[np.arange(N), K + 1 + labels]
        return out

    np.testing.assert_allclose(
        obj.discriminator_loss(real, y, fake).numpy(),
        kplus1.kplus1_discriminator_loss(project(real, y), y, project(fake, dyn)).numpy(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        obj.generator_loss(fake, dyn).numpy(),
        base.generator_loss(project(fake, dyn), dyn).numpy(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(obj.class_logits(real).numpy(), real[:, :K] + real[:, K + 1 :])


def test_projection_rejects_latent_and_semi_supervised():
    with pytest.raises(TypeError, match="projection"):
        losses.get_objective("cgpgan", K, projection=True)
    with pytest.raises(ValueError, match="semi"):
        losses.get_objective("amgan", K, projection=True, semi_supervised=True)


@pytest.mark.parametrize(
    "model,labeling",
    [("gan", "predefined"), ("acgan", "predefined"), ("kplus1", "dynamic"), ("modegan", "dynamic")],
)
def test_projection_models_train(tmp_path, model, labeling):
    cfg = toy_config(tmp_path, model=model, labeling=labeling, projection=True)
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    assert t.discriminator.outputs[0].shape[-1] == t.objective.head_units
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    it = iter(ds)
    step = t.build_train_step()
    out = [step(it) for _ in range(2)][-1]
    assert bool(out["finite"]) and 0 <= float(out["d_real_acc"]) <= 1
    x = t.generate(t.fixed_noise(4), tf.constant([0, 1, 2, 3]) if t.conditional else None)
    assert t.classify(x).shape == (4,)


def test_kplus1_class_priors_from_the_config(tmp_path):
    # P002 Eq. 1 priors p_0 (fake), p_1..p_K weight the D terms (M-16).
    from tf_amgan.training import config as config_lib

    priors = (0.5,) + (0.5 / 8,) * 8
    cfg = toy_config(tmp_path, model="kplus1", class_priors=priors)
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    assert t.objective.options["class_priors"] == priors
    real, y, fake, _ = (RNG.normal(size=(N, 9)).astype(np.float32), RNG.integers(0, 8, N),
                        RNG.normal(size=(N, 9)).astype(np.float32), None)  # fmt: skip
    np.testing.assert_allclose(
        t.objective.discriminator_loss(real, y, fake).numpy(),
        kplus1.kplus1_discriminator_loss(real, y, fake, class_priors=priors).numpy(),
    )
    with pytest.raises(config_lib.ConfigError, match="K\\+1 = 9"):
        toy_config(tmp_path, model="kplus1", class_priors=(1.0, 2.0))
