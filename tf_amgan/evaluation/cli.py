"""The evaluation command: metrics of a trained generator as one JSON line.

    python -m tf_amgan.evaluate --generator=RUN_DIR_OR_SAVED_MODEL \\
        [--metrics=is,am,acc,msssim,fid,prd | nll,modes,hq] [--num_samples=50000] \\
        [--classifier=DIR] [--inception_weights=FILE] [--batch_size=500] [--seed=0]
    tf-amgan-evaluate ...            (console script, same flags)

`--generator` is a run directory (config.json + checkpoints/: the last checkpoint is evaluated), an
exported SavedModel, or a model directory of integer versions (the highest is taken); or samples
made anywhere (tf_amgan.evaluation.external): an .npz / .npy array, a folder of PNG / JPEG files,
another tool's SavedModel (--saved_model_signature=...), or `real`: the data set's held-out test
images, the ceiling to read models against. The result (every metric plus metadata: networks
used, sample count, source and its detected value range, MS-SSIM grouping, timings) is printed as
one JSON line on stdout and written atomically next to the generator:
`<run>/eval/step_<N:08d>.json` for a run directory, `<model_dir>/<version>.eval.json` for a
SavedModel, `<file or folder>.eval.json` for stored samples, nothing for `real` (override with
--output). A progress bar goes to stderr. Bad arguments, a missing
classifier, weights or data: one `error: ...` line on stderr and exit code 2.

Which networks (see tf_amgan.evaluation): am / am_v1 / mode / acc use the dataset classifier
(`python -m tf_amgan.classifiers`); is / fid / prd use --inception_weights when given,
else the dataset classifier. 2-D sets default to nll, modes, hq and need no classifier.
SavedModels do not record their data set: it comes from --dataset or the classifier.
"""

from __future__ import annotations

import json
import os
import sys

from tf_amgan import commandline
from tf_amgan.evaluation import flags as eval_flags

__all__ = ["import_tensorflow_quietly", "main", "run"]

PROG = "python -m tf_amgan.evaluate"


def _check_paths(args) -> None:
    """Checks that need no TensorFlow, so bad paths fail fast."""
    if args.generator != "real" and not os.path.exists(args.generator):
        raise FileNotFoundError(f"--generator={args.generator} does not exist")
    if args.classifier is not None:
        from tf_amgan.classifiers import CLASSIFIER_FILE, MODEL_FILE

        path = args.classifier
        if path.endswith(".keras") and os.path.isfile(path):
            path = os.path.dirname(path)
        if not all(os.path.isfile(os.path.join(path, f)) for f in (CLASSIFIER_FILE, MODEL_FILE)):
            raise FileNotFoundError(
                f"--classifier={args.classifier}: no dataset classifier there (expected "
                f"{CLASSIFIER_FILE} and {MODEL_FILE}); train one with python -m "
                "tf_amgan.classifiers --dataset=NAME --output_dir=DIR"
            )
    if args.inception_weights is not None:
        from tf_amgan.classifiers import find_inception_weights

        find_inception_weights(args.inception_weights)
    for name in ("num_samples", "batch_size", "splits", "msssim_pairs", "prd_samples",
                 "p004_report_samples", "num_classes"):  # fmt: skip
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            raise ValueError(f"--{name} must be positive, got {getattr(args, name)}")
    if args.sample_pad < 0:
        raise ValueError(f"--sample_pad must be >= 0, got {args.sample_pad}")
    if args.dataset is not None:
        from tf_amgan import data

        if args.dataset not in data.DATASETS:
            raise ValueError(f"unknown --dataset={args.dataset!r}; choose from {data.DATASETS}")


def _output_path(args, kind: str, source) -> str | None:
    if args.output:
        return args.output
    if kind == "real":
        return None  # printed only
    if kind in ("npz", "npy", "folder"):
        return os.path.abspath(args.generator).rstrip(os.sep) + ".eval.json"
    if kind == "run_dir":
        return os.path.join(args.generator, "eval", f"step_{source.step:08d}.json")
    path = source.path.rstrip(os.sep)
    return os.path.join(os.path.dirname(path), f"{os.path.basename(path)}.eval.json")


