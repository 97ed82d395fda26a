"""Does mixed_bfloat16 train like float32? FID and AM Score curves, several seeds each.

    python experiments/bf16_equivalence.py --classifier=/work/cache/classifiers/fashion_mnist
    python experiments/bf16_equivalence.py --classifier=... --seeds=0,1,2 --parallel=2 --steps=3000

Trains AM-GAN (dynamic labeling) on Fashion-MNIST at width 0.25, batch 64 (the quickstart
network) with --precision=float32 and --precision=mixed_bfloat16 for every seed, evaluating every
--eval_every steps (AM Score and FID on the --classifier network's features, --eval_samples
generated images against the training split). Each run is an ordinary `run_experiment.py` process
in <runs_dir>/<precision>_s<seed>; an interrupted study resumes its runs (finished ones are only
read). Runs are ordered seed by seed, float32 and bf16 side by side, so a study stopped early
still has matched pairs.

Writes <out>/results.json (every curve, per-step mean / sd per precision, the verdict) and
<out>/table.md. The verdict: the curves agree within seed noise when at every evaluated step the
difference of the two precisions' seed means is at most twice its standard error
sqrt(sd_fp32^2 / n + sd_bf16^2 / n); with 3 seeds that is a coarse test (it detects systematic
differences, not small ones).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tf_amgan.io_utils import atomic_write_text  # noqa: E402
from tf_amgan.study.runner import cpu_model  # noqa: E402

PRECISIONS = ("float32", "mixed_bfloat16")
METRICS = ("fid", "am")  # FID: lower is better; AM Score: lower is better (P001 E-5)


def run_flags(args, precision: str, seed: int, run_dir: str) -> list[str]:
    return [
        "--model=amgan",
        "--labeling=dynamic",
        "--dataset=fashion_mnist",
        f"--g_width={args.width}",
        f"--d_width={args.width}",
        f"--batch_size={args.batch_size}",
        f"--train_steps={args.steps}",
        f"--seed={seed}",
        f"--precision={precision}",
        f"--eval_every={args.eval_every}",
        f"--eval_samples={args.eval_samples}",
        "--eval_metrics=am,fid",
        f"--classifier={args.classifier}",
        "--log_every=100",
        f"--checkpoint_every={args.eval_every}",
        "--sample_every=0",
        "--progress=false",
        f"--output_dir={run_dir}",
    ]


def _read_jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def finished(run_dir: str, steps: int) -> bool:
    return any(r.get("step") == steps for r in _read_jsonl(os.path.join(run_dir, "eval.jsonl")))


def read_run(run_dir: str, precision: str, seed: int) -> dict:
    evals = _read_jsonl(os.path.join(run_dir, "eval.jsonl"))
    logs = _read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    times = [r["step_time"] for r in logs if "step_time" in r][1:]  # the first window has tracing
    return {
        "precision": precision,
        "seed": seed,
        "steps": [r["step"] for r in evals],
        **{m: [r[m] for r in evals] for m in METRICS},
        "median_step_time_s": statistics.median(times) if times else None,
        "final_d_loss": logs[-1]["d_loss"] if logs else None,
        "final_g_loss": logs[-1]["g_loss"] if logs else None,
    }


def summarize(runs: list[dict]) -> dict:
    """Per-step mean / sd per precision and the within-seed-noise verdict (complete pairs only)."""
    by_prec = {p: [r for r in runs if r["precision"] == p] for p in PRECISIONS}
    seeds = sorted(
        {r["seed"] for r in by_prec[PRECISIONS[0]]} & {r["seed"] for r in by_prec[PRECISIONS[1]]}
    )
    common_steps = None
    for r in runs:
        if r["seed"] in seeds:
            common_steps = (
                set(r["steps"]) if common_steps is None else common_steps & set(r["steps"])
            )
    steps = sorted(common_steps or [])
    out = {"seeds": seeds, "steps": steps, "per_step": [], "agree": None}
    if not steps or not seeds:
        return out
    agree = True
    for step in steps:
        row = {"step": step}
        for metric in METRICS:
            values = {}
            for p in PRECISIONS:
                values[p] = [
                    r[metric][r["steps"].index(step)] for r in by_prec[p] if r["seed"] in seeds
                ]
            n = len(seeds)
            mean = {p: statistics.fmean(v) for p, v in values.items()}
            sd = {p: statistics.stdev(v) if n > 1 else 0.0 for p, v in values.items()}
            diff = mean[PRECISIONS[1]] - mean[PRECISIONS[0]]
            se = (sum(s**2 for s in sd.values()) / n) ** 0.5
            within = abs(diff) <= 2 * se if n > 1 else None
            agree = agree and bool(within)
            row[metric] = {
                "values": values,
                "mean": mean,
                "sd": sd,
                "diff_bf16_minus_fp32": diff,
                "se_diff": se,
                "within_2se": within,
            }
        out["per_step"].append(row)
    out["agree"] = agree if len(seeds) > 1 else None
    return out


def table(runs: list[dict], summary: dict, args, cpu: str) -> str:
    lines = [
        "# bf16 vs float32 training: AM-GAN (dynamic), Fashion-MNIST, width "
        f"{args.width}, batch {args.batch_size}",
        "",
        f"Made by `python experiments/bf16_equivalence.py` on {cpu} (2 cores, shared with other "
        "jobs: step times are indicative only). FID and AM Score (both lower = better) of "
        f"{args.eval_samples} samples on the Fashion-MNIST classifier's features; mean ± sd over "
        f"seeds {summary['seeds']}.",
        "",
        "| step | FID float32 | FID bf16 | Δ (±2 SE) | AM float32 | AM bf16 | Δ (±2 SE) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["per_step"]:
        cells = [str(row["step"])]
        for metric in METRICS:
            m = row[metric]
            for p in PRECISIONS:
                cells.append(f"{m['mean'][p]:.2f} ± {m['sd'][p]:.2f}")
            mark = " *" if m["within_2se"] is False else ""
            cells.append(f"{m['diff_bf16_minus_fp32']:+.2f} (±{2 * m['se_diff']:.2f}){mark}")
        lines.append("| " + " | ".join(cells) + " |")
    verdict = {
        True: "The curves agree within seed noise at every evaluated step.",
        False: "The curves differ by more than seed noise at the steps marked *.",
        None: "Too few complete seed pairs for a verdict.",
    }[summary["agree"]]
    lines += [
        "",
        verdict,
        "",
        "| run | final FID | final AM | median step s |",
        "|---|---|---|---|",
    ]
    for r in runs:
        if r["steps"]:
            t = r["median_step_time_s"]
            lines.append(
                f"| {r['precision']} seed {r['seed']} (to step {r['steps'][-1]}) | "
                f"{r['fid'][-1]:.2f} | {r['am'][-1]:.3f} | {'-' if t is None else f'{t:.3f}'} |"
            )
    return "\n".join(lines) + "\n"


def write_report(args, jobs) -> dict:
    runs = [read_run(d, p, s) for p, s, d in jobs if os.path.exists(d)]
    summary = summarize(runs)
    cpu = cpu_model() or "unknown CPU"
    result = {"config": vars(args), "cpu": cpu, "runs": runs, "summary": summary}
    atomic_write_text(os.path.join(args.out, "results.json"), json.dumps(result, indent=1) + "\n")
    atomic_write_text(os.path.join(args.out, "table.md"), table(runs, summary, args, cpu))
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--classifier", required=True, help="Fashion-MNIST classifier directory")
    p.add_argument("--out", default=os.path.join(ROOT, "results", "bf16_equivalence"))
    p.add_argument(
        "--runs_dir", default=os.path.join(ROOT, "runs", "bf16_equivalence"), help="run directories"
    )
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--eval_every", type=int, default=500)
    p.add_argument("--eval_samples", type=int, default=5000)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--parallel", type=int, default=1, help="runs trained at the same time")
    p.add_argument("--report_only", action="store_true", help="only rewrite results / table")
    args = p.parse_args(argv)
    if not os.path.isfile(os.path.join(args.classifier, "classifier.json")):
        print(f"error: --classifier={args.classifier} has no classifier.json", file=sys.stderr)
        return 2
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        print(
            f"error: --seeds must be comma-separated integers, got {args.seeds!r}", file=sys.stderr
        )
        return 2
    if args.steps % args.eval_every or args.parallel < 1:
        print("error: --steps must be a multiple of --eval_every; --parallel >= 1", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    jobs = [
        (prec, seed, os.path.join(args.runs_dir, f"{prec}_s{seed}"))
        for seed in seeds
        for prec in PRECISIONS
    ]
    if not args.report_only:
        env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
        todo = [j for j in jobs if not finished(j[2], args.steps)]
        running: list[tuple] = []
        failed = 0
        while todo or running:
            while todo and len(running) < args.parallel:
                prec, seed, run_dir = todo.pop(0)
                os.makedirs(os.path.join(args.runs_dir, "logs"), exist_ok=True)
                log = open(os.path.join(args.runs_dir, "logs", f"{prec}_s{seed}.log"), "a")  # noqa: SIM115
                cmd = [sys.executable, os.path.join(ROOT, "run_experiment.py")]
                proc = subprocess.Popen(
                    cmd + run_flags(args, prec, seed, run_dir), stdout=log, stderr=log, env=env
                )
                running.append((proc, log, prec, seed))
                print(f"started {prec} seed {seed}", flush=True)
            time.sleep(5)
            for item in list(running):
                proc, log, prec, seed = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                log.close()
                failed += proc.returncode != 0
                print(f"finished {prec} seed {seed}: exit {proc.returncode}", flush=True)
                write_report(args, jobs)
        if failed:
            print(f"error: {failed} run(s) failed; see {args.runs_dir}/logs", file=sys.stderr)
            return 1
    write_report(args, jobs)
    with open(os.path.join(args.out, "table.md"), encoding="utf-8") as f:
        print(f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
