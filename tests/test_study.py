"""The study runner (python -m tf_amgan.study): grids, resumable runs, records, and the report."""

import glob
import json
import os

import pytest

from tf_amgan import classifiers as C
from tf_amgan.study import cli, report, runner, specs
from tf_amgan.training import config as config_lib
from tf_amgan.training import experiment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_registered_cell_has_a_valid_config():
    for name, study in specs.STUDIES.items():
        for scale in study.scales:
            cells = study.cells(scale, 2)
            names = [c.name for c in cells]
            assert len(set(names)) == len(names), (name, scale)
            settings = runner.Settings(study=name, scale=scale, classifier="unused")
            for cell in cells:
                cfg = runner.cell_config(settings, study, cell)
                assert (cfg.model, cfg.labeling, cfg.seed) == (cell.model, cell.labeling, cell.seed)
                for key, value in cell.overrides:
                    assert getattr(cfg, key) == pytest.approx(value)


def test_every_flagfile_parses_and_validates():
    paths = sorted(glob.glob(os.path.join(ROOT, "flags", "*.cfg")))
    assert len(paths) >= 30
    for path in paths:
        config_lib.Config.from_flagfile(path).validate()


def test_grid_shape_order_and_paper_gaps():
    t1 = specs.get("p001_table1")
    cells = t1.cells("cpu", 3, predefined_seeds=1)
    assert len(cells) == 6 * 3 + 6
    # Seed-major: a grid stopped early still has every model once.
    assert {c.seed for c in cells[:12]} == {0} and {c.model for c in cells[:12]} == set(t1.models)
    paper = t1.cells("paper", 1)
    assert ("tiny_imagenet", "gan") not in {(c.dataset_key, c.model) for c in paper}
    assert len(paper) == 12 + 8
    p000 = specs.get("p000_table1").cells("cpu", 1)
    assert sorted(c.name for c in p000) == sorted([
        "fashion-mnist_labelgan_dynamic_s0", "fashion-mnist_amgan_dynamic_s0",
        "fashion-mnist_samgan_t0.67_dynamic_s0", "fashion-mnist_samgan_t0.5_dynamic_s0"])  # fmt: skip
    assert len(specs.get("p004_cifar10").cells("cpu", 1)) == 27
    with pytest.raises(ValueError, match="no scale"):
        t1.cells("gpu", 1)
    with pytest.raises(ValueError, match="seeds"):
        t1.cells("cpu", 0)
    with pytest.raises(ValueError, match="unknown study"):
        specs.get("p999")


def _ring_flagfile(tmp_path, steps=30):
    path = tmp_path / "ring.cfg"
    path.write_text(
        "\n".join([
            "--model=amgan", "--dataset=ring8", "--arch=mlp", "--mlp_depth=2", "--mlp_units=16",
            "--z_dim=8", "--batch_size=32", f"--train_steps={steps}", "--log_every=5",
            "--checkpoint_every=10", "--sample_every=0", "--eval_every=10", "--eval_samples=300",
            "--eval_metrics=nll,modes,hq,is,am,am_v1", "--lr_decay=1.0", "--seed=0",
        ]) + "\n"
    )  # fmt: skip
    return str(path)


@pytest.fixture
def tiny_ring_study(tmp_path, monkeypatch):
    base = specs.get("p000_ring8")
    study = specs.Study(
        name="tiny_ring", title="tiny ring", kind="synthetic",
        scales={"cpu": specs.Scale({"ring8": _ring_flagfile(tmp_path)}, 400, "tiny")},
        models=("gan", "amgan"), labelings=("dynamic",), final_metrics=base.final_metrics,
        paper=base.paper,
    )  # fmt: skip
    monkeypatch.setitem(specs.STUDIES, "tiny_ring", study)
    return study


