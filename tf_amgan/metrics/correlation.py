"""P000 App. B.4 metric-validation study (E-7): correlation of metrics with the oracle NLL.

P000 Fig. 7 reports Pearson correlations with the *negative* oracle NLL over checkpoints of the
synthetic-data runs: Inception Score 0.926, AM Score (P000 version, `am_score_v1`) 0.977, both
with the same toy classifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["metric_nll_correlation", "nll_correlation_study", "pearson_correlation"]


def pearson_correlation(x, y) -> float:
    """Pearson's r of two equally long sequences (float64).

    Returns:
      r in [-1, 1]; NaN if either sequence is constant.

    Raises:
      ValueError: fewer than 2 points, mismatched lengths or non-finite values.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"need two sequences of equal length >= 2, got {x.size} and {y.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("values must be finite")
    xc, yc = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.sum(xc * xc) * np.sum(yc * yc))
    if denom == 0.0:
        return float("nan")
    return float(np.clip(np.sum(xc * yc) / denom, -1.0, 1.0))


def metric_nll_correlation(metric_values: Sequence[float], oracle_nlls: Sequence[float]) -> float:
    """Pearson correlation of a metric with the negative oracle NLL (P000 App. B.4, Fig. 7; E-7).

    Args:
      metric_values: one metric value per evaluated checkpoint.
      oracle_nlls: the oracle NLL (`synthetic.oracle_nll`) of the same checkpoints.

    Returns:
      corr(metric, -NLL): near +1 when a higher metric goes with a better (lower) NLL.
    """
    return pearson_correlation(metric_values, -np.asarray(oracle_nlls, dtype=np.float64))


def nll_correlation_study(
    metrics: Mapping[str, Sequence[float]], oracle_nlls: Sequence[float]
) -> dict[str, float]:
    """`metric_nll_correlation` for several metrics over the same checkpoints.

    Args:
      metrics: metric name -> values per checkpoint (e.g. {"is": [...], "am_v1": [...]}).
        Lower-is-better metrics (P001 AM Score) correlate negatively; negate them first to
        compare signs with P000.
      oracle_nlls: oracle NLL per checkpoint.

    Returns:
      name -> Pearson correlation with -NLL.
    """
    return {name: metric_nll_correlation(values, oracle_nlls) for name, values in metrics.items()}
