"""One training run: validate -> strategy -> data -> trainer -> loop (log, checkpoint, samples) -> on_finish.

The periodic evaluator and the export on finish are handed in by the caller (tf_amgan.train), so
training imports no layer above it.

Run directory layout (`--output_dir`):
  config.json          every option of the run
  metrics.jsonl        one JSON record per logged step (losses, D accuracies, learning rates, speed)
  checkpoints/         tf.train.CheckpointManager checkpoints (models, optimizers, step, RNG state)
  tensorboard/         TensorBoard scalars and sample grids
  samples/             PNG sample grids (fixed noise; one row per class for class-aware models,
                       one per category with P(C) > 1% for latent-code models)
  eval.jsonl           periodic evaluation results (when --eval_every > 0)
"""

from __future__ import annotations

import dataclasses
import os
import signal
import tempfile
import time

import numpy as np

from tf_amgan.io_utils import append_jsonl, atomic_write_text, truncate_jsonl
from tf_amgan.training import config as config_lib

EXIT_OK, EXIT_NAN = 0, 3  # interrupted runs exit with 128 + signal number


class TrainingDiverged(RuntimeError):
    """A loss became NaN/Inf; the last good checkpoint is kept."""


@dataclasses.dataclass
class RunResult:
    status: str  # "completed" | "interrupted" | "diverged"
    step: int
    export_path: str | None = None
    metrics: dict | None = None
    signum: int | None = None

    @property
    def exit_code(self) -> int:
        if self.status == "interrupted":
            return 128 + (self.signum or 2)
        return {"completed": EXIT_OK, "diverged": EXIT_NAN}[self.status]


def setup_runtime(config: config_lib.Config) -> None:
    """Process-wide TF settings; must run before TensorFlow touches devices."""
    import tensorflow as tf

    from tf_amgan.training import distribute

    distribute.setup_logical_cpus(config.num_cpu_devices)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()


@dataclasses.dataclass
class Prepared:
    config: config_lib.Config
    strategy: object
    info: object


def prepare(config: config_lib.Config) -> Prepared:
    """Every check that can fail, before anything is written: options, devices, data."""
    from tf_amgan import data
    from tf_amgan.training import distribute

    config.validate()
    setup_runtime(config)
    strategy = distribute.get_strategy(config.strategy, config.devices)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise config_lib.ConfigError(
            f"--batch_size={config.batch_size} is not divisible by the {replicas} replicas of "
            f"--strategy={config.strategy}"
        )
    info = data.get_info(config.dataset, **config.data_options)
    if config.conditional and not info.num_classes:
        raise config_lib.ConfigError(
            f"--labeling=predefined needs class labels; {config.dataset} has none"
        )
    # Fails fast (seconds) with a clear message when the data is missing and cannot be downloaded.
    data.get_dataset(
        config.dataset,
        batch_size=config.batch_size,
        seed=config.seed,
        data_dir=config.data_dir,
        download=config.download_arg,
        **config.data_options,
    )
    _check_run_dir(config)
    return Prepared(config, strategy, info)


def _check_run_dir(config: config_lib.Config) -> None:
    path = os.path.join(config.output_dir, "config.json")
    if not os.path.exists(path):
        return
    old = config_lib.load(config.output_dir)
    if not config.resume:
        raise config_lib.ConfigError(
            f"{config.output_dir} already holds a run; pass --resume to continue it or choose another "
            "--output_dir"
        )
    changed = config_lib.incompatible_changes(old, config)
    if changed:
        raise config_lib.ConfigError(
            f"cannot resume {config.output_dir}: options differ from its config.json: {', '.join(changed)}"
        )


class _SignalFlag:
    """Turns SIGINT/SIGTERM into a flag the loop checks after each step (then checkpoints and stops)."""

    def __init__(self):
        self.signum = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl-C: stop now
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        return False


