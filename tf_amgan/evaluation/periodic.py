"""The periodic evaluator the training loop calls every `--eval_every` steps (eval.jsonl)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tf_amgan import classifiers as classifiers_lib
from tf_amgan import data
from tf_amgan.evaluation.runner import _CLASSIFIER_METRICS, EvalOptions, evaluate, parse_metrics
from tf_amgan.evaluation.sources import TrainerSource
from tf_amgan.io_utils import append_jsonl, json_safe

__all__ = ["make_periodic_evaluator"]


def make_periodic_evaluator(
    config, *, writer=None, log: Callable[[str], None] | None = None
) -> Callable[[Any, int], dict]:
    """Returns `evaluator(trainer, step) -> record` for the training loop (`--eval_every`).

    Each call draws `config.eval_samples` samples (seed `config.seed`, the same noise every time)
    and computes `config.eval_metrics` with the dataset classifier at `config.classifier` (2-D
    sets need none: oracle metrics and the mixture posterior). On the chief it appends
    {"step", metrics..., "num_samples", "seconds"} to `<output_dir>/eval.jsonl` and writes
    TensorBoard scalars `eval/<metric>` to `<output_dir>/tensorboard`. The classifier is loaded and
    the metric names checked here, so a bad configuration fails before training starts.

    Args:
      config: tf_amgan.training.config.Config.
      writer: a tf.summary writer to use (default: one on `<output_dir>/tensorboard`).
      log: optional callable(str) for a one-line summary per evaluation.

    Raises:
      ValueError / FileNotFoundError: unknown metrics, missing or mismatched classifier.
    """
    info = data.get_info(config.dataset, **config.data_options)
    metrics = parse_metrics(tuple(config.eval_metrics), info.is_image)
    classifier = None
    if config.classifier:
        classifier = classifiers_lib.load_classifier(config.classifier)
        if classifier.info.get("dataset") not in (None, config.dataset):
            raise ValueError(
                f"--classifier={config.classifier} was trained on {classifier.info['dataset']!r}, "
                f"not {config.dataset!r}"
            )
    elif info.is_image and any(m in metrics for m in _CLASSIFIER_METRICS + ("is", "fid", "prd")):
        raise ValueError(f"--eval_metrics={','.join(metrics)} on {config.dataset} need --classifier "
                         "(train one with python -m tf_amgan.classifiers)")  # fmt: skip
    options = EvalOptions(metrics=metrics, num_samples=config.eval_samples,
                          batch_size=min(500, max(config.batch_size, 100)), seed=config.seed,
                          prd_samples=min(5000, config.eval_samples), data_dir=config.data_dir,
                          download=config.download_arg)  # fmt: skip
    path = os.path.join(config.output_dir, "eval.jsonl")
    state = {"writer": writer}

    def evaluator(trainer, step: int) -> dict:
        from tf_amgan.training import distribute

        result = evaluate(TrainerSource(trainer), options, classifier=classifier,
                          dataset=config.dataset, data_options=config.data_options)  # fmt: skip
        record = json_safe({"step": int(step), **result.metrics,
                             "num_samples": options.num_samples,
                             "seconds": result.meta["seconds"]})  # fmt: skip
        if distribute.is_chief(trainer.strategy):
            os.makedirs(config.output_dir, exist_ok=True)
            append_jsonl(path, record)
            if state["writer"] is None:
                state["writer"] = tf.summary.create_file_writer(
                    os.path.join(config.output_dir, "tensorboard")
                )
            with state["writer"].as_default(step=int(step)):
                for name, value in result.metrics.items():
                    if math.isfinite(value):
                        tf.summary.scalar(f"eval/{name}", value)
            state["writer"].flush()
        if log is not None:
            log(
                f"eval step {step}: "
                + json.dumps({k: round(v, 4) for k, v in result.metrics.items()})
            )
        return record

    return evaluator
