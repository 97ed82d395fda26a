"""Evaluation metrics (seed-spec §2, E-1..E-13): pure functions and streaming accumulators.

- `scores`: Inception Score (+ P004 protocol), Mode Score, AM Score (P001; P000 as `am_score_v1`).
- `accuracy`: class accuracy (P004), clustering accuracy.
- `streaming`: `PredictionAccumulator`, the scores and class accuracy from sufficient statistics.
- `msssim`: small-image MS-SSIM in TF and per-class intra-class diversity.
- `fid`: FID from features or `FeatureStatistics`, intra-class FID, k-NN precision/recall.
- `synthetic`: oracle NLL, mode coverage and high-quality share for Gaussian mixtures.
- `correlation`: the P000 App. B.4 correlation study.

Networks that produce predictions/features are loaded elsewhere; these functions take arrays.
"""

from tf_amgan.metrics.accuracy import (
    ClassAccuracy,
    ClusteringAccuracy,
    class_accuracy,
    clustering_accuracy,
)
from tf_amgan.metrics.correlation import (
    metric_nll_correlation,
    nll_correlation_study,
    pearson_correlation,
)
from tf_amgan.metrics.fid import (
    ClassFeatureStatistics,
    FeatureStatistics,
    IntraFID,
    PrecisionRecall,
    fid_from_features,
    fid_from_statistics,
    frechet_distance,
    intra_fid,
    intra_fid_from_statistics,
    knn_radii,
    precision_recall,
)
from tf_amgan.metrics.msssim import (
    MS_SSIM_WEIGHTS,
    IntraClassMSSSIM,
    gaussian_window,
    intra_class_ms_ssim,
    ms_ssim,
)
from tf_amgan.metrics.scores import (
    DEFAULT_EPS,
    AMScore,
    AMScoreV1,
    InceptionScore,
    P004InceptionScore,
    am_score,
    am_score_v1,
    class_prior,
    entropy,
    inception_score,
    inception_score_p004,
    log_probabilities,
    mode_score,
)
from tf_amgan.metrics.streaming import PredictionAccumulator
from tf_amgan.metrics.synthetic import (
    ModeCoverage,
    gaussian_mixture_log_prob,
    mode_coverage,
    oracle_nll,
    ring_means,
)

__all__ = [
    "DEFAULT_EPS",
    "MS_SSIM_WEIGHTS",
    "AMScore",
    "AMScoreV1",
    "ClassAccuracy",
    "ClassFeatureStatistics",
    "ClusteringAccuracy",
    "FeatureStatistics",
    "InceptionScore",
    "IntraClassMSSSIM",
    "IntraFID",
    "ModeCoverage",
    "P004InceptionScore",
    "PrecisionRecall",
    "PredictionAccumulator",
    "am_score",
    "am_score_v1",
    "class_accuracy",
    "class_prior",
    "clustering_accuracy",
    "entropy",
    "fid_from_features",
    "fid_from_statistics",
    "frechet_distance",
    "gaussian_mixture_log_prob",
    "gaussian_window",
    "inception_score",
    "inception_score_p004",
    "intra_class_ms_ssim",
    "intra_fid",
    "intra_fid_from_statistics",
    "knn_radii",
    "log_probabilities",
    "metric_nll_correlation",
    "mode_coverage",
    "mode_score",
    "ms_ssim",
    "nll_correlation_study",
    "oracle_nll",
    "pearson_correlation",
    "precision_recall",
    "ring_means",
]
