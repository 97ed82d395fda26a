"""The convergence criterion of study reports (issue 15) and the verdict column against the cpu scale."""

import json
import os

import pytest

from tf_amgan.study import convergence, report, specs


def _record(model, seed, fids, final_step, mean_prediction, is_value=5.0):
    cell = specs.Cell(model, "dynamic", seed, "fashion_mnist")
    step = final_step // max(1, len(fids))
    curve = [{"step": step * (i + 1), "fid": f, "is": 1.0} for i, f in enumerate(fids)]
    return {
        "cell": {"model": model, "labeling": "dynamic", "seed": seed, "variant": "",
                 "dataset_key": "fashion_mnist", "name": cell.name, "group": cell.group},
        "final": {"metrics": {"is": is_value, "am": 0.1},
                  "meta": {"am_mean_prediction": mean_prediction}},
        "curves": {"eval": curve, "train": []},
        "train": {"steps": final_step, "mean_step_time": 0.17, "cpu_model": "Test CPU"},
    }  # fmt: skip


def _results(records, scale):
    return {"study": "p001_table1", "scale": scale, "records": records, "grid_cells": 99,
            "scale_description": "x", "settings": {"seeds": 2, "predefined_seeds": None,
                                                   "final_samples": 10}}  # fmt: skip


BALANCED = [0.1] * 10


def test_flat_curve_with_every_class_has_converged():
    # Evaluations at 1000..8000; 75% of 8000 is 6000: FID 31 there, 30 at the end (-3.2%).
    c = convergence.of_record(
        _record("amgan", 0, [90, 60, 45, 38, 33, 31, 30.5, 30], 8000, BALANCED)
    )
    assert (c.step_ref, c.fid_ref, c.step_last, c.fid_last) == (6000, 31, 8000, 30)
    assert c.change == pytest.approx(30 / 31 - 1)
    assert c.flattened and c.shows_classes and c.converged
    assert (c.classes_shown, c.num_classes) == (10, 10)


def test_falling_or_rising_curve_has_not_flattened():
    falling = convergence.of_record(_record("amgan", 0, [90, 80, 70, 60], 4000, BALANCED))
    assert falling.step_ref == 3000 and falling.change == pytest.approx(-1 / 7)
    assert falling.flattened is False and falling.converged is False
    # Just outside the tolerance on the other side: FID rose by 10.5%.
    rising = convergence.of_record(_record("amgan", 0, [50, 40, 40, 44.2], 4000, BALANCED))
    assert rising.flattened is False
    inside = convergence.of_record(_record("amgan", 0, [50, 40, 40, 43.9], 4000, BALANCED))
    assert inside.flattened is True


def test_a_missing_class_fails_and_missing_data_is_unknown():
    collapsed = [0.5, 0.49, 0.01] + [0.0] * 7
    c = convergence.of_record(_record("gan", 0, [40, 40, 40, 40], 4000, collapsed))
    assert c.flattened and c.classes_shown == 2 and c.shows_classes is False
    assert c.converged is False
    unknown = convergence.of_record(_record("gan", 0, [40], 4000, None))
    assert unknown.flattened is None and unknown.classes_shown is None and unknown.converged is None


def test_report_shows_the_criterion_and_the_cpu_scale_verdicts(tmp_path):
    recs = []
    for seed in (0, 1):
        recs += [
            _record("amgan", seed, [60, 40, 31, 30], 4000, BALANCED, is_value=8.0 + seed / 10),
            _record("gan", seed, [60, 50, 45, 35], 4000, BALANCED, is_value=6.0 + seed / 10),
        ]
    out = tmp_path / "p001_table1" / "converge"
    text = report.build(_results(recs, "converge"), str(out))
    assert "## Has each run converged?" in text
    assert "Test CPU" in text and "2 converged, 2 not converged, 0 without" in text
    assert "at scale cpu" not in text  # no sibling results.json yet

    # The sibling cpu scale had GAN ahead on IS: the verdict column shows the change.
    cpu = [_record("amgan", s, [], 1500, BALANCED, is_value=5.0) for s in (0, 1)]
    cpu += [_record("gan", s, [], 1500, BALANCED, is_value=6.0 + s / 10) for s in (0, 1)]
    (tmp_path / "p001_table1" / "cpu").mkdir(parents=True)
    (tmp_path / "p001_table1" / "cpu" / "results.json").write_text(json.dumps(_results(cpu, "cpu")))
    text = report.build(_results(recs, "converge"), str(out))
    row = next(line for line in text.splitlines() if line.startswith("| AM-GAN has the highest IS"))
    assert "| does not hold | **changed** |" in row
    # The cpu report itself has neither the column nor a convergence table (no FID curves).
    cpu_text = report.build(_results(cpu, "cpu"), os.path.join(tmp_path, "p001_table1", "cpu"))
    assert "at scale cpu" not in cpu_text and "Has each run converged" not in cpu_text


def test_converge_scale_is_registered_with_a_periodic_fid():
    from tf_amgan.study import runner

    study = specs.get("p001_table1")
    settings = runner.Settings(study="p001_table1", scale="converge", classifier="unused")
    cfg = runner.cell_config(settings, study, study.cells("converge", 1)[0])
    assert "fid" in cfg.eval_metrics and cfg.train_steps % cfg.eval_every == 0
    assert (cfg.train_steps * 3 // 4) % cfg.eval_every == 0  # an evaluation lands on 75%
    assert runner.cpu_model()
