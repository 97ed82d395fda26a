"""Run directories that cannot be corrupted or silently reset, and clear errors for bad input.

One test (or parametrized group) per failure of issue 11, each reproducing it on a copy of one
small ring8 run. BUILD.md, "What the run directory guarantees", lists what these tests hold to.
"""

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config, toy_config

from tf_amgan import data, export, runs, train
from tf_amgan.training import config as config_lib
from tf_amgan.training import distribute, experiment
from tf_amgan.training import trainer as trainer_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
    "TF_AMGAN_NO_DOWNLOAD": "1",
}
QUIET = lambda *a: None  # noqa: E731


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """9 steps, checkpoints ckpt-3, ckpt-6, ckpt-9, metrics at every step."""
    cfg = toy_config(
        tmp_path_factory.mktemp("base"), train_steps=9, checkpoint_every=3, log_every=1
    )
    assert train.run(cfg, log=QUIET).step == 9
    return cfg


def _copy(base, tmp_path, **changes):
    out = tmp_path / "run"
    shutil.copytree(base.output_dir, out)
    return base.replace(output_dir=str(out), **changes)


def _ckpt(cfg, name=""):
    return os.path.join(cfg.output_dir, "checkpoints", name)


def _metric_steps(cfg):
    with open(os.path.join(cfg.output_dir, "metrics.jsonl")) as f:
        return [json.loads(line)["step"] for line in f]


def _snapshot(directory):
    """{relative path: bytes} of every file except the lock file."""
    files = {}
    for root, _, names in os.walk(directory):
        for n in names:
            if n != runs.LOCK_FILE:
                p = os.path.join(root, n)
                with open(p, "rb") as f:
                    files[os.path.relpath(p, directory)] = f.read()
    return files


