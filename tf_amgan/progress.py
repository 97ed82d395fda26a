"""Console progress bar with rate and ETA (one refreshed line on a terminal, periodic lines otherwise)."""

from __future__ import annotations

import sys
import time


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


class Progress:
    """Tracks steps/s over a sliding window and prints `step/total [bar] rate ETA extras`."""

    def __init__(
        self,
        total: int,
        start: int = 0,
        stream=None,
        enabled: bool = True,
        min_interval: float = 0.5,
        line_every: int = 100,
    ):
        self.total, self.start = total, start
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval, self.line_every = min_interval, line_every
        self._t0 = time.perf_counter()
        self._window = [(self._t0, start)]
        self._last_print = 0.0

    def rate(self) -> float:
        (t0, s0), (t1, s1) = self._window[0], self._window[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else 0.0

    def line(self, step: int, extras: dict | None = None) -> str:
        frac = step / self.total if self.total else 1.0
        width = 24
        filled = int(width * frac)
        rate = self.rate()
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        parts = [
            f"step {step}/{self.total}",
            "[" + "#" * filled + "." * (width - filled) + "]",
            f"{100 * frac:5.1f}%",
            f"{rate:.2f} it/s" if rate < 100 else f"{rate:.0f} it/s",
            "ETA " + (format_seconds(eta) if eta == eta else "?"),
        ]
        if extras:
            parts.append(" ".join(f"{k}={v:.4g}" for k, v in extras.items()))
        return " ".join(parts)

    def update(self, step: int, extras: dict | None = None, force: bool = False) -> None:
        now = time.perf_counter()
        self._window.append((now, step))
        while len(self._window) > 2 and now - self._window[0][0] > 60:
            self._window.pop(0)
        if not self.enabled:
            return
        if self.tty:
            if force or now - self._last_print >= self.min_interval or step == self.total:
                self.stream.write("\r" + self.line(step, extras) + "\033[K")
                self.stream.flush()
                self._last_print = now
        elif force or step % self.line_every == 0 or step == self.total:
            self.stream.write(self.line(step, extras) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class SampleProgress(Progress):
    """The shared progress bar, counting samples."""

    def __init__(self, total: int, enabled: bool, label: str = "sampled"):
        super().__init__(total, 0, stream=sys.stderr, enabled=enabled, min_interval=0.5,
                         line_every=max(total // 10, 1))  # fmt: skip
        self.label = label
        self._next_line = self.line_every

    def line(self, step, extras=None):
        return (
            super()
            .line(step, extras)
            .replace("step ", f"{self.label} ", 1)
            .replace(" it/s", " img/s")
        )

    def update(self, step, extras=None, force=False):
        # Batches do not land on multiples of line_every: print when a multiple is crossed.
        if not self.tty and step >= self._next_line:
            self._next_line = (step // self.line_every + 1) * self.line_every
            force = True
        super().update(step, extras, force=force)