def test_synthetic_study_runs_skips_resumes_and_reports(tmp_path, tiny_ring_study, monkeypatch):
    settings = runner.Settings(study="tiny_ring", seeds=2, runs_dir=str(tmp_path / "runs"),
                               results_dir=str(tmp_path / "results"))  # fmt: skip
    logs = []
    results = runner.run_study(settings, log=logs.append)
    out = settings.out_dir()
    assert len(results["records"]) == results["grid_cells"] == 4
    rec = results["records"][0]
    assert rec["cell"]["name"] == "ring8_gan_dynamic_s0" and rec["train"]["steps"] == 30
    assert [p["step"] for p in rec["curves"]["eval"]] == [10, 20, 30]
    assert 0.0 <= rec["final"]["metrics"]["mode_coverage"] <= 1.0
    assert rec["final"]["metrics"]["nll"] > 0
    # The code that made the record: this checkout's commit.
    assert rec["code"] == runner.code_version() and len(rec["code"]["commit"]) == 40
    assert os.path.isfile(os.path.join(out, rec["samples_png"]))
    assert "samples_png" not in results["records"][1] or results["records"][1]["cell"]["seed"] == 0
    assert any("[4/4]" in line for line in logs)
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        assert json.load(f) == results

    # Finished cells with the same configuration are not trained or evaluated again.
    def boom(*a, **k):
        raise AssertionError("a finished cell was run again")

    monkeypatch.setattr(experiment, "run", boom)
    again = runner.run_study(settings, log=logs.append)
    assert again["records"] == results["records"]
    monkeypatch.undo()
    monkeypatch.setitem(specs.STUDIES, "tiny_ring", tiny_ring_study)

    # More steps: a different configuration, so each cell resumes from its checkpoint (step 30).
    longer = runner.run_study(
        runner.Settings(**{**settings.__dict__, "train_steps": 40}), log=logs.append
    )
    assert [r["train"]["steps"] for r in longer["records"]] == [40] * 4
    assert [p["step"] for p in longer["records"][0]["curves"]["eval"]] == [10, 20, 30, 40]

    path = report.write(longer, out)
    text = open(path, encoding="utf-8").read()
    assert "| GAN | " in text and "| AM-GAN | " in text
    assert "App. B.4" in text and "| all models | 16 |" in text
    assert "AM-GAN covers more modes early in training" in text
    assert os.path.isfile(os.path.join(out, "figures", "curves_ring8.png"))
    assert os.path.isfile(os.path.join(out, "figures", "correlation.png"))
    # --report_only makes the same report from results.json alone.
    assert cli.main(["--study=tiny_ring", f"--results_dir={settings.results_dir}",
                     "--report_only"]) == 0  # fmt: skip
    assert open(path, encoding="utf-8").read() == text


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cls") / "fashion_mnist"
    C.train_classifier("fashion_mnist", str(out), epochs=1, max_train_samples=1000, seed=0)
    return str(out)


def test_image_study_end_to_end(tmp_path, monkeypatch, classifier_dir):
    flagfile = tmp_path / "img.cfg"
    flagfile.write_text("\n".join([
        "--dataset=fashion_mnist", "--g_width=0.0625", "--d_width=0.0625", "--z_dim=16",
        "--batch_size=8", "--train_steps=4", "--log_every=2", "--checkpoint_every=4",
        "--sample_every=0", "--eval_every=2", "--eval_samples=50", "--eval_metrics=am,is",
        "--standing_stats_batches=2",
    ]) + "\n")  # fmt: skip
    base = specs.get("p001_table1")
    study = specs.Study(
        name="tiny_img", title="tiny", kind="image",
        scales={"cpu": specs.Scale({"fashion_mnist": str(flagfile)}, 120, "tiny"),
                "paper": base.scales["paper"]},
        models=("gan", "acgan_star", "amgan"), labelings=("dynamic", "predefined"),
        final_metrics=base.final_metrics, paper=base.paper,
    )  # fmt: skip
    monkeypatch.setitem(specs.STUDIES, "tiny_img", study)
    monkeypatch.setitem(report.CLAIMS, "tiny_img", report.claims_p001_table1)
    settings = runner.Settings(study="tiny_img", seeds=1, runs_dir=str(tmp_path / "runs"),
                               results_dir=str(tmp_path / "res"), classifier=classifier_dir,
                               only=("amgan", "acgan-star_dynamic", "gan_dynamic"))  # fmt: skip
    results = runner.run_study(settings, log=lambda m: None)
    assert results["grid_cells"] == 6  # --only runs part of the grid; results.json keeps it all
    assert [r["cell"]["name"] for r in results["records"]] == [
        "fashion-mnist_gan_dynamic_s0", "fashion-mnist_acgan-star_dynamic_s0",
        "fashion-mnist_amgan_dynamic_s0", "fashion-mnist_amgan_predefined_s0"]  # fmt: skip
    # A binary GAN has no class of its own: no class accuracy, MS-SSIM grouped by the classifier.
    assert "acc" not in results["records"][0]["final"]["metrics"]
    assert results["records"][0]["final"]["meta"]["msssim_grouping"] == "classifier"
    assert "acc" in results["records"][1]["final"]["metrics"]
    for r in results["records"]:
        m = r["final"]["metrics"]
        assert 1.0 <= m["is"] <= 10.0 and m["am"] >= 0 and m["fid"] >= 0
        assert 0 <= m["msssim_max"] <= 1 and [p["step"] for p in r["curves"]["eval"]] == [2, 4]
    assert results["settings"]["classifier"]["dataset"] == "fashion_mnist"
    real = results["real_data"]["fashion_mnist"]  # the ceiling row: test images, same evaluation
    assert real["meta"]["num_samples"] == 120 and real["meta"]["source"]["type"] == "real"
    assert real["metrics"]["acc"] > 0.3 and 0 <= real["metrics"]["fid"] < 5
    text = open(report.write(results, settings.out_dir()), encoding="utf-8").read()
    assert "| fashion_mnist | real data (test split) | – | " in text
    assert "| AM-GAN | 8.83 | " in text  # the paper's CIFAR-10 value beside ours
    assert "AC-GAN*+ beats AC-GAN* on IS" in text and "not testable" in text
    assert os.path.isfile(os.path.join(settings.out_dir(), "figures", "curves_dynamic.png"))
    with pytest.raises(ValueError, match="matches no cell"):
        runner.run_study(runner.Settings(**{**settings.__dict__, "only": ("nope",)}))