def _truncate(prefix):
    path = prefix + ".data-00000-of-00001"
    os.truncate(path, os.path.getsize(path) // 2)


def _main_cli_error(cfg, capsys):
    """train.main_cli (what run_experiment.py calls): exit code and its one stderr line."""
    capsys.readouterr()
    code = train.main_cli(cfg)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    return code, lines


# --- 1. a missing or damaged checkpoints/checkpoint state file -----------------------------
@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_damaged_state_file_resumes_from_newest_intact_checkpoint(base_run, tmp_path, damage):
    cfg = _copy(base_run, tmp_path, train_steps=12)
    state = _ckpt(cfg, "checkpoint")
    if damage == "missing":
        os.remove(state)
    else:
        with open(state, "wb") as f:
            f.write(b"\x00garbage {{{ not a CheckpointState")
    logged_before = _metric_steps(cfg)
    messages = []
    r = train.run(cfg, log=messages.append)
    assert r.status == "completed" and r.step == 12
    assert any(m.startswith("resumed from") and m.endswith("ckpt-9 at step 9") for m in messages)
    assert any("missing or damaged" in m and "ckpt-9" in m for m in messages)
    # Nothing logged before the restored step was cut; steps 10-12 were appended once.
    assert _metric_steps(cfg) == logged_before + [10, 11, 12]
    assert tf.train.latest_checkpoint(_ckpt(cfg)).endswith("ckpt-12")


# --- 2. a truncated checkpoint ---------------------------------------------------------------
def test_truncated_checkpoint_falls_back_to_previous_with_warning(base_run, tmp_path):
    cfg = _copy(base_run, tmp_path)
    _truncate(_ckpt(cfg, "ckpt-9"))
    # Evaluation and export restore through restore_run.
    warnings = []
    trainer, latest = runs.restore_run(cfg.output_dir, log=warnings.append)
    assert latest == _ckpt(cfg, "ckpt-6") and int(trainer.step.numpy()) == 6
    assert len(warnings) == 1 and "ckpt-9 is damaged" in warnings[0] and "ckpt-6" in warnings[0]
    # Training redoes steps 7-9 from ckpt-6; records of steps <= 6 stay.
    messages = []
    r = train.run(cfg, log=messages.append)
    assert r.step == 9
    assert any(
        "ckpt-9 is damaged" in m and m.endswith("falling back to " + latest) for m in messages
    )
    assert any(m.endswith("at step 6") for m in messages)
    assert _metric_steps(cfg) == list(range(1, 10))
    assert runs.checkpoint_problem(_ckpt(cfg, "ckpt-9")) is None  # rewritten whole


def test_no_intact_checkpoint_refuses_and_changes_nothing(base_run, tmp_path, capsys):
    cfg = _copy(base_run, tmp_path, train_steps=12)
    for n in (3, 6, 9):
        _truncate(_ckpt(cfg, f"ckpt-{n}"))
    before = _snapshot(cfg.output_dir)
    code, lines = _main_cli_error(cfg, capsys)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("error:") and "none is intact" in lines[0] and "ckpt-3" in lines[0]
    assert _snapshot(cfg.output_dir) == before
    with pytest.raises(runs.RunDirError, match="none is intact"):
        runs.restore_run(cfg.output_dir)


# --- 3. non-finite variables with finite losses ----------------------------------------------
def test_state_with_non_finite_variable_is_never_saved(tmp_path):
    # lr=1e4: after step 2 the losses are finite but D's BN moving variance holds inf (the
    # issue's case: BN in the MLP D, as before --d_norm's MLP default became none).
    cfg = toy_config(
        tmp_path, lr=1e4, batch_size=64, seed=7, mlp_depth=4, mlp_units=128, checkpoint_every=1,
        d_norm="separate",
    )  # fmt: skip
    messages = []
    r = train.run(cfg, log=messages.append)
    assert r.status == "diverged" and r.exit_code == experiment.EXIT_NAN
    assert any("non-finite values after step 2" in m and "moving_variance" in m for m in messages)
    assert runs.checkpoint_numbers(_ckpt(cfg)) == [1]
    assert runs.checkpoint_problem(_ckpt(cfg, "ckpt-1")) is None
    assert tf.train.latest_checkpoint(_ckpt(cfg)).endswith("ckpt-1")


def test_checkpoint_with_non_finite_values_is_not_called_good(base_run, tmp_path):
    cfg = _copy(base_run, tmp_path)
    trainer, _ = runs.restore_run(cfg.output_dir, log=QUIET)
    bn = next(v for v in trainer.generator.variables if "moving_variance" in v.path)
    bn.assign(np.full(bn.shape, np.inf, np.float32))
    assert any("moving_variance" in name for name in runs.nonfinite_variables(trainer.checkpoint))
    trainer.checkpoint.write(_ckpt(cfg, "ckpt-9"))  # as an unguarded writer would have
    assert "non-finite values" in runs.checkpoint_problem(_ckpt(cfg, "ckpt-9"))
    warnings = []
    _, latest = runs.restore_run(cfg.output_dir, log=warnings.append)
    assert latest.endswith("ckpt-6") and "non-finite" in warnings[0]


# --- 4. two processes on one run directory ---------------------------------------------------
HOLDER = (
    "import sys, time\n"
    "from tf_amgan import runs\n"
    "lock = runs.lock_run_dir(sys.argv[1])\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


def test_second_process_is_refused_and_killed_holder_releases_lock(base_run, tmp_path, capsys):
    cfg = _copy(base_run, tmp_path, train_steps=12)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, cfg.output_dir], stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _snapshot(cfg.output_dir)
        t0 = time.perf_counter()
        code, lines = _main_cli_error(cfg, capsys)
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error:")
        assert f"pid {holder.pid} on {socket.gethostname()}" in lines[0] and "-c" in lines[0]
        assert time.perf_counter() - t0 < 30  # refused before any training
        assert _snapshot(cfg.output_dir) == before
    finally:
        holder.kill()  # SIGKILL: no chance to clean up
        holder.wait()
    r = train.run(cfg, log=QUIET)
    assert r.step == 12 and _metric_steps(cfg) == list(range(1, 13))


# --- 5. checkpoints without config.json -------------------------------------------------------
def test_checkpoints_without_config_json_keep_their_configuration(base_run, tmp_path):
    cfg = _copy(base_run, tmp_path, train_steps=12)
    os.remove(os.path.join(cfg.output_dir, "config.json"))
    with pytest.raises(config_lib.ConfigError, match="checkpoints/config.json: model"):
        train.run(cfg.replace(model="labelgan"), log=QUIET)
    assert not os.path.exists(os.path.join(cfg.output_dir, "config.json"))
    messages = []
    r = train.run(cfg, log=messages.append)
    assert r.step == 12 and any(m.endswith("at step 9") for m in messages)
    with open(os.path.join(cfg.output_dir, "config.json")) as f:
        restored = f.read()
    with open(_ckpt(cfg, "config.json")) as f:
        assert restored == f.read()


def test_checkpoints_with_no_configuration_at_all_are_refused(base_run, tmp_path):
    cfg = _copy(base_run, tmp_path)
    os.remove(os.path.join(cfg.output_dir, "config.json"))
    os.remove(_ckpt(cfg, "config.json"))
    before = _snapshot(cfg.output_dir)
    for attempt in (cfg, cfg.replace(resume=False), cfg.replace(model="labelgan")):
        with pytest.raises(runs.RunDirError, match="configuration cannot be established"):
            train.run(attempt, log=QUIET)
    assert _snapshot(cfg.output_dir) == before


# --- 6. export names and directories, checked before any work ----------------------------------
@pytest.mark.parametrize("name", ["..", ".", "../../evil", "a/b", "a\\b"])
def test_export_model_name_must_be_one_directory_name(tmp_path, name):
    with pytest.raises(config_lib.ConfigError, match="cannot name a model directory"):
        toy_config(tmp_path, export_dir=str(tmp_path / "e"), export_model_name=name)
    with pytest.raises(ValueError, match="cannot name a model directory"):
        export.check_target(str(tmp_path / "e"), name)
    assert not (tmp_path / "run").exists() and not (tmp_path / "e").exists()


def test_export_dir_must_be_writable_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for export_dir, message in (
        (str(blocker), "is a file"),
        (str(blocker / "sub"), "is not a directory"),
        ("/proc/tf_amgan_faults/export", "is not writable"),
    ):
        cfg = toy_config(tmp_path, export_dir=export_dir)
        code, lines = _main_cli_error(cfg, capsys)
        assert code == 2 and len(lines) == 1 and message in lines[0], lines
        assert lines[0].startswith("error: --export_dir=")
    assert not (tmp_path / "run").exists()


def _command(args):
    """run_experiment.py in a fresh process (absl parses the global FLAGS once per process)."""
    return subprocess.run(
        [sys.executable, "run_experiment.py", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=300,
    )


def test_commands_refuse_bad_export_names_at_once(tmp_path, capsys):
    res = _command(
        [
            "--dataset=ring8",
            "--mlp_depth=2",
            "--mlp_units=16",
            "--z_dim=8",
            "--batch_size=16",
            "--train_steps=2",
            f"--output_dir={tmp_path / 'run'}",
            f"--export_dir={tmp_path / 'e'}",
            "--export_model_name=../../evil",
        ]
    )
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and lines[-1].startswith("error: --export_model_name="), res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "run").exists()
    # python -m tf_amgan.export, in process: the name is refused before the run is read.
    capsys.readouterr()
    args = ["--run_dir", str(tmp_path), "--export_dir", str(tmp_path / "e"), "--model_name", ".."]
    assert export.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --model_name='..' cannot name a model directory"), err
    assert not os.path.exists(tmp_path / "1")


# --- 7. one `error:` line and exit code 2 instead of tracebacks ---------------------------------
def test_bad_output_dirs_fail_with_one_line(base_run, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    garbage = _copy(base_run, tmp_path)
    with open(os.path.join(garbage.output_dir, "config.json"), "w") as f:
        f.write("{ not json")
    for cfg, message in (
        (base_run.replace(output_dir=str(blocker)), "is a file"),
        (base_run.replace(output_dir="/proc/tf_amgan_faults/run"), "is not writable"),
        (garbage, "config.json is not a valid run configuration"),
    ):
        code, lines = _main_cli_error(cfg, capsys)
        assert code == 2 and len(lines) == 1, lines
        assert lines[0].startswith("error:") and message in lines[0], lines


def test_non_utf8_flagfile_fails_with_one_line(tmp_path, capsys):
    flagfile = tmp_path / "bad.cfg"
    flagfile.write_bytes(b"--dataset=ring8\n--seed=\xff\xfe\n")
    res = _command([f"--flagfile={flagfile}", f"--output_dir={tmp_path / 'run'}"])
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: --flagfile={flagfile} is not UTF-8 text")
    # The other commands parse through the same tf_amgan.commandline.
    assert export.main([f"--flagfile={flagfile}"]) == 2
    assert capsys.readouterr().err.startswith(f"error: --flagfile={flagfile} is not UTF-8 text")


def test_disk_full_during_checkpoint_names_last_intact_checkpoint(
    base_run, tmp_path, capsys, monkeypatch
):
    cfg = _copy(base_run, tmp_path, train_steps=12)
    write = tf.train.Checkpoint._write

    def full_disk(self, prefix, *args, **kwargs):
        if prefix.endswith("ckpt-12"):
            os.makedirs(prefix + "_temp", exist_ok=True)  # what TF leaves when a write fails
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), prefix + "_temp")
        return write(self, prefix, *args, **kwargs)

    monkeypatch.setattr(tf.train.Checkpoint, "_write", full_disk)
    code, lines = _main_cli_error(cfg, capsys)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), lines
    assert "ckpt-12" in lines[0] and "No space left on device" in lines[0]
    assert lines[0].endswith(
        f"the last intact checkpoint is {_ckpt(cfg, 'ckpt-9')} "
        "(rerun the same command to resume from it)"
    )
    monkeypatch.undo()
    # The next start removes the leftover and resumes from that checkpoint.
    messages = []
    assert train.run(cfg, log=messages.append).step == 12
    assert any(m.endswith("at step 9") for m in messages)
    assert not os.path.exists(_ckpt(cfg, "ckpt-12_temp"))


