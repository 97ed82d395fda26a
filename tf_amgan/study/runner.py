"""Runs a study grid: train (or resume) each cell, evaluate it, keep one JSON record per cell.

Layout, for `--study=S --scale=X`:
  <runs_dir>/S/X/<cell>/            the ordinary run directories (tf_amgan.training.experiment)
  <results_dir>/S/X/runs/<cell>.json  one record per finished, evaluated cell (written atomically)
  <results_dir>/S/X/samples/<cell>.png  the final sample grid of each seed-0 cell
  <results_dir>/S/X/results.json    every record of the grid (the report is made from this alone)

A cell whose record exists with the same configuration is skipped; an unfinished one resumes from
its last checkpoint, so an interrupted study continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import time
from typing import Any

from tf_amgan.io_utils import atomic_write_bytes, atomic_write_json, json_safe
from tf_amgan.study import report, specs
from tf_amgan.training import config as config_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORD_FORMAT = "tf_amgan.study.record/1"
MAX_CURVE_POINTS = 200


class StudyInterrupted(RuntimeError):
    def __init__(self, signum: int | None):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


@dataclasses.dataclass(frozen=True)
class Settings:
    study: str
    scale: str = "cpu"
    seeds: int = 3
    predefined_seeds: int | None = None
    runs_dir: str = "runs/studies"
    results_dir: str = "results"
    classifier: str | None = None
    inception_weights: str | None = None
    final_samples: int | None = None
    train_steps: int | None = None  # override (smoke runs); recorded in every record
    only: tuple[str, ...] = ()  # restrict to cells whose name contains one of these
    strategy: str | None = None  # e.g. "mirrored" on a multi-GPU machine (not in the fingerprint)

    def out_dir(self) -> str:
        return os.path.join(self.results_dir, self.study, self.scale)


def flagfile_path(path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


def cell_config(settings: Settings, study: specs.Study, cell: specs.Cell) -> config_lib.Config:
    """The Config of one cell: its flagfile plus the cell's overrides."""
    flagfile = flagfile_path(study.scales[settings.scale].flagfiles[cell.dataset_key])
    overrides: dict[str, Any] = dict(cell.overrides)
    overrides.update(
        model=cell.model,
        labeling=cell.labeling,
        seed=cell.seed,
        output_dir=os.path.join(settings.runs_dir, study.name, settings.scale, cell.name),
        progress=False,
        export_dir="",
    )
    if settings.train_steps is not None:
        overrides["train_steps"] = settings.train_steps
    if settings.strategy:
        overrides["strategy"] = settings.strategy
    cfg = config_lib.Config.from_flagfile(flagfile, **overrides)
    if cfg.eval_every and study.kind == "image":
        if not settings.classifier:
            raise config_lib.ConfigError(f"{flagfile} evaluates during training: pass --classifier")
        cfg = cfg.replace(classifier=settings.classifier)
    return cfg.validate()