def _record(model, labeling, seed, **metrics):
    cell = specs.Cell(model, labeling, seed, "fashion_mnist")
    return {"cell": {"model": model, "labeling": labeling, "seed": seed, "variant": "",
                     "dataset_key": "fashion_mnist", "name": cell.name, "group": cell.group},
            "final": {"metrics": metrics}, "curves": {"eval": [], "train": []},
            "train": {"steps": 1, "mean_step_time": 0.1}}  # fmt: skip


def _results(records):
    return {"study": "p001_table1", "scale": "cpu", "records": records, "grid_cells": 99,
            "scale_description": "x", "settings": {"seeds": 2, "predefined_seeds": None,
                                                   "final_samples": 10}}  # fmt: skip


def test_claim_verdicts_follow_the_numbers():
    study = specs.get("p001_table1")
    recs = []
    for seed, jitter in ((0, 0.0), (1, 0.02)):
        recs += [
            _record("amgan", "dynamic", seed, **{"is": 8.0 + jitter, "am": 0.05}),
            _record("labelgan", "dynamic", seed, **{"is": 7.0 + jitter, "am": 0.10 + jitter}),
            _record("acgan_plus", "dynamic", seed, **{"is": 6.0 + 4 * jitter, "am": 0.2}),
            _record("acgan_star", "dynamic", seed, **{"is": 5.99 - 4 * jitter, "am": 0.1}),
            _record("gan", "dynamic", seed, **{"is": 9.0, "am": 0.3}),
        ]
    results = _results(recs)
    agg = report.aggregate(results)
    assert agg[("fashion_mnist", "amgan", "", "dynamic")]["is"].n == 2
    claims = {c: (v, e) for c, v, e in report.claims_p001_table1(study, results, agg)}
    assert claims["AM-GAN has the highest IS in every column (X-4)"][0] == "does not hold"  # GAN 9
    assert claims["AM-GAN has the lowest AM Score in every column (X-4)"][0] == "holds"
    v, _ = claims["AC-GAN*+ beats AC-GAN* on IS in every column (X-4)"]
    assert v == "holds"
    assert claims["AC-GAN*+ beats AC-GAN* on AM Score (X-4; CIFAR-10 columns)"][0] == (
        "does not hold"
    )
    assert claims["AC-GAN* improves over GAN on IS (X-4)"][0] == "does not hold"
    assert claims["IS is lower with predefined than with dynamic labeling for AC-GAN*+, LabelGAN "
                  "and AM-GAN (X-4)"][0] == "not testable"  # fmt: skip
    within = report._cmp(report.Agg([1.0, 1.2]), report.Agg([1.05, 1.05]), lower=False)
    assert within[0] == "holds within noise"
    assert report.kendall_tau([1, 2, 3], [10, 20, 30]) == 1.0
    assert report.kendall_tau([1, 2, 3], [30, 20, 10]) == -1.0
    assert report.Agg([1.0]).fmt() == "1.000 (n=1)"
    assert report.Agg([1.0, 3.0]).fmt(1) == "2.0 ± 1.4 (n=2)"
    assert report.Agg([None, float("nan")]).fmt() == "–"


