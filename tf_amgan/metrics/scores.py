"""Prediction-based scores: Inception Score, Mode Score, AM Score (both versions), accuracies.

All functions are pure NumPy, compute in float64 and take class predictions `[N, K]` that are
either probabilities (default) or logits (`from_logits=True`; any float dtype, incl. float16).

Epsilon convention (as the AM-GAN reference code `score.py`): probabilities get `eps = 1e-18`
added before any logarithm (no renormalisation; in float64 this only changes exact zeros, so
0·log 0 = 0 and log 0 is capped at log 1e-18 ≈ -41.4). Logits need no epsilon: log-probabilities
come from an exact log-softmax, which is stable for logits of any magnitude. The train prior
C̄^train is used as given; its zero entries contribute 0 (x·log x at x = 0 is 0), where the
reference code would produce NaN.

Splits follow openai/improved-gan: split i holds rows [i·N//S, (i+1)·N//S) (contiguous, in
order) and the std is the population std (ddof = 0). Conditional generators often emit samples
in class order; pass `shuffle_seed` to split a random permutation instead.

Large inputs (50k x 1008) are processed in row chunks, so no full float64 copy is made. For
streaming use `PredictionAccumulator`, which keeps only sufficient statistics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import scipy.optimize
import scipy.special

DEFAULT_EPS = 1e-18
_CHUNK = 8192

__all__ = [
    "DEFAULT_EPS",
    "AMScore",
    "AMScoreV1",
    "ClassAccuracy",
    "ClusteringAccuracy",
    "InceptionScore",
    "P004InceptionScore",
    "PredictionAccumulator",
    "am_score",
    "am_score_v1",
    "class_accuracy",
    "class_prior",
    "clustering_accuracy",
    "entropy",
    "inception_score",
    "inception_score_p004",
    "log_probabilities",
    "mode_score",
]


# ----------------------------------------------------------------------------------------------
# Records.


@dataclasses.dataclass(frozen=True)
class InceptionScore:
    """Inception Score with its decomposition (P001 Eq. 21, Eq. 25-26).

    Attributes:
      score: exp(E_x KL(C(x) ‖ C̄^G)) on the full set, no splits ([CODE] headline `icp_sc`).
      split_mean: mean over splits of the per-split score (openai protocol).
      split_std: population std over splits (0.0 when splits == 1).
      split_scores: `[splits]` per-split scores.
      entropy_of_mean: H(C̄^G) on the full set, nats.
      mean_entropy: E_x[H(C(x))] on the full set, nats. log(score) = entropy_of_mean - mean_entropy.
      num_samples: N.
    """

    score: float
    split_mean: float
    split_std: float
    split_scores: np.ndarray
    entropy_of_mean: float
    mean_entropy: float
    num_samples: int


@dataclasses.dataclass(frozen=True)
class P004InceptionScore:
    """P004's IS protocol (§4, X-14): select on 50k/10 random groups, report 25k/5 groups.

    Attributes:
      select_mean, select_std: mean ± std over the selection groups (for model selection only).
      report_mean, report_std: mean ± std over the report groups (the number P004 publishes).
      select, report: the full `InceptionScore` records of both sample sets.
    """

    select_mean: float
    select_std: float
    report_mean: float
    report_std: float
    select: InceptionScore
    report: InceptionScore


@dataclasses.dataclass(frozen=True)
class AMScore:
    """AM Score, P001 definition (Eq. 27; E-3b), lower is better, minimum 0.

    Attributes:
      score: kl_term + entropy_term on the full set.
      kl_term: KL(C̄^train ‖ C̄^G) ([CODE] `am_avg`).
      entropy_term: E_x[H(C(x))], the mean per-sample entropy ([CODE] `am_per`).
      entropy_of_mean: H(C̄^G).
      mean_prediction: `[K]` C̄^G.
      split_mean, split_std, split_scores: AM Score per split (one split = the full set).
    """

    score: float
    kl_term: float
    entropy_term: float
    entropy_of_mean: float
    mean_prediction: np.ndarray
    split_mean: float
    split_std: float
    split_scores: np.ndarray


@dataclasses.dataclass(frozen=True)
class AMScoreV1:
    """AM Score, P000 definition (App. B.2 Eq. 23; E-3a), higher is better, not exponentiated.

    Attributes:
      score: sample_term - mean_term.
      sample_term: E_x[H(C̄^train, C(x))] (large when each C(x) is sharp).
      mean_term: H(C̄^train, C̄^G) (small when C̄^G matches C̄^train).
    """

    score: float
    sample_term: float
    mean_term: float


@dataclasses.dataclass(frozen=True)
class ClassAccuracy:
    """Classifier accuracy on labelled (generated) samples (P004 §4.1 "Inception accuracy", E-5).

    Attributes:
      mean_class_accuracy: per-class accuracy averaged over classes that have samples.
      per_class: `[K]` accuracy per intended class (NaN where a class has no sample).
      counts: `[K]` samples per intended class.
      overall: fraction of all samples classified as their intended class.
      split_mean, split_std: mean ± std of `mean_class_accuracy` over splits (P004 Fig. 3 error
        bars use 10 subsets); equal to (mean_class_accuracy, 0.0) with one split.
    """

    mean_class_accuracy: float
    per_class: np.ndarray
    counts: np.ndarray
    overall: float
    split_mean: float
    split_std: float


@dataclasses.dataclass(frozen=True)
class ClusteringAccuracy:
    """Accuracy of a clustering under the best one-to-one cluster-to-class matching.

    Attributes:
      accuracy: matched samples / all samples. Samples in unmatched clusters count as errors.
      cluster_to_class: `[num_clusters]` matched class per cluster, -1 if unmatched.
      contingency: `[num_clusters, num_classes]` sample counts.
    """

    accuracy: float
    cluster_to_class: np.ndarray
    contingency: np.ndarray


# ----------------------------------------------------------------------------------------------
# Elementwise helpers.


def _check_predictions(predictions) -> np.ndarray:
    predictions = np.asarray(predictions)
    if predictions.ndim != 2 or predictions.shape[0] == 0:
        raise ValueError(f"predictions must have shape [N>0, K], got {predictions.shape}")
    return predictions


def log_probabilities(
    predictions, *, from_logits: bool = False, eps: float = DEFAULT_EPS
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 (probabilities, log-probabilities) of a batch of class predictions.

    Args:
      predictions: `[N, K]` probabilities, or logits if `from_logits`.
      from_logits: apply an exact log-softmax (stable for any logit magnitude).
      eps: added to probabilities before the log (ignored for logits); see the module docstring.

    Returns:
      (p, log_p), both `[N, K]` float64. With probabilities, p = predictions + eps.
    """
    x = np.asarray(predictions, dtype=np.float64)
    if from_logits:
        log_p = scipy.special.log_softmax(x, axis=-1)
        return np.exp(log_p), log_p
    p = x + eps
    with np.errstate(divide="ignore"):
        return p, np.log(p)


