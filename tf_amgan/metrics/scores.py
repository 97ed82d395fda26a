"""Prediction-based scores: Inception Score, Mode Score, AM Score (both versions).

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
streaming use `metrics.streaming.PredictionAccumulator`, which keeps only sufficient statistics;
accuracies are in `metrics.accuracy`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import scipy.special

DEFAULT_EPS = 1e-18
_CHUNK = 8192

__all__ = [
    "DEFAULT_EPS",
    "AMScore",
    "AMScoreV1",
    "InceptionScore",
    "P004InceptionScore",
    "am_score",
    "am_score_v1",
    "class_prior",
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