def test_ring_claims_use_early_coverage_and_final_nll():
    def rec(model, seed, coverage, nll):
        r = _record(model, "dynamic", seed, nll=nll)
        r["cell"]["dataset_key"] = "ring8"
        r["curves"]["eval"] = [{"step": s, "mode_coverage": c}
                               for s, c in zip((100, 200, 300, 400, 500, 600), coverage, strict=True)]  # fmt: skip
        return r

    recs = [
        rec("amgan", 0, (0.5, 0.75, 0.2, 0.2, 0.2, 0.2), 100.0),  # early mean 0.625
        rec("samgan", 0, (0.1, 0.1, 1, 1, 1, 1), 50.0),
        rec("labelgan", 0, (0.25, 0.25, 1, 1, 1, 1), 200.0),
        rec("gan", 0, (0.5, 0.5, 1, 1, 1, 1), 75.0),
    ]
    results = {**_results(recs), "study": "p000_ring8"}
    claims = report.claims_ring(specs.get("p000_ring8"), results, report.aggregate(results))
    verdicts = [v for _, v, _ in claims]
    assert claims[0][0].startswith("AM-GAN covers more modes early")
    # AM-GAN: early 0.625 > 0.25, 0.5 (holds); NLL 100 < 200 but > 75 (does not hold).
    # SAM-GAN: early 0.1 loses; NLL 50 beats both.
    assert verdicts == ["holds", "does not hold", "does not hold", "holds"]

    # With variants (D normalizations) the claims are checked within each variant.
    other = []
    for r in recs:
        r2 = json.loads(json.dumps(r))
        r2["cell"]["variant"] = "no-bn"
        r2["final"]["metrics"]["nll"] = {"amgan": 1.0}.get(r2["cell"]["model"], 500.0)
        other.append(r2)
    results = {**_results(recs + other), "study": "p000_ring8"}
    claims = report.claims_ring(specs.get("p000_ring8"), results, report.aggregate(results))
    assert [v for _, v, _ in claims[:4]] == verdicts
    assert claims[5][0].startswith("[no-bn] AM-GAN ends with a lower oracle NLL")
    assert claims[5][1] == "holds"


def test_cli_errors_exit_2(tmp_path, capsys):
    assert cli.main(["--study=p999"]) == 2
    assert "unknown study" in capsys.readouterr().err
    assert cli.main(["--study=p001_table1", "--scale=gpu"]) == 2
    assert "no scale" in capsys.readouterr().err
    assert cli.main([]) == 2
    assert cli.main(["--study=p000_ring8", f"--results_dir={tmp_path}", "--report_only"]) == 2
    assert "run the study first" in capsys.readouterr().err
    assert cli.main(["--list"]) == 0
    assert "p001_table1" in capsys.readouterr().out
    # Image studies need the dataset classifier before anything trains.
    assert cli.main(["--study=p001_table1", f"--runs_dir={tmp_path}/r",
                     f"--results_dir={tmp_path}/x"]) == 2  # fmt: skip
    assert "--classifier" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "r")


def test_interrupted_study_exits_128_plus_signal(monkeypatch, capsys):
    def interrupted(settings, log=print):
        raise runner.StudyInterrupted(15)

    monkeypatch.setattr(runner, "run_study", interrupted)
    assert cli.main(["--study=p000_ring8"]) == 143
    assert "resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "results_json",
    sorted(glob.glob(os.path.join(ROOT, "results", "*", "*", "results.json"))),
    ids=lambda p: os.path.relpath(os.path.dirname(p), os.path.join(ROOT, "results")),
)
def test_committed_reports_are_made_from_their_results_json(results_json, tmp_path):
    with open(results_json, encoding="utf-8") as f:
        results = json.load(f)
    committed = open(os.path.join(os.path.dirname(results_json), "report.md"), encoding="utf-8")
    assert report.build(results, str(tmp_path)) == committed.read()
    # Every record is one run of the grid, with its own file next to results.json.
    for rec in results["records"]:
        path = os.path.join(os.path.dirname(results_json), "runs", rec["cell"]["name"] + ".json")
        with open(path, encoding="utf-8") as f:
            assert json.load(f) == rec
