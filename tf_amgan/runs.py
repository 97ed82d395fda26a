"""A run directory, as the training loop writes it: config.json, checkpoints/, metrics, samples.

Reading one back (its options, its newest intact checkpoint, a trainer restored from it) is
shared by evaluation, export and the studies; it sits above training (it rebuilds a GANTrainer)
and below everything that consumes a finished run. The mechanics the training loop needs too
(lock, configuration copies, checkpoint verification, leftovers) are in
tf_amgan.training.rundir and re-exported here.
"""

from __future__ import annotations

import os

from tf_amgan.training.rundir import (  # noqa: F401  (the run-directory API, in one place)
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LOCK_FILE,
    DirLock,
    RunDirError,
    check_writable_dir,
    checkpoint_numbers,
    checkpoint_problem,
    find_checkpoint,
    load_config,
    lock_run_dir,
    nonfinite_variables,
)


def _stderr(message: str) -> None:
    import sys

    print(message, file=sys.stderr)


def is_run_dir(path: str) -> bool:
    """Holds a configuration: config.json, or (if that was lost) its copy in checkpoints/."""
    return any(
        os.path.isfile(os.path.join(path, *parts))
        for parts in ((CONFIG_FILE,), (CHECKPOINT_DIR, CONFIG_FILE))
    )


def latest_checkpoint(run_dir: str, log=_stderr) -> str | None:
    """The newest intact checkpoint (warning through `log` when it skips a damaged one).

    Raises:
      RunDirError: checkpoints exist but none is intact.
    """
    return find_checkpoint(os.path.join(run_dir, CHECKPOINT_DIR), log)


def restore_run(run_dir: str, log=_stderr):
    """Rebuilds a run's GANTrainer (one device) from its configuration and restores its newest
    intact checkpoint; returns (trainer, checkpoint path).

    Raises:
      FileNotFoundError: not a run directory, or no checkpoint yet.
      RunDirError (a ValueError): a damaged configuration, or no intact checkpoint.
    """
    from tf_amgan import data
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib

    cfg = load_config(run_dir).replace(strategy="default", num_cpu_devices=0)
    latest = latest_checkpoint(run_dir, log)
    if latest is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint yet")
    info = data.get_info(cfg.dataset, **cfg.data_options)
    trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
    return trainer, latest
