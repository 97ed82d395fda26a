"""Compute precision of the networks: float32, mixed_bfloat16 (CPUs with native bf16), mixed_float16 (GPUs).

Under both mixed policies the variables, the optimizer state, the losses, batch-norm statistics and
the weight-norm scale stay float32; only the layers' matmuls / convolutions and activations run in
the 16-bit type. Only float16 needs loss scaling (its exponent range is small); bfloat16 has
float32's exponent range.
"""

from __future__ import annotations

import os

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")

# /proc/cpuinfo flags of x86 CPUs that execute bf16 dot products natively (oneDNN uses them).
_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_bf16_flags(cpuinfo_path: str = "/proc/cpuinfo") -> tuple[str, ...]:
    """The native-bf16 CPU flags of this machine (empty when none, or not on Linux/x86)."""
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    present = set(line.split(":", 1)[1].split())
                    return tuple(flag for flag in _BF16_FLAGS if flag in present)
    except OSError:
        pass
    return ()


def onednn_enabled() -> bool:
    """oneDNN (TensorFlow's bf16 kernels on x86) is on unless TF_ENABLE_ONEDNN_OPTS=0."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip() not in ("0", "false", "False")


def has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def describe_hardware() -> str:
    """One phrase for the run log: what this machine offers for 16-bit compute."""
    if has_gpu():
        return "GPU present"
    flags = cpu_bf16_flags()
    if not flags:
        return "CPU without native bf16 (no avx512_bf16/amx_bf16)"
    if not onednn_enabled():
        return f"CPU has native bf16 ({', '.join(flags)}) but TF_ENABLE_ONEDNN_OPTS=0 disables it"
    return f"CPU has native bf16 ({', '.join(flags)})"


def resolve(precision: str) -> str:
    """`auto` -> mixed_float16 with a GPU, mixed_bfloat16 on a CPU with native bf16, else float32."""
    if precision != "auto":
        return precision
    if has_gpu():
        return "mixed_float16"
    if cpu_bf16_flags() and onednn_enabled():
        return "mixed_bfloat16"
    return "float32"


def warning(precision: str) -> str | None:
    """A reason why `precision` will be slow on this machine, or None."""
    if precision == "mixed_bfloat16" and not has_gpu():
        if not cpu_bf16_flags():
            return "this CPU has no native bf16: mixed_bfloat16 is emulated and slower than float32"
        if not onednn_enabled():
            return "TF_ENABLE_ONEDNN_OPTS=0: mixed_bfloat16 runs without oneDNN and is slow"
    if precision == "mixed_float16" and not has_gpu():
        return "mixed_float16 on a CPU is emulated and much slower than float32 (meant for GPUs)"
    return None


def set_policy(precision: str) -> None:
    """Sets the global Keras dtype policy for the networks built next."""
    import keras

    if precision not in PRECISIONS or precision == "auto":
        raise ValueError(f"unresolved or unknown precision {precision!r}")
    keras.mixed_precision.set_dtype_policy(precision)
