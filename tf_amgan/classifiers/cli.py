"""Trains the dataset classifier used by the AM Score (P001 Eq. 27) and saves it to --output_dir.

python -m tf_amgan.classifiers --dataset=fashion_mnist --output_dir=classifiers/fashion_mnist
tf-amgan-classifier ...          (console script, same flags)
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from tf_amgan import commandline
from tf_amgan.classifiers import flags as classifier_flags
from tf_amgan.classifiers.dataset import train_classifier

PROG = "python -m tf_amgan.classifiers"


def main(argv=None) -> int:
    """Command entry point: trains one classifier, prints a JSON summary line; 2 on bad input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = commandline.parse(
        classifier_flags.make_flags, sys.argv[1:] if argv is None else argv, PROG, __doc__
    )
    if isinstance(args, int):
        return args
    from tf_amgan import data

    fail = commandline.error

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
            download=commandline.DOWNLOAD_VALUES[args.download],
            overwrite=args.overwrite,
            log=lambda line: print(line, file=sys.stderr, flush=True),
            progress=args.progress,
            **options,
        )
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        return fail(e)
    keys = ("dataset", "arch", "test_accuracy", "train_accuracy", "training_seconds", "seed",
            "num_train", "num_parameters")  # fmt: skip
    print(json.dumps({"output_dir": os.path.abspath(args.output_dir),
                      **{k: meta[k] for k in keys}}))  # fmt: skip
    return 0


def run() -> int:
    """Console-script entry point (`tf-amgan-classifier`)."""
    return main()


if __name__ == "__main__":
    raise SystemExit(main())
