"""Shared helpers for engine tests: tiny configurations that train in seconds on CPU."""

import numpy as np

from tf_amgan.training.config import Config


def toy_config(tmp_path, **overrides) -> Config:
    """2-D ring with small MLPs: ~100 steps/s."""
    values = dict(
        model="amgan",
        labeling="dynamic",
        dataset="ring8",
        train_steps=6,
        batch_size=16,
        output_dir=str(tmp_path / "run"),
        seed=3,
        mlp_depth=2,
        mlp_units=16,
        z_dim=8,
        log_every=2,
        checkpoint_every=3,
        sample_every=0,
        progress=False,
        standing_stats_batches=2,
    )
    values.update(overrides)
    return Config(**values).validate()


def image_config(tmp_path, **overrides) -> Config:
    """Fashion-MNIST with the A-1/A-3 networks at 1/16 width: well under a second per step."""
    values = dict(
        model="amgan",
        labeling="dynamic",
        dataset="fashion_mnist",
        train_steps=2,
        batch_size=8,
        output_dir=str(tmp_path / "run"),
        seed=5,
        g_width=0.0625,
        d_width=0.0625,
        z_dim=16,
        log_every=1,
        checkpoint_every=2,
        sample_every=0,
        progress=False,
        standing_stats_batches=2,
    )
    values.update(overrides)
    return Config(**values).validate()


def weights(model):
    return [np.array(v) for v in model.weights]


def max_weight_diff(a, b):
    wa, wb = weights(a), weights(b)
    assert len(wa) == len(wb)
    return max(float(np.max(np.abs(x - y))) if x.size else 0.0 for x, y in zip(wa, wb, strict=True))
