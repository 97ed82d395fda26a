"""Run a paper study grid and write its report.

    python -m tf_amgan.study --study=p001_table1 --scale=cpu --seeds=3 \
        --classifier=classifiers/fashion_mnist
    python -m tf_amgan.study --study=p000_ring8 --scale=cpu --seeds=3
    python -m tf_amgan.study --study=p001_table1 --scale=cpu --report_only   # from results.json
    python -m tf_amgan.study --list
    tf-amgan-study ...               (console script, same flags)

Resumable: finished cells (same configuration) are skipped, unfinished ones resume. SIGINT/SIGTERM
checkpoint the running cell and stop (exit 128 + signal); run the same command again to go on.
"""

from __future__ import annotations

import json
import os
import sys

from tf_amgan import commandline
from tf_amgan.study import flags as study_flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
PROG = "python -m tf_amgan.study"


def main(argv=None) -> int:
    """Runs (or lists, or re-reports) a study; returns the exit code (2 after one `error:` line)."""
    args = commandline.parse(
        study_flags.make_flags, sys.argv[1:] if argv is None else argv, PROG, __doc__
    )
    if isinstance(args, int):
        return args
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
        return commandline.error("--study is required (see --list)")
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
                return commandline.error(f"no {path}; run the study first")
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
        return commandline.error(e)
    path = report.write(results, settings.out_dir())
    print(f"report: {path} ({len(results['records'])}/{results['grid_cells']} cells)")
    return 0


def run() -> int:
    """Console-script entry point (`tf-amgan-study`)."""
    return main()


if __name__ == "__main__":
    raise SystemExit(main())
