"""Sample sources and the evaluation runner (seed-spec §2, E-1..E-9, Q-11, Q-16).

Used by the `python -m tf_amgan.evaluate` command and, through `make_periodic_evaluator`, by the
training loop. Metric maths lives in `tf_amgan.metrics` (pure functions / accumulators); networks
come from `tf_amgan.classifiers`; this module only draws samples and streams them through.

Sample sources (each yields `SampleBatch`es: images float32 in [-1, 1], conditioning labels or
None, and the model's own class):
  - `TrainerSource(trainer)`: a live GANTrainer (inference mode, current weights);
  - `run_dir_source(run_dir)`: a run directory: GANTrainer rebuilt from config.json, last
    checkpoint restored, EMA weights swapped in when the run kept them (as the export does);
  - `SavedModelSource(path)`: an exported generator, through its `sample(num_samples, seed)`
    signature; `open_source` also accepts a model directory and takes its highest version.
Samples are streamed in batches: only per-class MS-SSIM subsets, the precision/recall feature
subset and the 2-D points are kept, so 50k samples need little memory.

Metrics (names for `--metrics` / `config.eval_metrics`):
  is      Inception Score, 10 splits (E-1): the ImageNet Inception network when given, else the
          dataset classifier (recorded as meta.is_network);
  am      AM Score, P001 Eq. 27 (E-3b), dataset classifier and its C̄^train; am_v1: P000 version;
  mode    Mode Score (E-2; equals IS, Lemma 3);
  acc     classifier accuracy on the conditioning label (predefined models, P004 §4.1) or on
          the model's own class (dynamic models: agreement of D's class with the classifier);
  msssim  intra-class MS-SSIM, max over classes (P001 Table 3; E-4, Q-11);
  fid     FID vs the real split's features (E-8); prd: precision / recall, k = 3 (E-9);
          features of the Inception network when given, else of the dataset classifier; real
          statistics are computed once and cached next to the network;
  nll, modes, hq   2-D sets: oracle NLL (E-6), mode coverage, high-quality share (3σ).
For the 2-D sets `is`/`am`/`am_v1`/`mode`/`acc` use the classifier if one is given, else the
mixture's exact posterior p(k | x) (`classifiers.MixturePosterior`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.linalg
import tensorflow as tf

from tf_amgan import classifiers as classifiers_lib
from tf_amgan import data
from tf_amgan.metrics import fid as fid_lib
from tf_amgan.metrics import msssim as msssim_lib
from tf_amgan.metrics import scores as scores_lib
from tf_amgan.metrics import synthetic as synthetic_lib
from tf_amgan.progress import Progress

__all__ = [
    "ALL_METRICS",
    "DEFAULT_IMAGE_METRICS",
    "DEFAULT_SYNTHETIC_METRICS",
    "EvalOptions",
    "EvalResult",
    "SampleBatch",
    "SampleSource",
    "SavedModelSource",
    "TrainerSource",
    "evaluate",
    "make_periodic_evaluator",
    "open_source",
    "parse_metrics",
    "real_features",
    "resolve_saved_model",
    "run_dir_source",
]

IMAGE_METRICS = ("is", "am", "am_v1", "mode", "acc", "msssim", "fid", "prd")
SYNTHETIC_METRICS = ("nll", "modes", "hq", "is", "am", "am_v1", "mode", "acc")
ALL_METRICS = tuple(dict.fromkeys(IMAGE_METRICS + SYNTHETIC_METRICS))
DEFAULT_IMAGE_METRICS = ("is", "am", "acc", "msssim", "fid")
DEFAULT_SYNTHETIC_METRICS = ("nll", "modes", "hq")
_CLASSIFIER_METRICS = ("am", "am_v1", "mode", "acc")
GROUPINGS = ("auto", "conditioning", "model", "classifier")


# ----------------------------------------------------------------------------------------------
# Sample sources.


@dataclasses.dataclass(frozen=True)
class SampleBatch:
    """One batch of generated samples.

    Attributes:
      images: float32 `[B, H, W, C]` in [-1, 1] (or `[B, 2]` points for the 2-D mixtures).
      labels: int32 `[B]` conditioning labels (predefined labeling), else None.
      classes: int32 `[B]` the model's own class (the given label for predefined models, D's /
        the aux classifier's argmax for dynamic ones, the category c_f drawn from P(C) for
        latent-code models; -1 for models without classes).
      classes_are_labels: False when `classes` are learned categories (CGPGAN / InfoGAN codes),
        which need not match the data set's labels (`acc` then refuses them).
    """

    images: np.ndarray
    labels: np.ndarray | None
    classes: np.ndarray
    classes_are_labels: bool = True


class SampleSource:
    """Something that generates samples; see the module docstring for the implementations.

    Attributes:
      conditional: predefined labeling (samples carry conditioning labels).
      sample_shape: shape of one sample, e.g. (32, 32, 1) or (2,).
      dataset: training data set name if known, else None.
      data_options: its options (pad_to_32, std, ...).
      step: training step of the weights if known.
    """

    conditional: bool = False
    sample_shape: tuple[int, ...] = ()
    dataset: str | None = None
    data_options: dict = {}
    step: int | None = None

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def batches(self, num_samples: int, batch_size: int, seed: int) -> Iterator[SampleBatch]:
        """Yields batches totalling `num_samples`, deterministic in `seed`."""
        raise NotImplementedError


def _batch_sizes(num_samples: int, batch_size: int):
    if num_samples <= 0 or batch_size <= 0:
        raise ValueError(
            f"num_samples and batch_size must be positive, got {num_samples}, {batch_size}"
        )
    for i, start in enumerate(range(0, num_samples, batch_size)):
        yield i, min(batch_size, num_samples - start)


_SAMPLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trainer_sampler(trainer):
    """A tf.function (z, y) -> (images, classes), cached per trainer (periodic evaluation)."""
    fn = _SAMPLERS.get(trainer)
    if fn is None:
        # Static batch shapes (at most two: full and last batch); latent-code trainers need them.
        # Latent-code models get their categories as y (drawn from P(C) by the caller).
        given = trainer.conditional or getattr(trainer, "latent", False)

        @tf.function
        def fn(z, y):
            images = trainer.generate(z, y if given else None)
            classes = y if given else tf.cast(trainer.classify(images), tf.int32)
            return images, classes

        _SAMPLERS[trainer] = fn
    return fn


class TrainerSource(SampleSource):
    """Samples of a live GANTrainer (inference mode, current weights).

    Noise is N(0, I) and predefined labels uniform over K, both stateless in (seed, batch index).
    Latent-code models (CGPGAN, InfoGAN family) get categories from their current P(C), stratified
    per batch (`data.sample_labels`), also stateless in (seed, batch index); a batch's `classes`
    are these categories.

    Args:
      trainer: tf_amgan.training.trainer.GANTrainer.
      description: extra fields for `describe()` (e.g. the run directory and checkpoint).
    """

    def __init__(self, trainer, description: dict | None = None):
        self.trainer = trainer
        self.conditional = bool(trainer.conditional)
        self.sample_shape = tuple(int(s) for s in trainer.image_shape)
        self.dataset = trainer.config.dataset
        self.data_options = dict(trainer.config.data_options)
        self.step = int(trainer.step.numpy())
        self._description = {"type": "trainer", **(description or {})}

    def describe(self) -> dict[str, Any]:
        return {**self._description, "model": self.trainer.config.model,
                "labeling": self.trainer.config.labeling, "step": self.step}  # fmt: skip

    def batches(self, num_samples, batch_size, seed):
        trainer = self.trainer
        fn = _trainer_sampler(trainer)
        z_dim, k = trainer.config.z_dim, max(int(trainer.num_classes), 1)
        latent = getattr(trainer, "latent", False)
        prior = trainer.prior.probs() if latent else None  # fixed for the whole evaluation
        for i, n in _batch_sizes(num_samples, batch_size):
            z = tf.random.stateless_normal([n, z_dim], tf.constant([seed, 2 * i], tf.int64))
            y_seed = tf.constant([seed, 2 * i + 1], tf.int64)
            if latent:
                y = data.sample_labels(
                    y_seed, n, trainer.num_categories, prior=prior, stratified=True
                )
            else:
                y = tf.random.stateless_uniform([n], y_seed, 0, k, dtype=tf.int32)
            images, classes = fn(z, y)
            yield SampleBatch(
                images=images.numpy(),
                labels=y.numpy() if self.conditional else None,
                classes=classes.numpy().astype(np.int32),
                classes_are_labels=not getattr(trainer, "latent", False),
            )


def run_dir_source(run_dir: str) -> TrainerSource:
    """Rebuilds a run's GANTrainer from config.json and restores its last checkpoint.

    Raises:
      FileNotFoundError: not a run directory, or no checkpoint yet.
    """
    from tf_amgan.training import experiment

    trainer, latest = experiment.restore_run(run_dir)
    inner = getattr(trainer.g_optimizer, "inner_optimizer", trainer.g_optimizer)
    ema = bool(getattr(inner, "use_ema", False))
    if ema:  # the exported generator uses the EMA weights too
        inner.finalize_variable_values(trainer.generator.trainable_variables)
    return TrainerSource(
        trainer,
        {"type": "run_dir", "path": os.path.abspath(run_dir), "checkpoint": latest, "ema": ema},
    )


def resolve_saved_model(path: str) -> str | None:
    """The SavedModel directory for `path` (itself, or its highest integer version), else None."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if not os.path.isdir(path):
        return None
    versions = [
        int(n)
        for n in os.listdir(path)
        if re.fullmatch(r"\d+", n) and os.path.isfile(os.path.join(path, n, "saved_model.pb"))
    ]
    return os.path.join(path, str(max(versions))) if versions else None


