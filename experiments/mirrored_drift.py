"""How far a MirroredStrategy run (2 logical CPUs) drifts from a one-device run (issue 10).

    python experiments/mirrored_drift.py [--flagfile=flags/p000_ring8_cpu.cfg] [--steps=600]

Trains the same configuration (same global batch, same seed) on one device and on two replicas,
side by side, and prints per checkpoint step (JSON lines): the largest difference in a G / D
weight of the free-running pair, the relative difference of the D / G losses at that step, and
the same weight difference one step after the mirrored trainer was given the one-device state
("one_step_*": what a single step changes; "_no_bias" leaves out the biases, see below).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flagfile", default=os.path.join(ROOT, "flags", "p000_ring8_cpu.cfg"))
    p.add_argument("--model", default="amgan")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--every", type=int, default=100)
    args = p.parse_args(argv)

    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    from tf_amgan import data
    from tf_amgan.training import config as config_lib
    from tf_amgan.training import distribute
    from tf_amgan.training import trainer as trainer_lib

    tmp = tempfile.mkdtemp(prefix="mirrored_drift_")
    cfg = config_lib.Config.from_flagfile(
        args.flagfile, model=args.model, output_dir=tmp, progress=False
    ).validate()
    info = data.get_info(cfg.dataset, **cfg.data_options)
    strategy = distribute.get_strategy("mirrored", ("/cpu:0", "/cpu:1"))
    trainers = {
        "single": trainer_lib.GANTrainer(cfg, distribute.get_strategy("default"), info),
        "mirrored": trainer_lib.GANTrainer(cfg, strategy, info),
        "probe": trainer_lib.GANTrainer(cfg, strategy, info),  # takes the one-device state
    }
    first = next(iter(trainers["single"].make_dataset(0).take(1)))
    for name in ("single", "mirrored"):
        trainers[name].initialize(first)
    its = {
        "single": iter(trainers["single"].make_dataset(0)),
        "mirrored": iter(
            strategy.experimental_distribute_dataset(trainers["mirrored"].make_dataset(0))
        ),
    }
    steps = {name: t.build_train_step() for name, t in trainers.items()}

    def max_diff(a, b, net, biases=True):
        pairs = zip(getattr(a, net).weights, getattr(b, net).weights, strict=True)
        return max(
            float(np.max(np.abs(x.numpy() - y.numpy())))
            for x, y in pairs
            if biases or not x.path.endswith("/bias")
        )

    print(json.dumps({"flagfile": os.path.relpath(args.flagfile, ROOT), "model": args.model,
                      "d_norm": cfg.resolved_d_norm}))  # fmt: skip
    out_s = out_m = {}
    for k in range(args.steps + 1):
        probe = None
        if k % args.every == 0 and k < args.steps:
            path = trainers["single"].checkpoint.write(os.path.join(tmp, "state"))
            trainers["probe"].checkpoint.read(path).assert_existing_objects_matched()
            it = iter(strategy.experimental_distribute_dataset(trainers["probe"].make_dataset(k)))
            probe = steps["probe"](it)
        if k % args.every == 0 or k == args.steps:
            if out_s:
                row = {"step": k}
                for net in ("generator", "discriminator"):
                    row[f"run_{net}"] = max_diff(trainers["single"], trainers["mirrored"], net)
                row["rel_d_loss"] = abs(out_m["d_loss"] / out_s["d_loss"] - 1)
                row["rel_g_loss"] = abs(out_m["g_loss"] / out_s["g_loss"] - 1)
                print(json.dumps({key: float(f"{v:.3g}") for key, v in row.items()}), flush=True)
        if k == args.steps:
            break
        out_s = {key: float(v) for key, v in steps["single"](its["single"]).items()}
        out_m = {key: float(v) for key, v in steps["mirrored"](its["mirrored"]).items()}
        if probe is not None:
            row = {"step": k + 1}
            for net in ("generator", "discriminator"):
                row[f"one_step_{net}"] = max_diff(trainers["single"], trainers["probe"], net)
                # Biases that feed a BN layer have a zero true gradient: Adam makes lr-size steps
                # out of float noise there, on any device.
                row[f"one_step_{net}_no_bias"] = max_diff(
                    trainers["single"], trainers["probe"], net, biases=False
                )
            row["one_step_rel_g_loss"] = abs(float(probe["g_loss"]) / out_s["g_loss"] - 1)
            print(json.dumps({key: float(f"{v:.3g}") for key, v in row.items()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
