"""Reference statistics: features of a real split (FID / precision-recall), cached next to the
network that computed them."""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np

from tf_amgan import data
from tf_amgan.metrics import fid as fid_lib
from tf_amgan.progress import sample_progress

__all__ = [
    "real_features",
]

__all__ = [
    "real_class_statistics",
    "real_features",
]


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
    bar = sample_progress(len(rows), enabled=progress, label="real features")
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


def real_class_statistics(
    network,
    dataset: str,
    *,
    split: str = "train",
    data_options: dict | None = None,
    max_samples: int | None = None,
    batch_size: int = 500,
    data_dir: str | None = None,
    download: bool | None = None,
):
    """Per-class feature statistics of a real split (for intra-class FID), cached next to the
    network like `real_features` (one .npz, K·D² float64: 1.3 MiB for the 128-d classifier).

    Returns:
      (fid.ClassFeatureStatistics, meta dict with the cache path).
    """
    options = dict(data_options or {})
    key = re.sub(r"[^A-Za-z0-9_.,=-]", "_",
                 f"{dataset}-{split}-{_options_key(options)}-n{max_samples or 'all'}")  # fmt: skip
    path = os.path.join(_writable_cache_dir(network), key + "-classes.npz")
    meta = {"split": split, "class_stats_file": path}
    if os.path.isfile(path):
        stats = fid_lib.ClassFeatureStatistics.load(path)
        return stats, {**meta, "num_samples": int(stats.counts.sum()), "cached": True}
    images, labels = data.load_arrays(dataset, split, data_dir=data_dir, download=download,
                                      normalize=False, **options)  # fmt: skip
    rows = np.arange(images.shape[0])
    if max_samples and max_samples < rows.size:  # the same subset as real_features
        rows = np.sort(np.random.default_rng(0).permutation(rows.size)[:max_samples])
    num_classes = data.get_info(dataset, **options).num_classes
    stats = fid_lib.ClassFeatureStatistics(num_classes, network.feature_dim)
    for s in range(0, rows.size, batch_size):
        idx = rows[s : s + batch_size]
        _, features = network.batch_outputs(data.to_float(images[idx]))
        stats.update(features, labels[idx])
    stats.save(path)
    return stats, {**meta, "num_samples": int(stats.counts.sum()), "cached": False}
