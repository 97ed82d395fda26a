"""The mechanics of a run directory, as the training loop writes it and everything else reads it:
its lock, its configuration (config.json and the copy kept with the checkpoints), finding the
newest intact checkpoint, and removing what a killed process left half-written.

Here, in the training layer, because the loop needs all of it; tf_amgan.runs (above training)
builds restore_run() on it and re-exports it. What the run directory guarantees is listed in
BUILD.md ("What the run directory guarantees"). Nothing here imports TensorFlow at module level:
the lock is taken before TensorFlow is needed.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

from tf_amgan.io_utils import atomic_write_text

LOCK_FILE = "run.lock"
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "checkpoint"  # tf.train.CheckpointManager's index of checkpoints

_CKPT_FILE = re.compile(r"ckpt-(\d+)\.(index|data-\d+-of-\d+)$")


class RunDirError(ValueError):
    """The run directory cannot be used as asked (busy, damaged, unwritable, another run's)."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


# ---------------------------------------------------------------------------------- locking
class DirLock:
    """An exclusive OS file lock (fcntl.flock) on `path`, held until release() or process exit.

    The kernel drops the lock when its holder dies, so a killed process never blocks the next
    one. The file itself stays: deleting it would let two processes lock two different files.
    """

    def __init__(self, path: str, what: str):
        self.path, self.what = path, what
        self._file = None

    def acquire(self, blocking: bool = False) -> DirLock:
        f = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = _describe_holder(f.read())
            f.close()
            raise RunDirError(
                f"{self.what} is in use by {holder}; wait for it to finish or stop it "
                "(a killed process releases the lock by itself)"
            ) from None
        except BaseException:
            f.close()
            raise
        f.seek(0)
        f.truncate()
        f.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
            + "\n"
        )
        f.flush()
        self._file = f
        return self

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            try:
                fcntl.flock(self._file, fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None

    def __enter__(self):
        return self if self.held else self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def _describe_holder(text: str) -> str:
    try:
        h = json.loads(text)
        return f"pid {h['pid']} on {h['host']} (`{h['command']}`, started {h['started']})"
    except (ValueError, KeyError, TypeError):
        return "another process"


def lock_run_dir(run_dir: str) -> DirLock:
    """Creates `run_dir` if needed and locks it for this process (RunDirError if it is busy)."""
    check_writable_dir(run_dir, "--output_dir")
    try:
        os.makedirs(run_dir, exist_ok=True)
        return DirLock(os.path.join(run_dir, LOCK_FILE), f"run directory {run_dir}").acquire()
    except OSError as e:
        raise RunDirError(f"cannot write to --output_dir={run_dir}: {e.strerror or e}") from e


def check_writable_dir(path: str, flag: str) -> None:
    """`path` is, or can be created as, a directory this process can write to.

    Probes with a real (removed at once) file: permission bits alone do not tell, e.g. for root
    or under /proc.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise RunDirError(f"{flag}={path} is a file, not a directory")
    existing = os.path.abspath(path)
    while not os.path.isdir(existing):
        parent = os.path.dirname(existing)
        if os.path.exists(existing) or parent == existing:
            raise RunDirError(f"{flag}={path}: {existing} is not a directory")
        existing = parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise RunDirError(f"{flag}={path} is not writable ({existing}: {e.strerror or e})") from e


# ---------------------------------------------------------------------------- configuration
def config_paths(run_dir: str) -> list[str]:
    """config.json, and its copy kept with the checkpoints (for a run dir that lost the first)."""
    return [
        os.path.join(run_dir, CONFIG_FILE),
        os.path.join(run_dir, CHECKPOINT_DIR, CONFIG_FILE),
    ]


def read_config(path: str):
    """The Config stored at `path`; RunDirError naming the file if it is not a valid one."""
    from tf_amgan.training import config as config_lib

    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        # Runs written before --d_norm existed normalized real and fake in separate D calls.
        values.setdefault("d_norm", "separate")
        return config_lib.Config.from_dict(values)
    except (ValueError, TypeError, UnicodeDecodeError) as e:
        raise RunDirError(
            f"{path} is not a valid run configuration ({e}); restore it or choose another "
            "--output_dir"
        ) from e


def stored_configs(run_dir: str) -> list[tuple[str, object]]:
    """(path, Config) of each configuration the run directory holds (none for a new run)."""
    return [(p, read_config(p)) for p in config_paths(run_dir) if os.path.exists(p)]


def load_config(run_dir: str):
    """The run's Config: config.json, else the copy in checkpoints/ (FileNotFoundError if none)."""
    stored = stored_configs(run_dir)
    if not stored:
        raise FileNotFoundError(f"{run_dir} has no config.json (not a tf-amgan run directory)")
    return stored[0][1]


def write_config(run_dir: str, text: str) -> None:
    """Writes config.json and its copy in checkpoints/ where missing (atomic, never rewritten):
    `text` for a new run, else the stored configuration of the run's first start."""
    paths = config_paths(run_dir)
    for path in paths:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            break
    for path in paths:
        if not os.path.exists(path):
            atomic_write_text(path, text)


# ------------------------------------------------------------------------------ checkpoints
def checkpoint_numbers(ckpt_dir: str) -> list[int]:
    """Step numbers of every ckpt-N on disk (intact or not), newest first."""
    if not os.path.isdir(ckpt_dir):
        return []
    found = {int(m.group(1)) for m in map(_CKPT_FILE.match, os.listdir(ckpt_dir)) if m}
    return sorted(found, reverse=True)


def checkpoint_problem(prefix: str) -> str | None:
    """Why the checkpoint at `prefix` cannot be used, or None if it is intact.

    Reads every tensor (TF verifies each one's checksum while reading) and checks that every
    floating-point value is finite.
    """
    import numpy as np
    import tensorflow as tf

    if not os.path.exists(prefix + ".index"):
        return "no .index file"
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in sorted(reader.get_variable_to_shape_map()):
            value = np.asarray(reader.get_tensor(name))
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                return f"non-finite values in {name.split('/.ATTRIBUTES')[0]}"
    except Exception as e:  # a damaged file raises anything from IndexError to DataLossError
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"unreadable: {type(e).__name__}: {first}"[:300]
    return None


def _state_pointer(ckpt_dir: str) -> str | None:
    """The checkpoint the state file names, or None if the file is missing or damaged."""
    path = os.path.join(ckpt_dir, STATE_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    m = re.search(r'^model_checkpoint_path: "([^"]+)"$', text, re.M)
    return os.path.basename(m.group(1)) if m else None


def find_checkpoint(ckpt_dir: str, log=_stderr) -> str | None:
    """The newest intact checkpoint in `ckpt_dir` (its path prefix), or None if there is none.

    Does not trust the state file: a missing or damaged one, or a damaged newest checkpoint,
    falls back to the newest checkpoint that reads back whole, with a warning.

    Raises:
      RunDirError: checkpoints exist but none is intact (starting over would destroy them).
    """
    numbers = checkpoint_numbers(ckpt_dir)
    if not numbers:
        return None
    damaged = []
    for n in numbers:
        prefix = os.path.join(ckpt_dir, f"ckpt-{n}")
        problem = checkpoint_problem(prefix)
        if problem is None:
            break
        damaged.append((prefix, problem))
    else:
        details = "; ".join(f"{os.path.basename(p)}: {why}" for p, why in damaged)
        raise RunDirError(
            f"{ckpt_dir} holds checkpoints but none is intact ({details}); refusing to start over "
            "them: move them away to start a new run"
        )
    for bad, why in damaged:
        log(f"warning: checkpoint {bad} is damaged ({why}); falling back to {prefix}")
    pointer = _state_pointer(ckpt_dir)
    if pointer is None:
        log(
            f"warning: {os.path.join(ckpt_dir, STATE_FILE)} is missing or damaged; using the "
            f"newest intact checkpoint {prefix}"
        )
    return prefix


def write_state(ckpt_dir: str, prefix: str) -> None:
    """Points the state file at `prefix` (listing the older checkpoints for the manager's
    max_to_keep), unless it already does."""
    name = os.path.basename(prefix)
    if _state_pointer(ckpt_dir) == name:
        return
    newest = int(name.split("-")[1])
    older = [n for n in reversed(checkpoint_numbers(ckpt_dir)) if n <= newest]
    lines = [f'model_checkpoint_path: "{name}"']
    lines += [f'all_model_checkpoint_paths: "ckpt-{n}"' for n in older]
    atomic_write_text(os.path.join(ckpt_dir, STATE_FILE), "\n".join(lines) + "\n")


def nonfinite_variables(checkpoint) -> list[str]:
    """Names of the floating-point variables reachable from `checkpoint` (weights, batch-norm
    statistics, optimizer slots, priors) that hold NaN or Inf."""
    import tensorflow as tf

    bad = []
    for obj in tf.train.TrackableView(checkpoint).descendants():
        if not (hasattr(obj, "dtype") and hasattr(obj, "numpy")):
            continue
        if not tf.as_dtype(obj.dtype).is_floating:
            continue
        if not bool(tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(obj)))):
            bad.append(getattr(obj, "path", None) or obj.name)
    return bad


# -------------------------------------------------------------------------------- leftovers
def clean_leftovers(run_dir: str, log=_stderr) -> list[str]:
    """Removes what a killed process left half-written: TF's `ckpt-N_temp/` and state-file
    temporaries, and io_utils' `.tmp-*` files. Call only while holding the run's lock."""
    removed = []
    ckpt_dir = os.path.join(run_dir, CHECKPOINT_DIR)
    candidates = []
    if os.path.isdir(ckpt_dir):
        for name in os.listdir(ckpt_dir):
            if re.fullmatch(r"ckpt-\d+_temp.*", name) or name.startswith(
                (".tmp-", "checkpoint.tmp")
            ):
                candidates.append(os.path.join(ckpt_dir, name))
    for name in os.listdir(run_dir):
        if name.startswith(".tmp-"):
            candidates.append(os.path.join(run_dir, name))
    for path in candidates:
        _remove(path)
        removed.append(path)
    if removed:
        log(f"removed {len(removed)} leftover(s) of an interrupted process: {', '.join(removed)}")
    return removed


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
