"""Sample sources: where the generated samples of an evaluation come from.

Each source yields `SampleBatch`es: images float32 in [-1, 1], conditioning labels or None, and
the model's own class.
  - `TrainerSource(trainer)`: a live GANTrainer (inference mode, current weights);
  - `run_dir_source(run_dir)`: a run directory: GANTrainer rebuilt from config.json, last
    checkpoint restored, EMA weights swapped in when the run kept them (as the export does);
  - `SavedModelSource(path)`: an exported generator, through its `sample(num_samples, seed)`
    signature; `open_source` also accepts a model directory and takes its highest version.
"""

from __future__ import annotations

import dataclasses
import os
import re
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf

from tf_amgan import data, runs

__all__ = [
    "SampleBatch",
    "SampleSource",
    "SavedModelSource",
    "TrainerSource",
    "open_source",
    "resolve_saved_model",
    "run_dir_source",
]


@dataclasses.dataclass(frozen=True)
class SampleBatch:
    """One batch of generated samples.

    Attributes:
      images: float32 `[B, H, W, C]` in [-1, 1] (or `[B, 2]` points for the 2-D mixtures).
      labels: int32 `[B]` conditioning labels (predefined labeling), else None.
      classes: int32 `[B]` the model's own class (the given label for predefined models, D's /
        the aux classifier's argmax for dynamic ones, the category c_f drawn from P(C) for
        latent-code models; -1 for models without classes).
      classes_are_labels: False when `classes` are learned categories (CGPGAN / InfoGAN codes),
        which need not match the data set's labels (`acc` then refuses them).
    """

    images: np.ndarray
    labels: np.ndarray | None
    classes: np.ndarray
    classes_are_labels: bool = True


class SampleSource:
    """Something that generates samples; see the module docstring for the implementations.

    Attributes:
      conditional: predefined labeling (samples carry conditioning labels).
      sample_shape: shape of one sample, e.g. (32, 32, 1) or (2,).
      dataset: training data set name if known, else None.
      data_options: its options (pad_to_32, std, ...).
      step: training step of the weights if known.
    """

    conditional: bool = False
    sample_shape: tuple[int, ...] = ()
    dataset: str | None = None
    data_options: dict = {}
    step: int | None = None

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def batches(self, num_samples: int, batch_size: int, seed: int) -> Iterator[SampleBatch]:
        """Yields batches totalling `num_samples`, deterministic in `seed`."""
        raise NotImplementedError


def _batch_sizes(num_samples: int, batch_size: int):
    if num_samples <= 0 or batch_size <= 0:
        raise ValueError(
            f"num_samples and batch_size must be positive, got {num_samples}, {batch_size}"
        )
    for i, start in enumerate(range(0, num_samples, batch_size)):
        yield i, min(batch_size, num_samples - start)


_SAMPLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _trainer_sampler(trainer):
    """A tf.function (z, y) -> (images, classes), cached per trainer (periodic evaluation)."""
    fn = _SAMPLERS.get(trainer)
    if fn is None:
        # Static batch shapes (at most two: full and last batch); latent-code trainers need them.
        # Latent-code models get their categories as y (drawn from P(C) by the caller).
        given = trainer.conditional or getattr(trainer, "latent", False)

        @tf.function
        def fn(z, y):
            images = trainer.generate(z, y if given else None)
            classes = y if given else tf.cast(trainer.classify(images), tf.int32)
            return images, classes

        _SAMPLERS[trainer] = fn
    return fn


class TrainerSource(SampleSource):
    """Samples of a live GANTrainer (inference mode, current weights).

    Noise is N(0, I) and predefined labels uniform over K, both stateless in (seed, batch index).
    Latent-code models (CGPGAN, InfoGAN family) get categories from their current P(C), stratified
    per batch (`data.sample_labels`), also stateless in (seed, batch index); a batch's `classes`
    are these categories.

    Args:
      trainer: tf_amgan.training.trainer.GANTrainer.
      description: extra fields for `describe()` (e.g. the run directory and checkpoint).
    """

    def __init__(self, trainer, description: dict | None = None):
        self.trainer = trainer
        self.conditional = bool(trainer.conditional)
        self.sample_shape = tuple(int(s) for s in trainer.image_shape)
        self.dataset = trainer.config.dataset
        self.data_options = dict(trainer.config.data_options)
        self.step = int(trainer.step.numpy())
        self._description = {"type": "trainer", **(description or {})}

    def describe(self) -> dict[str, Any]:
        return {**self._description, "model": self.trainer.config.model,
                "labeling": self.trainer.config.labeling, "step": self.step}  # fmt: skip

    def batches(self, num_samples, batch_size, seed):
        trainer = self.trainer
        fn = _trainer_sampler(trainer)
        z_dim, k = trainer.config.z_dim, max(int(trainer.num_classes), 1)
        latent = getattr(trainer, "latent", False)
        prior = trainer.prior.probs() if latent else None  # fixed for the whole evaluation
        for i, n in _batch_sizes(num_samples, batch_size):
            z = tf.random.stateless_normal([n, z_dim], tf.constant([seed, 2 * i], tf.int64))
            y_seed = tf.constant([seed, 2 * i + 1], tf.int64)
            if latent:
                y = data.sample_labels(
                    y_seed, n, trainer.num_categories, prior=prior, stratified=True
                )
            else:
                y = tf.random.stateless_uniform([n], y_seed, 0, k, dtype=tf.int32)
            images, classes = fn(z, y)
            yield SampleBatch(
                images=images.numpy(),
                labels=y.numpy() if self.conditional else None,
                classes=classes.numpy().astype(np.int32),
                classes_are_labels=not getattr(trainer, "latent", False),
            )