def fingerprint(cfg: config_lib.Config, settings: Settings, study: specs.Study) -> str:
    """Changes when anything that decides the record's numbers changes."""
    keep = {k: v for k, v in cfg.to_dict().items() if k not in ("output_dir", "progress")}
    keep["classifier"] = None  # where it lives does not matter; which one it is does (below)
    keep["data_dir"] = None
    keep["strategy"] = "default"  # replicas change float rounding only (tested in test_engine)
    payload = {
        "config": keep,
        "final_metrics": list(study.final_metrics),
        "final_samples": final_samples(settings, study),
        "classifier": _classifier_id(settings.classifier),
        "inception": settings.inception_weights,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


def final_samples(settings: Settings, study: specs.Study) -> int:
    return settings.final_samples or study.scales[settings.scale].final_samples


def _classifier_id(path: str | None) -> dict | None:
    if not path:
        return None
    meta = os.path.join(path, "classifier.json")
    if not os.path.isfile(meta):
        return {"path": path}
    with open(meta, encoding="utf-8") as f:
        info = json.load(f)
    return {k: info.get(k) for k in ("dataset", "arch", "seed", "test_accuracy")}


def _read_jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def _thin(records: list[dict], keys: tuple[str, ...] | None = None) -> list[dict]:
    """At most MAX_CURVE_POINTS evenly spaced records (always the last), rounded for the JSON."""
    if len(records) > MAX_CURVE_POINTS:
        idx = sorted({round(i * (len(records) - 1) / (MAX_CURVE_POINTS - 1))
                      for i in range(MAX_CURVE_POINTS)})  # fmt: skip
        records = [records[i] for i in idx]
    out = []
    for r in records:
        row = {}
        for k, v in r.items():
            if keys is not None and k not in keys and k != "step":
                continue
            if isinstance(v, float):
                v = float(f"{v:.6g}")
            if isinstance(v, (int, float)) or v is None:
                row[k] = v
        out.append(row)
    return out


def code_version() -> dict[str, Any]:
    """The git commit of the code running the study, and whether tf_amgan/ differs from it.

    {"commit": None} outside a git checkout. Records carry it, so a rerun can be compared.
    """

    def git(*args):
        out = subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True, timeout=30)
        return out.stdout.strip() if out.returncode == 0 else None

    try:
        commit = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no", "--", "tf_amgan")
    except (OSError, subprocess.SubprocessError):
        commit = status = None
    if not commit:
        return {"commit": None}
    return {"commit": commit, "dirty": bool(status)}


TRAIN_CURVE_KEYS = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "class_acc", "step_time")


class _Networks:
    """Loads the evaluation networks once per study."""

    def __init__(self, settings: Settings, study: specs.Study):
        self.classifier = None
        self.inception = None
        if study.kind != "image":
            return
        from tf_amgan import classifiers

        if not settings.classifier:
            raise config_lib.ConfigError(
                f"study {study.name} evaluates images: pass --classifier=DIR (train one with "
                "python -m tf_amgan.classifiers --dataset=NAME --output_dir=DIR)"
            )
        self.classifier = classifiers.load_classifier(settings.classifier)
        if settings.inception_weights:
            self.inception = classifiers.load_inception(settings.inception_weights)


def evaluate_cell(cfg, settings: Settings, study: specs.Study, networks: _Networks) -> dict:
    from tf_amgan import evaluation

    source = evaluation.run_dir_source(cfg.output_dir)
    metrics = study.final_metrics
    trainer = source.trainer
    if not trainer.conditional and (trainer.objective.head_units == 1 or not trainer.num_classes):
        # No class of its own to check (binary GAN, dynamic): class accuracy is undefined.
        metrics = tuple(m for m in metrics if m != "acc")
    options = evaluation.EvalOptions(
        metrics=metrics,
        num_samples=final_samples(settings, study),
        seed=0,  # the same evaluation noise for every cell
        prd_samples=min(10000, final_samples(settings, study)),
        data_dir=cfg.data_dir,
        download=cfg.download_arg,
    )
    result = evaluation.evaluate(
        source,
        options,
        classifier=networks.classifier,
        inception=networks.inception,
        dataset=cfg.dataset,
        data_options=cfg.data_options,
    )
    keep = ("is_network", "feature_network", "acc_reference", "seconds", "mode_counts",
            "am_mean_prediction")  # fmt: skip
    meta = {k: result.meta[k] for k in keep if k in result.meta}
    if "msssim" in result.meta:
        meta["msssim_grouping"] = result.meta["msssim"]["grouping"]
        meta["msssim_per_class_mean"] = result.meta["msssim"]["per_class_mean"]
    return {"metrics": json_safe(result.metrics), "meta": json_safe(meta)}


REAL_DATA_FILE = "real_data.json"