# --- 8. serving edge cases ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def image_exports(tmp_path_factory):
    """Untrained Fashion-MNIST-shaped exports (no data needed): dynamic, and predefined."""
    tmp = tmp_path_factory.mktemp("serving")
    paths = {}
    for labeling, model in (("dynamic", "amgan"), ("predefined", "acgan_plus")):
        cfg = image_config(tmp, model=model, labeling=labeling)
        info = data.get_info(cfg.dataset, **cfg.data_options)
        trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
        paths[labeling] = export.export_generator(
            trainer, str(tmp / "export"), labeling, standing_stats_batches=1
        )
    return cfg.z_dim, paths


@pytest.mark.parametrize("labeling", ["dynamic", "predefined"])
def test_empty_batch_returns_empty_outputs(image_exports, labeling):
    z_dim, paths = image_exports
    serve = tf.saved_model.load(paths[labeling]).signatures["serving_default"]
    inputs = {"noise": tf.zeros([0, z_dim])}
    if labeling == "predefined":
        inputs["labels"] = tf.zeros([0], tf.int32)
    out = serve(**inputs)
    assert out["images"].shape == (0, 32, 32, 1) and out["classes"].shape == (0,)


def test_wrong_rank_inputs_say_the_expected_shape(image_exports):
    z_dim, paths = image_exports
    dynamic = tf.saved_model.load(paths["dynamic"]).signatures["serving_default"]
    for bad in (tf.zeros([5]), tf.zeros([2, z_dim, 1])):
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=rf"noise must be float32 \[N, {z_dim}\]"
        ):
            dynamic(noise=bad)
    predefined = tf.saved_model.load(paths["predefined"]).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be int32 \[N\]"):
        predefined(noise=tf.zeros([2, z_dim]), labels=tf.zeros([2, 1], tf.int32))


