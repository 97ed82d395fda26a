"""Train-step speed: paper network and CPU-sized width, with and without a 1-replica MirroredStrategy.

    python benchmarks/train_step.py                    # width 1.0 (paper) and 0.5, batch 100
    python benchmarks/train_step.py --widths=0.25 --steps=10 --batch_size=64

Prints per configuration: median step time (D step + G step), images/s, an analytic estimate of the
FLOPs of one step (conv/dense multiply-adds of the forward passes x the usual 3x for forward +
backward), the achieved GFLOP/s, and this machine's measured float32 matmul GFLOP/s. The strategy
overhead is the median of per-step ratios, the two configurations' steps interleaved in one process.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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
    for layer in model.layers:  # functional model: wrappers (weight norm) appear at top level
        inner = getattr(layer, "layer", layer)
        out = layer.output.shape
        if isinstance(inner, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = inner.kernel.shape
            sh, sw = inner.strides
            total += 2 * (out[1] // sh) * (out[2] // sw) * kh * kw * cin * cout
        elif isinstance(inner, keras.layers.Conv2D):
            kh, kw, cin, cout = inner.kernel.shape
            total += 2 * out[1] * out[2] * kh * kw * cin * cout
        elif isinstance(inner, keras.layers.Dense):
            total += 2 * inner.kernel.shape[0] * inner.kernel.shape[1]
    return total * batch


def build(width, batch, strategy_name, dataset, model, labeling):
    """A ready-to-run train step (warm-up not included) and its analytic FLOPs per step."""
    from tf_amgan import data
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib
    from tf_amgan.training.config import Config

    cfg = Config(
        model=model,
        labeling=labeling,
        dataset=dataset,
        batch_size=batch,
        g_width=width,
        d_width=width,
        progress=False,
    ).validate()
    strategy = (
        distribute.get_strategy("default")
        if strategy_name == "none"
        else distribute.get_strategy("mirrored", ("/cpu:0",))
    )
    info = data.get_info(cfg.dataset, **cfg.data_options)
    t = trainer_lib.GANTrainer(cfg, strategy, info)
    ds = t.make_dataset(0)
    t.initialize(next(iter(ds.take(1))))
    it = iter(strategy.experimental_distribute_dataset(ds))
    step = t.build_train_step()
    flops_g = forward_flops(t.generator, batch)
    flops_d = forward_flops(t.discriminator, batch)
    # D step: G fwd, D fwd on real+fake, D bwd (~2x fwd) on both;
    # G step: G fwd, D fwd, D bwd (input gradients, ~1x), G bwd (~2x).
    step_flops = flops_g * (1 + 1 + 2) + flops_d * (2 + 4 + 1 + 1)
    return (lambda: step(it)["d_loss"].numpy()), step_flops, t


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
        runs = {
            name: build(width, args.batch_size, name, args.dataset, args.model, args.labeling)
            for name in ("none", "mirrored")
        }
        for fn, _, _ in runs.values():
            for _ in range(args.warmup):
                fn()
        times = {name: [] for name in runs}
        for _ in range(args.steps):  # interleaved, so machine-speed drift hits both alike
            for name, (fn, _, _) in runs.items():
                s = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - s)
        for name, (_, flops, t) in runs.items():
            med = statistics.median(times[name])
            gfs = flops / med / 1e9
            gp, dp = t.generator.count_params(), t.discriminator.count_params()
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
                            "step_min_s": min(times[name]),
                            "step_max_s": max(times[name]),
                            "images_per_s": args.batch_size / med,
                            "gflop_per_step": flops / 1e9,
                            "gflops": gfs,
                            "matmul_gflops": mm,
                        }
                    )
                )
        ratios = [m / n for m, n in zip(times["mirrored"], times["none"], strict=True)]
        print(
            f"      MirroredStrategy(1 replica) / no strategy, median of per-pair ratios: "
            f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
        )


if __name__ == "__main__":
    main()
