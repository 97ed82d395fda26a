"""P003 §4.2 (spec X-11) at CPU size on Fashion-MNIST: CGPGAN's lambda_creg sweep, d_c = 32.

    python experiments/p003_fashion.py [--flagfiles=...] [--out=results/p003_fashion]

Trains each flagfile with the ordinary engine (resuming existing run directories), then writes
to --out, per run:
  <name>.png   one row per category with P(C) >= 1% (most probable first), 10 samples each
  <name>.json  final P(C), its entropy, the number of categories >= 1% (P003 omits the others),
               and the clustering accuracy of the classifier Q on the test split against the true
               labels (Hungarian matching; not a P003 number)
and table.md / results.json for the sweep. FID / precision / recall of the same runs come from the
evaluation tools (tf_amgan.evaluate) with a Fashion-MNIST classifier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SWEEP = [f"flags/p003_fashion_creg{v}.cfg" for v in (50, 70, 100, 120)]
TEST_IMAGES = 5000


def run_one(path: str, out_dir: str, overrides: dict) -> dict:
    import tensorflow as tf

    from tf_amgan import category_eval, data, distribute, experiment, samples
    from tf_amgan import config as config_lib
    from tf_amgan import trainer as trainer_lib
    from tf_amgan.selfsup import ACTIVE_THRESHOLD

    cfg = config_lib.Config.from_flagfile(path, **overrides)
    name = os.path.splitext(os.path.basename(path))[0]
    t0 = time.perf_counter()
    result = experiment.run(cfg.replace(progress=False), log=print)
    seconds = time.perf_counter() - t0
    if result.status != "completed":
        raise RuntimeError(f"{name}: training {result.status} at step {result.step}")
    info = data.get_info(cfg.dataset, **cfg.data_options)
    trainer = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    latest = tf.train.latest_checkpoint(os.path.join(cfg.output_dir, "checkpoints"))
    trainer.checkpoint.restore(latest).assert_existing_objects_matched()
    probs = trainer.prior.probs().numpy().astype(float)
    order = [int(k) for k in np.argsort(-probs) if probs[k] > ACTIVE_THRESHOLD]
    rows = []
    for i, k in enumerate(order):
        z = trainer.fixed_noise(10, index=i)
        rows.append(trainer.generate(z, tf.fill([10], k)).numpy())
    if rows:
        samples.save_grid(os.path.join(out_dir, f"{name}.png"), np.concatenate(rows), 10)
    images, labels = data.load_arrays(cfg.dataset, "test", **cfg.data_options)
    q = category_eval.classifier_clustering_accuracy(
        trainer, images[:TEST_IMAGES], labels[:TEST_IMAGES]
    )
    report = {
        "name": name,
        "lambda_creg": cfg.lambda_creg,
        "train_steps": cfg.train_steps,
        "seconds": round(seconds, 1),
        "num_active": len(order),
        "active_prior": [round(probs[k], 4) for k in order],
        "prior_entropy": float(-np.sum(probs[probs > 0] * np.log(probs[probs > 0]))),
        "prior": probs.round(6).tolist(),
        "q_clustering_accuracy": q["clustering_accuracy"],
        "q_clusters_used": q["clusters_used"],
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    return report


def table(reports) -> str:
    lines = [
        "| run | lambda_creg | #categories >= 1% | P(C) (>= 1%, descending) | entropy | "
        "Q clustering acc. (test) | steps | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        probs = ", ".join(f"{p:.4f}" for p in r["active_prior"])
        acc = "-" if r["q_clustering_accuracy"] is None else f"{r['q_clustering_accuracy']:.4f}"
        lines.append(
            f"| {r['name']} | {r['lambda_creg']} | {r['num_active']} | [{probs}] | "
            f"{r['prior_entropy']:.3f} | {acc} | {r['train_steps']} | {r['seconds']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flagfiles", default=",".join(SWEEP))
    parser.add_argument("--out", default="results/p003_fashion")
    parser.add_argument("--train_steps", type=int, default=None)
    parser.add_argument("--runs_dir", default=None)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    reports = []
    for path in [p for p in args.flagfiles.split(",") if p]:
        overrides = {}
        if args.train_steps is not None:
            overrides["train_steps"] = args.train_steps
        if args.runs_dir is not None:
            name = os.path.splitext(os.path.basename(path))[0]
            overrides["output_dir"] = os.path.join(args.runs_dir, name)
        full = path if os.path.isabs(path) else os.path.join(ROOT, path)
        reports.append(run_one(full, args.out, overrides))
        with open(os.path.join(args.out, "table.md"), "w", encoding="utf-8") as f:
            f.write(table(reports))
        with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
            json.dump(reports, f, indent=2)
    print(table(reports))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