def _chunks(
    predictions: np.ndarray, rows, from_logits: bool, eps: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yields float64 (p, log_p) for the selected rows, a chunk at a time."""
    if isinstance(rows, slice):
        start, stop, _ = rows.indices(predictions.shape[0])
        for s in range(start, stop, _CHUNK):
            yield log_probabilities(
                predictions[s : min(s + _CHUNK, stop)], from_logits=from_logits, eps=eps
            )
    else:
        for s in range(0, len(rows), _CHUNK):
            yield log_probabilities(
                predictions[rows[s : s + _CHUNK]], from_logits=from_logits, eps=eps
            )


def entropy(predictions, *, from_logits: bool = False, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Per-sample entropy H(C(x)) in nats (the AM Score / IS per-sample term, P001 Fig. 4c).

    Args:
      predictions: `[N, K]` probabilities or logits.

    Returns:
      `[N]` float64.
    """
    predictions = _check_predictions(predictions)
    out = [
        -_plogp_sum(p, lp, axis=1) for p, lp in _chunks(predictions, slice(None), from_logits, eps)
    ]
    return np.concatenate(out)


def class_prior(predictions, *, from_logits: bool = False, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Mean class distribution C̄ = E_x[C(x)], e.g. C̄^train on the training set (P001 Eq. 27).

    Args:
      predictions: `[N, K]` probabilities or logits.

    Returns:
      `[K]` float64, the mean of the (eps-shifted) probabilities, as the reference code.
    """
    predictions = _check_predictions(predictions)
    total = sum(p.sum(axis=0) for p, _ in _chunks(predictions, slice(None), from_logits, eps))
    return total / predictions.shape[0]


def _plogp_sum(p: np.ndarray, log_p: np.ndarray, axis=None):
    """Σ p·log p with 0·log 0 = 0."""
    with np.errstate(invalid="ignore"):
        return np.sum(np.where(p > 0, p * log_p, 0.0), axis=axis)


def _entropy_of(p: np.ndarray) -> float:
    return float(np.sum(scipy.special.entr(p)))


def _cross_entropy(p: np.ndarray, q: np.ndarray) -> float:
    """H(p, q) with 0·log q = 0."""
    with np.errstate(divide="ignore"):
        return float(-np.sum(scipy.special.xlogy(p, q)))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p ‖ q) with 0·log(0/q) = 0."""
    return _cross_entropy(p, q) - _entropy_of(p)


def _prior(train_prior, num_classes: int) -> np.ndarray:
    prior = np.asarray(train_prior, dtype=np.float64)
    if prior.shape != (num_classes,):
        raise ValueError(f"train_prior must have shape [{num_classes}], got {prior.shape}")
    if np.any(prior < 0):
        raise ValueError("train_prior must be non-negative")
    return prior


def _split_rows(n: int, splits: int | None, shuffle_seed: int | None) -> list:
    splits = 1 if splits is None else int(splits)
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in [1, N={n}], got {splits}")
    if shuffle_seed is None:
        return [slice(i * n // splits, (i + 1) * n // splits) for i in range(splits)]
    perm = np.random.default_rng(shuffle_seed).permutation(n)
    return [perm[i * n // splits : (i + 1) * n // splits] for i in range(splits)]


def _rows_len(rows, n: int) -> int:
    return len(range(*rows.indices(n))) if isinstance(rows, slice) else len(rows)


# ----------------------------------------------------------------------------------------------
# Inception Score and Mode Score.


def _is_terms(predictions, rows, from_logits, eps) -> tuple[float, float, float]:
    """(E_x KL(C(x) ‖ C̄), H(C̄), E_x H(C(x))) over `rows`, from the definition (two passes)."""
    n = _rows_len(rows, predictions.shape[0])
    mean_p = sum(p.sum(axis=0) for p, _ in _chunks(predictions, rows, from_logits, eps)) / n
    with np.errstate(divide="ignore"):
        log_mean = np.log(mean_p)
    kl_sum, h_sum = 0.0, 0.0
    for p, lp in _chunks(predictions, rows, from_logits, eps):
        # Terms with p = 0 are 0 by convention (only reachable through logit underflow).
        with np.errstate(invalid="ignore"):
            kl_sum += float(np.sum(np.where(p > 0, p * (lp - log_mean), 0.0)))
        h_sum -= float(_plogp_sum(p, lp))
    return kl_sum / n, _entropy_of(mean_p), h_sum / n


def inception_score(
    predictions,
    *,
    splits: int | None = 10,
    from_logits: bool = False,
    eps: float = DEFAULT_EPS,
    shuffle_seed: int | None = None,
) -> InceptionScore:
    """Inception Score IS = exp(E_x KL(C(x) ‖ C̄^G)) (P000 Eq. 18, P001 Eq. 21, P004 fn. 3; E-1).

    Higher is better; 1.0 for collapsed samples, K for confident predictions uniform over K classes.

    Args:
      predictions: `[N, K]` class probabilities (e.g. Inception softmax over 1008) or logits.
      splits: number of groups for mean ± std (openai/P001 protocol: 10); None or 1 = no splits.
      from_logits: predictions are logits.
      eps: probability epsilon (reference: 1e-18).
      shuffle_seed: split a random permutation of the rows (None: contiguous, as openai).

    Returns:
      InceptionScore with the full-set score, the split mean/std and the decomposition
      log IS = H(C̄^G) - E_x[H(C(x))] (P001 Eq. 25).
    """
    predictions = _check_predictions(predictions)
    n = predictions.shape[0]
    kl, h_mean, mean_h = _is_terms(predictions, slice(None), from_logits, eps)
    split_scores = np.array(
        [
            np.exp(_is_terms(predictions, rows, from_logits, eps)[0])
            for rows in _split_rows(n, splits, shuffle_seed)
        ]
    )
    return InceptionScore(
        score=float(np.exp(kl)),
        split_mean=float(np.mean(split_scores)),
        split_std=float(np.std(split_scores)),
        split_scores=split_scores,
        entropy_of_mean=h_mean,
        mean_entropy=mean_h,
        num_samples=n,
    )


def inception_score_p004(
    select_predictions,
    report_predictions,
    *,
    select_splits: int = 10,
    report_splits: int = 5,
    from_logits: bool = False,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
) -> P004InceptionScore:
    """P004's IS protocol (E-1, X-14): selection and reporting on disjoint sample sets.

    P004 splits 50,000 samples into 10 random groups to select the best model, then reports the
    mean ± std over 5 random groups of 25,000 *extra* samples.

    Args:
      select_predictions: `[N1, K]` predictions of the selection samples (P004: N1 = 50,000).
      report_predictions: `[N2, K]` predictions of independent samples (P004: N2 = 25,000).
      select_splits, report_splits: group counts (10 and 5).
      from_logits, eps: as in `inception_score`.
      seed: seed of the random group assignment.

    Returns:
      P004InceptionScore.
    """
    select = inception_score(
        select_predictions,
        splits=select_splits,
        from_logits=from_logits,
        eps=eps,
        shuffle_seed=seed,
    )
    report = inception_score(
        report_predictions,
        splits=report_splits,
        from_logits=from_logits,
        eps=eps,
        shuffle_seed=seed + 1,
    )
    return P004InceptionScore(
        select_mean=select.split_mean,
        select_std=select.split_std,
        report_mean=report.split_mean,
        report_std=report.split_std,
        select=select,
        report=report,
    )


def mode_score(
    predictions, train_prior, *, from_logits: bool = False, eps: float = DEFAULT_EPS
) -> float:
    """Mode Score exp(E_x KL(C(x) ‖ C̄^train) - KL(C̄^G ‖ C̄^train)) (P000 Eq. 20, P001 Eq. 23; E-2).

    Computed from its definition. By Lemma 3 it equals the Inception Score for any C̄^train
    (P001 Eq. 25-26); tests check that numerically.

    Args:
      predictions: `[N, K]` probabilities or logits.
      train_prior: `[K]` C̄^train (strictly positive where C̄^G is positive, else the score is 0).

    Returns:
      The full-set Mode Score.
    """
    predictions = _check_predictions(predictions)
    n, k = predictions.shape
    prior = _prior(train_prior, k)
    with np.errstate(divide="ignore"):
        log_prior = np.log(prior)
    mean_p = class_prior(predictions, from_logits=from_logits, eps=eps)
    kl_sum = 0.0
    for p, lp in _chunks(predictions, slice(None), from_logits, eps):
        with np.errstate(invalid="ignore"):
            kl_sum += float(np.sum(np.where(p > 0, p * (lp - log_prior), 0.0)))
    return float(np.exp(kl_sum / n - _kl(mean_p, prior)))


# ----------------------------------------------------------------------------------------------
# AM Scores.


def _am_terms(predictions, rows, prior, from_logits, eps) -> tuple[float, float, float, np.ndarray]:
    """(KL(C̄^train ‖ C̄^G), E_x H(C(x)), H(C̄^G), C̄^G) over `rows`."""
    n = _rows_len(rows, predictions.shape[0])
    p_sum, h_sum = 0.0, 0.0
    for p, lp in _chunks(predictions, rows, from_logits, eps):
        p_sum = p_sum + p.sum(axis=0)
        h_sum -= float(_plogp_sum(p, lp))
    mean_p = p_sum / n
    return _kl(prior, mean_p), h_sum / n, _entropy_of(mean_p), mean_p


def am_score(
    predictions,
    train_prior,
    *,
    splits: int | None = None,
    from_logits: bool = False,
    eps: float = DEFAULT_EPS,
    shuffle_seed: int | None = None,
) -> AMScore:
    """AM Score = KL(C̄^train ‖ C̄^G) + E_x[H(C(x))] (P001 Eq. 27; E-3b). Lower is better, min 0.

    C is a classifier trained on the dataset itself (P001: DenseNet on CIFAR-10), and C̄^train its
    mean prediction on the training set (`class_prior`). 0 iff every C(x) is one-hot and the class
    frequencies of the samples equal C̄^train.

    Args:
      predictions: `[N, K]` probabilities or logits of the generated samples.
      train_prior: `[K]` C̄^train.
      splits: optional groups for mean ± std ([CODE] logs 10); None = the full set only.
      from_logits, eps, shuffle_seed: as in `inception_score`.

    Returns:
      AMScore with the KL term, the per-sample entropy term and H(C̄^G) separately.
    """
    predictions = _check_predictions(predictions)
    n, k = predictions.shape
    prior = _prior(train_prior, k)
    kl, mean_h, h_mean, mean_p = _am_terms(predictions, slice(None), prior, from_logits, eps)
    split_scores = np.array(
        [
            sum(_am_terms(predictions, rows, prior, from_logits, eps)[:2])
            for rows in _split_rows(n, splits, shuffle_seed)
        ]
    )
    return AMScore(
        score=kl + mean_h,
        kl_term=kl,
        entropy_term=mean_h,
        entropy_of_mean=h_mean,
        mean_prediction=mean_p,
        split_mean=float(np.mean(split_scores)),
        split_std=float(np.std(split_scores)),
        split_scores=split_scores,
    )


def am_score_v1(
    predictions, train_prior, *, from_logits: bool = False, eps: float = DEFAULT_EPS
) -> AMScoreV1:
    """P000's AM Score E_x[KL(C̄^train ‖ C(x))] - KL(C̄^train ‖ C̄^G) (App. B.2 Eq. 23; E-3a, Q-2).

    Equals E_x[H(C̄^train, C(x))] - H(C̄^train, C̄^G). Higher is better; only for the P000
    correlation study (E-7). Unbounded for one-hot probabilities (log 0 is capped by `eps`).

    Args:
      predictions: `[N, K]` probabilities or logits.
      train_prior: `[K]` C̄^train.

    Returns:
      AMScoreV1.
    """
    predictions = _check_predictions(predictions)
    n, k = predictions.shape
    prior = _prior(train_prior, k)
    p_sum, ce_sum = 0.0, 0.0
    for p, lp in _chunks(predictions, slice(None), from_logits, eps):
        p_sum = p_sum + p.sum(axis=0)
        ce_sum += float(-np.sum(np.where(prior > 0, prior * lp, 0.0)))
    sample_term = ce_sum / n
    mean_term = _cross_entropy(prior, p_sum / n)
    return AMScoreV1(score=sample_term - mean_term, sample_term=sample_term, mean_term=mean_term)


# ----------------------------------------------------------------------------------------------
# Accuracies.


def _predicted_labels(predictions) -> np.ndarray:
    predictions = np.asarray(predictions)
    if predictions.ndim == 2:
        return np.argmax(predictions, axis=1)
    if predictions.ndim == 1 and np.issubdtype(predictions.dtype, np.integer):
        return predictions
    raise ValueError("predictions must be [N, K] scores or [N] integer labels")


def _mean_class_accuracy(pred: np.ndarray, labels: np.ndarray, k: int):
    counts = np.bincount(labels, minlength=k)
    correct = np.bincount(labels[pred == labels], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(counts > 0, correct / np.maximum(counts, 1), np.nan)
    return float(np.nanmean(per_class)), per_class, counts


def class_accuracy(
    predictions,
    labels,
    *,
    num_classes: int | None = None,
    splits: int | None = None,
    shuffle_seed: int | None = None,
) -> ClassAccuracy:
    """Per-class accuracy averaged over classes (P004 §4.1 Inception accuracy; E-5).

    Args:
      predictions: `[N, K]` scores/probabilities/logits (argmax is taken) or `[N]` int labels.
      labels: `[N]` intended (conditioning) class of each sample.
      num_classes: K (default: inferred from the inputs).
      splits: optional number of subsets for the std of the mean class accuracy (P004: 10).
      shuffle_seed: split a random permutation instead of contiguous groups.

    Returns:
      ClassAccuracy.
    """
    pred = _predicted_labels(predictions)
    labels = np.asarray(labels).astype(np.int64)
    if pred.shape != labels.shape:
        raise ValueError(f"predictions give {pred.shape} labels, but labels is {labels.shape}")
    if labels.size == 0 or labels.min() < 0:
        raise ValueError("labels must be non-empty and non-negative")
    k = num_classes
    if k is None:
        width = np.asarray(predictions).shape[1] if np.asarray(predictions).ndim == 2 else 0
        k = max(int(labels.max()) + 1, int(pred.max()) + 1, width)
    mean_acc, per_class, counts = _mean_class_accuracy(pred, labels, k)
    split_values = [
        _mean_class_accuracy(pred[rows], labels[rows], k)[0]
        for rows in _split_rows(len(labels), splits, shuffle_seed)
    ]
    return ClassAccuracy(
        mean_class_accuracy=mean_acc,
        per_class=per_class,
        counts=counts,
        overall=float(np.mean(pred == labels)),
        split_mean=float(np.mean(split_values)),
        split_std=float(np.std(split_values)),
    )


def clustering_accuracy(cluster_ids, labels) -> ClusteringAccuracy:
    """Clustering accuracy under the best one-to-one matching (Hungarian algorithm).

    Not a seed-paper number (E-14a, Q-19): an extra for scoring CGPGAN/InfoGAN categories against
    true labels. With more clusters than classes each class is matched to at most one cluster and
    the samples of unmatched clusters count as errors.

    Args:
      cluster_ids: `[N]` non-negative int cluster (category) of each sample.
      labels: `[N]` non-negative int true class.

    Returns:
      ClusteringAccuracy.
    """
    cluster_ids = np.asarray(cluster_ids).astype(np.int64)
    labels = np.asarray(labels).astype(np.int64)
    if cluster_ids.shape != labels.shape or cluster_ids.ndim != 1 or labels.size == 0:
        raise ValueError("cluster_ids and labels must be non-empty [N] arrays")
    if cluster_ids.min() < 0 or labels.min() < 0:
        raise ValueError("cluster_ids and labels must be non-negative")
    contingency = np.zeros((cluster_ids.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(contingency, (cluster_ids, labels), 1)
    rows, cols = scipy.optimize.linear_sum_assignment(contingency, maximize=True)
    mapping = np.full(contingency.shape[0], -1, dtype=np.int64)
    mapping[rows] = cols
    return ClusteringAccuracy(
        accuracy=float(contingency[rows, cols].sum() / labels.size),
        cluster_to_class=mapping,
        contingency=contingency,
    )


# ----------------------------------------------------------------------------------------------
# Streaming accumulator.


class PredictionAccumulator:
    """Streaming sufficient statistics for IS, Mode Score, AM Scores and class accuracy.

    Memory is O(splits · K) whatever the number of samples: per split it keeps N, Σ_x C(x),
    Σ_x log C(x) and Σ_x H(C(x)). All scores are exact functions of these sums
    (log IS = H(C̄) - E_x H(C(x)), P001 Eq. 25), and agree with the array functions.

    Args:
      num_classes: K.
      from_logits: `update` receives logits.
      eps: probability epsilon (see the module docstring).
      splits: number of contiguous splits, assigned by arrival order as openai/improved-gan does
        (split i = samples [i·total//splits, (i+1)·total//splits)).
      total: the final sample count; required when splits > 1.
    """

    def __init__(
        self,
        num_classes: int,
        *,
        from_logits: bool = False,
        eps: float = DEFAULT_EPS,
        splits: int = 1,
        total: int | None = None,
    ):
        if splits < 1:
            raise ValueError("splits must be >= 1")
        if splits > 1 and (total is None or total < splits):
            raise ValueError("splits > 1 needs total >= splits (the final number of samples)")
        self.num_classes = int(num_classes)
        self.from_logits = from_logits
        self.eps = eps
        self.splits = int(splits)
        self.total = total
        self._bounds = (
            np.array([i * total // splits for i in range(splits + 1)])
            if total is not None
            else np.array([0, np.iinfo(np.int64).max])
        )
        self._n = np.zeros(self.splits, dtype=np.int64)
        self._sum_p = np.zeros((self.splits, self.num_classes))
        self._sum_logp = np.zeros((self.splits, self.num_classes))
        self._sum_h = np.zeros(self.splits)
        self._confusion = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        self._labelled = 0

    @property
    def num_samples(self) -> int:
        return int(self._n.sum())

    def update(self, predictions, labels=None) -> PredictionAccumulator:
        """Adds a batch.

        Args:
          predictions: `[B, K]` probabilities (or logits if `from_logits`); any float dtype.
          labels: optional `[B]` intended classes, for `class_accuracy` (pass on every update).

        Returns:
          self.
        """
        predictions = np.asarray(predictions)
        if predictions.ndim != 2 or predictions.shape[1] != self.num_classes:
            raise ValueError(
                f"expected [B, {self.num_classes}] predictions, got {predictions.shape}"
            )
        start = self.num_samples
        if self.total is not None and start + predictions.shape[0] > self.total:
            raise ValueError(f"more than total={self.total} samples")
        p, lp = log_probabilities(predictions, from_logits=self.from_logits, eps=self.eps)
        with np.errstate(invalid="ignore"):
            plogp = np.where(p > 0, p * lp, 0.0)
        index = start + np.arange(predictions.shape[0])
        split_of = np.searchsorted(self._bounds, index, side="right") - 1
        for s in np.unique(split_of):
            rows = split_of == s
            self._n[s] += rows.sum()
            self._sum_p[s] += p[rows].sum(axis=0)
            self._sum_logp[s] += lp[rows].sum(axis=0)
            self._sum_h[s] -= plogp[rows].sum()
        if labels is not None:
            labels = np.asarray(labels).astype(np.int64)
            if labels.shape != (predictions.shape[0],):
                raise ValueError(f"labels must have shape [{predictions.shape[0]}]")
            np.add.at(self._confusion, (labels, np.argmax(predictions, axis=1)), 1)
            self._labelled += labels.size
        return self

    def _check_complete(self):
        if self.num_samples == 0:
            raise ValueError("no samples accumulated")
        if self.splits > 1 and self.num_samples != self.total:
            raise ValueError(f"accumulated {self.num_samples} samples, expected total={self.total}")

    def _stats(self, s: int | None):
        if s is None:
            return self._n.sum(), self._sum_p.sum(0), self._sum_logp.sum(0), self._sum_h.sum()
        return self._n[s], self._sum_p[s], self._sum_logp[s], self._sum_h[s]

    def mean_prediction(self) -> np.ndarray:
        """`[K]` C̄ over all samples (use on training data to get C̄^train)."""
        self._check_complete()
        n, sum_p, _, _ = self._stats(None)
        return sum_p / n

    def _log_is(self, s):
        n, sum_p, _, sum_h = self._stats(s)
        return _entropy_of(sum_p / n) - sum_h / n

    def inception_score(self) -> InceptionScore:
        """InceptionScore of the accumulated samples (see `inception_score`)."""
        self._check_complete()
        n, sum_p, _, sum_h = self._stats(None)
        split_scores = np.array([np.exp(self._log_is(s)) for s in range(self.splits)])
        return InceptionScore(
            score=float(np.exp(self._log_is(None))),
            split_mean=float(np.mean(split_scores)),
            split_std=float(np.std(split_scores)),
            split_scores=split_scores,
            entropy_of_mean=_entropy_of(sum_p / n),
            mean_entropy=float(sum_h / n),
            num_samples=int(n),
        )

    def mode_score(self, train_prior) -> float:
        """Full-set Mode Score (see `mode_score`)."""
        self._check_complete()
        prior = _prior(train_prior, self.num_classes)
        n, sum_p, _, sum_h = self._stats(None)
        mean_p = sum_p / n
        # E_x KL(C(x) ‖ prior) = -E_x H(C(x)) + H(C̄, prior), by linearity.
        return float(np.exp(-sum_h / n + _cross_entropy(mean_p, prior) - _kl(mean_p, prior)))

    def am_score(self, train_prior) -> AMScore:
        """AMScore of the accumulated samples (see `am_score`); splits as configured."""
        self._check_complete()
        prior = _prior(train_prior, self.num_classes)

        def terms(s):
            n, sum_p, _, sum_h = self._stats(s)
            return _kl(prior, sum_p / n), float(sum_h / n), sum_p / n

        kl, mean_h, mean_p = terms(None)
        split_scores = np.array([sum(terms(s)[:2]) for s in range(self.splits)])
        return AMScore(
            score=kl + mean_h,
            kl_term=kl,
            entropy_term=mean_h,
            entropy_of_mean=_entropy_of(mean_p),
            mean_prediction=mean_p,
            split_mean=float(np.mean(split_scores)),
            split_std=float(np.std(split_scores)),
            split_scores=split_scores,
        )

    def am_score_v1(self, train_prior) -> AMScoreV1:
        """AMScoreV1 of the accumulated samples (see `am_score_v1`)."""
        self._check_complete()
        prior = _prior(train_prior, self.num_classes)
        n, sum_p, sum_logp, _ = self._stats(None)
        sample_term = float(-np.sum(np.where(prior > 0, prior * sum_logp / n, 0.0)))
        mean_term = _cross_entropy(prior, sum_p / n)
        return AMScoreV1(
            score=sample_term - mean_term, sample_term=sample_term, mean_term=mean_term
        )

    def class_accuracy(self) -> ClassAccuracy:
        """ClassAccuracy over all labelled samples (no split std: reported as 0)."""
        if self._labelled == 0 or self._labelled != self.num_samples:
            raise ValueError("class_accuracy needs labels passed with every update")
        counts = self._confusion.sum(axis=1)
        correct = np.diag(self._confusion)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.where(counts > 0, correct / np.maximum(counts, 1), np.nan)
        mean_acc = float(np.nanmean(per_class))
        return ClassAccuracy(
            mean_class_accuracy=mean_acc,
            per_class=per_class,
            counts=counts,
            overall=float(correct.sum() / counts.sum()),
            split_mean=mean_acc,
            split_std=0.0,
        )