class SavedModelSource(SampleSource):
    """Samples of an exported generator (tf_amgan.export), via its `sample` signature.

    Batch i is `sample(num_samples=B_i, seed=s_i)` with s_i derived from (seed, i), so samples are
    deterministic in (seed, batch_size). `classes` is the exported `classes` output, or the
    `categories` output of latent-code exports (drawn from the run's final P(C)).

    Args:
      path: SavedModel directory (holding saved_model.pb).
      dataset, data_options: the training data set, if known (the SavedModel does not record it).
    """

    def __init__(self, path: str, dataset: str | None = None, data_options: dict | None = None):
        self.path = os.path.abspath(path)
        loaded = tf.saved_model.load(self.path)
        signatures = loaded.signatures
        if "sample" not in signatures or "serving_default" not in signatures:
            raise ValueError(f"{path} is not a tf-amgan generator export (no 'sample' signature)")
        self._loaded = loaded
        self._sample = signatures["sample"]
        serve = signatures["serving_default"]
        self.conditional = "labels" in serve.structured_input_signature[1]
        self.latent = "categories" in serve.structured_input_signature[1]
        self.sample_shape = tuple(int(s) for s in serve.structured_outputs["images"].shape[1:])
        self.dataset = dataset
        self.data_options = dict(data_options or {})

    def describe(self) -> dict[str, Any]:
        return {"type": "saved_model", "path": self.path, "version": os.path.basename(self.path),
                "conditional": self.conditional, "latent": self.latent}  # fmt: skip

    def batches(self, num_samples, batch_size, seed):
        for i, n in _batch_sizes(num_samples, batch_size):
            s = (int(seed) * 1_000_003 + i) % (2**31 - 1)
            out = self._sample(num_samples=tf.constant(n, tf.int32), seed=tf.constant(s, tf.int32))
            classes = out["categories" if self.latent else "classes"].numpy().astype(np.int32)
            yield SampleBatch(
                images=out["images"].numpy(),
                labels=classes if self.conditional else None,
                classes=classes,
                classes_are_labels=not self.latent,
            )


