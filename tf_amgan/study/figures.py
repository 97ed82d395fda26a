"""The study report's PNG figures (matplotlib, headless Agg backend), written atomically."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np

from tf_amgan.io_utils import atomic_write_bytes
from tf_amgan.study.aggregate import groups, model_title


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_fig(fig, path: str) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buf.getvalue())


def _mean_curve(records: list[dict], source: str, key: str):
    """Mean / min / max over seeds at the steps all seeds share."""
    series = []
    for r in records:
        pts = {p["step"]: p.get(key) for p in r["curves"][source] if p.get(key) is not None}
        series.append(pts)
    steps = sorted(set.intersection(*(set(s) for s in series))) if series else []
    if not steps:
        return None
    vals = np.array([[s[t] for t in steps] for s in series], np.float64)
    return np.array(steps), vals.mean(0), vals.min(0), vals.max(0)


def curves_figure(path: str, results: dict, panels: list[tuple[str, str, str, bool]], title: str,
                  select: Callable[[dict], bool] = lambda r: True) -> bool:  # fmt: skip
    """One PNG: a panel per (source, key, label, log-scale), one line per group (seed mean)."""
    plt = _plt()
    by_group = {g: [r for r in recs if select(r)] for g, recs in groups(results).items()}
    by_group = {g: v for g, v in by_group.items() if v}
    if not by_group:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (source, key, label, log) in zip(axes[0], panels, strict=True):
        for recs in by_group.values():
            c = recs[0]["cell"]
            curve = _mean_curve(recs, source, key)
            if curve is None:
                continue
            steps, mean, lo, hi = curve
            line = ax.plot(steps, mean, label=model_title(c["model"], c["variant"]), lw=1.4)[0]
            if len(recs) > 1:
                ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
        ax.set_xlabel("step")
        ax.set_title(label, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10, y=1.04)
    _save_fig(fig, path)
    plt.close(fig)
    return True


def correlation_figure(path: str, results: dict) -> bool:
    plt = _plt()
    pts = [(p["nll"], p["is"], p["am_v1"]) for r in results["records"] for p in r["curves"]["eval"]
           if all(p.get(k) is not None for k in ("nll", "is", "am_v1"))]  # fmt: skip
    if len(pts) < 2:
        return False
    nll, is_, am = (np.array(v) for v in zip(*pts, strict=True))
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for ax, vals, name in ((axes[0], is_, "IS"), (axes[1], am, "AM Score (P000)")):
        ax.scatter(-nll, vals, s=6, alpha=0.5)
        ax.set_xscale("symlog")
        ax.set_xlabel("negative oracle NLL (symlog)")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    fig.suptitle(
        "P000 B.4: metric vs negative oracle NLL, every evaluated checkpoint", fontsize=10, y=1.04
    )
    _save_fig(fig, path)
    plt.close(fig)
    return True
