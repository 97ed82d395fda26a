"""A run directory, as the training loop writes it: config.json, checkpoints/, metrics, samples.

Reading one back (its options, its last checkpoint, a trainer restored from it) is shared by
evaluation, export and the studies; it sits above training (it rebuilds a GANTrainer) and below
everything that consumes a finished run.
"""

from __future__ import annotations

import os

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"


def is_run_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, CONFIG_FILE))


def load_config(run_dir: str):
    """The run's tf_amgan.training.config.Config.

    Raises:
      FileNotFoundError: not a run directory.
    """
    from tf_amgan.training import config as config_lib

    if not is_run_dir(run_dir):
        raise FileNotFoundError(f"{run_dir} has no {CONFIG_FILE} (not a tf-amgan run directory)")
    return config_lib.load(run_dir)


def latest_checkpoint(run_dir: str) -> str | None:
    import tensorflow as tf

    return tf.train.latest_checkpoint(os.path.join(run_dir, CHECKPOINT_DIR))


def restore_run(run_dir: str):
    """Rebuilds a run's GANTrainer (one device) from config.json; returns (trainer, checkpoint path).

    Raises:
      FileNotFoundError: not a run directory, or no checkpoint yet.
    """
    from tf_amgan import data
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib

    cfg = load_config(run_dir).replace(strategy="default", num_cpu_devices=0)
    latest = latest_checkpoint(run_dir)
    if latest is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint yet")
    info = data.get_info(cfg.dataset, **cfg.data_options)
    trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
    return trainer, latest
