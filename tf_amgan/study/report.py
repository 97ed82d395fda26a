"""The study report, made from results.json alone: Markdown tables, claim checks and PNG curves.

    python -m tf_amgan.study --study=p001_table1 --scale=cpu --report_only

rewrites <results_dir>/<study>/<scale>/report.md and figures/*.png from the committed JSON, so
every number in the report is one that a run of the committed code wrote there.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict

import numpy as np

from tf_amgan.io_utils import atomic_write_text
from tf_amgan.metrics.correlation import pearson_correlation
from tf_amgan.study import convergence, specs
from tf_amgan.study.aggregate import Agg, aggregate, group_key, groups, model_title
from tf_amgan.study.figures import correlation_figure, curves_figure

# Metric key in the records -> (column title, lower is better).
METRIC_TITLES = {
    "is": ("IS", False),
    "am": ("AM Score", True),
    "acc": ("class accuracy", False),
    "msssim_max": ("max MS-SSIM", True),
    "fid": ("FID", True),
    "precision": ("precision", False),
    "recall": ("recall", False),
    "nll": ("oracle NLL", True),
    "mode_coverage": ("mode coverage", False),
    "hq_fraction": ("high-quality share", False),
    "am_v1": ("AM Score (P000)", False),
}
PAPER_METRIC = {"is": "is", "am": "am", "msssim": "msssim_max"}


def _rows(study: specs.Study, agg) -> list[tuple[str, str]]:
    """(model, variant) in the study's order, as present in the results."""
    seen = []
    for model in study.models:
        for variant, _ in study.variants:
            key = (model, variant)
            if any(k[1] == model and k[2] == variant for k in agg) and key not in seen:
                seen.append(key)
        if any(k[1] == model and k[2] == "" for k in agg) and (model, "") not in seen:
            seen.append((model, ""))
    return seen


# ----------------------------------------------------------------------------------------------
# Tables.


def paper_column(study: specs.Study, results: dict, dataset_key: str) -> str:
    """Which paper data set a results column is compared with (the CPU twin -> the first one)."""
    paper_keys = list(study.scales["paper"].flagfiles)
    return dataset_key if dataset_key in paper_keys else paper_keys[0]