# --- 9. leftovers of killed processes -------------------------------------------------------------
def test_leftovers_of_killed_processes_are_removed_on_next_start(base_run, tmp_path):
    cfg = _copy(base_run, tmp_path, export_dir=str(tmp_path / "export"))
    leftovers = [
        _ckpt(cfg, "ckpt-12_temp"),  # a kill in the middle of a checkpoint
        os.path.join(cfg.export_dir, ".tmp-1-x1y2z3"),  # a kill in the middle of an export
    ]
    for d in leftovers:
        os.makedirs(d)
    os.makedirs(os.path.join(leftovers[1], "model", "variables"))
    for f in (_ckpt(cfg, "checkpoint.tmp1a2b3c"), os.path.join(cfg.output_dir, ".tmp-q9w8e7")):
        open(f, "w").close()
        leftovers.append(f)
    r = train.run(cfg, log=QUIET)  # already at step 9: resumes, then exports
    assert r.status == "completed" and r.export_path.endswith(os.path.join("amgan", "1"))
    assert [p for p in leftovers if os.path.exists(p)] == []
    assert [n for n in os.listdir(cfg.export_dir) if n.startswith(".tmp")] == []


def test_export_leftovers_in_use_are_kept_until_their_export_ends(tmp_path):
    export_dir = str(tmp_path / "export")
    in_use = os.path.join(export_dir, ".tmp-3-running")
    os.makedirs(in_use)
    other = export.lock_export_dir(export_dir)  # a running export holds the lock
    removed = []
    cleaner = threading.Thread(target=lambda: removed.extend(export.clean_leftovers(export_dir)))
    cleaner.start()
    time.sleep(0.5)
    assert cleaner.is_alive() and os.path.isdir(in_use)
    other.release()  # that export ended (or was killed) without removing its folder
    cleaner.join(timeout=30)
    assert removed == [in_use] and not os.path.exists(in_use)