def real_data_rows(settings: Settings, study: specs.Study, cells, networks: _Networks, log) -> dict:
    """The "real data" row of every data set of an image study, kept in real_data.json.

    Held-out test images (as many as the cells' final evaluation draws, at most the whole split)
    through the same evaluation as the cells: IS, AM Score, accuracy, max MS-SSIM, FID between
    the train statistics and the test images, ... A row is recomputed only when its data set,
    options, networks, metrics or sample count change.
    """
    from tf_amgan.evaluation.external import real_data_row

    path = os.path.join(settings.out_dir(), REAL_DATA_FILE)
    old = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
    rows = {}
    first = {}
    for cell in cells:
        first.setdefault(cell.dataset_key, cell)
    for dataset_key, cell in first.items():
        cfg = cell_config(settings, study, cell)
        key = json.loads(json.dumps({
            "dataset": cfg.dataset, "data_options": dict(cfg.data_options),
            "classifier": _classifier_id(settings.classifier),
            "inception_weights": settings.inception_weights, "split": "test",
            "metrics": list(study.final_metrics), "num_samples": final_samples(settings, study),
        }))  # fmt: skip
        if old.get(dataset_key, {}).get("key") == key:
            rows[dataset_key] = old[dataset_key]
            continue
        log(f"real data row of {dataset_key} ({cfg.dataset}, test split)")
        row = real_data_row(cfg.dataset, classifier=networks.classifier,
                            inception=networks.inception, metrics=study.final_metrics,
                            data_options=cfg.data_options, num_samples=key["num_samples"],
                            data_dir=cfg.data_dir, download=cfg.download_arg)  # fmt: skip
        rows[dataset_key] = {"key": key, **row}
    if rows != old:
        atomic_write_json(path, rows)
    return rows


def run_cell(
    cfg, settings: Settings, study: specs.Study, cell: specs.Cell, networks, log, code=None
) -> dict:
    """Trains (or resumes) and evaluates one cell; returns its record (not yet written).

    `code`: `code_version()` taken when the study process started (the code it runs).
    """
    from tf_amgan import train

    t0 = time.perf_counter()
    result = train.run(cfg, log=lambda m: None)
    train_seconds = time.perf_counter() - t0
    if result.status == "interrupted":
        raise StudyInterrupted(result.signum)
    if result.status != "completed":
        raise RuntimeError(f"{cell.name}: training {result.status} at step {result.step}")
    t1 = time.perf_counter()
    final = evaluate_cell(cfg, settings, study, networks)
    eval_seconds = time.perf_counter() - t1
    train_log = _read_jsonl(os.path.join(cfg.output_dir, "metrics.jsonl"))
    step_times = [r["step_time"] for r in train_log if "step_time" in r]
    return {
        "format": RECORD_FORMAT,
        "study": study.name,
        "scale": settings.scale,
        "cell": {**dataclasses.asdict(cell), "name": cell.name, "group": cell.group},
        "fingerprint": fingerprint(cfg, settings, study),
        "code": code if code is not None else code_version(),
        "config": {k: v for k, v in cfg.to_dict().items() if k != "progress"},
        "train": {
            "steps": int(result.step),
            "seconds_this_call": round(train_seconds, 1),
            "mean_step_time": round(sum(step_times) / len(step_times), 5) if step_times else None,
            "cpu_model": cpu_model(),
        },
        "final": {**final, "seconds": round(eval_seconds, 1)},
        "curves": {
            "eval": _thin(_read_jsonl(os.path.join(cfg.output_dir, "eval.jsonl"))),
            "train": _thin(train_log, TRAIN_CURVE_KEYS),
        },
    }


