"""The run-and-report loop shared by the experiment scripts (experiments/p00*.py).

A script names a list of flagfiles and says how to turn one trained run into a report dict and the
reports into a Markdown table; `run_sweep` does the rest, per flagfile:
  1. Config.from_flagfile(flagfile, overrides from the command line);
  2. train it with the ordinary engine (tf_amgan.training.experiment.run: an existing run directory is
     resumed, a finished one only re-evaluated);
  3. restore the last checkpoint (EMA weights swapped in when kept, as the export does);
  4. `report(run)` -> dict, written to <out>/<name>.json;
  5. <out>/table.md and <out>/results.json rewritten with all reports so far.
Every file is written atomically (tf_amgan.io_utils), so an interrupted sweep leaves complete files.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tf_amgan.io_utils import atomic_write_json, atomic_write_text, json_safe

__all__ = [
    "Run",
    "add_arguments",
    "cell",
    "flagfile_paths",
    "markdown_table",
    "run_name",
    "run_sweep",
    "write_reports",
]


@dataclasses.dataclass
class Run:
    """One trained run, restored from its last checkpoint.

    Attributes:
      name: the flagfile's stem (names the run's outputs in --out).
      flagfile: absolute path of the flagfile.
      config: the Config it was trained with (flagfile + command-line overrides).
      trainer: tf_amgan.training.trainer.GANTrainer holding the checkpoint's weights.
      source: tf_amgan.evaluation.TrainerSource of that trainer (for evaluation.evaluate).
      seconds: wall time of this invocation's experiment.run call (for a run that was already
        finished: only its final bookkeeping, not the training time).
    """

    name: str
    flagfile: str
    config: Any
    trainer: Any
    source: Any
    seconds: float


def add_arguments(parser: argparse.ArgumentParser, flagfiles: Sequence[str], out: str) -> None:
    """The options every experiment script has."""
    parser.add_argument(
        "--flagfiles", default=",".join(flagfiles), help="comma-separated flagfiles"
    )
    parser.add_argument("--out", default=out, help="directory for figures, tables and JSON")
    parser.add_argument("--train_steps", type=int, default=None, help="override (quick looks)")
    parser.add_argument("--seed", type=int, default=None, help="override the flagfiles' seed")
    parser.add_argument(
        "--runs_dir", default=None, help="put run directories here (default: the flagfiles')"
    )


def run_name(flagfile: str) -> str:
    return os.path.splitext(os.path.basename(flagfile))[0]


def flagfile_paths(args, root: str) -> list[str]:
    """The absolute paths of --flagfiles (relative ones under `root`), checked to exist."""
    paths = [p.strip() for p in args.flagfiles.split(",") if p.strip()]
    if not paths:
        raise ValueError("--flagfiles is empty")
    full = [p if os.path.isabs(p) else os.path.join(root, p) for p in paths]
    missing = [p for p in full if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"flagfile(s) not found: {', '.join(missing)}")
    names = [run_name(p) for p in full]
    if len(set(names)) != len(names):
        raise ValueError(f"flagfile names must be distinct (they name the outputs): {names}")
    return full


def _overrides(args, name: str) -> dict:
    out: dict[str, Any] = {"progress": False}
    if args.train_steps is not None:
        out["train_steps"] = args.train_steps
    if args.seed is not None:
        out["seed"] = args.seed
    if args.runs_dir is not None:
        out["output_dir"] = os.path.join(args.runs_dir, name)
    return out


def train_and_restore(flagfile: str, overrides: dict, log: Callable[[str], None] = print) -> Run:
    """Steps 1-3 of the module docstring for one flagfile.

    Raises:
      RuntimeError: training stopped before train_steps (interrupted or diverged).
    """
    from tf_amgan import evaluation, train
    from tf_amgan.training import config as config_lib

    name = run_name(flagfile)
    cfg = config_lib.Config.from_flagfile(flagfile, **overrides)
    log(f"== {name}: --model={cfg.model}, {cfg.train_steps} steps -> {cfg.output_dir}")
    t0 = time.perf_counter()
    result = train.run(cfg, log=log)
    seconds = time.perf_counter() - t0
    if result.status != "completed":
        raise RuntimeError(f"{name}: training {result.status} at step {result.step}")
    source = evaluation.run_dir_source(cfg.output_dir)
    return Run(name, flagfile, cfg, source.trainer, source, round(seconds, 1))


def run_sweep(
    args,
    report: Callable[[Run], dict],
    table: Callable[[list[dict]], str],
    *,
    root: str,
    leading_rows: Sequence[dict] = (),
    run_json: bool = True,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Trains and reports every flagfile of `args` (see `add_arguments`); returns all rows.

    Args:
      args: parsed arguments with flagfiles, out, train_steps, seed, runs_dir.
      report: Run -> JSON-serialisable dict (NumPy values and non-finite floats are converted).
      table: all rows so far -> Markdown text for table.md.
      root: base of relative flagfile paths (the repository root).
      leading_rows: rows put before the runs' (e.g. the real data's statistics).
      run_json: also write <out>/<name>.json per run.
      log: progress lines.
    """
    flagfiles = flagfile_paths(args, root)
    os.makedirs(args.out, exist_ok=True)
    rows = [json_safe(dict(r)) for r in leading_rows]
    for flagfile in flagfiles:
        name = run_name(flagfile)
        run = train_and_restore(flagfile, _overrides(args, name), log=log)
        row = json_safe(report(run))
        if run_json:
            atomic_write_json(os.path.join(args.out, f"{name}.json"), row)
        rows.append(row)
        write_reports(args.out, rows, table)
    log(table(rows))
    return rows


def write_reports(out_dir: str, rows: list[dict], table: Callable[[list[dict]], str]) -> None:
    atomic_write_text(os.path.join(out_dir, "table.md"), table(rows))
    atomic_write_json(os.path.join(out_dir, "results.json"), rows)


def cell(value, spec: str = "") -> str:
    """A table cell: "-" for None, else format(value, spec); booleans as yes/no."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return format(value, spec)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; cells are str()'d (use `cell` to format numbers)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        r = list(r)
        if len(r) != len(header):
            raise ValueError(f"row has {len(r)} cells, the header {len(header)}")
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines) + "\n"
