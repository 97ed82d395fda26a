"""Has a study cell converged? The criterion a convergence-scale report shows for every cell.

A cell counts as converged when both hold:
  * its FID curve has flattened: the FID of the last periodic evaluation is within 10% of the FID
    of the periodic evaluation nearest to 75% of the run (both on the same number of samples, so
    FID's sample-size bias cancels; the final 10k-sample FID is not compared with 5k-sample ones);
  * its samples show the data set's classes: every class gets at least 2% of the classifier's mean
    prediction over the final samples (the data sets here have 10 balanced classes, 10% each).

Pure functions of a study record (tf_amgan.study.runner), so a report regenerated from
results.json shows the same verdicts.
"""

from __future__ import annotations

import dataclasses
import math

FID_AT = 0.75
FID_TOLERANCE = 0.10
MIN_CLASS_SHARE = 0.02


@dataclasses.dataclass(frozen=True)
class Convergence:
    step_ref: int | None  # the evaluation nearest to FID_AT of the run
    fid_ref: float | None
    step_last: int | None
    fid_last: float | None
    classes_shown: int | None  # classes with at least MIN_CLASS_SHARE of the mean prediction
    num_classes: int | None

    @property
    def change(self) -> float | None:
        """Relative FID change from the 75% point to the last point (negative: still improving)."""
        if self.fid_ref is None or self.fid_last is None or self.fid_ref <= 0:
            return None
        return self.fid_last / self.fid_ref - 1.0

    @property
    def flattened(self) -> bool | None:
        change = self.change
        return None if change is None else abs(change) <= FID_TOLERANCE

    @property
    def shows_classes(self) -> bool | None:
        if self.classes_shown is None or not self.num_classes:
            return None
        return self.classes_shown == self.num_classes

    @property
    def converged(self) -> bool | None:
        parts = (self.flattened, self.shows_classes)
        if any(p is False for p in parts):
            return False
        return None if any(p is None for p in parts) else True


def fid_points(curve: list[dict]) -> list[tuple[int, float]]:
    return sorted(
        (int(r["step"]), float(r["fid"]))
        for r in curve
        if r.get("fid") is not None and math.isfinite(float(r["fid"]))
    )


def fid_reference(
    curve: list[dict], final_step: int
) -> tuple[tuple[int, float], tuple[int, float]] | None:
    """((step, fid) nearest to FID_AT of final_step, (step, fid) of the last evaluation)."""
    points = fid_points(curve)
    if len(points) < 2:
        return None
    last = points[-1]
    target = FID_AT * final_step
    earlier = points[:-1]
    ref = min(earlier, key=lambda p: (abs(p[0] - target), p[0]))
    return ref, last


def classes_shown(mean_prediction: list[float] | None) -> int | None:
    if not mean_prediction:
        return None
    return sum(1 for p in mean_prediction if float(p) >= MIN_CLASS_SHARE)


def of_record(record: dict) -> Convergence:
    curve = record.get("curves", {}).get("eval", [])
    ref = fid_reference(curve, int(record["train"]["steps"]))
    mean_pred = record.get("final", {}).get("meta", {}).get("am_mean_prediction")
    (step_ref, fid_ref), (step_last, fid_last) = ref if ref else ((None, None), (None, None))
    return Convergence(
        step_ref=step_ref,
        fid_ref=fid_ref,
        step_last=step_last,
        fid_last=fid_last,
        classes_shown=classes_shown(mean_pred),
        num_classes=len(mean_pred) if mean_pred else None,
    )


def _yes_no(value: bool | None) -> str:
    return "–" if value is None else ("yes" if value else "**no**")


def section(results: dict) -> str:
    """Markdown: the criterion for every finished cell, with its step time and CPU."""
    lines = [
        "## Has each run converged?\n",
        f"Criterion (tf_amgan/study/convergence.py): the FID of the last periodic evaluation is "
        f"within {FID_TOLERANCE:.0%} of the FID at {FID_AT:.0%} of the run, and every class gets "
        f"at least {MIN_CLASS_SHARE:.0%} of the classifier's mean prediction on the final samples. "
        "A cell that fails it is reported as it is; its numbers describe a model still training.\n",
        "| run | steps | s/step | CPU | FID at 75% (step) | FID last (step) | change | flattened "
        "| classes shown | converged |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    counts = {True: 0, False: 0, None: 0}
    for r in results["records"]:
        c = of_record(r)
        counts[c.converged] += 1
        train = r["train"]
        step_time = train.get("mean_step_time")
        fid_ref = "–" if c.fid_ref is None else f"{c.fid_ref:.2f} ({c.step_ref})"
        fid_last = "–" if c.fid_last is None else f"{c.fid_last:.2f} ({c.step_last})"
        change = "–" if c.change is None else f"{c.change:+.1%}"
        shown = "–" if c.classes_shown is None else f"{c.classes_shown}/{c.num_classes}"
        lines.append(
            f"| {r['cell']['name']} | {train['steps']} | "
            f"{'–' if step_time is None else f'{step_time:.3f}'} | {train.get('cpu_model') or '–'} "
            f"| {fid_ref} | {fid_last} | {change} | {_yes_no(c.flattened)} | {shown} "
            f"| {_yes_no(c.converged)} |"
        )
    lines.append(
        f"\n{counts[True]} converged, {counts[False]} not converged, {counts[None]} without the "
        "data to tell (no FID curve or no class histogram in the record).\n"
    )
    return "\n".join(lines) + "\n"
