"""Progress of training, evaluation and classifier training.

On a terminal: a tqdm bar (rate, ETA, the latest losses). Not on a terminal (logs, pipes, CI):
no bar, but one plain line every `line_every` steps, `step 400/1000 40.0% 12.5 it/s ETA 0:00:48
d_loss=...`, so a log file still shows how far a run got.
"""

from __future__ import annotations

import sys
import time


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


def _isatty(stream) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Tracks steps (or samples) and shows them as a tqdm bar or as periodic lines.

    Args:
      total: the last step.
      start: the first (a resumed run starts where it stopped).
      stream: where to write (default sys.stderr).
      enabled: False shows nothing.
      line_every: non-terminal streams get a line every this many steps (and at the end).
      label: what is counted ("step", "sampled", ...); the lines start with it.
      unit: tqdm's rate unit ("it", "img").
      lines: print the periodic lines off a terminal (False: nothing there, when the caller
        logs its own lines).
    """

    def __init__(
        self,
        total: int,
        start: int = 0,
        stream=None,
        enabled: bool = True,
        line_every: int = 100,
        label: str = "step",
        unit: str = "it",
        lines: bool = True,
    ):
        self.total, self.start = total, start
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.lines = lines
        self.tty = _isatty(self.stream)
        self.line_every = max(int(line_every), 1)
        self.label, self.unit = label, unit
        self._window = [(time.perf_counter(), start)]
        self._next_line = (start // self.line_every + 1) * self.line_every
        self._bar = None
        if enabled and self.tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                initial=start,
                file=self.stream,
                desc=label,
                unit=unit,
                mininterval=0.5,
                dynamic_ncols=True,
                leave=True,
            )

    def rate(self) -> float:
        """Steps per second over the last minute."""
        (t0, s0), (t1, s1) = self._window[0], self._window[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else 0.0

    def line(self, step: int, extras: dict | None = None) -> str:
        frac = step / self.total if self.total else 1.0
        rate = self.rate()
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        parts = [
            f"{self.label} {step}/{self.total}",
            f"{100 * frac:5.1f}%",
            f"{rate:.2f} {self.unit}/s" if rate < 100 else f"{rate:.0f} {self.unit}/s",
            "ETA " + (format_seconds(eta) if eta == eta else "?"),
        ]
        if extras:
            parts.append(" ".join(f"{k}={v:.4g}" for k, v in extras.items()))
        return " ".join(parts)

    def update(self, step: int, extras: dict | None = None) -> None:
        now = time.perf_counter()
        self._window.append((now, step))
        while len(self._window) > 2 and now - self._window[0][0] > 60:
            self._window.pop(0)
        if self._bar is not None:
            if extras:
                self._bar.set_postfix({k: f"{v:.4g}" for k, v in extras.items()}, refresh=False)
            self._bar.update(step - self._bar.n)
        elif self.enabled and self.lines and (step >= self._next_line or step == self.total):
            # Batches need not land on multiples of line_every: print when one is crossed.
            self._next_line = (step // self.line_every + 1) * self.line_every
            self.stream.write(self.line(step, extras) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def sample_progress(total: int, enabled: bool, label: str = "sampled") -> Progress:
    """Progress of an evaluation pass, counting images; off a terminal, a line every 10%."""
    return Progress(total, enabled=enabled, line_every=max(total // 10, 1), label=label, unit="img")
