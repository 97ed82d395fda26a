"""Evaluation of the categories learned by latent-code models (CGPGAN, InfoGAN family; P003).

- `category_report`: on a 2-D mixture (clusters4, overlap10, ring8), the final P(C), which mixture
  component each active category generates (majority of the Bayes-optimal component of its
  samples) and how purely, whether the active categories cover the components one-to-one (P003
  Fig. 5/6 "each cluster its own category"), and the clustering accuracy of the classifier Q on
  real data against the true components (Hungarian matching; not a P003 number, E-12/E-14a).
- `classifier_clustering_accuracy`: the same accuracy for any data set (images included), from Q
  or, for models without Q, from the discriminator's class argmax (`trainer.classify`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tf_amgan import data
from tf_amgan.metrics import clustering_accuracy
from tf_amgan.training.selfsup import ACTIVE_THRESHOLD

__all__ = ["category_report", "classifier_clustering_accuracy", "prior_matches"]


def _batched(fn, x, batch: int = 1000) -> np.ndarray:
    return np.concatenate([np.asarray(fn(x[i : i + batch])) for i in range(0, len(x), batch)])


def classifier_clustering_accuracy(trainer, images, labels) -> dict:
    """Hungarian-matched accuracy of `trainer.classify` (Q's or D's argmax) vs true labels.

    Args:
      trainer: a GANTrainer whose model assigns classes (-1 = none: returns accuracy None).
      images: `[N, ...]` real examples in [-1, 1]; labels: `[N]` true classes.

    Returns:
      {"clustering_accuracy": float | None, "clusters_used": int, "cluster_to_class": list}.
    """
    ids = _batched(lambda x: trainer.classify(tf.constant(x, tf.float32)), np.asarray(images))
    if ids.size == 0 or ids.min() < 0:
        return {"clustering_accuracy": None, "clusters_used": 0, "cluster_to_class": []}
    result = clustering_accuracy(ids, np.asarray(labels))
    return {
        "clustering_accuracy": result.accuracy,
        "clusters_used": int(np.unique(ids).size),
        "cluster_to_class": result.cluster_to_class.tolist(),
    }


def prior_matches(active_probs, target, tolerance: float = 0.05) -> bool:
    """Whether the sorted active P(C) equals the sorted target within `tolerance` everywhere."""
    a, b = np.sort(np.asarray(active_probs, float)), np.sort(np.asarray(target, float))
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tolerance))


def category_report(
    trainer, samples_per_category: int = 500, real_samples: int = 4000, seed: int = 0
) -> dict:
    """Category diagnostics of a latent-code model trained on a 2-D mixture.

    Returns a JSON-serialisable dict:
      prior: P(C) `[d_c]`; prior_entropy; active: indices with P > 1%; active_prior: their P;
      category_cluster: {category: majority component}; category_purity: {category: share of its
      samples in that component}; one_to_one: the active categories map to distinct components
      and cover all of them; prior_error: max |sorted active P - sorted mixture weights| (None
      when the counts differ); q_clustering_accuracy (None without Q); mixture_weights.
    """
    if not trainer.latent:
        raise ValueError("category_report needs a latent-code model (cgpgan, infogan, ...)")
    cfg = trainer.config
    mixture = data.get_mixture(cfg.dataset, **cfg.data_options)
    probs = trainer.prior.probs().numpy().astype(float)
    active = [int(k) for k in np.flatnonzero(probs > ACTIVE_THRESHOLD)]
    clusters, purity = {}, {}
    for k in active:
        z = tf.random.stateless_normal([samples_per_category, cfg.z_dim], [seed, 1000 + k])
        labels = tf.fill([samples_per_category], k)
        x = trainer.generate(z, labels).numpy()
        comp = np.argmax(mixture.log_posterior(x.astype(np.float64)), axis=-1)
        counts = np.bincount(comp, minlength=mixture.num_components)
        clusters[k] = int(np.argmax(counts))
        purity[k] = float(counts.max() / samples_per_category)
    assigned = sorted(clusters.values())
    one_to_one = assigned == list(range(mixture.num_components))
    active_probs = probs[active]
    weights = np.asarray(mixture.weights, float)
    prior_error = None
    if len(active) == len(weights):
        prior_error = float(np.max(np.abs(np.sort(active_probs) - np.sort(weights))))
    real, real_labels = mixture.sample(real_samples, seed=seed + 1)
    q = classifier_clustering_accuracy(trainer, real, real_labels)
    entropy = float(-np.sum(probs[probs > 0] * np.log(probs[probs > 0])))
    return {
        "step": int(trainer.step.numpy()),
        "prior": probs.round(6).tolist(),
        "prior_entropy": entropy,
        "active": active,
        "active_prior": active_probs.round(6).tolist(),
        "category_cluster": {str(k): v for k, v in clusters.items()},
        "category_purity": {str(k): round(v, 4) for k, v in purity.items()},
        "min_purity": min(purity.values()) if purity else None,
        "one_to_one": bool(one_to_one),
        "prior_error": prior_error,
        "mixture_weights": weights.tolist(),
        "q_clustering_accuracy": q["clustering_accuracy"],
        "q_clusters_used": q["clusters_used"],
    }
