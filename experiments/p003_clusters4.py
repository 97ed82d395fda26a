"""P003 §4.1 (spec X-10): CGPGAN's lambda_creg sweep and the baselines on the 4 Gaussian clusters.

    python experiments/p003_clusters4.py                        # the lambda_creg sweep
    python experiments/p003_clusters4.py --flagfiles=flags/p003_clusters4_creg0p1.cfg
    python experiments/p003_clusters4.py --flagfiles=flags/p003_clusters4_infogan.cfg,...

Each flagfile is trained with the ordinary engine and restored (tf_amgan.study.runreport.run_sweep; an
existing run directory is resumed, a finished one is only evaluated). Then, per run, in --out:
  <name>.png        scatter of 2000 generated samples (categories drawn from the final P(C)) in
                    red over real data in grey, cluster centres as blue crosses
  <name>.json       tf_amgan.evaluation.category_eval.category_report (final P(C), category -> cluster, purity,
                    one-to-one assignment, |sorted P(C) - [0.1, 0.2, 0.3, 0.4]|, Q's clustering
                    accuracy) plus the training time
and for all runs together table.md / results.json. P003's outcome for lambda_creg = 0.1 is "each
cluster its own category" with P(C) = the cluster weights; the acceptance check is
`one_to_one and prior_error <= 0.05` (column "pass"; for fixed priors only one_to_one is informative).
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SWEEP = [f"flags/p003_clusters4_creg{v}.cfg" for v in ("0", "0p1", "1", "10", "100")]
TOLERANCE = 0.05
BOUNDS = (-2.5, 3.5, -3.5, 3.5)  # P003 Fig. 1-6 frame the clusters the same way every time


def report(run, out_dir: str) -> dict:
    """Category report of one restored run, and its scatter plot <out>/<name>.png."""
    import numpy as np

    from tf_amgan import data
    from tf_amgan.evaluation import category_eval
    from tf_amgan.training import samples

    cfg, trainer = run.config, run.trainer
    rep = category_eval.category_report(trainer, seed=cfg.seed)
    rep.update(
        name=run.name,
        model=cfg.model,
        prior_kind=trainer.prior.kind,
        lambda_creg=cfg.lambda_creg,
        train_steps=cfg.train_steps,
        seconds=run.seconds,
        passed=bool(
            rep["one_to_one"] and rep["prior_error"] is not None and rep["prior_error"] <= TOLERANCE
        ),
    )
    fake = trainer.generate(trainer.fixed_noise(2000)).numpy()  # categories from the final P(C)
    mixture = data.get_mixture(cfg.dataset, **cfg.data_options)
    real, _ = mixture.sample(2000, seed=cfg.seed)
    samples.scatter_png(
        os.path.join(out_dir, f"{run.name}.png"), fake, real=np.asarray(real), means=mixture.means,
        bounds=BOUNDS,
    )  # fmt: skip
    return rep


def table(reports: list[dict]) -> str:
    from tf_amgan.study.runreport import cell, markdown_table

    header = ["run", "model", "P(C)", "lambda_creg", "final P(C) (>= 1%, sorted)",
              "category -> cluster", "min purity", "max abs P(C) error", "Q clustering acc.",
              "steps", "time (s)", "pass"]  # fmt: skip
    rows = []
    for r in reports:
        probs = ", ".join(f"{p:.4f}" for p in sorted(r["active_prior"]))
        clusters = " ".join(f"{k}->{v}" for k, v in r["category_cluster"].items())
        rows.append([r["name"], r["model"], r["prior_kind"], r["lambda_creg"], f"[{probs}]",
                     clusters, cell(r["min_purity"], ".3f"), cell(r["prior_error"], ".4f"),
                     cell(r["q_clustering_accuracy"], ".4f"), r["train_steps"], r["seconds"],
                     cell(r["passed"])])  # fmt: skip
    return markdown_table(header, rows)


def main(argv=None) -> int:
    from tf_amgan.study import runreport

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    runreport.add_arguments(parser, SWEEP, "results/p003_clusters4")
    args = parser.parse_args(argv)
    runreport.run_sweep(args, lambda run: report(run, args.out), table, root=ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
