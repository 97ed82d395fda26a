"""tf-amgan's train step side by side with PyTorch eager, bf16 vs float32 and --jit_compile.

    pip install torch==2.13.0                      # the optional `bench` extra (CPU build)
    python benchmarks/compare_torch.py                        # widths 0.25, 0.5, 1.0; batch 100
    python benchmarks/compare_torch.py --widths=0.5 --rounds=12 --threads=1
    python benchmarks/compare_torch.py --configs=tf_fp32,tf_bf16   # without PyTorch

The same A-1 network (AM-GAN dynamic, 1 channel 32x32 = padded Fashion-MNIST, weight norm, BN with
batch statistics, D input noise and dropout; benchmarks/torch_amgan.py) and one D+G step. Every
configuration lives in its own worker process (built, traced and warmed up once); the parent
interleaves them: each round asks every worker for --steps_per_round steps, in a rotated order,
so drift in machine speed (other jobs on a shared machine) hits all configurations alike. Ratios
are medians of per-round ratios.

Prints per width and configuration: parameter counts (asserted equal between tf-amgan and
PyTorch), the median step time (min-max), images/s, the analytic FLOPs of a step (2 x
multiply-adds of every conv / dense in the forward passes, x3 for forward + backward where weight
gradients are needed; benchmarks/train_step.py), GFLOP/s and its share of this machine's measured
matmul rate of the same dtype (2048^3, TensorFlow), and each configuration's speed relative to
tf-amgan float32. `--json` adds one JSON line per result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIGS = {
    # name: (framework, bf16, jit)
    "tf_fp32": ("tf", False, False),
    "tf_bf16": ("tf", True, False),
    "tf_fp32_xla": ("tf", False, True),
    "torch_fp32": ("torch", False, False),
    "torch_bf16": ("torch", True, False),
}


# --------------------------------------------------------------------------- workers
def _set_threads(framework: str, threads: int) -> None:
    if framework == "tf":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    else:
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)


def _matmul_rates(framework: str, n: int = 2048, repeats: int = 6) -> dict:
    rates = {}
    if framework == "tf":
        import tensorflow as tf

        f = tf.function(lambda x, y: tf.matmul(x, y))
        for name, dtype in (("fp32", tf.float32), ("bf16", tf.bfloat16)):
            a = tf.cast(tf.random.normal([n, n]), dtype)
            b = tf.cast(tf.random.normal([n, n]), dtype)
            f(a, b).numpy()
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                f(a, b).numpy()
                times.append(time.perf_counter() - t)
            rates[name] = 2 * n**3 / statistics.median(times) / 1e9
    else:
        import torch

        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
            a @ b
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                a @ b
                times.append(time.perf_counter() - t)
            rates[name] = 2 * n**3 / statistics.median(times) / 1e9
    return rates


def _tf_worker(args, bf16: bool, jit: bool):
    sys.path.insert(0, ROOT)
    sys.path.insert(0, HERE)
    import train_step

    t = train_step.build(
        args.width, args.batch_size, "none", "fashion_mnist", "amgan", "dynamic",
        precision="mixed_bfloat16" if bf16 else "float32", jit_compile=jit,
    )  # fmt: skip
    fn, flops, trainer = t
    counts = {}
    for name, model in (("G", trainer.generator), ("D", trainer.discriminator)):
        trainable = sum(int(v.numpy().size) for v in model.trainable_weights)
        counts[name] = [trainable, int(model.count_params()) - trainable]
    return fn, {"flops": flops, "params": counts}


def _torch_worker(args, bf16: bool):
    sys.path.insert(0, HERE)
    import torch_amgan

    step = torch_amgan.AMGANStep(width=args.width, batch=args.batch_size, bf16=bf16)
    counts = {
        "G": list(torch_amgan.param_counts(step.G)),
        "D": list(torch_amgan.param_counts(step.D)),
    }
    return step.step, {"params": counts}


def worker(args) -> None:
    framework, bf16, jit = CONFIGS[args.worker]
    _set_threads(framework, args.threads)
    if framework == "tf":
        fn, info = _tf_worker(args, bf16, jit)
    else:
        fn, info = _torch_worker(args, bf16)
    for _ in range(args.warmup):
        fn()
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "run":
            times = []
            for _ in range(int(cmd[1])):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            print(json.dumps({"times": times}), flush=True)
        elif cmd[0] == "matmul":
            print(json.dumps(_matmul_rates(framework)), flush=True)
        else:
            return


# --------------------------------------------------------------------------- parent
class Worker:
    def __init__(self, name, args, width):
        cmd = [sys.executable, os.path.abspath(__file__), f"--worker={name}", f"--width={width}",
               f"--batch_size={args.batch_size}", f"--threads={args.threads}",
               f"--warmup={args.warmup}"]  # fmt: skip
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT}
        self.name = name
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
        )
        self.info = None  # set by ready(); workers build and warm up concurrently
        self.times: list[float] = []

    def ready(self):
        self.info = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} died (exit {self.proc.wait()})")
        return json.loads(line)

    def ask(self, command: str):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()


def cpu_description() -> str:
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16")
    return f"{model}, {os.cpu_count()} cores, flags: {' '.join(f for f in wanted if f in flags)}"


def measure_width(args, width, names, matmul):
    workers = [Worker(n, args, width) for n in names]
    try:
        for w in workers:
            w.ready()
        params = {w.name: w.info["params"] for w in workers}
        ref = params.get("tf_fp32") or next(iter(params.values()))
        for name, p in params.items():
            if p != ref:
                raise SystemExit(f"error: parameter counts differ: tf_fp32 {ref} vs {name} {p}")
        flops = next(w.info["flops"] for w in workers if "flops" in w.info)
        for r in range(args.rounds):
            k = r % len(workers)
            for w in workers[k:] + workers[:k]:
                w.times.extend(w.ask(f"run {args.steps_per_round}")["times"])
        if matmul is not None:
            tf_worker = next((w for w in workers if w.name.startswith("tf")), None)
            if tf_worker is not None:
                matmul.append(tf_worker.ask("matmul"))
    finally:
        for w in workers:
            w.close()
    return workers, ref, flops


def main():
    sys.stdout.reconfigure(line_buffering=True)  # progress visible when redirected to a file
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="0.25,0.5,1.0")
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"from {list(CONFIGS)}")
    p.add_argument("--batch_size", type=int, default=100)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--steps_per_round", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="intra-op threads each")
    p.add_argument("--json", action="store_true")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--width", type=float, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or args.rounds < 1 or args.steps_per_round < 1:
        sys.exit(f"error: unknown --configs {unknown} (choose from {list(CONFIGS)}) or bad counts")
    if any(CONFIGS[n][0] == "torch" for n in names):
        try:
            import torch  # noqa: F401
        except ImportError:
            sys.exit("error: PyTorch is not installed: pip install torch==2.13.0 (or .[bench])")
    print(f"CPU: {cpu_description()}; {args.threads} thread(s) per framework; load average "
          f"{os.getloadavg()[0]:.1f} at start (other jobs share the machine: compare ratios)")  # fmt: skip
    print(f"batch {args.batch_size}, {args.rounds} rounds x {args.steps_per_round} steps per "
          f"configuration, interleaved, after {args.warmup} warm-up steps")  # fmt: skip
    matmul: list[dict] = []
    for width in [float(w) for w in args.widths.split(",")]:
        workers, params, flops = measure_width(args, width, names, matmul)
        mm = {k: statistics.median(m[k] for m in matmul) for k in ("fp32", "bf16")}
        print(f"\nwidth {width}: G {params['G'][0]:,} + {params['G'][1]:,} BN stats, D "
              f"{params['D'][0]:,} + {params['D'][1]:,} (equal in every framework); "
              f"{flops / 1e9:.2f} GFLOP/step; TF matmul fp32 {mm['fp32']:.0f}, bf16 "
              f"{mm['bf16']:.0f} GFLOP/s")  # fmt: skip
        print(f"{'config':>12} {'median s':>9} {'min-max s':>13} {'img/s':>7} {'GFLOP/s':>8} "
              f"{'of matmul':>9} {'vs tf_fp32':>10}")  # fmt: skip
        base = next((w for w in workers if w.name == "tf_fp32"), None)
        for w in workers:
            med = statistics.median(w.times)
            gfs = flops / med / 1e9
            rate = mm["bf16" if CONFIGS[w.name][1] else "fp32"]
            # > 1: faster than tf-amgan float32. Per-round pairs (steps_per_round each).
            rel = None
            if base is not None:
                s = args.steps_per_round
                pairs = [
                    sum(base.times[i : i + s]) / sum(w.times[i : i + s])
                    for i in range(0, len(w.times), s)
                ]
                rel = statistics.median(pairs)
            print(f"{w.name:>12} {med:9.3f} {min(w.times):6.3f}-{max(w.times):6.3f} "
                  f"{args.batch_size / med:7.1f} {gfs:8.1f} {gfs / rate:9.0%} "
                  f"{'-' if rel is None else f'{rel:.2f}x':>10}")  # fmt: skip
            if args.json:
                print(json.dumps({"width": width, "config": w.name, "median_s": med,
                                  "min_s": min(w.times), "max_s": max(w.times),
                                  "gflops": gfs, "matmul_gflops": rate,
                                  "speed_vs_tf_fp32": rel, "threads": args.threads,
                                  "batch_size": args.batch_size}))  # fmt: skip


if __name__ == "__main__":
    main()