def import_tensorflow_quietly():
    """Imports TensorFlow with stderr muted: its C++ start-up lines (absl pre-init notice, oneDNN)
    would otherwise precede every message of a command. Python errors still propagate."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


def main(argv=None) -> int:
    """Parses `argv` (default: sys.argv[1:]), evaluates, prints one JSON line. Returns the exit
    code: 0, or 2 after one `error:` line on bad flags or input."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = commandline.parse(
        eval_flags.make_flags, sys.argv[1:] if argv is None else argv, PROG, __doc__
    )
    if isinstance(args, int):
        return args
    try:
        import_tensorflow_quietly()  # before tf_amgan.metrics, which imports it
        _check_paths(args)
    except (ValueError, FileNotFoundError) as e:
        return commandline.error(e)

    from tf_amgan import classifiers, data, evaluation
    from tf_amgan.evaluation import external
    from tf_amgan.io_utils import atomic_write_json

    unavailable = data.DatasetUnavailableError
    try:
        classifier = classifiers.load_classifier(args.classifier) if args.classifier else None
        inception = (
            classifiers.load_inception(args.inception_weights, softmax_bias=args.softmax_bias)
            if args.inception_weights
            else None
        )
        data_options = None
        if args.mixture_std is not None:
            data_options = {"std": args.mixture_std}
        dataset = args.dataset
        if args.generator == "real":  # the real images need their data set now
            dataset = dataset or (classifier.info.get("dataset") if classifier else None)
            if data_options is None and classifier is not None:
                data_options = classifier.info.get("data_options")
        download = commandline.DOWNLOAD_VALUES[args.download]
        source, kind = external.open_generator(
            args.generator, dataset=dataset, data_options=data_options,
            num_classes=args.num_classes or (classifier.num_classes if classifier else None),
            value_range=args.sample_range, channels=int(args.sample_channels) if args.sample_channels else None,
            pad=args.sample_pad,
            shuffle=args.shuffle, images_key=args.images_key, labels_key=args.labels_key,
            labels_path=args.labels_path, on_bad_file=args.on_bad_file,
            signature=args.saved_model_signature, input_name=args.saved_model_input,
            label_input=args.saved_model_label_input, output_name=args.saved_model_output,
            noise=args.saved_model_noise, layout=args.saved_model_layout,
            real_split=args.real_source_split, data_dir=args.data_dir, download=download,
        )  # fmt: skip
        options = evaluation.EvalOptions(
            metrics=None if args.metrics == "auto" else tuple(args.metrics.split(",")),
            num_samples=args.num_samples,
            batch_size=args.batch_size,
            seed=args.seed,
            splits=args.splits,
            msssim_pairs=args.msssim_pairs,
            msssim_grouping=args.msssim_grouping,
            prd_samples=args.prd_samples,
            real_split=args.real_split,
            real_samples=args.real_samples,
            intra_fid_grouping=args.intra_fid_grouping,
            is_protocol=args.is_protocol,
            p004_report_samples=args.p004_report_samples,
            data_dir=args.data_dir,
            download=download,
        )
        result = evaluation.evaluate(
            source, options, classifier=classifier, inception=inception, dataset=args.dataset,
            data_options=data_options, progress=args.progress,
        )  # fmt: skip
        record = result.record()
        out = _output_path(args, kind, source)
        record["meta"]["output"] = os.path.abspath(out) if out else None
        if out:
            atomic_write_json(out, record)
    except (ValueError, FileNotFoundError, unavailable) as e:
        return commandline.error(e)
    print(json.dumps(record, sort_keys=True))
    return commandline.EXIT_OK


def run() -> int:
    """Console-script entry point (`tf-amgan-evaluate`)."""
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