def run_dir_source(run_dir: str) -> TrainerSource:
    """Rebuilds a run's GANTrainer from config.json and restores its last checkpoint.

    Raises:
      FileNotFoundError: not a run directory, or no checkpoint yet.
    """
    trainer, latest = runs.restore_run(run_dir)
    inner = getattr(trainer.g_optimizer, "inner_optimizer", trainer.g_optimizer)
    ema = bool(getattr(inner, "use_ema", False))
    if ema:  # the exported generator uses the EMA weights too
        inner.finalize_variable_values(trainer.generator.trainable_variables)
    return TrainerSource(
        trainer,
        {"type": "run_dir", "path": os.path.abspath(run_dir), "checkpoint": latest, "ema": ema},
    )


def resolve_saved_model(path: str) -> str | None:
    """The SavedModel directory for `path` (itself, or its highest integer version), else None."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if not os.path.isdir(path):
        return None
    versions = [
        int(n)
        for n in os.listdir(path)
        if re.fullmatch(r"\d+", n) and os.path.isfile(os.path.join(path, n, "saved_model.pb"))
    ]
    return os.path.join(path, str(max(versions))) if versions else None


class SavedModelSource(SampleSource):
    """Samples of an exported generator (tf_amgan.export), via its `sample` signature.

    Batch i is `sample(num_samples=B_i, seed=s_i)` with s_i derived from (seed, i), so samples are
    deterministic in (seed, batch_size). `classes` is the exported `classes` output, or the
    `categories` output of latent-code exports (drawn from the run's final P(C)).

    Args:
      path: SavedModel directory (holding saved_model.pb).
      dataset, data_options: the training data set, if known (the SavedModel does not record it).
    """

    def __init__(self, path: str, dataset: str | None = None, data_options: dict | None = None):
        self.path = os.path.abspath(path)
        loaded = tf.saved_model.load(self.path)
        signatures = loaded.signatures
        if "sample" not in signatures or "serving_default" not in signatures:
            raise ValueError(f"{path} is not a tf-amgan generator export (no 'sample' signature)")
        self._loaded = loaded
        self._sample = signatures["sample"]
        serve = signatures["serving_default"]
        self.conditional = "labels" in serve.structured_input_signature[1]
        self.latent = "categories" in serve.structured_input_signature[1]
        self.sample_shape = tuple(int(s) for s in serve.structured_outputs["images"].shape[1:])
        self.dataset = dataset
        self.data_options = dict(data_options or {})

    def describe(self) -> dict[str, Any]:
        return {"type": "saved_model", "path": self.path, "version": os.path.basename(self.path),
                "conditional": self.conditional, "latent": self.latent}  # fmt: skip

    def batches(self, num_samples, batch_size, seed):
        for i, n in _batch_sizes(num_samples, batch_size):
            s = (int(seed) * 1_000_003 + i) % (2**31 - 1)
            out = self._sample(num_samples=tf.constant(n, tf.int32), seed=tf.constant(s, tf.int32))
            classes = out["categories" if self.latent else "classes"].numpy().astype(np.int32)
            yield SampleBatch(
                images=out["images"].numpy(),
                labels=classes if self.conditional else None,
                classes=classes,
                classes_are_labels=not self.latent,
            )


def open_source(path: str, dataset: str | None = None, data_options: dict | None = None):
    """A run directory (config.json), a SavedModel, or a model directory of versions.

    Returns:
      (source, kind) with kind "run_dir" or "saved_model".

    Raises:
      FileNotFoundError: `path` is none of these.
    """
    if runs.is_run_dir(path):
        return run_dir_source(path), "run_dir"
    saved = resolve_saved_model(path)
    if saved is None:
        raise FileNotFoundError(
            f"{path} is not a run directory (config.json), a SavedModel (saved_model.pb) or a "
            "model directory with integer versions"
        )
    return SavedModelSource(saved, dataset, data_options), "saved_model"
