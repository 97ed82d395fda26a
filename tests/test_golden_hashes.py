"""Golden weight hashes: every model / labeling / trainer-relevant option, bit for bit.

A short seeded CPU run per case (ring8, or clusters4 for the latent-code models; tiny MLPs) and a
hash of everything its checkpoint holds (G, D, Q, optimizer slots, prior, step, RNG state) plus the
last step's metrics. Refactors of the training code must keep every value; a deliberate change of
the maths regenerates the table with

    PYTHONPATH=. python tests/test_golden_hashes.py      # prints GOLDEN for pasting

and says so in the commit message.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

from tf_amgan import data, losses
from tf_amgan.training import distribute
from tf_amgan.training import trainer as trainer_lib
from tf_amgan.training.config import Config
from tf_amgan.training.flags import MODELS

STEPS = 20

_BASE = dict(
    dataset="ring8",
    train_steps=STEPS,
    batch_size=16,
    seed=11,
    mlp_depth=2,
    mlp_units=16,
    z_dim=4,
    sample_every=0,
    progress=False,
    # Fast enough for tiny networks to move, slow enough to stay finite in 20 steps.
    lr=2e-3,
    # The values were made with BN in D and separate real / fake calls (the MLP default is
    # --d_norm=none since issue 10); the joint and none paths are tested in test_d_norm.py.
    d_norm="separate",
)
_LATENT = dict(dataset="clusters4")

# case id -> Config overrides: every model of the CLI with each labeling it allows (the aliases
# kplus1 / modegan build the same objectives as labelgan / amgan, see test_aliases_are_the_same_
# objective, so they carry the class priors instead), then the options that take their own path
# through the trainer or an objective. Options ride along on a base case ("+") where they touch a
# different part of the step than the base model, to keep the file fast (tracing dominates).
_PRIORS9 = (0.5, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05)
CASES: dict[str, dict] = {
    "gan-dynamic": dict(model="gan"),
    "gan-predefined": dict(model="gan", labeling="predefined"),
    "gan_star-dynamic": dict(model="gan_star"),
    "gan_star-predefined+d_aux_weight": dict(
        model="gan_star", labeling="predefined", d_aux_weight=0.5
    ),
    "labelgan-dynamic": dict(model="labelgan"),
    "labelgan-predefined+zero_fake_logit": dict(
        model="labelgan", labeling="predefined", fake_logit="zero"
    ),
    "amgan-dynamic": dict(model="amgan"),
    "amgan-predefined": dict(model="amgan", labeling="predefined"),
    "samgan-dynamic+temperature": dict(model="samgan", temperature=0.3),
    "acgan-dynamic": dict(model="acgan"),
    "acgan-predefined+minimax": dict(
        model="acgan", labeling="predefined", acgan_source_loss="minimax"
    ),
    "acgan_star-dynamic": dict(model="acgan_star"),
    "acgan_star-predefined+adamw": dict(
        model="acgan_star", labeling="predefined", optimizer="adamw"
    ),
    "acgan_star_lowaux-dynamic+ema+d_steps": dict(
        model="acgan_star_lowaux", ema_decay=0.9, d_steps=2
    ),
    "acgan_star_lowaux-predefined": dict(model="acgan_star_lowaux", labeling="predefined"),
    "acgan_plus-dynamic": dict(model="acgan_plus"),
    "acgan_plus-predefined+smoothing": dict(
        model="acgan_plus", labeling="predefined", label_smoothing=0.8
    ),
    "kplus1-dynamic+class_priors": dict(model="kplus1", class_priors=_PRIORS9),
    "modegan-predefined+class_priors+smoothing": dict(
        model="modegan", labeling="predefined", class_priors=_PRIORS9, label_smoothing=0.9
    ),
    # Randomness inside the networks (D input noise and dropout, G layer noise): pins the order of
    # the draws from the trainer's generator.
    "amgan-dynamic+network_noise": dict(
        model="amgan", input_noise_std=0.1, dropout=0.2, g_layer_noise=True
    ),
    # Projection heads: binary, binary+aux, K+1.
    "gan-predefined+projection": dict(model="gan", labeling="predefined", projection=True),
    "acgan-dynamic+projection": dict(model="acgan", projection=True),
    "amgan-dynamic+projection": dict(model="amgan", projection=True),
    # Semi- and unsupervised K+1 (M-12..M-15), one under MirroredStrategy (per-shard batch terms).
    "amgan-semisup+class_mode": dict(model="amgan", labeled_fraction=0.5, class_mode_weight=1.0),
    "labelgan-unsup": dict(model="labelgan", labeled_fraction=0.0, num_classes=5),
    "samgan-semisup-mirrored": dict(model="samgan", labeled_fraction=0.5, strategy="mirrored"),
    # Latent-code models (clusters4).
    "cgpgan": dict(model="cgpgan", **_LATENT),
    "cgpgan+normalize+late_update+3_categories": dict(
        model="cgpgan",
        prior_update_start=6,
        prob_normalize_until=12,
        prior_decay=0.9,
        num_categories=3,
        category_prior=(0.5, 0.3, 0.2),
        **_LATENT,
    ),
    "cgpgan-mirrored+normalize": dict(
        model="cgpgan", strategy="mirrored", prob_normalize_until=12, **_LATENT
    ),
    "infogan": dict(model="infogan", **_LATENT),
    "cgpgan+network_noise": dict(
        model="cgpgan", input_noise_std=0.1, dropout=0.2, g_layer_noise=True, **_LATENT
    ),
    "infogan+no_penalties+network_noise": dict(
        model="infogan", lambda_r2=0.0, input_noise_std=0.1, dropout=0.2, **_LATENT
    ),
    "infogan+creg": dict(model="infogan", lambda_creg=0.5, lambda_cls=0.7, **_LATENT),
    "elastic_infogan+late_update": dict(
        model="elastic_infogan", prior_update_start=5, prior_lr=1e-2, **_LATENT
    ),
    "elastic_infogan+mixed_precision": dict(
        model="elastic_infogan", precision="mixed_float16", prior_lr=1e-2, **_LATENT
    ),
    "gan_categorical": dict(model="gan_categorical", **_LATENT),
    "gan_categorical+no_r2": dict(model="gan_categorical", lambda_r2=0.0, **_LATENT),
}

_ALIASES = {"kplus1": "labelgan", "modegan": "amgan"}

# case id -> (hash of the checkpointed state, hash of the last step's metrics)
GOLDEN: dict[str, tuple[str, str]] = {
    "acgan-dynamic": ("38dcf5b7757f0dec", "8c8e90a8291d5cd5"),
    "acgan-dynamic+projection": ("8ad802b929f782e7", "5516cd5dfdf148c3"),
    "acgan-predefined+minimax": ("859befb528091bd8", "615a9d58d8999c0a"),
    "acgan_plus-dynamic": ("f019729dba59be4f", "523fb84fb6427b43"),
    "acgan_plus-predefined+smoothing": ("b3ee9c6e40b65546", "a57a94cb99374093"),
    "acgan_star-dynamic": ("9f1a51cdf6a74396", "b395f762a1949fdd"),
    "acgan_star-predefined+adamw": ("425d84f25301a3b4", "5983c48223b3b3fd"),
    "acgan_star_lowaux-dynamic+ema+d_steps": ("bc9e0f45bf05fd5f", "dde2a2f1fa951905"),
    "acgan_star_lowaux-predefined": ("0f1c63d4f785ba0b", "f8d26bfbd60ee189"),
    "amgan-dynamic": ("9eb391ad9eb178a5", "a82c4a52f049978b"),
    "amgan-dynamic+network_noise": ("a9b37bbae6a922eb", "630244029c6ea977"),
    "amgan-dynamic+projection": ("8a1c723b28bca719", "d7a44d9f4b1815fd"),
    "amgan-predefined": ("0888b2c2399b7b2b", "61f18c4c671f8686"),
    "amgan-semisup+class_mode": ("da14f26ad40ab781", "f75e8866edc8b35f"),
    "cgpgan": ("32b032d3031d5b34", "87abf5c2d4f225d8"),
    "cgpgan+network_noise": ("79d7a8f0deec786b", "bf429dfa2ac4fe8f"),
    "cgpgan+normalize+late_update+3_categories": ("c4cb468789c0abb4", "931ddd740db72941"),
    "cgpgan-mirrored+normalize": ("d9ef905a3f45bb70", "98b02bd0adba0a6f"),
    "elastic_infogan+late_update": ("a2d45b9f36647dcd", "cce53c4f1d3fa538"),
    "elastic_infogan+mixed_precision": ("454f43f52fca8e66", "20c1475c4026195d"),
    "gan-dynamic": ("69b90f27d9ff876c", "673311391755304e"),
    "gan-predefined": ("9a444b4c5da13810", "549657a47a845d82"),
    "gan-predefined+projection": ("f026ef1a4dcbdbac", "ff5115fe50337009"),
    "gan_categorical": ("da1ca54c96ca3ee2", "b213d48bcced06f9"),
    "gan_categorical+no_r2": ("190b8471826a522d", "c23e7522f29eeba3"),
    "gan_star-dynamic": ("718bcd0a10bc08ad", "28131948e02ea518"),
    "gan_star-predefined+d_aux_weight": ("861dac4963a17131", "803dc5892eb88d61"),
    "infogan": ("95fe07a9480aa320", "0362fe6040cbe561"),
    "infogan+creg": ("889131c50d898e20", "3d30093e0feb13f3"),
    # Changed once on purpose (issue 16): without penalties the old step ran Q before D on the
    # fakes (D before Q everywhere else); the critics now draw network noise in one order.
    "infogan+no_penalties+network_noise": ("32de84ea09143b3c", "a956f5cb1bedc96c"),
    "kplus1-dynamic+class_priors": ("8f9fad1e3a968e6a", "681c436d414bb149"),
    "labelgan-dynamic": ("400e5e25d81d42be", "93e63d3038162169"),
    "labelgan-predefined+zero_fake_logit": ("6fd57268e5e581d0", "370c2425282ed60c"),
    "labelgan-unsup": ("5c8ee1623194db1a", "2795f5b6d817e009"),
    "modegan-predefined+class_priors+smoothing": ("8d416768194cb1a6", "db6f46f2ae566207"),
    "samgan-dynamic+temperature": ("e069ad167af22f3c", "4df1236d31b274fd"),
    "samgan-semisup-mirrored": ("3d6c10d7c5f0eade", "7be5323ea60d917a"),
}


def _config(tmp_dir, overrides) -> Config:
    values = {**_BASE, **overrides, "output_dir": os.path.join(tmp_dir, "run")}
    if values.get("strategy") == "mirrored":
        values["devices"] = ("/cpu:0", "/cpu:1")
    return Config(**values).validate()


def _state_hash(trainer, tmp_dir) -> str:
    """sha256 over every checkpointed tensor, by checkpoint key (so the layout is pinned too)."""
    path = trainer.checkpoint.write(os.path.join(tmp_dir, "ckpt", "state"))
    reader = tf.train.load_checkpoint(path)
    h = hashlib.sha256()
    for key in sorted(reader.get_variable_to_shape_map()):
        if key == "_CHECKPOINTABLE_OBJECT_GRAPH":
            continue
        value = np.asarray(reader.get_tensor(key))
        h.update(key.encode())
        h.update(str(value.dtype).encode())
        h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()[:16]


def _metrics_hash(metrics: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(metrics):
        h.update(key.encode())
        h.update(np.ascontiguousarray(np.asarray(metrics[key])).tobytes())
    return h.hexdigest()[:16]


def run_case(overrides: dict, tmp_dir: str) -> tuple[str, str]:
    cfg = _config(tmp_dir, overrides)
    tf.config.experimental.enable_op_determinism()
    strategy = distribute.get_strategy(cfg.strategy, devices=cfg.devices)
    info = data.get_info(cfg.dataset, **cfg.data_options)
    try:
        trainer = trainer_lib.GANTrainer(cfg, strategy, info)
        ds = trainer.make_dataset(0)
        trainer.initialize(next(iter(ds.take(1))))
        it = iter(strategy.experimental_distribute_dataset(ds))
        step = trainer.build_train_step()
        for _ in range(STEPS):
            out = step(it)
        metrics = {k: v.numpy() for k, v in out.items()}
    finally:
        import keras

        keras.mixed_precision.set_dtype_policy("float32")
    assert metrics["finite"], metrics
    return _state_hash(trainer, tmp_dir), _metrics_hash(metrics)


def test_every_cli_model_and_labeling_is_covered():
    covered = {(c["model"], c.get("labeling", "dynamic")) for c in CASES.values()}
    for model in MODELS:
        for labeling in losses.get_objective(model, 4).labelings:
            if model not in _ALIASES:
                assert (model, labeling) in covered, (model, labeling)


@pytest.mark.parametrize("alias,canonical", sorted(_ALIASES.items()))
def test_aliases_are_the_same_objective(alias, canonical):
    a, b = losses.get_objective(alias, 9), losses.get_objective(canonical, 9)
    assert repr(a).replace(alias, canonical, 1) == repr(b)
    assert (a.head_units, a.labelings, a.uses_targets) == (
        b.head_units,
        b.labelings,
        b.uses_targets,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_hash(case, tmp_path):
    assert case in GOLDEN, f"no golden value for {case}; regenerate (see module docstring)"
    assert run_case(CASES[case], str(tmp_path)) == GOLDEN[case]


if __name__ == "__main__":  # prints the table (argv: only these case ids)
    import tempfile

    sys.path.insert(0, os.path.dirname(__file__))
    import conftest  # noqa: F401  (two logical CPUs for the mirrored cases)

    print("GOLDEN: dict[str, tuple[str, str]] = {")
    for name in sys.argv[1:] or sorted(CASES):
        with tempfile.TemporaryDirectory() as d:
            print(f"    {name!r}: {run_case(CASES[name], d)!r},", flush=True)
    print("}")
