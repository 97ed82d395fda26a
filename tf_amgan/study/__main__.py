"""Run a paper study grid and write its report.

    python -m tf_amgan.study --study=p001_table1 --scale=cpu --seeds=3 \
        --classifier=classifiers/fashion_mnist
    python -m tf_amgan.study --study=p000_ring8 --scale=cpu --seeds=3
    python -m tf_amgan.study --study=p001_table1 --scale=cpu --report_only   # from results.json
    python -m tf_amgan.study --list

Resumable: finished cells (same configuration) are skipped, unfinished ones resume. SIGINT/SIGTERM
checkpoint the running cell and stop (exit 128 + signal); run the same command again to go on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tf_amgan.study", description=__doc__.split("\n")[0])
    p.add_argument("--study", help="study name (--list shows them)")
    p.add_argument("--scale", default="cpu", help="cpu (the twin that runs here) or paper")
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell (default 3)")
    p.add_argument(
        "--predefined_seeds",
        type=int,
        default=None,
        help="seeds per predefined-labeling cell (default: --seeds)",
    )
    p.add_argument("--runs_dir", default="runs/studies", help="run directories go here")
    p.add_argument("--results_dir", default="results", help="records, report and figures")
    p.add_argument(
        "--classifier",
        default=None,
        help="dataset classifier dir (image studies; AM Score, and IS/FID without "
        "--inception_weights)",
    )
    p.add_argument("--inception_weights", default=None, help="ImageNet Inception for IS / FID")
    p.add_argument(
        "--final_samples",
        type=int,
        default=None,
        help="samples of each final evaluation (default: the scale's)",
    )
    p.add_argument("--train_steps", type=int, default=None, help="override (smoke runs only)")
    p.add_argument(
        "--strategy",
        default=None,
        choices=("default", "mirrored", "multi_worker"),
        help="tf.distribute strategy of every run (default: the flagfile's)",
    )
    p.add_argument("--only", default="", help="comma-separated substrings of cell names to run")
    p.add_argument(
        "--report_only",
        action="store_true",
        help="rewrite report.md and figures from results.json; train nothing",
    )
    p.add_argument("--list", action="store_true", help="list the studies and their cells")
    return p  # fmt: skip


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from tf_amgan.study import report, runner, specs
    from tf_amgan.training import config as config_lib

    if args.list:
        for name, study in sorted(specs.STUDIES.items()):
            print(f"{name}: {study.title}")
            for scale, spec in study.scales.items():
                n = len(study.cells(scale, args.seeds, args.predefined_seeds))
                print(f"  --scale={scale}: {n} cells with --seeds={args.seeds}; "
                      f"{', '.join(spec.flagfiles.values())}")  # fmt: skip
        return 0
    if not args.study:
        print("error: --study is required (see --list)", file=sys.stderr)
        return 2
    settings = runner.Settings(
        study=args.study, scale=args.scale, seeds=args.seeds,
        predefined_seeds=args.predefined_seeds, runs_dir=args.runs_dir,
        results_dir=args.results_dir, classifier=args.classifier,
        inception_weights=args.inception_weights, final_samples=args.final_samples,
        train_steps=args.train_steps, only=tuple(s for s in args.only.split(",") if s),
        strategy=args.strategy,
    )  # fmt: skip
    try:
        study = specs.get(args.study)
        study.cells(args.scale, args.seeds, args.predefined_seeds)  # validates scale and seeds
        if args.report_only:
            path = os.path.join(settings.out_dir(), "results.json")
            if not os.path.exists(path):
                print(f"error: no {path}; run the study first", file=sys.stderr)
                return 2
            with open(path, encoding="utf-8") as f:
                results = json.load(f)
        else:
            import tensorflow as tf  # noqa: F401  (fail here, not mid-grid, if TF is broken)
            from absl import logging

            logging.set_verbosity(logging.WARNING)
            results = runner.run_study(settings)
    except runner.StudyInterrupted as e:
        print(f"\n{e}: the running cell was checkpointed; run the same command to resume",
              file=sys.stderr)  # fmt: skip
        return 128 + (e.signum or 2)
    except (ValueError, FileNotFoundError, config_lib.ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    path = report.write(results, settings.out_dir())
    print(f"report: {path} ({len(results['records'])}/{results['grid_cells']} cells)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
