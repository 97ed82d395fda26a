"""The classifier training command: python -m tf_amgan.classifiers --dataset=D --output_dir=DIR"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from tf_amgan.classifiers.dataset import RECIPES, train_classifier


def _parser():
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(2)

    p = Parser(
        prog="python -m tf_amgan.classifiers",
        description="Train the dataset classifier used by the AM Score (P001 Eq. 27).",
    )
    p.add_argument("--dataset", required=True, help="data set (tf_amgan.data.DATASETS)")
    p.add_argument("--output_dir", required=True, help="classifier directory to write")
    p.add_argument("--arch", choices=tuple(RECIPES), default=None, help="default: per data set")
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--batch_size", type=int, default=None)
    p.add_argument("--learning_rate", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max_train_samples", type=int, default=None,
                   help="train on a random subset of this size (quick runs)")  # fmt: skip
    p.add_argument("--depth", type=int, default=None, help="densenet depth (6n + 4)")
    p.add_argument("--growth_rate", type=int, default=None, help="densenet growth rate k")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--download", choices=("auto", "true", "false"), default="auto")
    p.add_argument("--pad_to_32", action=argparse.BooleanOptionalAction, default=True,
                   help="mnist / fashion_mnist: 28 -> 32 zero padding, as the GAN run")  # fmt: skip
    p.add_argument("--mixture_std", type=float, default=None, help="2-D sets: component std")
    p.add_argument("--overwrite", action="store_true")
    return p


def main(argv=None) -> int:
    """Command entry point: trains one classifier, prints a JSON summary line; 2 on bad input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    from tf_amgan import data

    def fail(message) -> int:
        print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
        return 2

    if args.dataset not in data.DATASETS:
        return fail(f"unknown --dataset={args.dataset!r}; choose from {data.DATASETS}")
    if os.path.exists(args.output_dir) and not args.overwrite:
        return fail(f"{args.output_dir} already exists (pass --overwrite to replace it)")
    options: dict[str, Any] = {}
    if args.dataset in ("mnist", "fashion_mnist"):
        options["pad_to_32"] = args.pad_to_32
    if args.mixture_std is not None and args.dataset in data.SYNTHETIC_DATASETS:
        options["std"] = args.mixture_std
    arch_options = {}
    if args.depth is not None:
        arch_options["depth"] = args.depth
    if args.growth_rate is not None:
        arch_options["growth_rate"] = args.growth_rate
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    try:
        meta = train_classifier(
            args.dataset,
            args.output_dir,
            arch=args.arch,
            seed=args.seed,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            max_train_samples=args.max_train_samples,
            arch_options=arch_options,
            data_dir=args.data_dir,
            download={"auto": None, "true": True, "false": False}[args.download],
            overwrite=args.overwrite,
            log=lambda line: print(line, file=sys.stderr, flush=True),
            **options,
        )
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        return fail(e)
    keys = ("dataset", "arch", "test_accuracy", "train_accuracy", "training_seconds", "seed",
            "num_train", "num_parameters")  # fmt: skip
    print(json.dumps({"output_dir": os.path.abspath(args.output_dir),
                      **{k: meta[k] for k in keys}}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
