"""Accuracies of labelled samples: per-class classifier accuracy (P004 §4.1, E-5) and the
clustering accuracy of learned categories under the best one-to-one matching."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.optimize

from tf_amgan.metrics.scores import _split_rows

__all__ = ["ClassAccuracy", "ClusteringAccuracy", "class_accuracy", "clustering_accuracy"]


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