def cpu_model() -> str | None:
    """lscpu's model name (our machines differ from run to run; every step time names its CPU)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _copy_samples(cfg, out_dir: str, cell: specs.Cell) -> str | None:
    sample_dir = os.path.join(cfg.output_dir, "samples")
    if not os.path.isdir(sample_dir):
        return None
    pngs = sorted(p for p in os.listdir(sample_dir) if p.endswith(".png"))
    if not pngs:
        return None
    dst = os.path.join(out_dir, "samples", f"{cell.name}.png")
    with open(os.path.join(sample_dir, pngs[-1]), "rb") as f:
        atomic_write_bytes(dst, f.read())
    return os.path.relpath(dst, out_dir)


def collect(settings: Settings, study: specs.Study, cells: list[specs.Cell]) -> dict:
    """results.json content: settings and every finished record of `cells`, in grid order."""
    out_dir = settings.out_dir()
    real_data = {}
    if os.path.exists(os.path.join(out_dir, REAL_DATA_FILE)):
        with open(os.path.join(out_dir, REAL_DATA_FILE), encoding="utf-8") as f:
            real_data = json.load(f)
    records = []
    for cell in cells:
        path = os.path.join(out_dir, "runs", f"{cell.name}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                records.append(json.load(f))
    return {
        "format": "tf_amgan.study.results/1",
        "study": study.name,
        "title": study.title,
        "kind": study.kind,
        "scale": settings.scale,
        "scale_description": study.scales[settings.scale].description,
        "settings": {
            "seeds": settings.seeds,
            "predefined_seeds": settings.predefined_seeds,
            "final_samples": final_samples(settings, study),
            "classifier": _classifier_id(settings.classifier),
            "inception_weights": settings.inception_weights,
            "train_steps_override": settings.train_steps,
        },
        "grid_cells": len(cells),
        "records": records,
        "real_data": real_data,
    }


def run_study(settings: Settings, log=print) -> dict:
    """Runs every missing cell of the grid; returns the results.json content (also written)."""
    study = specs.get(settings.study)
    cells = grid = study.cells(settings.scale, settings.seeds, settings.predefined_seeds)
    if settings.only:
        cells = [c for c in cells if any(s in c.name for s in settings.only)]
        if not cells:
            raise ValueError(f"--only={','.join(settings.only)} matches no cell of {study.name}")
    code = code_version()  # what this process imported; later commits do not change it
    # Every config first: a bad flagfile or option fails before any training.
    configs = [cell_config(settings, study, c) for c in cells]
    out_dir = settings.out_dir()
    os.makedirs(os.path.join(out_dir, "runs"), exist_ok=True)
    networks = _Networks(settings, study)
    if study.kind == "image":
        real_data_rows(settings, study, grid, networks, log)
    todo = []
    for cell, cfg in zip(cells, configs, strict=True):
        path = os.path.join(out_dir, "runs", f"{cell.name}.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = json.load(f)
            if old.get("fingerprint") == fingerprint(cfg, settings, study):
                continue
            log(f"{cell.name}: configuration changed since its record; running it again")
        todo.append((cell, cfg, path))
    log(f"study {study.name} ({settings.scale}): {len(cells)} cells, {len(cells) - len(todo)} "
        f"done, {len(todo)} to run; results in {out_dir}")  # fmt: skip
    started = time.perf_counter()
    for i, (cell, cfg, path) in enumerate(todo):
        t0 = time.perf_counter()
        record = run_cell(cfg, settings, study, cell, networks, log, code)
        if cell.seed == 0:
            record["samples_png"] = _copy_samples(cfg, out_dir, cell)
        atomic_write_json(path, record)
        partial = collect(settings, study, grid)  # the whole grid: --only runs add to it
        atomic_write_json(os.path.join(out_dir, "results.json"), partial)
        report.write(partial, out_dir)  # a grid in progress has an up-to-date report too
        elapsed = time.perf_counter() - started
        eta = elapsed / (i + 1) * (len(todo) - i - 1)
        shown = {k: record["final"]["metrics"].get(k) for k in _headline(study)}
        shown = ", ".join(f"{k} {v:.4g}" for k, v in shown.items() if v is not None)
        log(f"[{i + 1}/{len(todo)}] {cell.name}: {shown} ({time.perf_counter() - t0:.0f} s; "
            f"ETA {eta / 60:.0f} min)")  # fmt: skip
    results = collect(settings, study, grid)
    atomic_write_json(os.path.join(out_dir, "results.json"), results)
    return results


def _headline(study: specs.Study) -> tuple[str, ...]:
    return ("nll", "mode_coverage", "hq_fraction") if study.kind == "synthetic" else ("is", "am")