def open_source(path: str, dataset: str | None = None, data_options: dict | None = None):
    """A run directory (config.json), a SavedModel, or a model directory of versions.

    Returns:
      (source, kind) with kind "run_dir" or "saved_model".

    Raises:
      FileNotFoundError: `path` is none of these.
    """
    if os.path.isfile(os.path.join(path, "config.json")):
        return run_dir_source(path), "run_dir"
    saved = resolve_saved_model(path)
    if saved is None:
        raise FileNotFoundError(
            f"{path} is not a run directory (config.json), a SavedModel (saved_model.pb) or a "
            "model directory with integer versions"
        )
    return SavedModelSource(saved, dataset, data_options), "saved_model"


# ----------------------------------------------------------------------------------------------
# Real-data features (FID / precision-recall), cached next to the network.


def _options_key(options: dict) -> str:
    return ",".join(f"{k}={options[k]}" for k in sorted(options)) or "default"


def _writable_cache_dir(network) -> str:
    path = network.cache_dir
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    digest = hashlib.sha1(str(network.info.get("path")).encode()).hexdigest()[:12]
    fallback = os.path.join(os.path.expanduser("~"), ".cache", "tf_amgan", "real_stats", digest)
    os.makedirs(fallback, exist_ok=True)
    return fallback


def real_features(
    network,
    dataset: str,
    *,
    split: str = "train",
    data_options: dict | None = None,
    max_samples: int | None = None,
    prd_samples: int = 0,
    batch_size: int = 500,
    data_dir: str | None = None,
    download: bool | None = None,
    progress: bool = False,
):
    """Feature statistics (and a feature subset) of a real split, computed once and cached.

    Args:
      network: a classifiers.Classifier (its `features` are used).
      dataset, split, data_options: the real data (images in [-1, 1] as the GAN sees them).
      max_samples: use a seeded random subset of this size (None: the whole split).
      prd_samples: also return the features of this many real images (seeded random subset) for
        precision / recall; 0 = none.
      batch_size, data_dir, download, progress: as usual.

    Returns:
      (FeatureStatistics, prd_features `[M, F]` or None, meta dict with the cache paths).
    """
    options = dict(data_options or {})
    cache = _writable_cache_dir(network)
    key = re.sub(r"[^A-Za-z0-9_.,=-]", "_",
                 f"{dataset}-{split}-{_options_key(options)}-n{max_samples or 'all'}")  # fmt: skip
    stats_path = os.path.join(cache, key + ".npz")
    prd_path = os.path.join(cache, f"{key}-prd{prd_samples}.npy") if prd_samples else None
    meta = {"split": split, "stats_file": stats_path, "prd_file": prd_path}
    have = os.path.isfile(stats_path) and (prd_path is None or os.path.isfile(prd_path))
    if have:
        stats = fid_lib.FeatureStatistics.load(stats_path)
        prd = np.load(prd_path) if prd_path else None
        return stats, prd, {**meta, "num_samples": stats.num_samples, "cached": True}

    images, _ = data.load_arrays(dataset, split, data_dir=data_dir, download=download,
                                 normalize=False, **options)  # fmt: skip
    rng = np.random.default_rng(0)
    n = images.shape[0]
    rows = np.arange(n)
    if max_samples and max_samples < n:
        rows = np.sort(rng.permutation(n)[:max_samples])
    prd_rows = set()
    if prd_samples:
        prd_rows = set(rows[rng.permutation(len(rows))[: min(prd_samples, len(rows))]].tolist())
    stats = fid_lib.FeatureStatistics(network.feature_dim)
    prd_parts = []
    bar = _SampleProgress(len(rows), enabled=progress, label="real features")
    for s in range(0, len(rows), batch_size):
        idx = rows[s : s + batch_size]
        batch = images[idx]
        batch = data.to_float(batch) if batch.dtype == np.uint8 else batch
        _, features = network.batch_outputs(batch)
        stats.update(features)
        if prd_rows:
            keep = np.array([i in prd_rows for i in idx])
            prd_parts.append(features[keep])
        bar.update(s + len(idx))
    bar.close()
    stats.save(stats_path)
    prd = None
    if prd_path:
        prd = np.concatenate(prd_parts).astype(np.float32)
        tmp = f"{prd_path}.tmp.npy"
        np.save(tmp, prd)
        os.replace(tmp, prd_path)
    return stats, prd, {**meta, "num_samples": stats.num_samples, "cached": False}


