"""Study records grouped by cell and aggregated over seeds (mean / std / n per metric)."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from tf_amgan.study import specs


class Agg:
    """mean / std (ddof 1) / n of one metric over the seeds of a group."""

    def __init__(self, values):
        self.values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        self.n = len(self.values)
        self.mean = float(np.mean(self.values)) if self.values else float("nan")
        self.std = float(np.std(self.values, ddof=1)) if self.n > 1 else float("nan")

    def fmt(self, digits: int = 3) -> str:
        if not self.n:
            return "–"
        if self.n == 1:
            return f"{self.mean:.{digits}f} (n=1)"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f} (n={self.n})"


def groups(results: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in results["records"]:
        out[r["cell"]["group"]].append(r)
    return dict(out)


def group_key(record: dict) -> tuple[str, str, str, str]:
    c = record["cell"]
    return c["dataset_key"], c["model"], c["variant"], c["labeling"]


def aggregate(results: dict) -> dict[tuple[str, str, str, str], dict[str, Agg]]:
    """(dataset key, model, variant, labeling) -> metric -> Agg over seeds."""
    table: dict = {}
    for recs in groups(results).values():
        keys = sorted({k for r in recs for k in r["final"]["metrics"]})
        table[group_key(recs[0])] = {
            k: Agg([r["final"]["metrics"].get(k) for r in recs]) for k in keys
        }
    return table


def model_title(model: str, variant: str) -> str:
    name = specs.MODEL_NAMES.get(model, model)
    return f"{name} [{variant}]" if variant else name