def run(config: config_lib.Config, log=print, evaluator=None, on_finish=None) -> RunResult:
    """Trains (or resumes) the run described by `config`.

    Args:
      config: the run's options.
      log: callable(str) for one-line messages.
      evaluator: callable(trainer, step), called on the chief every `config.eval_every` steps
        (tf_amgan.evaluation.make_periodic_evaluator; None: no periodic evaluation).
      on_finish: callable(trainer) -> export path or None, called on the chief when the run
        completes (tf_amgan.export.exporter; None: nothing is exported).
    """
    import tensorflow as tf

    from tf_amgan.progress import Progress
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib

    prepared = prepare(config)
    strategy, info = prepared.strategy, prepared.info
    chief = distribute.is_chief(strategy)
    out = config.output_dir

    trainer = trainer_lib.GANTrainer(config, strategy, info)
    if chief:
        os.makedirs(out, exist_ok=True)
        if not os.path.exists(os.path.join(out, "config.json")):
            atomic_write_text(os.path.join(out, "config.json"), config.to_json() + "\n")
        ckpt_dir = os.path.join(out, "checkpoints")
    else:
        ckpt_dir = tempfile.mkdtemp(prefix="tf_amgan_worker_ckpt_")
    manager = tf.train.CheckpointManager(
        trainer.checkpoint, ckpt_dir, max_to_keep=config.keep_checkpoints, step_counter=trainer.step
    )
    # Non-chief workers restore from the chief's directory (shared filesystem assumed).
    restore_from = tf.train.latest_checkpoint(os.path.join(out, "checkpoints"))
    start = 0
    if config.resume and restore_from:
        trainer.checkpoint.restore(restore_from).assert_existing_objects_matched()
        start = int(trainer.step.numpy())
        log(f"resumed from {restore_from} at step {start}")
    metrics_path = os.path.join(out, "metrics.jsonl")
    if chief:
        truncate_jsonl(metrics_path, start)
        truncate_jsonl(os.path.join(out, "eval.jsonl"), start)

    ds = trainer.make_dataset(start)
    if start == 0:
        first = next(iter(ds.take(1)))
        trainer.initialize(first)
    iterator = iter(strategy.experimental_distribute_dataset(ds))
    train_step = trainer.build_train_step()
    writer = tf.summary.create_file_writer(os.path.join(out, "tensorboard")) if chief else None

    def save():
        manager.save(checkpoint_number=int(trainer.step.numpy()))

    progress = Progress(
        config.train_steps, start, enabled=config.progress and chief, line_every=config.log_every
    )
    last_metrics: dict = {}
    status = "completed"
    step = start
    window_t, window_step = time.perf_counter(), start
    log(
        f"training {config.model} ({config.labeling}) on {config.dataset}: steps {start}->"
        f"{config.train_steps}, global batch {config.batch_size}, {strategy.num_replicas_in_sync} "
        f"replica(s), run dir {out}"
    )
    with _SignalFlag() as stop:
        while step < config.train_steps:
            values = train_step(iterator)
            if not bool(values["finite"].numpy()):
                status = "diverged"
                bad = {k: float(v.numpy()) for k, v in values.items() if k != "finite"}
                log(
                    f"error: non-finite loss at step {step + 1} ({bad}); stopping. The last good "
                    f"checkpoint ({manager.latest_checkpoint or 'none'}) is kept."
                )
                break
            step += 1
            scalars = {k: float(v.numpy()) for k, v in values.items() if k != "finite"}
            progress.update(step, {"d_loss": scalars["d_loss"], "g_loss": scalars["g_loss"]})
            if chief and (step % config.log_every == 0 or step == config.train_steps):
                now = time.perf_counter()
                dt = max(now - window_t, 1e-9)
                n = step - window_step
                record = {
                    "step": step,
                    **scalars,
                    **trainer.learning_rates(step),
                    "step_time": dt / max(n, 1),
                    "images_per_sec": n * config.batch_size / dt,
                    "wall_time": time.time(),
                }
                append_jsonl(metrics_path, record)
                with writer.as_default(step=step):
                    for k, v in record.items():
                        if k not in ("step", "wall_time"):
                            tf.summary.scalar(k, v)
                window_t, window_step = now, step
                last_metrics = record
            if config.sample_every and step % config.sample_every == 0 and chief:
                write_samples(trainer, out, step, writer)
            if (
                evaluator is not None
                and chief
                and config.eval_every
                and step % config.eval_every == 0
            ):
                evaluator(trainer, step)
            if step % config.checkpoint_every == 0 or stop.signum is not None:
                save()
            if stop.signum is not None:
                status = "interrupted"
                log(f"\nreceived signal {stop.signum}: checkpoint saved at step {step}; stopping")
                break
    progress.close()

    export_path = None
    if status == "completed":
        if manager.latest_checkpoint is None or int(trainer.step.numpy()) % config.checkpoint_every:
            save()
        if chief:
            write_samples(trainer, out, step, writer)
        if on_finish is not None and chief:
            export_path = on_finish(trainer)
    if writer is not None:
        writer.flush()
    if not chief:
        import shutil

        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return RunResult(status, step, export_path, last_metrics, stop.signum)