# ----------------------------------------------------------------------------------------------
# The runner.


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """Settings of one evaluation.

    Attributes:
      metrics: metric names (None: DEFAULT_IMAGE_METRICS / DEFAULT_SYNTHETIC_METRICS).
      num_samples: generated samples (P001: 50,000).
      batch_size: samples per generator / classifier call.
      seed: sampling seed.
      splits: IS / AM Score splits for the std (openai protocol: 10).
      msssim_pairs: random pairs per class (Q-11 default 100).
      msssim_images_per_class: images kept per class to draw the pairs from.
      msssim_grouping: "auto" (conditioning label for predefined models, the model's own class
        for dynamic ones [CODE], else the classifier), "conditioning", "model" or "classifier".
      prd_samples: generated and real samples for precision / recall (O(n²) distances).
      prd_k: k of the k-NN radii (E-9: 3).
      real_split: real split for FID / P&R ("train" as TTUR / the AM-GAN code, or "test").
      real_samples: cap on real images for the FID statistics (None: the whole split).
      mode_num_std: 2-D sets: radius (in σ) of the "high quality" ball around each mode.
      data_dir, download: where the real data lives (tf_amgan.data).
    """

    metrics: tuple[str, ...] | None = None
    num_samples: int = 50000
    batch_size: int = 500
    seed: int = 0
    splits: int = 10
    msssim_pairs: int = 100
    msssim_images_per_class: int = 100
    msssim_grouping: str = "auto"
    prd_samples: int = 10000
    prd_k: int = 3
    real_split: str = "train"
    real_samples: int | None = None
    mode_num_std: float = 3.0
    data_dir: str | None = None
    download: bool | None = None


