"""How D's batch norm sees real and fake samples (--d_norm) on the 8-Gaussian ring (issue 10).

    python experiments/ring_d_norm.py [--models=gan,acgan_plus,labelgan,amgan] [--seeds=0,1]
        [--d_norms=separate,joint,none] [--train_steps=6000] [--out=runs/ring_d_norm]

Trains every (model, seed, d_norm) with flags/p000_ring8_cpu.cfg (the ring study's CPU twin) and
evaluates the last checkpoint as the study does (10,000 samples, evaluation seed 0: oracle NLL,
modes covered, high-quality share). Run directories are reused, so an interrupted probe continues
and a finished one is only evaluated again. Prints a markdown table per
cell and the per-d_norm means, and writes <out>/table.md.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FLAGFILE = os.path.join(ROOT, "flags", "p000_ring8_cpu.cfg")
KEYS = ("modes_covered", "hq_fraction", "nll")


def run_one(model: str, seed: int, d_norm: str, steps: int, out: str) -> dict:
    from tf_amgan import evaluation, train
    from tf_amgan.training import config as config_lib

    run_dir = os.path.join(out, f"{model}_{d_norm}_s{seed}")
    cfg = config_lib.Config.from_flagfile(
        FLAGFILE,
        model=model,
        seed=seed,
        d_norm=d_norm,
        train_steps=steps,
        eval_every=steps,
        checkpoint_every=steps,
        output_dir=run_dir,
        progress=False,
    ).validate()
    result = train.run(cfg, log=lambda m: None)
    if result.status != "completed":
        raise RuntimeError(f"{run_dir}: {result.status}")
    options = evaluation.EvalOptions(metrics=("nll", "modes", "hq"), num_samples=10000, seed=0)
    result = evaluation.evaluate(evaluation.run_dir_source(run_dir), options, dataset="ring8")
    return {k: result.metrics[k] for k in KEYS}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="gan,acgan_plus,labelgan,amgan")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--d_norms", default="separate,joint,none")
    p.add_argument("--train_steps", type=int, default=6000)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "ring_d_norm"))
    args = p.parse_args(argv)
    models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    norms = args.d_norms.split(",")
    rows = [
        "| model | d_norm | seed | modes | HQ share | oracle NLL |",
        "|---|---|---|---|---|---|",
    ]
    by_norm: dict[str, list[dict]] = {n: [] for n in norms}
    for seed in seeds:
        for model in models:
            for norm in norms:
                r = run_one(model, seed, norm, args.train_steps, args.out)
                by_norm[norm].append(r)
                row = (f"| {model} | {norm} | {seed} | {r['modes_covered']:.0f} | "
                       f"{r['hq_fraction']:.3f} | {r['nll']:.4g} |")  # fmt: skip
                rows.append(row)
                print(row, flush=True)
    summary = [
        "",
        "| d_norm | runs | mean modes | mean HQ share | median NLL |",
        "|---|---|---|---|---|",
    ]
    for norm, rs in by_norm.items():
        summary.append(
            f"| {norm} | {len(rs)} | {np.mean([r['modes_covered'] for r in rs]):.2f} | "
            f"{np.mean([r['hq_fraction'] for r in rs]):.3f} | "
            f"{np.median([r['nll'] for r in rs]):.4g} |"
        )
    text = "\n".join(rows + summary) + "\n"
    print("\n".join(summary))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "table.md"), "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
