"""run_experiment.py as users call it: flags, flagfiles, errors, progress, multi-worker training."""

import copy
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
    "TF_AMGAN_NO_DOWNLOAD": "1",
}
TOY = [
    "--dataset=ring8",
    "--mlp_depth=2",
    "--mlp_units=16",
    "--z_dim=8",
    "--batch_size=16",
    "--log_every=2",
    "--checkpoint_every=2",
    "--sample_every=0",
]


def _run(args, timeout=300, env=None):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "run_experiment.py"), *args],
        capture_output=True,
        text=True,
        env=env or ENV,
        timeout=timeout,
        cwd=ROOT,
    )


def test_help_documents_every_flag():
    out = _run(["--help"]).stdout
    for name in (
        "--model",
        "--labeling",
        "--dataset",
        "--train_steps",
        "--batch_size",
        "--output_dir",
        "--seed",
        "--strategy",
        "--export_dir",
        "--flagfile",
        "--mixed_precision",
        "--jit_compile",
        "--resume",
        "--ema_decay",
    ):
        assert name in out or name.replace("--", "--[no]") in out, name


def test_trains_toy_run_with_progress(tmp_path):
    res = _run(
        [
            "--model=acgan_plus",
            "--labeling=dynamic",
            *TOY,
            "--train_steps=4",
            f"--output_dir={tmp_path / 'run'}",
        ]
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1])["status"] == "completed"
    assert "step 4/4" in res.stderr  # progress line
    assert os.path.exists(tmp_path / "run" / "config.json")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model=samgan", "--labeling=predefined"], "cannot use --labeling=predefined"),
        (["--batch_size=15", "--strategy=mirrored", "--num_cpu_devices=2"], "not divisible"),
        (["--dataset=cifar10"], "fashion_mnist"),
        (["--train_steps=0"], "--train_steps must be positive"),
    ],
)
def test_bad_flags_fail_with_one_line_and_no_run_dir(tmp_path, args, message):
    out = tmp_path / "run"
    res = _run([*TOY, *args, f"--output_dir={out}", f"--data_dir={tmp_path / 'tfds'}"], timeout=120)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert lines[-1].startswith("error:") and message in lines[-1], res.stderr
    assert not out.exists()


def test_flagfiles_parse_and_validate():
    from absl import flags as absl_flags

    from tf_amgan.training import config, flags

    flags.define_flags()
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "flags")) if f.endswith(".cfg"))
    assert "quickstart.cfg" in files
    for name in files:
        fv = absl_flags.FlagValues()
        for flag_name, flag in absl_flags.FLAGS._flags().items():
            if flag_name == flag.name and flag_name not in fv:
                fv[flag_name] = copy.deepcopy(flag)  # fresh: no values leak between flagfiles
                fv[flag_name].unparse()
        argv = fv(["prog", f"--flagfile={os.path.join(ROOT, 'flags', name)}"], known_only=True)
        assert argv == ["prog"], name
        config.Config.from_flags(fv).validate()


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


WORKER = r"""
import hashlib, json, sys
import numpy as np
from tf_amgan.training import config
from tf_amgan import train
cfg = config.Config.from_dict(json.loads(sys.argv[1]))
captured = {}
from tf_amgan.training import trainer as trainer_lib
init = trainer_lib.GANTrainer.__init__
def keep(self, *a, **k):
    init(self, *a, **k); captured["t"] = self
trainer_lib.GANTrainer.__init__ = keep
r = train.run(cfg, log=lambda *a: None)
t = captured["t"]
h = hashlib.sha256()
for v in t.generator.weights + t.discriminator.weights + t.g_optimizer.variables:
    h.update(np.ascontiguousarray(np.array(v)).tobytes())
print(json.dumps({"status": r.status, "step": r.step, "hash": h.hexdigest(), "export": r.export_path}))
"""


def test_multi_worker_two_processes(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    cfg = dict(
        model="amgan",
        dataset="ring8",
        mlp_depth=2,
        mlp_units=16,
        z_dim=8,
        batch_size=16,
        train_steps=4,
        log_every=2,
        checkpoint_every=2,
        sample_every=0,
        progress=False,
        strategy="multi_worker",
        output_dir=str(tmp_path / "run"),
        export_dir=str(tmp_path / "export"),
        standing_stats_batches=1,
        seed=1,
    )
    procs = []
    for i in range(2):
        env = {
            **ENV,
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, json.dumps(cfg)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=ROOT,
            )
        )
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        assert p.returncode == 0, stderr[-3000:]
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    assert outs[0]["status"] == outs[1]["status"] == "completed"
    assert outs[0]["hash"] == outs[1]["hash"]
    # Only the chief (worker 0) wrote checkpoints and the export.
    assert outs[0]["export"] and outs[1]["export"] is None
    assert sorted(os.listdir(tmp_path / "export" / "amgan")) == ["1"]
    assert any(n.startswith("ckpt-4") for n in os.listdir(tmp_path / "run" / "checkpoints"))


def _final_weights(run_dir):
    import tensorflow as tf

    from tf_amgan import data
    from tf_amgan.training import config, distribute
    from tf_amgan.training import trainer as trainer_lib

    cfg = config.load(run_dir)
    t = trainer_lib.GANTrainer(
        cfg, distribute.get_strategy("default"), data.get_info(cfg.dataset, **cfg.data_options)
    )
    t.checkpoint.restore(
        tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    ).assert_existing_objects_matched()
    return int(t.step.numpy()), [
        np.array(v) for v in t.generator.weights + t.discriminator.weights + t.d_optimizer.variables
    ]


def _wait_for_checkpoint(run_dir, proc, timeout=120):
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(os.path.join(run_dir, "checkpoints", "checkpoint")):
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


KILL_ARGS = [*TOY, "--model=acgan_plus", "--train_steps=150", "--checkpoint_every=11", "--seed=11"]


def test_sigkill_at_any_moment_then_resume_equals_uninterrupted(tmp_path):
    import signal
    import time

    ref = _run([*KILL_ARGS, f"--output_dir={tmp_path / 'ref'}"])
    assert ref.returncode == 0, ref.stderr
    run_dir = str(tmp_path / "killed")
    args = [
        sys.executable,
        os.path.join(ROOT, "run_experiment.py"),
        *KILL_ARGS,
        f"--output_dir={run_dir}",
    ]
    for delay in (0.0, 0.37):  # right after the first checkpoint, then part-way through the run
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
        )
        _wait_for_checkpoint(run_dir, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
    done = _run([*KILL_ARGS, f"--output_dir={run_dir}"])
    assert done.returncode == 0, done.stderr
    step_a, wa = _final_weights(str(tmp_path / "ref"))
    step_b, wb = _final_weights(run_dir)
    assert step_a == step_b == 150
    for x, y in zip(wa, wb, strict=True):
        np.testing.assert_array_equal(x, y)


def test_sigterm_checkpoints_and_stops(tmp_path):
    import signal

    run_dir = str(tmp_path / "run")
    args = [
        sys.executable,
        os.path.join(ROOT, "run_experiment.py"),
        *TOY,
        "--train_steps=100000",
        "--checkpoint_every=100000",
        f"--output_dir={run_dir}",
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )
    import time

    deadline = time.time() + 120
    metrics = os.path.join(run_dir, "metrics.jsonl")
    while not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "checkpoint saved" in stderr or "checkpoint saved" in _
    step, _w = _final_weights(run_dir)
    assert 0 < step < 100000