def paper_table(study: specs.Study, results: dict, agg, metric: str) -> str:
    paper = study.paper.get(metric, {})
    ours_key = PAPER_METRIC.get(metric, metric)
    title, lower = METRIC_TITLES[ours_key]
    dkeys = list(dict.fromkeys(k[0] for k in agg))
    header = ["model"]
    for d in dkeys:
        pd = paper_column(study, results, d)
        for lab in study.labelings:
            header += [f"{lab}: paper ({pd})", f"{lab}: ours ({d})"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model, variant in _rows(study, agg):
        row = [model_title(model, variant)]
        for d in dkeys:
            pd = paper_column(study, results, d)
            for lab in study.labelings:
                pv = paper.get(model, {}).get(f"{pd}/{lab}")
                row.append("–" if pv is None else f"{pv:g}")
                a = agg.get((d, model, variant, lab), {}).get(ours_key)
                row.append(a.fmt() if a is not None else "–")
        lines.append("| " + " | ".join(row) + " |")
    direction = "lower is better" if lower else "higher is better"
    return f"**{title}** ({direction})\n\n" + "\n".join(lines) + "\n"


def all_metrics_table(study: specs.Study, agg, real_data: dict | None = None) -> str:
    """Every final metric, one row per (data set, labeling, model); each data set ends with its
    "real data" row (held-out test images through the same evaluation) when results have it."""
    keys = [k for k in METRIC_TITLES if any(k in m for m in agg.values())]
    header = ["data set", "model", "labeling"] + [METRIC_TITLES[k][0] for k in keys]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for d in dict.fromkeys(k[0] for k in agg):
        real = (real_data or {}).get(d, {}).get("metrics")
        if real:
            row = [d, "real data (test split)", "–"]
            row += ["–" if real.get(k) is None else f"{real[k]:.3f}" for k in keys]
            lines.append("| " + " | ".join(row) + " |")
        for lab in study.labelings:
            for model, variant in _rows(study, agg):
                m = agg.get((d, model, variant, lab))
                if m is None:
                    continue
                row = [d, model_title(model, variant), lab]
                row += [m[k].fmt() if k in m else "–" for k in keys]
                lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Claims: each returns (claim, verdict, evidence). Verdicts: "holds", "does not hold",
# "holds within noise" (the means agree with the claim, but a gap is below one seed std),
# "not testable" (cells missing).


def _cmp(a: Agg | None, b: Agg | None, lower: bool) -> tuple[str, float]:
    """Is a better than b? -> (verdict, gap in the 'better' direction)."""
    if a is None or b is None or not a.n or not b.n:
        return "not testable", float("nan")
    gap = (b.mean - a.mean) if lower else (a.mean - b.mean)
    noise = np.nanmax([a.std, b.std, 0.0])
    if gap <= 0:
        return "does not hold", gap
    return ("holds within noise" if gap < noise else "holds"), gap


def _combine(verdicts: list[str]) -> str:
    if not verdicts or "not testable" in verdicts:
        return "not testable"
    if "does not hold" in verdicts:
        return "does not hold"
    if "holds within noise" in verdicts:
        return "holds within noise"
    return "holds"


def _metric(agg, d, model, lab, key):
    return agg.get((d, model, "", lab), {}).get(key)


def _best_claim(agg, d, labs, key, model, lower, label):
    verdicts, parts = [], []
    for lab in labs:
        cells = {m: _metric(agg, d, m, lab, key) for (dd, m, v, ll) in agg if dd == d and ll == lab}
        mine = cells.get(model)
        rivals = {m: a for m, a in cells.items() if m != model and a is not None}
        if mine is None or not rivals:
            verdicts.append("not testable")
            continue
        best_rival = (min if lower else max)(rivals, key=lambda m: rivals[m].mean)
        v, gap = _cmp(mine, rivals[best_rival], lower)
        verdicts.append(v)
        parts.append(f"{lab}: {specs.MODEL_NAMES[model]} {mine.mean:.3f} vs best other "
                     f"{specs.MODEL_NAMES.get(best_rival, best_rival)} "
                     f"{rivals[best_rival].mean:.3f}")  # fmt: skip
    return label, _combine(verdicts), "; ".join(parts)


def _pair_claim(agg, d, labs, key, a, b, lower, label):
    verdicts, parts = [], []
    for lab in labs:
        x, y = _metric(agg, d, a, lab, key), _metric(agg, d, b, lab, key)
        v, _ = _cmp(x, y, lower)
        verdicts.append(v)
        if x is not None and y is not None:
            parts.append(f"{lab}: {specs.MODEL_NAMES[a]} {x.fmt()} vs {specs.MODEL_NAMES[b]} "
                         f"{y.fmt()}")  # fmt: skip
    return label, _combine(verdicts), "; ".join(parts)


def kendall_tau(a: list[float], b: list[float]) -> float:
    n, s = len(a), 0
    for i in range(n):
        for j in range(i + 1, n):
            s += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return float(s / (n * (n - 1) / 2)) if n > 1 else float("nan")


def claims_p001_table1(study, results, agg) -> list[tuple[str, str, str]]:
    out = []
    for d in dict.fromkeys(k[0] for k in agg):
        labs = [lab for lab in study.labelings if any(k[0] == d and k[3] == lab for k in agg)]
        out.append(
            _best_claim(
                agg,
                d,
                labs,
                "is",
                "amgan",
                False,
                "AM-GAN has the highest IS in every column (X-4)",
            )
        )
        out.append(
            _best_claim(
                agg,
                d,
                labs,
                "am",
                "amgan",
                True,
                "AM-GAN has the lowest AM Score in every column (X-4)",
            )
        )
        out.append(
            _pair_claim(
                agg,
                d,
                labs,
                "is",
                "acgan_plus",
                "acgan_star",
                False,
                "AC-GAN*+ beats AC-GAN* on IS in every column (X-4)",
            )
        )
        out.append(
            _pair_claim(
                agg,
                d,
                labs,
                "am",
                "acgan_plus",
                "acgan_star",
                True,
                "AC-GAN*+ beats AC-GAN* on AM Score (X-4; CIFAR-10 columns)",
            )
        )
        out.append(
            _pair_claim(
                agg,
                d,
                labs,
                "is",
                "acgan_star",
                "gan",
                False,
                "AC-GAN* improves over GAN on IS (X-4)",
            )
        )
        out.append(
            _best_claim(
                agg,
                d,
                ["dynamic"],
                "msssim_max",
                "acgan_star",
                False,
                "AC-GAN* has the highest max MS-SSIM (intra-class collapse) in "
                "the dynamic setting (X-5: 0.61)",
            )
        )
        # IS lower in the predefined setting for AC-GAN*+, LabelGAN, AM-GAN.
        verdicts, parts = [], []
        for m in ("acgan_plus", "labelgan", "amgan"):
            dyn, pre = _metric(agg, d, m, "dynamic", "is"), _metric(agg, d, m, "predefined", "is")
            v, _ = _cmp(dyn, pre, False)
            verdicts.append(v)
            if dyn is not None and pre is not None:
                parts.append(f"{specs.MODEL_NAMES[m]} {dyn.mean:.3f} vs {pre.mean:.3f}")
        out.append(("IS is lower with predefined than with dynamic labeling for AC-GAN*+, "
                    "LabelGAN and AM-GAN (X-4)", _combine(verdicts), "; ".join(parts)))  # fmt: skip
        for lab in labs:
            models = [m for m in study.models if _metric(agg, d, m, lab, "is") is not None]
            pd = paper_column(study, results, d)
            paper = [study.paper["is"].get(m, {}).get(f"{pd}/{lab}") for m in models]
            if len(models) < 2 or None in paper:
                continue
            ours = [_metric(agg, d, m, lab, "is").mean for m in models]
            tau = kendall_tau(paper, ours)
            order = " > ".join(
                specs.MODEL_NAMES[m]
                for m in sorted(models, key=lambda m: -_metric(agg, d, m, lab, "is").mean)
            )
            out.append((f"IS ranking of the six models matches the paper's ({lab})",
                        "holds" if tau == 1.0 else ("partly" if tau > 0 else "does not hold"),
                        f"Kendall tau {tau:.2f}; ours: {order}"))  # fmt: skip
    return out


def claims_generic(study, results, agg) -> list[tuple[str, str, str]]:
    return []


# ----------------------------------------------------------------------------------------------
# Synthetic (ring) sections.


def first_full_coverage(curve: list[dict], modes: int) -> int | None:
    for r in curve:
        if r.get("modes_covered") is not None and r["modes_covered"] >= modes:
            return int(r["step"])
    return None


def ring_table(study, results, agg) -> str:
    keys = ["nll", "mode_coverage", "hq_fraction", "is", "am", "am_v1"]
    header = ["model"] + [METRIC_TITLES[k][0] for k in keys] + ["first step with 8/8 modes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_group = groups(results)
    for model, variant in _rows(study, agg):
        m = agg.get(("ring8", model, variant, "dynamic"))
        if m is None:
            continue
        recs = next(v for v in by_group.values() if group_key(v[0])[1:3] == (model, variant))
        firsts = [first_full_coverage(r["curves"]["eval"], 8) for r in recs]
        shown = ", ".join("never" if f is None else str(f) for f in firsts)
        row = [model_title(model, variant)] + [m[k].fmt(3) if k in m else "–" for k in keys]
        lines.append("| " + " | ".join(row + [shown]) + " |")
    return "\n".join(lines) + "\n"


def _early_coverage(records: list[dict]) -> Agg:
    """Per seed: mean mode coverage over the first third of training (eval points)."""
    vals = []
    for r in records:
        pts = [p for p in r["curves"]["eval"] if p.get("mode_coverage") is not None]
        if pts:
            cut = max(p["step"] for p in pts) / 3
            vals.append(float(np.mean([p["mode_coverage"] for p in pts if p["step"] <= cut])))
    return Agg(vals)


def claims_ring(study, results, agg) -> list[tuple[str, str, str]]:
    """P000 App. A claims, checked within each variant (e.g. each D normalization)."""
    by_cell: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results["records"]:
        by_cell[r["cell"]["model"], r["cell"]["variant"]].append(r)
    variants = list(dict.fromkeys(v for _, v in by_cell))
    out = []
    for variant in variants:
        cells = {m: recs for (m, v), recs in by_cell.items() if v == variant}
        early = {m: _early_coverage(v) for m, v in cells.items()}
        final = {m: Agg([r["final"]["metrics"].get("nll") for r in v]) for m, v in cells.items()}
        prefix = f"[{variant}] " if variant else ""
        for ours in ("amgan", "samgan"):
            for values, lower, text in (
                (early, False, "covers more modes early in training (mean mode coverage over "
                               "the first third of the run)"),
                (final, True, "ends with a lower oracle NLL ('finally converge well')"),
            ):  # fmt: skip
                verdicts, parts = [], []
                for rival in ("labelgan", "gan"):
                    v, _ = _cmp(values.get(ours), values.get(rival), lower)
                    verdicts.append(v)
                    if ours in values and rival in values:
                        parts.append(f"{values[ours].fmt(3)} vs {specs.MODEL_NAMES[rival]} "
                                     f"{values[rival].fmt(3)}")  # fmt: skip
                out.append((f"{prefix}{specs.MODEL_NAMES[ours]} {text} than LabelGAN and GAN "
                            "(P000 App. A, Fig. 5)", _combine(verdicts), "; ".join(parts)))  # fmt: skip
    return out


def correlation_rows(results) -> list[tuple[str, int, dict[str, float]]]:
    """(scope, points, {metric: r}) for pooled and per-model checkpoints (P000 B.4).

    With variants (e.g. D normalizations) every variant also gets its own pooled row.
    """
    metrics = {"is": lambda r: r["is"], "am_v1": lambda r: r["am_v1"],
               "-am (P001)": lambda r: -r["am"]}  # fmt: skip
    scopes: dict[str, list[dict]] = defaultdict(list)
    for rec in results["records"]:
        c = rec["cell"]
        for point in rec["curves"]["eval"]:
            if all(point.get(k) is not None for k in ("nll", "is", "am_v1", "am")):
                scopes["all models"].append(point)
                if c["variant"]:
                    scopes[f"all models [{c['variant']}]"].append(point)
                scopes[model_title(c["model"], c["variant"])].append(point)
    out = []
    for scope, points in scopes.items():
        neg_nll = [-p["nll"] for p in points]
        neg_log_nll = [-math.log(max(p["nll"], 1e-12)) if p["nll"] > 0 else None for p in points]
        row = {}
        for name, fn in metrics.items():
            vals = [fn(p) for p in points]
            row[name] = _safe_r(vals, neg_nll)
            if None not in neg_log_nll:
                row[name + " vs -log NLL"] = _safe_r(vals, neg_log_nll)
        out.append((scope, len(points), row))
    return out


def _safe_r(x, y) -> float:
    try:
        return pearson_correlation(x, y)
    except ValueError:
        return float("nan")


# ----------------------------------------------------------------------------------------------
# The report.

CLAIMS = {"p001_table1": claims_p001_table1}


def _claims_section(claims, other: tuple[str, dict[str, str]] | None = None) -> str:
    """`other`: (scale name, claim -> verdict) of the same study at another scale, as a column."""
    if not claims:
        return ""
    counts = defaultdict(int)
    for _, v, _ in claims:
        counts[v] += 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    lines = [
        "## Do the papers' claims hold at this scale?\n",
        f"{len(claims)} claims: {summary}.\n",
    ]
    if other is None:
        lines += ["| claim | verdict | our numbers |", "|---|---|---|"]
        lines += [f"| {c} | **{v}** | {e} |" for c, v, e in claims]
    else:
        scale, verdicts = other
        lines += [f"| claim | verdict | our numbers | at scale {scale} | same verdict? |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for c, v, e in claims:
            w = verdicts.get(c)
            same = "–" if w is None else ("yes" if w == v else "**changed**")
            lines.append(f"| {c} | **{v}** | {e} | {w or '–'} | {same} |")
    lines.append("\n'holds within noise': the means agree with the claim but the gap is smaller "
                 "than the larger seed std of the two. Verdicts are computed from the numbers "
                 "in results.json by tf_amgan/study/report.py.\n")  # fmt: skip
    return "\n".join(lines) + "\n"


def _other_scale_verdicts(study, results: dict, out_dir: str, claims_of):
    """The claims' verdicts at the study's `cpu` scale, read from its sibling results.json."""
    if results["scale"] == "cpu":
        return None
    path = os.path.join(os.path.dirname(os.path.abspath(out_dir)), "cpu", "results.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        other = json.load(f)
    if not other.get("records"):
        return None
    return "cpu", {c: v for c, v, _ in claims_of(study, other, aggregate(other))}


def _settings_section(results: dict) -> str:
    s = results["settings"]
    cls = s.get("classifier") or {}
    lines = [
        f"- Scale: **{results['scale']}**: {results['scale_description']}.",
        f"- Cells: {len(results['records'])} of {results['grid_cells']} finished; seeds per "
        f"cell: {s['seeds']}"
        + (
            f" (predefined labeling: {s['predefined_seeds']})"
            if s["predefined_seeds"] is not None and s["predefined_seeds"] != s["seeds"]
            else ""
        )
        + ". Every finished seed is reported; none is dropped.",
        f"- Final evaluation: {s['final_samples']} samples per run, the same evaluation noise "
        "(seed 0) for every run.",
    ]
    if cls:
        lines.append(f"- Evaluation classifier: {cls.get('arch')} trained on {cls.get('dataset')} "
                     f"(seed {cls.get('seed')}, test accuracy {cls.get('test_accuracy')}); IS, "
                     "AM Score and FID use it, not the ImageNet Inception network, so absolute "
                     "values are not comparable with the papers' (orderings are).")  # fmt: skip
    notes = specs.get(results["study"]).scales.get(results["scale"])
    if notes is not None and notes.notes:
        lines.append(f"- How this scale was chosen: {notes.notes}")
    if s.get("train_steps_override"):
        lines.append(f"- Training steps overridden to {s['train_steps_override']} (smoke run).")
    steps = sorted({r["train"]["steps"] for r in results["records"]})
    times = [
        r["train"]["mean_step_time"] for r in results["records"] if r["train"]["mean_step_time"]
    ]
    commits = defaultdict(int)
    for r in results["records"]:
        code = r.get("code") or {}
        if code.get("commit"):
            commits[
                code["commit"][:10] + (" (uncommitted changes)" if code.get("dirty") else "")
            ] += 1
    if commits:
        lines.append("- Code (git commit of each record): " + ", ".join(
            f"{c}: {n} runs" for c, n in sorted(commits.items())) + ".")  # fmt: skip
    if steps:
        lines.append(f"- Training steps per run: {', '.join(map(str, steps))}; mean step time "
                     f"{np.mean(times):.4f} s on this machine." if times else "")  # fmt: skip
    return "\n".join(line for line in lines if line) + "\n"


def build(results: dict, out_dir: str) -> str:
    """Writes figures/*.png under out_dir and returns the report's Markdown."""
    study = specs.get(results["study"])
    agg = aggregate(results)
    fig_dir = os.path.join(out_dir, "figures")
    md = [
        f"# {study.title}\n",
        f"Made by `python -m tf_amgan.study --study={study.name} --scale={results['scale']} "
        "--report_only` from `results.json` in this folder (one record per run, written by "
        "the runs themselves).\n",  # fmt: skip
        "## Set-up\n",
        _settings_section(results),
    ]
    if not results["records"]:
        md.append("\nNo finished runs yet.\n")
        return "\n".join(md)
    if study.kind == "image":
        md.append("## Paper tables, paper value beside ours (mean ± std over seeds)\n")
        for metric in ("is", "am", "msssim"):
            if metric in study.paper:
                md.append(paper_table(study, results, agg, metric))
        md.append("## Every final metric\n")
        md.append(all_metrics_table(study, agg, results.get("real_data")))
        if results.get("real_data"):
            md.append("The real-data row is the ceiling to read the models against: held-out test "
                      "images with their labels through the same evaluation (its FID is between "
                      "the train statistics and the test images).\n")  # fmt: skip
        claims_of = CLAIMS.get(study.name, claims_generic)
        md.append(_claims_section(claims_of(study, results, agg),
                                  _other_scale_verdicts(study, results, out_dir, claims_of)))  # fmt: skip
        if any(convergence.fid_points(r.get("curves", {}).get("eval", []))
               for r in results["records"]):  # fmt: skip
            md.append(convergence.section(results))
        md.append("## Training curves\n")
        for lab in study.labelings:
            name = f"curves_{lab}.png"
            panels = [
                ("eval", "is", "IS (periodic, 5k samples)", False),
                ("eval", "am", "AM Score (periodic)", True),
                ("train", "d_loss", "D loss", False),
                ("train", "g_loss", "G loss", False),
            ]
            if curves_figure(os.path.join(fig_dir, name), results, panels,
                             f"{study.name}: {lab} labeling (mean over seeds, band = min-max)",
                             lambda r, lab=lab: r["cell"]["labeling"] == lab):  # fmt: skip
                md.append(f"![{lab}](figures/{name})\n")
    else:
        md.append("## App. A: the 8-Gaussian ring, final values (mean ± std over seeds)\n")
        md.append(ring_table(study, results, agg))
        md.append(
            'P000 gives no numbers for the ring, only that "(S)AM-GAN can quickly and '
            "evenly separate to each mode nicely in the early stage of the training, and "
            "finally converge well\". 'High-quality share': samples within 3 std of a mode.\n"
        )
        md.append(_claims_section(claims_ring(study, results, agg)))
        name = "curves_ring8.png"
        panels = [("eval", "nll", "oracle NLL (log)", True),
                  ("eval", "mode_coverage", "mode coverage", False),
                  ("eval", "hq_fraction", "high-quality share", False),
                  ("train", "d_loss", "D loss", False)]  # fmt: skip
        if curves_figure(os.path.join(fig_dir, name), results, panels,
                         "ring8 over training (mean over seeds, band = min-max)"):  # fmt: skip
            md.append(f"![ring8 curves](figures/{name})\n")
        md.append("## App. B.4: correlation with the negative oracle NLL over checkpoints\n")
        rows = correlation_rows(results)
        paper = study.paper.get("correlation", {})
        cols = list(rows[0][2]) if rows else []
        md.append("| checkpoints of | points | " + " | ".join(f"r({c})" for c in cols) + " |")
        md.append("|---|---|" + "---|" * len(cols))
        md.append("| P000 Fig. 7 | – | " + " | ".join(
            f"{paper[c]:g}" if c in paper else "–" for c in cols) + " |")  # fmt: skip
        for scope, n, row in rows:
            md.append(f"| {scope} | {n} | " + " | ".join(
                "–" if math.isnan(row[c]) else f"{row[c]:.3f}" for c in cols) + " |")  # fmt: skip
        md.append("\nIS and both AM Scores use the exact mixture posterior p(k | x) as the toy "
                  "classifier (the Bayes-optimal one; P000 trained one). 'vs -log NLL' is an "
                  "extra column: the oracle NLL spans several decades over training, so its "
                  "linear correlation is dominated by the worst checkpoints.\n")  # fmt: skip
        for scope, _, pooled in rows:
            if not scope.startswith("all models"):
                continue
            holds = pooled["am_v1"] > pooled["is"]
            which = "all checkpoints" + scope[len("all models") :]
            md.append(f"Claim (P000 B.4): the AM Score correlates with the negative oracle NLL "
                      f"better than the IS does (0.977 vs 0.926). Ours, {which}: "
                      f"{pooled['am_v1']:.3f} vs {pooled['is']:.3f}: "
                      f"**{'holds' if holds else 'does not hold'}**.\n")  # fmt: skip
        if correlation_figure(os.path.join(fig_dir, "correlation.png"), results):
            md.append("![correlation](figures/correlation.png)\n")
    samples = [r for r in results["records"] if r.get("samples_png")]
    if samples:
        md.append("## Samples (seed 0, final step)\n")
        for r in samples:
            c = r["cell"]
            md.append(f"- {model_title(c['model'], c['variant'])}, {c['labeling']}: "
                      f"![{c['name']}]({r['samples_png']})")  # fmt: skip
        md.append("")
    return "\n".join(md) + "\n"


def write(results: dict, out_dir: str) -> str:
    """Builds the report and writes report.md atomically; returns its path."""
    text = build(results, out_dir)
    path = os.path.join(out_dir, "report.md")
    atomic_write_text(path, text)
    return path
