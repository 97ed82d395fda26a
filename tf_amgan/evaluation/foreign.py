"""Generator SavedModels from other tools (PyTorch exports, older TF code), called through a named
signature; see tf_amgan.evaluation.external for the other sources."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from tf_amgan.evaluation.sources import (
    SampleBatch,
    SampleSource,
    _batch_sizes,
    resolve_saved_model,
)
from tf_amgan.evaluation.stored import (
    _Adapter,
    _check_range,
    _range_name,
    detect_value_range,
)

# ----------------------------------------------------------------------------------------------
# SavedModels from other tools.


class ForeignSavedModelSource(SampleSource):
    """A generator SavedModel from another tool, called through one of its signatures.

    Batch i feeds noise drawn statelessly from (seed, 2i) (the scheme our TrainerSource uses),
    shaped as the signature's noise input with the batch size in front, and, for conditional
    models, labels uniform over `num_classes` from (seed, 2i + 1): int `[B]`, or one-hot when the
    label input is float `[B, K]`. The output is channels-last images, or channels-first
    (`layout="nchw"`, or detected: `[B, C, H, W]` with C in {1, 3} and a last axis > 4). Its value
    range is detected on a probe batch (seeded apart from the evaluation) unless given, and every
    batch is checked against it.

    Args:
      path: SavedModel directory.
      signature: signature name (default "serving_default").
      input_name: noise input (default: the only float input, or the one named like noise / z).
      label_input: label input for conditional models (None: the model is unconditional).
      output_name: image output (default: the only output, or "images" / "output_0").
      num_classes: K of the labels (required with `label_input` unless it is one-hot [B, K]).
      noise: "normal" (N(0, I), default) or "uniform" (U[-1, 1]).
      layout: "auto", "nhwc" or "nchw".
      value_range, channels, pad: as ArraySource.
      dataset, data_options: the data set the model was trained on, if known.
    """

    def __init__(
        self,
        path: str,
        *,
        signature: str = "serving_default",
        input_name: str | None = None,
        label_input: str | None = None,
        output_name: str | None = None,
        num_classes: int | None = None,
        noise: str = "normal",
        layout: str = "auto",
        value_range: str | None = "auto",
        channels: int | None = None,
        pad: int = 0,
        dataset: str | None = None,
        data_options: dict | None = None,
    ):
        import tensorflow as tf

        resolved = resolve_saved_model(path)
        if resolved is None:
            raise FileNotFoundError(f"{path} is not a SavedModel (no saved_model.pb)")
        if noise not in ("normal", "uniform"):
            raise ValueError(f"--saved_model_noise must be normal or uniform, got {noise!r}")
        if layout not in ("auto", "nhwc", "nchw"):
            raise ValueError(f"--saved_model_layout must be auto, nhwc or nchw, got {layout!r}")
        self.path = os.path.abspath(resolved)
        self._loaded = tf.saved_model.load(self.path)
        signatures = self._loaded.signatures
        if signature not in signatures:
            raise ValueError(f"{path} has no signature {signature!r} (it has: "
                             f"{', '.join(sorted(signatures)) or 'none'})")  # fmt: skip
        self._fn = signatures[signature]
        inputs = self._fn.structured_input_signature[1]
        outputs = self._fn.structured_outputs
        self.signature = signature
        self.input_name = self._pick_input(inputs, input_name, label_input)
        spec = inputs[self.input_name]
        if not spec.dtype.is_floating:
            raise ValueError(
                f"noise input {self.input_name!r} is {spec.dtype.name}; expected float"
            )
        dims = spec.shape.as_list()
        if len(dims) < 2 or any(d is None for d in dims[1:]):
            raise ValueError(
                f"noise input {self.input_name!r} has shape {spec.shape}; need [batch, fixed dims...]"
            )
        self.noise_shape = tuple(dims[1:])
        self._noise_dtype = spec.dtype
        self.label_input = label_input
        self._label_spec = None
        self.num_classes = num_classes
        if label_input is not None:
            if label_input not in inputs:
                raise ValueError(f"signature {signature!r} has no input {label_input!r} (inputs: "
                                 f"{', '.join(sorted(inputs))})")  # fmt: skip
            self._label_spec = inputs[label_input]
            ldims = self._label_spec.shape.as_list()
            if len(ldims) == 2 and ldims[1] and self._label_spec.dtype.is_floating:
                if num_classes not in (None, ldims[1]):
                    raise ValueError(f"label input {label_input!r} is one-hot over {ldims[1]} "
                                     f"classes, not {num_classes}")  # fmt: skip
                self.num_classes = ldims[1]
            elif num_classes is None:
                raise ValueError(f"label input {label_input!r}: pass --num_classes (or a "
                                 "--classifier, whose classes are used)")  # fmt: skip
        extra = sorted(set(inputs) - {self.input_name, label_input})
        if extra:
            raise ValueError(f"signature {signature!r} has inputs we do not feed: "
                             f"{', '.join(extra)} (--saved_model_label_input?)")  # fmt: skip
        if output_name is None:
            names = sorted(outputs)
            output_name = (
                names[0]
                if len(names) == 1
                else next((n for n in ("images", "output_0", "output") if n in outputs), None)
            )
            if output_name is None:
                raise ValueError(f"signature {signature!r} has several outputs "
                                 f"({', '.join(names)}); pass --saved_model_output")  # fmt: skip
        if output_name not in outputs:
            raise ValueError(f"signature {signature!r} has no output {output_name!r} (outputs: "
                             f"{', '.join(sorted(outputs))})")  # fmt: skip
        self.output_name = output_name
        self.noise = noise
        self.conditional = label_input is not None
        self.dataset = dataset
        self.data_options = dict(data_options or {})

        probe = self._call(2**31 - 7, 0, 16)[0]
        if probe.ndim != 4:
            raise ValueError(f"output {output_name!r} has shape {probe.shape}; expected images "
                             "[N, H, W, C] or [N, C, H, W]")  # fmt: skip
        if layout == "auto":
            nchw = probe.shape[1] in (1, 3) and probe.shape[3] > 4
            layout = "nchw" if nchw else "nhwc"
        self.layout = layout
        if layout == "nchw":
            probe = probe.transpose(0, 2, 3, 1)
        self._adapter = _Adapter(probe.shape[1:], channels, pad)
        self.sample_shape = self._adapter.sample_shape
        requested = _range_name(value_range)
        lo, hi = float(probe.min()), float(probe.max())
        if requested is None:
            self.value_range = detect_value_range(lo, hi, probe.dtype, f"output {output_name!r}")
        else:
            _check_range(lo, hi, requested, f"output {output_name!r}")
            self.value_range = requested
        self._range_info = {"value_range": self.value_range, "range_detected": requested is None,
                            "probe_min": lo, "probe_max": hi}  # fmt: skip

    @staticmethod
    def _pick_input(inputs, name, label_input):
        if name is not None:
            if name not in inputs:
                raise ValueError(f"no input {name!r} (inputs: {', '.join(sorted(inputs))})")
            return name
        candidates = [n for n, s in inputs.items() if n != label_input and s.dtype.is_floating]
        if len(candidates) == 1:
            return candidates[0]
        named = [n for n in candidates if n.lower() in ("noise", "z", "latent", "latents", "input")]
        if len(named) == 1:
            return named[0]
        raise ValueError(f"cannot tell the noise input among {', '.join(sorted(inputs))}; pass "
                         "--saved_model_input")  # fmt: skip

    def _call(self, seed: int, index: int, n: int):
        import tensorflow as tf

        shape = [n, *self.noise_shape]
        s = tf.constant([seed, 2 * index], tf.int64)
        if self.noise == "normal":
            z = tf.random.stateless_normal(shape, s)
        else:
            z = tf.random.stateless_uniform(shape, s, -1.0, 1.0)
        feed = {self.input_name: tf.cast(z, self._noise_dtype)}
        labels = None
        if self.conditional:
            y = tf.random.stateless_uniform([n], tf.constant([seed, 2 * index + 1], tf.int64), 0,
                                            self.num_classes, dtype=tf.int32)  # fmt: skip
            labels = y.numpy()
            spec = self._label_spec
            if spec.dtype.is_floating and spec.shape.rank == 2:
                feed[self.label_input] = tf.one_hot(y, self.num_classes, dtype=spec.dtype)
            else:
                feed[self.label_input] = tf.reshape(tf.cast(y, spec.dtype), [n, *spec.shape[1:]])
        out = self._fn(**feed)[self.output_name].numpy()
        return out, labels

    def describe(self) -> dict[str, Any]:
        return {"type": "foreign_saved_model", "path": self.path, "signature": self.signature,
                "input": self.input_name, "label_input": self.label_input,
                "output": self.output_name, "noise": self.noise,
                "noise_shape": list(self.noise_shape), "layout": self.layout,
                "num_classes": self.num_classes, **self._range_info,
                **self._adapter.describe()}  # fmt: skip

    def batches(self, num_samples, batch_size, seed) -> Iterator[SampleBatch]:
        for i, n in _batch_sizes(num_samples, batch_size):
            out, labels = self._call(int(seed), i, n)
            if self.layout == "nchw":
                out = out.transpose(0, 2, 3, 1)
            if out.shape[1:] != tuple(self._adapter.input_shape):
                raise ValueError(f"batch {i} has shape {out.shape[1:]}, the first "
                                 f"{tuple(self._adapter.input_shape)}")  # fmt: skip
            if out.dtype != np.uint8:
                _check_range(float(out.min()), float(out.max()), self.value_range,
                             f"batch {i} of output {self.output_name!r}")  # fmt: skip
            images = self._adapter(out, self.value_range)
            if labels is None:
                yield SampleBatch(images, None, np.full(n, -1, np.int32))
            else:
                yield SampleBatch(images, labels, labels.copy())
