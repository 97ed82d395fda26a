"""Streaming sufficient statistics for the prediction-based scores (`PredictionAccumulator`)."""

from __future__ import annotations

import numpy as np

from tf_amgan.metrics.accuracy import ClassAccuracy
from tf_amgan.metrics.scores import (
    DEFAULT_EPS,
    AMScore,
    AMScoreV1,
    InceptionScore,
    _cross_entropy,
    _entropy_of,
    _kl,
    _prior,
    log_probabilities,
)

__all__ = ["PredictionAccumulator"]


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
