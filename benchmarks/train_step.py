"""Train-step speed: paper network and CPU-sized width, with and without a 1-replica MirroredStrategy.

    python benchmarks/train_step.py                    # width 1.0 (paper) and 0.5, batch 100
    python benchmarks/train_step.py --widths=0.25 --steps=10 --batch_size=64

Prints per configuration: median step time (D step + G step), images/s, an analytic estimate of the
FLOPs of one step (conv/dense multiply-adds of the forward passes x the usual 3x for forward +
backward), the achieved GFLOP/s, and this machine's measured float32 matmul GFLOP/s. The strategy
overhead is reported as a ratio of medians measured in the same process, one after the other.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def matmul_gflops(n=2048, repeats=10):
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    f = tf.function(lambda x, y: tf.matmul(x, y))
    f(a, b).numpy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).numpy()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def forward_flops(model, batch):
    """2 x multiply-adds of every Conv2D / Conv2DTranspose / Dense in one forward pass."""
    import keras

    total = 0
    for layer in _walk(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            k = layer.kernel.shape  # (kh, kw, out, in)
            in_shape = layer.input.shape if hasattr(layer, "input") else None
            h, w = in_shape[1], in_shape[2]
            total += 2 * h * w * k[0] * k[1] * k[2] * k[3]
        elif isinstance(layer, keras.layers.Conv2D):
            k = layer.kernel.shape  # (kh, kw, in, out)
            out = layer.output.shape
            total += 2 * out[1] * out[2] * k[0] * k[1] * k[2] * k[3]
        elif isinstance(layer, keras.layers.Dense):
            k = layer.kernel.shape
            total += 2 * k[0] * k[1]
    return total * batch


def _walk(layer):
    yield layer
    for attr in ("layers", "_layers"):
        children = getattr(layer, attr, None)
        if children:
            for child in children:
                if child is not layer:
                    yield from _walk(child)
            break
    inner = getattr(layer, "layer", None)
    if inner is not None and inner is not layer:
        yield from _walk(inner)


def bench(width, batch, steps, warmup, strategy_name, dataset, model, labeling):
    from tf_amgan import data, distribute
    from tf_amgan import trainer as trainer_lib
    from tf_amgan.config import Config

    cfg = Config(
        model=model,
        labeling=labeling,
        dataset=dataset,
        batch_size=batch,
        g_width=width,
        d_width=width,
        train_steps=steps + warmup,
        progress=False,
    ).validate()
    strategy = (
        distribute.get_strategy("default")
        if strategy_name == "none"
        else tf.distribute.MirroredStrategy(["/cpu:0"])
    )
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, strategy, info)
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    it = iter(strategy.experimental_distribute_dataset(ds))
    step = t.build_train_step()
    for _ in range(warmup):
        step(it)["d_loss"].numpy()
    flops_g = forward_flops(t.generator, batch)
    flops_d = forward_flops(t.discriminator, batch)
    # D step: G fwd, D fwd on real+fake, D bwd (2x fwd) on both; G step: G fwd, D fwd, D bwd, G bwd.
    step_flops = flops_g * (1 + 1 + 2) + flops_d * (2 + 4 + 1 + 2)
    times = []
    for _ in range(steps):
        s = time.perf_counter()
        step(it)["d_loss"].numpy()
        times.append(time.perf_counter() - s)
    return times, step_flops, t.generator.count_params(), t.discriminator.count_params()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="1.0,0.5")
    p.add_argument("--batch_size", type=int, default=100)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--model", default="amgan")
    p.add_argument("--labeling", default="dynamic")
    p.add_argument("--json", action="store_true", help="also print one JSON line per configuration")
    args = p.parse_args()

    mm = matmul_gflops()
    print(f"measured float32 matmul (2048^2, tf.function): {mm:.1f} GFLOP/s")
    print(
        f"{'width':>5} {'strategy':>9} {'G params':>9} {'D params':>9} {'step s':>8} "
        f"{'img/s':>7} {'GFLOP/step':>10} {'GFLOP/s':>8} {'of matmul':>9}"
    )
    for width in [float(w) for w in args.widths.split(",")]:
        results = {}
        for name in ("none", "mirrored"):
            times, flops, gp, dp = bench(
                width,
                args.batch_size,
                args.steps,
                args.warmup,
                name,
                args.dataset,
                args.model,
                args.labeling,
            )
            med = statistics.median(times)
            results[name] = med
            gfs = flops / med / 1e9
            print(
                f"{width:5.2f} {name:>9} {gp / 1e6:8.2f}M {dp / 1e6:8.2f}M {med:8.3f} "
                f"{args.batch_size / med:7.1f} {flops / 1e9:10.2f} {gfs:8.1f} {gfs / mm:8.0%}"
            )
            if args.json:
                print(
                    json.dumps(
                        {
                            "width": width,
                            "strategy": name,
                            "step_median_s": med,
                            "step_min_s": min(times),
                            "step_max_s": max(times),
                            "images_per_s": args.batch_size / med,
                            "gflop_per_step": flops / 1e9,
                            "gflops": gfs,
                            "matmul_gflops": mm,
                        }
                    )
                )
        ratio = results["mirrored"] / results["none"]
        print(f"      MirroredStrategy(1 replica) / no strategy step-time ratio: {ratio:.3f}")
    _ = np


if __name__ == "__main__":
    main()
