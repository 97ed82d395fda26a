"""The evaluation runner (seed-spec §2, E-1..E-9, Q-11, Q-16).

Used by the `python -m tf_amgan.evaluate` command and, through `make_periodic_evaluator`, by the
training loop (handed to it by tf_amgan.train). Metric maths lives in `tf_amgan.metrics` (pure
functions / accumulators); networks come from `tf_amgan.classifiers`; samples from
`tf_amgan.evaluation.sources`; real-data statistics from `tf_amgan.evaluation.reference`. This
module only draws samples and streams them through.

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
  intra_fid  FID per class between generated class-k samples and real class-k images, mean
          (`intra_fid`) and max (`intra_fid_max`) over classes; the class is the conditioning
          label, else the classifier's argmax (`intra_fid_grouping`);
  nll, modes, hq   2-D sets: oracle NLL (E-6), mode coverage, high-quality share (3σ).
For the 2-D sets `is`/`am`/`am_v1`/`mode`/`acc` use the classifier if one is given, else the
mixture's exact posterior p(k | x) (`classifiers.MixturePosterior`).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Any

import numpy as np
import scipy.linalg

from tf_amgan import classifiers as classifiers_lib
from tf_amgan import data
from tf_amgan.evaluation import reference
from tf_amgan.evaluation.reference import real_features
from tf_amgan.evaluation.sources import SampleBatch, SampleSource
from tf_amgan.io_utils import json_safe
from tf_amgan.metrics import fid as fid_lib
from tf_amgan.metrics import msssim as msssim_lib
from tf_amgan.metrics import scores as scores_lib
from tf_amgan.metrics import streaming as streaming_lib
from tf_amgan.metrics import synthetic as synthetic_lib
from tf_amgan.progress import sample_progress

__all__ = [
    "ALL_METRICS",
    "DEFAULT_IMAGE_METRICS",
    "DEFAULT_SYNTHETIC_METRICS",
    "EvalOptions",
    "EvalResult",
    "evaluate",
    "parse_metrics",
]

IMAGE_METRICS = ("is", "am", "am_v1", "mode", "acc", "msssim", "fid", "prd", "intra_fid")
SYNTHETIC_METRICS = ("nll", "modes", "hq", "is", "am", "am_v1", "mode", "acc")
ALL_METRICS = tuple(dict.fromkeys(IMAGE_METRICS + SYNTHETIC_METRICS))
DEFAULT_IMAGE_METRICS = ("is", "am", "acc", "msssim", "fid")
DEFAULT_SYNTHETIC_METRICS = ("nll", "modes", "hq")
_CLASSIFIER_METRICS = ("am", "am_v1", "mode", "acc")
GROUPINGS = ("auto", "conditioning", "model", "classifier")
IS_PROTOCOLS = ("openai", "p004")
_FEATURE_METRICS = ("fid", "prd", "intra_fid")


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
      intra_fid_grouping: class of a sample for intra_fid: "auto" (conditioning label, else the
        classifier's argmax), "conditioning", "model" or "classifier".
      is_protocol: "openai" (IS over `splits` contiguous splits) or "p004": also P004's protocol
        (`scores.inception_score_p004`): 10 random groups of the `num_samples` samples (select),
        then 5 random groups of `p004_report_samples` fresh samples (report, `is_p004`).
      p004_report_samples: fresh samples for P004's report groups (None: num_samples // 2, as
        P004's 50,000 / 25,000).
      mode_num_std: 2-D sets: radius (in σ) of the "high quality" ball around each mode.
      data_dir, download: where the real data lives (tf_amgan.data).
    """

    metrics: tuple[str, ...] | None = None
    num_samples: int | None = 50000  # None: all of a finite source (npz, folder, real data)
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
    intra_fid_grouping: str = "auto"
    is_protocol: str = "openai"
    p004_report_samples: int | None = None
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
        return json_safe({"step": step, **self.metrics, "meta": self.meta})


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
    n_total = options.num_samples
    available = getattr(source, "num_available", 0)  # finite sources: npz, folders, real data
    if n_total is None:
        n_total = available or 50000
        if available and options.is_protocol == "p004":  # keep P004's fresh samples apart
            n_total = available - (options.p004_report_samples or available // 3)
    n_total = int(n_total)
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
    if options.intra_fid_grouping == "classifier" and "intra_fid" in metrics:
        needs_cls.append("intra_fid")
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
    if any(m in metrics for m in _FEATURE_METRICS):
        if feat_net is None:
            raise ValueError(
                "fid / prd / intra_fid need --inception_weights or a dataset classifier"
            )
        if dataset is None:
            raise ValueError("fid / prd / intra_fid need the real data set: pass --dataset")
    for net in {id(n): n for n in (classifier, is_net, feat_net) if n is not None}.values():
        if net.input_shape is not None and tuple(net.input_shape) != tuple(source.sample_shape):
            raise ValueError(
                f"{net.info.get('kind')} network {net.info.get('path')} takes inputs of shape "
                f"{tuple(net.input_shape)}, the generator makes {tuple(source.sample_shape)}"
            )
    if options.msssim_grouping not in GROUPINGS:
        raise ValueError(f"msssim_grouping must be one of {GROUPINGS}")
    if options.intra_fid_grouping not in GROUPINGS:
        raise ValueError(f"intra_fid_grouping must be one of {GROUPINGS}")
    if options.is_protocol not in IS_PROTOCOLS:
        raise ValueError(f"is_protocol must be one of {IS_PROTOCOLS}")
    n_report = 0
    if options.is_protocol == "p004":
        if "is" not in metrics:
            raise ValueError(
                "is_protocol=p004 is a protocol of the is metric: add is to the metrics"
            )
        n_report = int(options.p004_report_samples or n_total // 2)
        if n_total < 10 or n_report < 5:
            raise ValueError(f"P004's IS protocol needs >= 10 samples and >= 5 report samples, got "
                             f"{n_total} and {n_report}")  # fmt: skip

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
    if "fid" in metrics or prd_n:
        t = time.perf_counter()
        real_stats, real_prd, real_meta = real_features(
            feat_net, dataset, split=options.real_split, data_options=data_options,
            max_samples=options.real_samples, prd_samples=prd_n, batch_size=options.batch_size,
            data_dir=options.data_dir, download=options.download, progress=progress,
        )  # fmt: skip
        timer.add("real_features", t)
        meta["feature_network"] = feat_net.info.get("kind")
        meta["real"] = real_meta
    real_cls = fake_cls = None
    if "intra_fid" in metrics:
        t = time.perf_counter()
        real_cls, cls_meta = reference.real_class_statistics(
            feat_net, dataset, split=options.real_split, data_options=data_options,
            max_samples=options.real_samples, batch_size=options.batch_size,
            data_dir=options.data_dir, download=options.download,
        )  # fmt: skip
        timer.add("real_features", t)
        meta["feature_network"] = feat_net.info.get("kind")
        meta["real_classes"] = cls_meta
        fake_cls = fid_lib.ClassFeatureStatistics(real_cls.num_classes, feat_net.feature_dim)

    splits = max(1, min(options.splits, n_total))
    cls_acc = None
    if needs_cls or any(m in metrics for m in ("am", "am_v1", "mode", "acc")):
        cls_acc = streaming_lib.PredictionAccumulator(classifier.num_classes, splits=splits,
                                                   total=n_total)  # fmt: skip
    is_acc = None
    if "is" in metrics:
        if is_net is classifier and cls_acc is not None:
            is_acc = cls_acc
        else:
            is_acc = streaming_lib.PredictionAccumulator(is_net.num_classes, splits=splits,
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

    intra_grouping = None
    p004_probs: list[np.ndarray] = []  # is_net predictions, select then report samples

    bar = sample_progress(n_total + n_report, enabled=progress)
    done = 0
    it = _split_stream(source.batches(n_total + n_report, options.batch_size, options.seed),
                       n_total)  # fmt: skip
    while True:
        t = time.perf_counter()
        batch, report_only = next(it, (None, False))
        timer.add("sampling", t)
        if batch is None:
            break
        t = time.perf_counter()
        outputs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def run(net, images=batch.images, outputs=outputs):
            if id(net) not in outputs:
                outputs[id(net)] = net.batch_outputs(images)
            return outputs[id(net)]

        if n_report:
            p004_probs.append(run(is_net)[0])
        if report_only:  # P004's fresh report samples: only their IS predictions are used
            timer.add("classification", t)
            done += batch.images.shape[0]
            bar.update(done)
            continue

        cls_probs = run(classifier)[0] if cls_acc is not None else None
        if cls_acc is not None:
            labels = None
            if "acc" in metrics:
                labels, acc_reference = _acc_labels(batch, classifier.num_classes)
            cls_acc.update(cls_probs, labels)
        if is_acc is not None and is_acc is not cls_acc:
            is_acc.update(run(is_net)[0])
        if fake_stats is not None or prd_n or fake_cls is not None:
            features = run(feat_net)[1]
            if fake_stats is not None:
                fake_stats.update(features)
            if fake_cls is not None:
                if intra_grouping is None:
                    intra_grouping = _intra_fid_grouping(options.intra_fid_grouping, batch,
                                                         classifier)  # fmt: skip
                group_of = _group_labels(intra_grouping, batch, classifier, run)
                if group_of.size and group_of.max() >= fake_cls.num_classes:
                    raise ValueError(f"intra_fid: sample classes exceed the data set's "
                                     f"{fake_cls.num_classes} classes")  # fmt: skip
                fake_cls.update(features, group_of)
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
    if n_report:
        probs = np.concatenate(p004_probs)
        p004 = scores_lib.inception_score_p004(probs[:n_total], probs[n_total:], seed=options.seed)
        values.update({"is_p004": p004.report_mean, "is_p004_std": p004.report_std,
                       "is_p004_select": p004.select_mean,
                       "is_p004_select_std": p004.select_std})  # fmt: skip
        meta["is_protocol"] = {"name": "p004", "select_samples": n_total,
                               "report_samples": n_report, "select_splits": 10,
                               "report_splits": 5, "group_seed": options.seed}  # fmt: skip
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
    if fake_cls is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            intra = fid_lib.intra_fid_from_statistics(real_cls, fake_cls)
        values.update({"intra_fid": intra.mean, "intra_fid_max": intra.max})
        meta["intra_fid"] = {"grouping": intra_grouping, "argmax_class": intra.argmax,
                             "per_class": intra.per_class, "fake_counts": intra.fake_counts,
                             "real_counts": intra.real_counts,
                             "missing_classes": list(intra.missing)}  # fmt: skip
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


def _intra_fid_grouping(requested: str, batch: SampleBatch, classifier) -> str:
    """intra_fid's "auto": the conditioning label, else the classifier (the class the data set's
    labels mean), not a dynamic model's own class."""
    if requested == "auto":
        requested = "conditioning" if batch.labels is not None else "classifier"
    if requested == "model" and not batch.classes_are_labels:
        raise ValueError("intra_fid grouping 'model': this model's classes are learned categories")
    return _grouping(requested, batch, classifier)


def _split_stream(batches, n_main: int):
    """(batch, report_only) pairs: the first `n_main` samples, then the rest (P004's report
    samples), splitting the batch that straddles the boundary."""
    seen = 0
    for batch in batches:
        n = batch.images.shape[0]
        if seen >= n_main or seen + n <= n_main:
            yield batch, seen >= n_main
        else:
            k = n_main - seen
            for part, rows in ((False, slice(0, k)), (True, slice(k, n))):
                yield (
                    SampleBatch(
                        images=batch.images[rows],
                        labels=None if batch.labels is None else batch.labels[rows],
                        classes=batch.classes[rows],
                        classes_are_labels=batch.classes_are_labels,
                    ),
                    part,
                )
        seen += n


def _group_labels(grouping: str, batch: SampleBatch, classifier, run) -> np.ndarray:
    if grouping == "conditioning":
        return batch.labels
    if grouping == "model":
        return batch.classes
    return np.argmax(run(classifier)[0], axis=1)


# ----------------------------------------------------------------------------------------------
# Periodic evaluation during training.