def write_samples(trainer, out: str, step: int, writer=None) -> str:
    """One PNG per call: samples/step_XXXXXXXX.png (class rows for class-aware models)."""
    import tensorflow as tf

    from tf_amgan import data
    from tf_amgan.training import samples

    path = os.path.join(out, "samples", f"step_{step:08d}.png")
    info = trainer.info
    if not info.is_image:
        z = trainer.fixed_noise(2000)
        fake = trainer.generate(
            z, tf.zeros([2000], tf.int32) if trainer.conditional else None
        ).numpy()
        mixture = data.get_mixture(trainer.config.dataset, **trainer.config.data_options)
        real, _ = mixture.sample(2000, seed=trainer.config.seed)
        array = samples.scatter_png(path, fake, real=np.asarray(real), means=mixture.means)
    else:
        ncols = 10
        rows = min(trainer.num_classes, 10) if trainer.num_classes else 10
        if trainer.latent:
            images, _ = category_rows(trainer, ncols)
        elif trainer.objective.head_units == 1 or not trainer.num_classes:
            images = trainer.generate(
                trainer.fixed_noise(rows * ncols),
                tf.zeros([rows * ncols], tf.int32) if trainer.conditional else None,
            )
            images = images.numpy()
        elif trainer.conditional:
            labels = tf.repeat(tf.range(rows, dtype=tf.int32), ncols)
            images = trainer.generate(trainer.fixed_noise(rows * ncols), labels).numpy()
        else:
            pool = trainer.generate(trainer.fixed_noise(rows * ncols * 8))
            classes = trainer.classify(pool).numpy()
            images = samples.class_rows(pool.numpy(), classes, rows, ncols)
        array = samples.save_grid(path, images, ncols)
    if writer is not None:
        with writer.as_default(step=step):
            img = array if array.ndim == 3 else array[..., None]
            tf.summary.image("samples", img[None], step=step)
    return path


def category_rows(trainer, ncols: int = 10, by_prior: bool = False):
    """Sample grid of a latent-code model: one row per category with P(C) > 1% (P003 omits the
    others; all categories if none is above), `ncols` samples each.

    Every row uses the same fixed noise (column j = noise j), so rows differ only by the code.

    Args:
      trainer: a latent-code GANTrainer.
      ncols: samples per row.
      by_prior: order the rows by descending P(C) (default: by category index, which keeps
        the rows of successive training grids comparable).

    Returns:
      (images `[rows * ncols, ...]` float32, the rows' categories as a list of ints).
    """
    import tensorflow as tf

    from tf_amgan.training.selfsup import ACTIVE_THRESHOLD

    if not trainer.latent:
        raise ValueError(f"category_rows needs a latent-code model, not {trainer.config.model}")
    probs = trainer.prior.probs().numpy()
    rows = np.flatnonzero(probs > ACTIVE_THRESHOLD)
    if rows.size == 0:  # d_c > 100 and a flat P(C)
        rows = np.flatnonzero(probs > 0)
    if by_prior:
        rows = rows[np.argsort(-probs[rows], kind="stable")]
    z = tf.tile(trainer.fixed_noise(ncols), [len(rows), 1])
    categories = tf.constant(np.repeat(rows, ncols), tf.int32)
    return trainer.generate(z, categories).numpy(), [int(k) for k in rows]
