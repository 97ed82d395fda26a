"""Generator export for TF Serving: layout, signatures, inference-mode independence, fresh-process load."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config

from tf_amgan import export, train


@pytest.fixture(scope="module")
def predefined_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pre")
    cfg = image_config(
        tmp, model="acgan_plus", labeling="predefined", export_dir=str(tmp / "export")
    )
    r = train.run(cfg, log=lambda *a: None)
    return cfg, r.export_path


@pytest.fixture(scope="module")
def dynamic_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dyn")
    cfg = image_config(
        tmp,
        model="amgan",
        labeling="dynamic",
        export_dir=str(tmp / "export"),
        export_model_name="am",
    )
    r = train.run(cfg, log=lambda *a: None)
    return cfg, r.export_path


def test_layout_and_versions(predefined_run, tmp_path):
    cfg, path = predefined_run
    assert path.endswith(os.path.join("acgan_plus", "1"))
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    # No temporary directories left behind.
    assert [n for n in os.listdir(cfg.export_dir) if n.startswith(".tmp")] == []
    again = export.export_run(cfg.output_dir, cfg.export_dir, standing_stats_batches=1)
    assert again.endswith(os.path.join("acgan_plus", "2"))
    assert export.next_version(os.path.join(cfg.export_dir, "acgan_plus")) == 3


def test_predefined_signature_and_row_independence(predefined_run):
    cfg, path = predefined_run
    fn = tf.saved_model.load(path).signatures["serving_default"]
    z = tf.random.stateless_normal([6, cfg.z_dim], [1, 2])
    labels = tf.constant([0, 1, 2, 3, 9, 5], tf.int32)
    out = fn(noise=z, labels=labels)
    assert out["images"].shape == (6, 32, 32, 1) and out["images"].dtype == tf.float32
    assert np.array_equal(out["classes"].numpy(), labels.numpy())
    assert float(tf.reduce_max(tf.abs(out["images"]))) <= 1.0
    single = fn(noise=z[:1], labels=labels[:1])["images"]
    np.testing.assert_allclose(single.numpy()[0], out["images"].numpy()[0], atol=1e-5)


def test_bad_inputs_raise(predefined_run):
    cfg, path = predefined_run
    fn = tf.saved_model.load(path).signatures["serving_default"]
    z = tf.zeros([2, cfg.z_dim])
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes"):
        fn(noise=z, labels=tf.constant([0, 10], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match=">= 0"):
        fn(noise=z, labels=tf.constant([-1, 0], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same N"):
        fn(noise=z, labels=tf.constant([0, 1, 2], tf.int32))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        fn(noise=tf.zeros([2, cfg.z_dim + 1]), labels=tf.constant([0, 1], tf.int32))


def test_dynamic_classes_and_sample_signature(dynamic_run):
    cfg, path = dynamic_run
    assert path.endswith(os.path.join("am", "1"))
    loaded = tf.saved_model.load(path)
    out = loaded.signatures["serving_default"](noise=tf.random.normal([5, cfg.z_dim]))
    classes = out["classes"].numpy()
    assert classes.shape == (5,) and classes.min() >= 0 and classes.max() < 10
    s1 = loaded.signatures["sample"](num_samples=tf.constant(4), seed=tf.constant(7))
    s2 = loaded.signatures["sample"](num_samples=tf.constant(4), seed=tf.constant(7))
    assert s1["images"].shape == (4, 32, 32, 1)
    np.testing.assert_array_equal(s1["images"].numpy(), s2["images"].numpy())
    # sample(...) is serving_default on its own noise.
    direct = loaded.signatures["serving_default"](noise=s1["noise"])
    np.testing.assert_allclose(direct["images"].numpy(), s1["images"].numpy(), atol=1e-6)


def test_saved_model_cli_show_and_run(predefined_run, tmp_path):
    cfg, path = predefined_run
    cli = [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    show = subprocess.run(
        cli + ["show", "--dir", path, "--all"], capture_output=True, text=True, env=env, check=True
    ).stdout
    for token in (
        "serving_default",
        "noise",
        "labels",
        "images",
        "classes",
        "sample",
        "num_samples",
    ):
        assert token in show
    np.save(tmp_path / "z.npy", np.random.RandomState(0).randn(3, cfg.z_dim).astype(np.float32))
    np.save(tmp_path / "y.npy", np.array([1, 2, 3], np.int32))
    subprocess.run(
        cli
        + [
            "run",
            "--dir",
            path,
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--inputs",
            f"noise={tmp_path / 'z.npy'};labels={tmp_path / 'y.npy'}",
            "--outdir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    images = np.load(tmp_path / "out" / "images.npy")
    expected = tf.saved_model.load(path).signatures["serving_default"](
        noise=tf.constant(np.load(tmp_path / "z.npy")), labels=tf.constant([1, 2, 3])
    )["images"]
    np.testing.assert_allclose(images, expected.numpy(), atol=1e-5)


def test_fresh_process_load_with_only_tensorflow(predefined_run, tmp_path):
    cfg, path = predefined_run
    z = np.random.RandomState(1).randn(2, cfg.z_dim).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    code = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        f"f = tf.saved_model.load({path!r}).signatures['serving_default']\n"
        f"o = f(noise=tf.constant(np.load({str(tmp_path / 'z.npy')!r})), labels=tf.constant([4, 5]))\n"
        "print(json.dumps({'images': o['images'].numpy().tolist(), 'mods': 'tf_amgan' in sys.modules}))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        check=True,
    )
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["mods"] is False
    expected = (
        tf.saved_model.load(path)
        .signatures["serving_default"](noise=tf.constant(z), labels=tf.constant([4, 5]))["images"]
        .numpy()
    )
    np.testing.assert_allclose(np.array(got["images"], np.float32), expected, atol=1e-5)


def test_export_command(dynamic_run, tmp_path):
    cfg, _ = dynamic_run
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "tf_amgan.export",
            "--run_dir",
            cfg.output_dir,
            "--export_dir",
            str(tmp_path / "e"),
            "--model_name",
            "served",
            "--standing_stats_batches",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith(os.path.join("served", "1"))
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "tf_amgan.export",
            "--run_dir",
            str(tmp_path / "none"),
            "--export_dir",
            str(tmp_path / "e"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "no config.json" in bad.stderr