@dataclasses.dataclass
class EvalResult:
    """Metrics (flat name -> float) and metadata of one evaluation."""

    metrics: dict[str, float]
    meta: dict[str, Any]

    def record(self, step: int | None = None) -> dict[str, Any]:
        """JSON-ready {"step", metrics..., "meta"}; non-finite numbers become null."""
        step = self.meta.get("step") if step is None else step
        return _json_safe({"step": step, **self.metrics, "meta": self.meta})


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def parse_metrics(metrics, is_image: bool) -> tuple[str, ...]:
    """Validates metric names ("a,b" or a sequence; None/"auto" = defaults) for the sample type."""
    if metrics is None or metrics == "auto" or metrics == ("auto",):
        return DEFAULT_IMAGE_METRICS if is_image else DEFAULT_SYNTHETIC_METRICS
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    names = tuple(dict.fromkeys(m.strip().lower() for m in metrics if m.strip()))
    allowed = IMAGE_METRICS if is_image else SYNTHETIC_METRICS
    bad = [m for m in names if m not in allowed]
    if bad or not names:
        kind = "image" if is_image else "2-D"
        raise ValueError(f"unknown or unsupported metric(s) {bad or '(none)'} for {kind} samples; "
                         f"choose from {', '.join(allowed)}")  # fmt: skip
    return names


