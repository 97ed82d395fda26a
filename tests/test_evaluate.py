"""The evaluate command and the evaluation runner: end to end on tiny exported generators and run
directories, error exits, real-feature caching and the periodic (training-loop) evaluator."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import image_config, toy_config

from tf_amgan import classifiers as C
from tf_amgan import evaluate, evaluation, train

IMAGE_KEYS = ("is", "is_std", "is_full", "am", "am_std", "am_kl", "am_entropy", "acc",
              "acc_overall", "msssim_max", "msssim_mean", "fid", "precision", "recall",
              "mode_score", "am_v1")  # fmt: skip


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cls") / "fashion_mnist"
    C.train_classifier("fashion_mnist", str(out), epochs=1, max_train_samples=1000, seed=0)
    return str(out)


@pytest.fixture(scope="module")
def predefined_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pre")
    cfg = image_config(tmp, model="acgan_plus", labeling="predefined", export_dir=str(tmp / "exp"))
    result = train.run(cfg, log=lambda *a: None)
    return cfg, result.export_path


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    cfg = toy_config(tmp, export_dir=str(tmp / "exp"))
    result = train.run(cfg, log=lambda *a: None)
    return cfg, result.export_path


def _run_main(argv, capsys):
    code = evaluate.main(argv)
    captured = capsys.readouterr()
    return code, captured.out.strip().splitlines(), captured.err.strip().splitlines()


def _assert_finite(record, keys):
    for key in keys:
        assert isinstance(record[key], float) and math.isfinite(record[key]), key


def test_saved_model_model_dir_end_to_end(predefined_run, classifier_dir, capsys):
    cfg, export_path = predefined_run
    model_dir = os.path.dirname(export_path)  # <export>/acgan_plus: highest version is taken
    argv = [f"--generator={model_dir}", f"--classifier={classifier_dir}", "--num_samples=300",
            "--metrics=is,am,am_v1,mode,acc,msssim,fid,prd", "--prd_samples=100",
            "--real_samples=2000", "--batch_size=128", "--msssim_pairs=20"]  # fmt: skip
    code, out, err = _run_main(argv, capsys)
    assert code == 0, err
    assert len(out) == 1
    record = json.loads(out[0])
    _assert_finite(record, IMAGE_KEYS)
    meta = record["meta"]
    assert meta["num_samples"] == 300 and meta["source"]["type"] == "saved_model"
    assert (
        meta["source"]["version"] == "1" and meta["dataset"] == "fashion_mnist"
    )  # from classifier
    assert meta["classifier"]["path"] == classifier_dir and meta["inception"] is None
    assert meta["is_network"] == "dataset" and meta["feature_network"] == "dataset"
    assert (
        meta["msssim"]["grouping"] == "conditioning"
        and meta["acc_reference"] == "conditioning_label"
    )
    assert meta["real"]["num_samples"] == 2000 and meta["real"]["cached"] is False
    assert meta["prd"] == {"k": 3, "num_samples": 100} and meta["seconds"] > 0
    assert 0.0 <= record["acc"] <= 1.0 and 0.0 <= record["msssim_max"] <= 1.0
    assert record["am"] >= 0.0 and record["is"] >= 1.0 - 1e-9
    written = os.path.join(model_dir, "1.eval.json")
    assert meta["output"] == written
    with open(written) as f:
        assert json.load(f) == record
    assert any(
        n.endswith("-prd100.npy") for n in os.listdir(os.path.join(classifier_dir, "real_stats"))
    )

    # Same seed, same samples: identical metrics; the real statistics now come from the cache.
    again = os.path.join(os.path.dirname(model_dir), "again.json")
    code, out, _ = _run_main(argv + [f"--output={again}", "--noprogress"], capsys)
    assert code == 0
    second = json.loads(out[0])
    assert second["meta"]["real"]["cached"] is True and os.path.exists(again)
    for key in IMAGE_KEYS:
        assert second[key] == pytest.approx(record[key], rel=1e-9, abs=1e-12), key


def test_run_dir_end_to_end(predefined_run, classifier_dir, capsys):
    cfg, _ = predefined_run
    code, out, err = _run_main([f"--generator={cfg.output_dir}", f"--classifier={classifier_dir}",
                                "--num_samples=200", "--metrics=am,is,acc"], capsys)  # fmt: skip
    assert code == 0, err
    assert any(line.startswith("sampled 200/200") for line in err)  # progress bar on stderr
    record = json.loads(out[0])
    _assert_finite(record, ("am", "is", "acc"))
    assert record["step"] == 2 and record["meta"]["source"]["type"] == "run_dir"
    assert record["meta"]["source"]["checkpoint"].endswith("ckpt-2")
    path = os.path.join(cfg.output_dir, "eval", "step_00000002.json")
    with open(path) as f:
        assert json.load(f)["am"] == record["am"]


def test_toy_run_dir_and_saved_model(toy_run, capsys):
    cfg, export_path = toy_run
    code, out, err = _run_main([f"--generator={cfg.output_dir}", "--num_samples=1000"], capsys)
    assert code == 0, err
    record = json.loads(out[0])
    _assert_finite(record, ("nll", "mode_coverage", "modes_covered", "hq_fraction"))
    assert record["meta"]["dataset"] == "ring8" and 0 <= record["mode_coverage"] <= 1
    assert record["meta"]["metrics"] == ["nll", "modes", "hq"]

    code, out, err = _run_main([f"--generator={export_path}", "--dataset=ring8", "--num_samples=500",
                                "--metrics=nll,am,is,acc"], capsys)  # fmt: skip
    assert code == 0, err
    record = json.loads(out[0])
    _assert_finite(record, ("nll", "am", "is", "acc"))
    assert record["meta"]["classifier"]["kind"] == "mixture_posterior"
    assert record["meta"]["acc_reference"] == "model_class"

    code, out, err = _run_main([f"--generator={export_path}", "--num_samples=100"], capsys)
    assert code == 2 and out == [] and len(err) == 1 and err[0].startswith("error: ")
    assert "--dataset" in err[0]
    code, out, err = _run_main([f"--generator={cfg.output_dir}", "--metrics=fid"], capsys)
    assert code == 2 and len(err) == 1 and "unsupported metric" in err[0]


def test_command_errors_exit_2_with_one_line(tmp_path, toy_run, capsys):
    cfg, _ = toy_run
    # As a real process: `python -m tf_amgan.evaluate` (flag error; error after TF import).
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    cases = {
        "bad flag": (["--generator=x", "--num_samples=many"], "invalid literal for int()"),
        "missing generator": ([f"--generator={tmp_path / 'none'}"], "does not exist"),
    }
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "tf_amgan.evaluate", *argv], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (argv, _) in cases.items()
    }  # fmt: skip
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        lines = err.strip().splitlines()
        assert proc.returncode == 2, (name, err)
        assert out == "" and len(lines) == 1 and lines[0].startswith("error: "), (name, err)
        assert cases[name][1] in lines[0], (name, lines)
    # In process: the other argument errors.
    for argv, expected in (
        ([f"--generator={cfg.output_dir}", f"--classifier={tmp_path}"], "no dataset classifier"),
        ([f"--generator={cfg.output_dir}", f"--inception_weights={tmp_path / 'x.pb'}"],
         C.INCEPTION_GRAPH_FILE),
        ([f"--generator={cfg.output_dir}", "--num_samples=0"], "must be positive"),
        ([f"--generator={cfg.output_dir}", "--dataset=imagenet"], "unknown --dataset"),
        (["--metrics=is"], "--generator must have a value"),
    ):  # fmt: skip
        code, out, err = _run_main(argv, capsys)
        assert code == 2 and out == [] and len(err) == 1, (argv, err)
        assert err[0].startswith("error: ") and expected in err[0], (argv, err)


def test_evaluate_with_keras_inception_standin(predefined_run, classifier_dir, tmp_path):
    _, export_path = predefined_run
    inputs = keras.Input((40, 40, 3))
    h = keras.layers.Conv2D(6, 3, strides=2, activation="relu")(inputs)
    h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(h)
    model = keras.Model(inputs, keras.layers.Dense(7, activation="softmax", name="predictions")(h))
    path = tmp_path / "standin.keras"
    model.save(path)
    inception = C.load_inception(str(path))
    options = evaluation.EvalOptions(metrics=("is", "fid", "am"), num_samples=200, batch_size=64,
                                     real_samples=300)  # fmt: skip
    result = evaluation.evaluate(evaluation.SavedModelSource(export_path), options,
                                 classifier=C.load_classifier(classifier_dir), inception=inception)  # fmt: skip
    assert result.meta["is_network"] == "keras_model" == result.meta["feature_network"]
    assert result.meta["inception"]["path"] == str(path)
    assert result.meta["real"]["stats_file"].startswith(f"{path}.real_stats")
    assert 1.0 <= result.metrics["is"] <= 7.0 and result.metrics["fid"] >= 0.0
    # The dataset classifier still computes the AM Score.
    assert result.meta["classifier"]["kind"] == "dataset" and result.metrics["am"] >= 0.0


def test_runner_rejects_mismatches(predefined_run, classifier_dir):
    _, export_path = predefined_run
    source = evaluation.SavedModelSource(export_path)
    options = evaluation.EvalOptions(metrics=("am",), num_samples=10)
    with pytest.raises(ValueError, match="need a dataset classifier"):
        evaluation.evaluate(source, options)
    with pytest.raises(ValueError, match="data set mismatch"):
        evaluation.evaluate(source, options, classifier=C.load_classifier(classifier_dir),
                            dataset="mnist")  # fmt: skip
    unpadded = C.DatasetClassifier(C.build_cnn((28, 28, 1), 10, filters=(4,), dense_units=8),
                                   {"dataset": "fashion_mnist", "class_prior": [0.1] * 10})  # fmt: skip
    with pytest.raises(ValueError, match="takes inputs of shape \\(28, 28, 1\\)"):
        evaluation.evaluate(source, options, classifier=unpadded)
    with pytest.raises(ValueError, match="msssim_grouping must be one of"):
        evaluation.evaluate(source, evaluation.EvalOptions(metrics=("msssim",), num_samples=10,
                                                           msssim_grouping="bogus"))  # fmt: skip


def _event_tags(logdir):
    tags = set()
    for root, _, files in os.walk(logdir):
        for name in files:
            if name.startswith("events"):
                for event in tf.compat.v1.train.summary_iterator(os.path.join(root, name)):
                    tags.update(v.tag for v in event.summary.value)
    return tags


def test_periodic_evaluator_appends_records(tmp_path, classifier_dir):
    cfg = image_config(tmp_path, eval_every=1, eval_samples=120, classifier=classifier_dir,
                       eval_metrics=("am", "is", "acc", "msssim"))  # fmt: skip
    evaluator = evaluation.make_periodic_evaluator(cfg)
    train.run(cfg, log=lambda *a: None, evaluator=evaluator)
    with open(os.path.join(cfg.output_dir, "eval.jsonl")) as f:
        records = [json.loads(line) for line in f]
    assert [r["step"] for r in records] == [1, 2]
    for r in records:
        _assert_finite(r, ("am", "is", "acc", "msssim_max"))
        assert r["num_samples"] == 120
    assert {"eval/am", "eval/is", "eval/acc", "eval/msssim_max"} <= _event_tags(
        os.path.join(cfg.output_dir, "tensorboard")
    )


def test_periodic_evaluator_on_toy_trainer_and_errors(toy_run, classifier_dir, tmp_path):
    cfg, _ = toy_run
    trainer = evaluation.run_dir_source(cfg.output_dir).trainer
    out_cfg = cfg.replace(output_dir=str(tmp_path / "t"), eval_samples=400,
                          eval_metrics=("nll", "modes", "hq", "am"))  # fmt: skip
    evaluator = evaluation.make_periodic_evaluator(out_cfg)  # 2-D: no classifier needed
    first, second = evaluator(trainer, 6), evaluator(trainer, 6)
    assert first["step"] == 6 and first["nll"] == second["nll"]  # same noise every evaluation
    _assert_finite(first, ("nll", "mode_coverage", "hq_fraction", "am"))
    with open(tmp_path / "t" / "eval.jsonl") as f:
        assert len(f.readlines()) == 2
    with pytest.raises(ValueError, match="need --classifier"):
        evaluation.make_periodic_evaluator(image_config(tmp_path, eval_metrics=("am",)))
    with pytest.raises(ValueError, match="trained on 'fashion_mnist'"):
        evaluation.make_periodic_evaluator(cfg.replace(classifier=classifier_dir))
    with pytest.raises(ValueError, match="unknown or unsupported"):
        evaluation.make_periodic_evaluator(cfg.replace(eval_metrics=("bogus",)))


def test_open_source_resolution(tmp_path, predefined_run):
    _, export_path = predefined_run
    assert evaluation.resolve_saved_model(export_path) == export_path
    assert evaluation.resolve_saved_model(os.path.dirname(export_path)) == export_path
    assert evaluation.resolve_saved_model(str(tmp_path)) is None
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        evaluation.open_source(str(tmp_path))
    # record() turns non-finite numbers into null (JSON has no NaN).
    record = evaluation.EvalResult({"x": float("nan")}, {"step": 3, "y": [np.inf, 1.0]}).record()
    assert record == {"step": 3, "x": None, "meta": {"step": 3, "y": [None, 1.0]}}
