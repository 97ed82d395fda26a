"""The experiment scripts (experiments/p00*.py) end to end at a tiny step count, and the shared
run-and-report loop (tf_amgan.study.runreport) they are built on."""

import argparse
import importlib.util
import json
import os

import numpy as np
import pytest
from PIL import Image

from tf_amgan import classifiers
from tf_amgan.study import runreport

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = "--train_steps=20"


def _script(name):
    spec = importlib.util.spec_from_file_location(
        f"experiment_{name}", os.path.join(ROOT, "experiments", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _strict_json(path):
    def no_constants(name):
        raise AssertionError(f"{path}: {name} is not JSON")

    with open(path, encoding="utf-8") as f:
        return json.loads(f.read(), parse_constant=no_constants)


def _table_rows(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    assert lines[1].startswith("|---|")
    width = lines[0].count("|")
    rows = [line for line in lines[2:] if line.startswith("|")]
    assert all(r.count("|") == width for r in rows), lines
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows]


def _no_temporaries(directory):
    assert [n for n in os.listdir(directory) if n.startswith(".tmp")] == []


def test_p003_clusters4(tmp_path, capsys):
    script = _script("p003_clusters4")
    out, runs = tmp_path / "out", tmp_path / "runs"
    argv = ["--flagfiles=flags/p003_clusters4_creg0p1.cfg", STEPS, f"--out={out}",
            f"--runs_dir={runs}"]  # fmt: skip
    assert script.main(argv) == 0
    name = "p003_clusters4_creg0p1"
    results = _strict_json(out / "results.json")
    assert len(results) == 1 and results[0] == _strict_json(out / f"{name}.json")
    r = results[0]
    assert r["name"] == name and r["model"] == "cgpgan" and r["train_steps"] == 20
    assert r["step"] == 20 and r["prior_kind"] == "dynamic" and r["lambda_creg"] == 0.1
    assert len(r["prior"]) == 16 and abs(sum(r["prior"]) - 1) < 1e-4
    assert 0.0 <= r["q_clustering_accuracy"] <= 1.0 and isinstance(r["passed"], bool)
    assert set(r["category_cluster"]) == {str(k) for k in r["active"]}
    rows = _table_rows(out / "table.md")
    assert len(rows) == 1 and rows[0][0] == name and rows[0][-1] in ("yes", "no")
    assert rows[0][8] == f"{r['q_clustering_accuracy']:.4f}"
    assert Image.open(out / f"{name}.png").size == (512, 512)
    assert os.path.isfile(runs / name / "checkpoints" / "checkpoint")
    _no_temporaries(out)
    # A finished run is only re-evaluated: same report.
    assert script.main(argv) == 0
    again = _strict_json(out / "results.json")[0]
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in r.items() if k != "seconds"
    }
    assert "| run | model |" in capsys.readouterr().out


def test_p002_overlap10(tmp_path):
    out = tmp_path / "out"
    argv = ["--flagfiles=flags/p002_overlap10_modegan.cfg,flags/p002_overlap10_gan.cfg", STEPS,
            f"--out={out}", f"--runs_dir={tmp_path / 'runs'}"]  # fmt: skip
    assert _script("p002_overlap10").main(argv) == 0
    results = _strict_json(out / "results.json")
    assert [r["run"] for r in results] == ["data", "p002_overlap10_modegan", "p002_overlap10_gan"]
    assert [r.get("model") for r in results] == [None, "modegan", "gan"]
    for r in results:
        assert r["mode_emphasis"] >= 0 and 0 <= r["covered"] <= 10 and 0 <= r["high_quality"] <= 1
    assert results[0]["covered"] == 10 and results[0]["mode_emphasis"] > 0.5  # the data's own
    rows = _table_rows(out / "table.md")
    assert [row[0] for row in rows] == [r["run"] for r in results]
    # Three panels of 80 x 120 bins at scale 4, 8 px gaps, 14 px titles.
    assert Image.open(out / "histograms.png").size == (3 * (320 + 8) + 8, 480 + 14 + 8)
    assert not (out / "p002_overlap10_gan.json").exists()  # this script writes one table only
    _no_temporaries(out)


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    out = tmp_path_factory.mktemp("cls") / "fashion_mnist"
    classifiers.train_classifier("fashion_mnist", str(out), epochs=1, max_train_samples=500,
                                 seed=0, arch_options={"filters": (8, 16), "dense_units": 32})  # fmt: skip
    return str(out)


@pytest.fixture(scope="module")
def fashion_runs(tmp_path_factory):
    """Run directories shared by the Fashion-MNIST tests: whichever runs first trains."""
    return tmp_path_factory.mktemp("fashion_runs")


def _fashion_argv(tmp_path, runs, *extra):
    return ["--flagfiles=flags/p003_fashion_creg50.cfg", STEPS, f"--out={tmp_path / 'out'}",
            f"--runs_dir={runs}", "--eval_samples=300", "--real_samples=600",
            "--prd_samples=150", "--test_images=300", *extra]  # fmt: skip


def test_p003_fashion_with_fid_precision_recall(tmp_path, tiny_classifier, fashion_runs):
    out = tmp_path / "out"
    script = _script("p003_fashion")
    assert (
        script.main(_fashion_argv(tmp_path, fashion_runs, f"--classifier={tiny_classifier}")) == 0
    )
    name = "p003_fashion_creg50"
    results = _strict_json(out / "results.json")
    assert len(results) == 1 and results[0] == _strict_json(out / f"{name}.json")
    r = results[0]
    assert r["model"] == "cgpgan" and r["train_steps"] == 20 and len(r["prior"]) == 32
    # The prior is only updated from step 2000: still uniform, all 32 categories active.
    assert r["num_active"] == 32 and r["active_categories"] == list(range(32))
    assert r["fid"] > 0 and 0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1
    assert 0 <= r["q_clustering_accuracy"] <= 1 and r["q_test_images"] == 300
    e = r["eval"]
    assert e["feature_network"] == "dataset" and e["network"]["path"] == tiny_classifier
    sizes = (e["num_samples"], e["real_samples"], e["prd_samples"], e["prd_k"])
    assert sizes == (300, 600, 150, 3)
    rows = _table_rows(out / "table.md")
    assert len(rows) == 1
    assert rows[0][6:9] == [f"{r[k]:.4f}" for k in ("fid", "precision", "recall")]
    assert "300 generated images" in open(out / "table.md").read()
    # One row of 10 per active category: 32 x 32 images, 1 px padding, scale 2.
    assert Image.open(out / f"{name}.png").size == ((10 * 33 + 1) * 2, (32 * 33 + 1) * 2)
    _no_temporaries(out)


def test_p003_fashion_without_classifier_reports_no_fid(tmp_path, fashion_runs, capsys):
    out = tmp_path / "out"
    assert _script("p003_fashion").main(_fashion_argv(tmp_path, fashion_runs)) == 0
    r = _strict_json(out / "results.json")[0]
    assert r["fid"] is None and r["precision"] is None and r["recall"] is None and "eval" not in r
    row = _table_rows(out / "table.md")[0]
    assert row[6:9] == ["-", "-", "-"]
    assert "no --classifier" in capsys.readouterr().err


def test_p003_fashion_rejects_a_classifier_of_another_data_set(tmp_path):
    cls = tmp_path / "ring"
    classifiers.train_classifier("ring8", str(cls), epochs=1, max_train_samples=200, seed=0)
    with pytest.raises(SystemExit, match="ring8"):
        _script("p003_fashion").main(
            _fashion_argv(tmp_path, tmp_path / "runs", f"--classifier={cls}")
        )
    assert not (tmp_path / "runs").exists()  # refused before any training


# ------------------------------------------------------------------------------ runreport


def _args(tmp_path, flagfiles, **kw):
    parser = argparse.ArgumentParser()
    runreport.add_arguments(parser, flagfiles, str(tmp_path / "out"))
    return parser.parse_args([f"--{k}={v}" for k, v in kw.items()])


def test_run_sweep_checks_flagfiles_before_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.cfg"):
        runreport.run_sweep(_args(tmp_path, ["flags/nope.cfg"]), dict, str, root=ROOT)
    with pytest.raises(ValueError, match="distinct"):
        runreport.run_sweep(
            _args(tmp_path, ["flags/quickstart.cfg", os.path.join(ROOT, "flags/quickstart.cfg")]),
            dict,
            str,
            root=ROOT,
        )
    assert not (tmp_path / "out").exists()


def test_run_sweep_writes_atomically_and_converts_numpy(tmp_path):
    flagfile = tmp_path / "toy.cfg"
    flagfile.write_text(
        "--model=amgan\n--dataset=ring8\n--mlp_depth=2\n--mlp_units=8\n--z_dim=4\n"
        "--batch_size=8\n--log_every=1\n--checkpoint_every=100\n--sample_every=0\n"
        f"--output_dir={tmp_path / 'run'}\n"
    )
    args = _args(tmp_path, [str(flagfile)], train_steps=2, seed=4)
    seen = []

    def report(run):
        seen.append(run)
        return {"step": np.int64(run.trainer.step.numpy()), "x": np.float32(0.5),
                "nan": float("nan"), "flag": np.bool_(True), "v": np.arange(2)}  # fmt: skip

    rows = runreport.run_sweep(
        args, report, lambda rs: runreport.markdown_table(["step"], [[r["step"]] for r in rs]),
        root=ROOT, leading_rows=[{"step": -1}], log=lambda *a: None,
    )  # fmt: skip
    run = seen[0]
    assert run.name == "toy" and run.config.seed == 4 and run.config.train_steps == 2
    assert run.source.trainer is run.trainer and run.source.step == 2
    expected = [{"step": -1}, {"step": 2, "x": 0.5, "nan": None, "flag": True, "v": [0, 1]}]
    assert rows == expected == _strict_json(tmp_path / "out" / "results.json")
    assert _strict_json(tmp_path / "out" / "toy.json") == expected[1]
    assert _table_rows(tmp_path / "out" / "table.md") == [["-1"], ["2"]]
    _no_temporaries(tmp_path / "out")


def test_markdown_table_and_cells():
    text = runreport.markdown_table(["a", "b"], [[1, runreport.cell(None)], ["x", "y"]])
    assert text == "| a | b |\n|---|---|\n| 1 | - |\n| x | y |\n"
    assert runreport.cell(0.123456, ".3f") == "0.123" and runreport.cell(False) == "no"
    with pytest.raises(ValueError, match="cells"):
        runreport.markdown_table(["a"], [[1, 2]])