class _SampleProgress(Progress):
    """The shared progress bar, counting samples."""

    def __init__(self, total: int, enabled: bool, label: str = "sampled"):
        super().__init__(total, 0, stream=sys.stderr, enabled=enabled, min_interval=0.5,
                         line_every=max(total // 10, 1))  # fmt: skip
        self.label = label
        self._next_line = self.line_every

    def line(self, step, extras=None):
        return (
            super()
            .line(step, extras)
            .replace("step ", f"{self.label} ", 1)
            .replace(" it/s", " img/s")
        )

    def update(self, step, extras=None, force=False):
        # Batches do not land on multiples of line_every: print when a multiple is crossed.
        if not self.tty and step >= self._next_line:
            self._next_line = (step // self.line_every + 1) * self.line_every
            force = True
        super().update(step, extras, force=force)


class _Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def add(self, name: str, start: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _resolve_dataset(source, classifier, dataset, data_options):
    """(dataset, data_options) from the arguments, the source and the classifier, checked."""
    cls_dataset = classifier.info.get("dataset") if classifier is not None else None
    if cls_dataset and classifier.info.get("kind") == "mixture_posterior":
        cls_dataset = None
    name = dataset or source.dataset or cls_dataset
    for other, what in ((source.dataset, "the generator's run"), (cls_dataset, "the classifier")):
        if name and other and other != name:
            raise ValueError(f"data set mismatch: evaluating {name!r} but {what} uses {other!r}")
    if data_options is None:
        data_options = source.data_options or (
            classifier.info.get("data_options") if classifier is not None else None
        )
    return name, dict(data_options or {})


def evaluate(
    source: SampleSource,
    options: EvalOptions = EvalOptions(),
    *,
    classifier=None,
    inception=None,
    dataset: str | None = None,
    data_options: dict | None = None,
    progress: bool = False,
) -> EvalResult:
    """Draws `options.num_samples` samples from `source` and computes the configured metrics.

    Args:
      source: a SampleSource.
      options: EvalOptions.
      classifier: dataset classifier (classifiers.DatasetClassifier); required for am/am_v1/mode/
        acc on image sets (and for is/fid/prd without `inception`).
      inception: ImageNet Inception network (classifiers.load_inception) for is/fid/prd.
      dataset, data_options: override the training data set (SavedModels do not record it; else
        taken from the run or the classifier).
      progress: progress bar on stderr.

    Returns:
      EvalResult.

    Raises:
      ValueError: bad metric names, missing networks, mismatched shapes or data sets.
    """
    start_all = time.perf_counter()
    timer = _Timer()
    dataset, data_options = _resolve_dataset(source, classifier, dataset, data_options)
    is_image = len(source.sample_shape) == 3
    metrics = parse_metrics(options.metrics, is_image)
    n_total = int(options.num_samples)
    if n_total < 2:
        raise ValueError(f"num_samples must be >= 2, got {n_total}")
    mixture = None
    if not is_image:
        if dataset is None or dataset not in data.SYNTHETIC_DATASETS:
            raise ValueError(
                f"2-D samples need the mixture they were trained on: pass --dataset (one of "
                f"{', '.join(data.SYNTHETIC_DATASETS)})"
            )
        mixture = data.get_mixture(dataset, **data_options)
        if classifier is None:
            classifier = classifiers_lib.MixturePosterior(mixture)

    # Which network computes what.
    needs_cls = [m for m in metrics if m in _CLASSIFIER_METRICS]
    if options.msssim_grouping == "classifier" and "msssim" in metrics:
        needs_cls.append("msssim")
    if needs_cls and classifier is None:
        raise ValueError(
            f"metric(s) {', '.join(needs_cls)} need a dataset classifier (--classifier)"
        )
    if any(m in metrics for m in ("am", "am_v1", "mode")) and classifier.class_prior is None:
        raise ValueError("the classifier has no class prior C̄^train (am / mode need it)")
    is_net = inception if inception is not None else classifier
    feat_net = inception if inception is not None else classifier
    if "is" in metrics and is_net is None:
        raise ValueError("metric is needs --inception_weights or a dataset classifier")
    if any(m in metrics for m in ("fid", "prd")):
        if feat_net is None:
            raise ValueError("fid / prd need --inception_weights or a dataset classifier")
        if dataset is None:
            raise ValueError("fid / prd need the real data set: pass --dataset")
    for net in {id(n): n for n in (classifier, is_net, feat_net) if n is not None}.values():
        if net.input_shape is not None and tuple(net.input_shape) != tuple(source.sample_shape):
            raise ValueError(
                f"{net.info.get('kind')} network {net.info.get('path')} takes inputs of shape "
                f"{tuple(net.input_shape)}, the generator makes {tuple(source.sample_shape)}"
            )
    if options.msssim_grouping not in GROUPINGS:
        raise ValueError(f"msssim_grouping must be one of {GROUPINGS}")

    meta: dict[str, Any] = {
        "source": source.describe(),
        "step": source.step,
        "dataset": dataset,
        "data_options": data_options,
        "metrics": list(metrics),
        "num_samples": n_total,
        "batch_size": options.batch_size,
        "seed": options.seed,
        "classifier": classifier.describe() if classifier is not None else None,
        "inception": inception.describe() if inception is not None else None,
    }

    # Real features first: a missing data set fails before the expensive sampling.
    real_stats = real_prd = None
    prd_n = min(options.prd_samples, n_total) if "prd" in metrics else 0
    if any(m in metrics for m in ("fid", "prd")):
        t = time.perf_counter()
        real_stats, real_prd, real_meta = real_features(
            feat_net, dataset, split=options.real_split, data_options=data_options,
            max_samples=options.real_samples, prd_samples=prd_n, batch_size=options.batch_size,
            data_dir=options.data_dir, download=options.download, progress=progress,
        )  # fmt: skip
        timer.add("real_features", t)
        meta["feature_network"] = feat_net.info.get("kind")
        meta["real"] = real_meta

    splits = max(1, min(options.splits, n_total))
    cls_acc = None
    if needs_cls or any(m in metrics for m in ("am", "am_v1", "mode", "acc")):
        cls_acc = scores_lib.PredictionAccumulator(classifier.num_classes, splits=splits,
                                                   total=n_total)  # fmt: skip
    is_acc = None
    if "is" in metrics:
        if is_net is classifier and cls_acc is not None:
            is_acc = cls_acc
        else:
            is_acc = scores_lib.PredictionAccumulator(is_net.num_classes, splits=splits,
                                                      total=n_total)  # fmt: skip
        meta["is_network"] = is_net.info.get("kind")
    fake_stats = fid_lib.FeatureStatistics(feat_net.feature_dim) if "fid" in metrics else None
    fake_prd: list[np.ndarray] = []
    kept_prd = 0
    groups: dict[int, list[np.ndarray]] = {}
    group_counts: dict[int, int] = {}
    grouping = None
    points: list[np.ndarray] = []
    acc_reference = None

    bar = _SampleProgress(n_total, enabled=progress)
    done = 0
    it = source.batches(n_total, options.batch_size, options.seed)
    while True:
        t = time.perf_counter()
        batch = next(it, None)
        timer.add("sampling", t)
        if batch is None:
            break
        t = time.perf_counter()
        outputs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def run(net, images=batch.images, outputs=outputs):
            if id(net) not in outputs:
                outputs[id(net)] = net.batch_outputs(images)
            return outputs[id(net)]

        cls_probs = run(classifier)[0] if cls_acc is not None else None
        if cls_acc is not None:
            labels = None
            if "acc" in metrics:
                labels, acc_reference = _acc_labels(batch, classifier.num_classes)
            cls_acc.update(cls_probs, labels)
        if is_acc is not None and is_acc is not cls_acc:
            is_acc.update(run(is_net)[0])
        if fake_stats is not None or prd_n:
            features = run(feat_net)[1]
            if fake_stats is not None:
                fake_stats.update(features)
            if kept_prd < prd_n:
                fake_prd.append(features[: prd_n - kept_prd])
                kept_prd += fake_prd[-1].shape[0]
        if "msssim" in metrics:
            if grouping is None:
                grouping = _grouping(options.msssim_grouping, batch, classifier)
            group_of = _group_labels(grouping, batch, classifier, run)
            for g in np.unique(group_of):
                have = group_counts.get(int(g), 0)
                room = options.msssim_images_per_class - have
                if room > 0:
                    chosen = batch.images[group_of == g][:room]
                    groups.setdefault(int(g), []).append(chosen)
                    group_counts[int(g)] = have + chosen.shape[0]
        if mixture is not None:
            points.append(batch.images.astype(np.float64))
        timer.add("classification", t)
        done += batch.images.shape[0]
        bar.update(done)
    bar.close()

    t = time.perf_counter()
    values: dict[str, float] = {}
    if is_acc is not None:
        score = is_acc.inception_score()
        values.update({"is": score.split_mean, "is_std": score.split_std, "is_full": score.score,
                       "is_entropy_of_mean": score.entropy_of_mean,
                       "is_mean_entropy": score.mean_entropy})  # fmt: skip
    if "am" in metrics:
        am = cls_acc.am_score(classifier.class_prior)
        values.update({"am": am.score, "am_std": am.split_std, "am_kl": am.kl_term,
                       "am_entropy": am.entropy_term})  # fmt: skip
        meta["am_mean_prediction"] = am.mean_prediction
    if "am_v1" in metrics:
        values["am_v1"] = cls_acc.am_score_v1(classifier.class_prior).score
    if "mode" in metrics:
        values["mode_score"] = cls_acc.mode_score(classifier.class_prior)
    if "acc" in metrics:
        acc = cls_acc.class_accuracy()
        values.update({"acc": acc.mean_class_accuracy, "acc_overall": acc.overall})
        meta["acc_reference"] = acc_reference
    if "msssim" in metrics:
        images = np.concatenate([np.concatenate(groups[g]) for g in sorted(groups)])
        labels = np.concatenate([np.full(group_counts[g], g) for g in sorted(groups)])
        k = max(int(labels.max()) + 1, classifier.num_classes if classifier is not None else 0)
        ms = msssim_lib.intra_class_ms_ssim(
            images, labels, num_classes=k, pairs_per_class=options.msssim_pairs,
            label_source=grouping, seed=options.seed, batch_size=options.batch_size,
        )  # fmt: skip
        values.update({"msssim_max": ms.max, "msssim_mean": ms.mean,
                       "msssim_mean_std": ms.mean_std})  # fmt: skip
        meta["msssim"] = {
            "grouping": grouping,
            "pairs_per_class": options.msssim_pairs,
            "images_per_class": options.msssim_images_per_class,
            "argmax_class": ms.argmax,
            "per_class_mean": ms.per_class_mean,
            "per_class_count": [group_counts.get(c, 0) for c in range(k)],
        }
    if fake_stats is not None:
        with warnings.catch_warnings():
            # frechet_distance retries singular products itself (eps·I); the warning is noise.
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            values["fid"] = fid_lib.fid_from_statistics(real_stats, fake_stats)
    if prd_n:
        fake = np.concatenate(fake_prd)
        m = min(fake.shape[0], real_prd.shape[0])
        pr = fid_lib.precision_recall(real_prd[:m], fake[:m], k=options.prd_k)
        values.update({"precision": pr.precision, "recall": pr.recall})
        meta["prd"] = {"k": options.prd_k, "num_samples": m}
    if mixture is not None and any(m in metrics for m in ("nll", "modes", "hq")):
        pts = np.concatenate(points)
        if "nll" in metrics:
            values["nll"] = synthetic_lib.oracle_nll(pts, mixture.log_prob)
        if "modes" in metrics or "hq" in metrics:
            cov = synthetic_lib.mode_coverage(pts, mixture.means, mixture.stds,
                                              num_std=options.mode_num_std)  # fmt: skip
            if "modes" in metrics:
                values.update({"modes_covered": float(cov.num_covered),
                               "mode_coverage": cov.coverage})  # fmt: skip
                meta["mode_counts"] = cov.counts
            if "hq" in metrics:
                values["hq_fraction"] = cov.high_quality_fraction
            meta["mode_num_std"] = options.mode_num_std
            meta["mode_min_count"] = cov.min_count_threshold
    timer.add("metrics", t)
    meta["splits"] = splits
    meta["timing"] = timer.seconds
    meta["seconds"] = time.perf_counter() - start_all
    return EvalResult({k: float(v) for k, v in values.items()}, meta)


def _acc_labels(batch: SampleBatch, num_classes: int):
    """Reference labels for `acc`: the conditioning label, else the model's own class."""
    if batch.labels is not None:
        labels, reference = batch.labels, "conditioning_label"
    else:
        labels, reference = batch.classes, "model_class"
        if not batch.classes_are_labels:
            raise ValueError(
                "acc: this model's classes are learned categories, not data-set labels"
            )
    if labels.min() < 0:
        raise ValueError(
            "acc needs conditioning labels or a model with classes (this one has none)"
        )
    if labels.max() >= num_classes:
        raise ValueError(f"model classes exceed the classifier's {num_classes} classes")
    return labels, reference


def _grouping(requested: str, batch: SampleBatch, classifier) -> str:
    if requested == "auto":
        if batch.labels is not None:
            return "conditioning"
        if batch.classes.min() >= 0:
            return "model"
        requested = "classifier"
    if requested == "conditioning" and batch.labels is None:
        raise ValueError("msssim grouping 'conditioning' needs a predefined-labeling model")
    if requested == "model" and batch.classes.min() < 0:
        raise ValueError("msssim grouping 'model' needs a model with classes")
    if requested == "classifier" and classifier is None:
        raise ValueError("msssim grouping 'classifier' needs a dataset classifier (--classifier)")
    return requested


def _group_labels(grouping: str, batch: SampleBatch, classifier, run) -> np.ndarray:
    if grouping == "conditioning":
        return batch.labels
    if grouping == "model":
        return batch.classes
    return np.argmax(run(classifier)[0], axis=1)


# ----------------------------------------------------------------------------------------------
# Periodic evaluation during training.


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
    from tf_amgan.io_utils import append_jsonl

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
        record = _json_safe({"step": int(step), **result.metrics,
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
