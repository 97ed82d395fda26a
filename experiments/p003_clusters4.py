"""P003 §4.1 (spec X-10): CGPGAN's lambda_creg sweep and the baselines on the 4 Gaussian clusters.

    python experiments/p003_clusters4.py                        # the lambda_creg sweep
    python experiments/p003_clusters4.py --flagfiles=flags/p003_clusters4_creg0p1.cfg
    python experiments/p003_clusters4.py --flagfiles=flags/p003_clusters4_infogan.cfg,...

Each flagfile is trained with the ordinary engine (tf_amgan.experiment.run; an existing run
directory is resumed, a finished one is only evaluated). Then, per run, in --out:
  <name>.png        scatter of 2000 generated samples (categories drawn from the final P(C)) in
                    red over real data in grey, cluster centres as blue crosses
  <name>.json       tf_amgan.category_eval.category_report (final P(C), category -> cluster, purity,
                    one-to-one assignment, |sorted P(C) - [0.1, 0.2, 0.3, 0.4]|, Q's clustering
                    accuracy) plus the training time
and for all runs together table.md / results.json. P003's outcome for lambda_creg = 0.1 is "each
cluster its own category" with P(C) = the cluster weights; the acceptance check is
`one_to_one and prior_error <= 0.05` (column "pass"; for fixed priors only one_to_one is informative).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SWEEP = [f"flags/p003_clusters4_creg{v}.cfg" for v in ("0", "0p1", "1", "10", "100")]
TOLERANCE = 0.05


def run_one(path: str, out_dir: str, overrides: dict, log=print) -> dict:
    """Trains (or resumes) one flagfile's run and evaluates its categories."""
    import numpy as np
    import tensorflow as tf

    from tf_amgan import category_eval, data, distribute, experiment, samples
    from tf_amgan import config as config_lib
    from tf_amgan import trainer as trainer_lib

    cfg = config_lib.Config.from_flagfile(path, **overrides)
    name = os.path.splitext(os.path.basename(path))[0]
    log(f"== {name}: {cfg.model}, lambda_creg={cfg.lambda_creg}, {cfg.train_steps} steps")
    t0 = time.perf_counter()
    result = experiment.run(cfg.replace(progress=False), log=log)
    seconds = time.perf_counter() - t0
    if result.status != "completed":
        raise RuntimeError(f"{name}: training {result.status} at step {result.step}")
    info = data.get_info(cfg.dataset, **cfg.data_options)
    trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    latest = tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
    report = category_eval.category_report(trainer, seed=cfg.seed)
    report.update(
        name=name,
        model=cfg.model,
        prior_kind=trainer.prior.kind,
        lambda_creg=cfg.lambda_creg,
        train_steps=cfg.train_steps,
        seconds=round(seconds, 1),
        passed=bool(
            report["one_to_one"]
            and report["prior_error"] is not None
            and report["prior_error"] <= TOLERANCE
        ),
    )
    fake = trainer.generate(trainer.fixed_noise(2000)).numpy()
    mixture = data.get_mixture(cfg.dataset, **cfg.data_options)
    real, _ = mixture.sample(2000, seed=cfg.seed)
    bounds = (-2.5, 3.5, -3.5, 3.5)  # P003 Fig. 1-6 frame the clusters the same way every time
    samples.scatter_png(
        os.path.join(out_dir, f"{name}.png"), fake, real=np.asarray(real), means=mixture.means,
        bounds=bounds,
    )  # fmt: skip
    with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    return report


def table(reports: list[dict]) -> str:
    lines = [
        "| run | model | P(C) | lambda_creg | final P(C) (>= 1%, sorted) | category -> cluster | "
        "min purity | max abs P(C) error | Q clustering acc. | steps | time (s) | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        probs = ", ".join(f"{p:.4f}" for p in sorted(r["active_prior"]))
        clusters = " ".join(f"{k}->{v}" for k, v in r["category_cluster"].items())
        err = "-" if r["prior_error"] is None else f"{r['prior_error']:.4f}"
        acc = "-" if r["q_clustering_accuracy"] is None else f"{r['q_clustering_accuracy']:.4f}"
        purity = "-" if r["min_purity"] is None else f"{r['min_purity']:.3f}"
        lines.append(
            f"| {r['name']} | {r['model']} | {r['prior_kind']} | {r['lambda_creg']} | [{probs}] | "
            f"{clusters} | "
            f"{purity} | {err} | {acc} | {r['train_steps']} | {r['seconds']} | "
            f"{'yes' if r['passed'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flagfiles", default=",".join(SWEEP), help="comma-separated flagfiles")
    parser.add_argument("--out", default="results/p003_clusters4", help="figures and tables")
    parser.add_argument("--train_steps", type=int, default=None, help="override (quick looks)")
    parser.add_argument("--seed", type=int, default=None, help="override the flagfiles' seed")
    parser.add_argument("--runs_dir", default=None, help="put run directories here instead")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    reports = []
    for path in [p for p in args.flagfiles.split(",") if p]:
        overrides = {}
        if args.train_steps is not None:
            overrides["train_steps"] = args.train_steps
        if args.seed is not None:
            overrides["seed"] = args.seed
        if args.runs_dir is not None:
            name = os.path.splitext(os.path.basename(path))[0]
            overrides["output_dir"] = os.path.join(args.runs_dir, name)
        reports.append(run_one(os.path.join(ROOT, path) if not os.path.isabs(path) else path,
                               args.out, overrides))  # fmt: skip
        with open(os.path.join(args.out, "table.md"), "w", encoding="utf-8") as f:
            f.write(table(reports))
        with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
            json.dump(reports, f, indent=2)
    print(table(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
