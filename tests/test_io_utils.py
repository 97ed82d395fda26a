"""Small helpers: strict JSON from NumPy values, progress output off a terminal."""

import io
import json

import numpy as np

from tf_amgan.io_utils import json_safe
from tf_amgan.progress import Progress


def test_json_safe_makes_strict_json():
    value = {
        1: np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "flag": np.bool_(True),
        "n": np.int64(7),
        "arr": np.array([[1, 2], [3, 4]], np.int32),
        "list": (np.float16(1.0), None, "s"),
    }
    out = json_safe(value)
    assert out == {"1": 0.5, "nan": None, "inf": None, "flag": True, "n": 7,
                   "arr": [[1, 2], [3, 4]], "list": [1.0, None, "s"]}  # fmt: skip
    assert type(out["flag"]) is bool and type(out["n"]) is int
    json.dumps(out, allow_nan=False)  # raises on NaN or NumPy types


def test_progress_off_a_terminal_prints_periodic_lines():
    stream = io.StringIO()  # not a TTY: no bar, plain lines
    bar = Progress(10, start=2, stream=stream, line_every=4, label="step")
    for step in range(3, 11):
        bar.update(step, {"d_loss": 0.25})
    bar.close()
    lines = stream.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["4/10", "8/10", "10/10"]
    assert all(ln.startswith("step ") and ln.endswith("d_loss=0.25") for ln in lines)
    quiet = io.StringIO()
    off = Progress(10, stream=quiet, enabled=False)
    silent = Progress(10, stream=quiet, lines=False)
    for step in range(1, 11):
        off.update(step)
        silent.update(step)
    assert quiet.getvalue() == ""


def test_progress_on_a_terminal_uses_tqdm():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = Progress(5, stream=stream, label="sampled", unit="img")
    for step in range(1, 6):
        bar.update(step)
    bar.close()
    text = stream.getvalue()
    assert "sampled" in text and "5/5" in text and "\r" in text
