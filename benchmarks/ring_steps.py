"""Steps/s of a small network (the 2-D ring MLP) with 1 or more train steps per tf.function call.

    python benchmarks/ring_steps.py                          # 4x128 MLP, batch 100
    python benchmarks/ring_steps.py --steps_per_call=1,10,100 --jit

For each --steps_per_call value one trainer (same seed) runs, in interleaved rounds, --steps steps
per round the way the training loop does (train_step call + host copies of the metrics once per
call). Prints the median wall-clock steps/s and the process-CPU-time steps/s (CPU seconds of this
process per step: less sensitive to other jobs on a shared machine, but it counts both cores).
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402


def build(steps_per_call, args, jit):
    from tf_amgan import data
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib
    from tf_amgan.training.config import Config

    cfg = Config(model="amgan", dataset="ring8", batch_size=args.batch_size, mlp_depth=args.depth,
                 mlp_units=args.units, progress=False, jit_compile=jit).validate()  # fmt: skip
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info)
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    it = iter(ds)
    step = t.build_train_step()
    n = tf.constant(steps_per_call, tf.int64)

    def run(total):
        for _ in range(total // steps_per_call):
            values = step(it) if steps_per_call == 1 else step(it, n)
            {k: float(v.numpy()) for k, v in values.items()}  # what the loop logs

    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps_per_call", default="1,10,100")
    p.add_argument("--steps", type=int, default=200, help="steps per configuration and round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch_size", type=int, default=100)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--units", type=int, default=128)
    p.add_argument("--jit", action="store_true", help="also each value with --jit_compile")
    args = p.parse_args()
    values = [int(v) for v in args.steps_per_call.split(",")]
    if any(args.steps % v for v in values):
        sys.exit("error: --steps must be a multiple of every --steps_per_call value")
    configs = {}
    for v in values:
        for jit in (False, True) if args.jit else (False,):
            fn = build(v, args, jit)
            fn(max(v, 10))  # trace and warm up
            configs[f"steps_per_call={v}{' jit' if jit else ''}"] = fn
    wall = {k: [] for k in configs}
    cpu = {k: [] for k in configs}
    for r in range(args.rounds):
        names = list(configs)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            c, w = time.process_time(), time.perf_counter()
            configs[name](args.steps)
            wall[name].append(args.steps / (time.perf_counter() - w))
            cpu[name].append(args.steps / (time.process_time() - c))
    print(f"ring8 MLP {args.depth}x{args.units}, batch {args.batch_size}; load average "
          f"{os.getloadavg()[0]:.1f} (shared machine)")  # fmt: skip
    print(f"{'configuration':>24} {'steps/s (wall)':>15} {'steps/CPU-s':>12}")
    for name in configs:
        print(
            f"{name:>24} {statistics.median(wall[name]):15.0f} {statistics.median(cpu[name]):12.0f}"
        )


if __name__ == "__main__":
    main()
