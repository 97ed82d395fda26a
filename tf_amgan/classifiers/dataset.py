"""Dataset classifiers for the AM Score (P001 Eq. 27, E-3b: "an accordingly pretrained
classifier"): architectures, training recipes, training, and the saved object.

Trained by `python -m tf_amgan.classifiers` and saved atomically as a directory holding
`model.keras` and `classifier.json` (C̄^train, label frequencies, test accuracy, recipe, seed, data
options, training time):
  fashion_mnist / mnist         small CNN at the training resolution (32x32 padded by default)
  cifar10 / cifar100 / tiny_imagenet   DenseNet-BC (depth 40, growth 40, C10+ augmentation,
                                SGD-Nesterov, [CODE] recipe); full training needs a GPU
  ring8 / overlap10 / clusters4 MLP, labels = mixture component
Every model starts with a fixed per-channel Normalization by the training-set statistics, so
callers always pass [-1, 1] images (the AM-GAN code's pitfall of standardising generated images
with their own statistics cannot happen).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import shutil
import tempfile
import time
from typing import Any

import numpy as np

from tf_amgan.classifiers.base import (
    CLASSIFIER_FILE,
    DEFAULT_BATCH,
    FORMAT,
    MODEL_FILE,
    Classifier,
)
from tf_amgan.classifiers.networks import build_classifier

# ----------------------------------------------------------------------------------------------
# Training recipes.


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a dataset classifier is trained.

    Attributes:
      arch: "cnn", "densenet" or "mlp".
      epochs: passes over the training set.
      batch_size: minibatch size.
      optimizer: "adam" or "nesterov" (SGD, momentum 0.9).
      learning_rate: initial learning rate.
      schedule: "cosine" (to 0) or "step" (x0.1 at 50% and 75% of training, [CODE] DenseNet).
      augment: random 4-pixel-padded crops + horizontal flips ("C10+").
      arch_options: builder options (e.g. depth, growth_rate).
      train_points: 2-D sets: points drawn from the mixture for training (test: 10,000).
    """

    arch: str
    epochs: int
    batch_size: int
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "cosine"
    augment: bool = False
    arch_options: dict = dataclasses.field(default_factory=dict)
    train_points: int | None = None


RECIPES = {
    "cnn": Recipe("cnn", epochs=12, batch_size=128),
    # [CODE] (vision_networks DenseNet, P001's classifier): batch 64, 300 epochs, lr 0.1 dropped
    # x0.1 at epochs 150 and 225, weight decay 1e-4, Nesterov momentum 0.9, C10+ augmentation.
    "densenet": Recipe("densenet", epochs=300, batch_size=64, optimizer="nesterov",
                       learning_rate=0.1, schedule="step", augment=True,
                       arch_options={"depth": 40, "growth_rate": 40, "weight_decay": 1e-4}),
    "mlp": Recipe("mlp", epochs=5, batch_size=256, train_points=50000),
}  # fmt: skip

_DEFAULT_ARCH = {
    "mnist": "cnn",
    "fashion_mnist": "cnn",
    "cifar10": "densenet",
    "cifar100": "densenet",
    "tiny_imagenet": "densenet",
    "ring8": "mlp",
    "overlap10": "mlp",
    "clusters4": "mlp",
}


def default_arch(dataset: str) -> str:
    """The classifier family used for `dataset` (see the module docstring)."""
    if dataset not in _DEFAULT_ARCH:
        raise ValueError(f"unknown data set {dataset!r}; choose from {tuple(_DEFAULT_ARCH)}")
    return _DEFAULT_ARCH[dataset]


def _channel_moments(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and variance (float64) of `[N, ..., C]` data in [-1, 1] (or uint8 0..255)."""
    scale = 127.5 if x.dtype == np.uint8 else None
    total, total_sq, count = 0.0, 0.0, 0
    for s in range(0, x.shape[0], chunk):
        part = x[s : s + chunk].astype(np.float64)
        if scale:
            part = (part - scale) / scale
        flat = part.reshape(-1, x.shape[-1])
        total = total + flat.sum(axis=0)
        total_sq = total_sq + (flat * flat).sum(axis=0)
        count += flat.shape[0]
    mean = total / count
    return mean, np.maximum(total_sq / count - mean * mean, 0.0)


def _as_float(x):
    import tensorflow as tf

    if x.dtype == tf.uint8:
        return (tf.cast(x, tf.float32) - 127.5) / 127.5
    return tf.cast(x, tf.float32)


def _train_dataset(x, y, recipe: Recipe, seed: int):
    """Shuffled (reshuffled each epoch), batched, optionally augmented tf.data pipeline."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
    ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(recipe.batch_size, drop_remainder=False)
    if not recipe.augment:
        return ds.map(lambda a, b: (_as_float(a), b)).prefetch(2)
    # Per-batch stateless seeds from a seeded stream keep augmentation reproducible.
    seeds = tf.data.Dataset.random(seed=seed).batch(2)

    def augment(batch, seed2):
        images, labels = batch
        images = _as_float(images)
        n = tf.shape(images)[0]
        h, w = images.shape[1], images.shape[2]
        padded = tf.pad(images, [[0, 0], [4, 4], [4, 4], [0, 0]])
        offsets = tf.random.stateless_uniform([n, 2], seed2, 0, 9, dtype=tf.int32)
        flips = tf.random.stateless_uniform([n], seed2 + 1, 0, 2, dtype=tf.int32) > 0
        # Per-image crops as two batched gathers (rows, then columns).
        rows = offsets[:, :1] + tf.range(h)[None]
        cols = offsets[:, 1:] + tf.range(w)[None]
        crops = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
        return tf.where(flips[:, None, None, None], tf.reverse(crops, [2]), crops), labels

    return tf.data.Dataset.zip((ds, seeds)).map(augment).prefetch(2)


def _optimizer(recipe: Recipe, steps: int, learning_rate: float):
    import keras

    if recipe.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))
    elif recipe.schedule == "step":
        lr = keras.optimizers.schedules.PiecewiseConstantDecay(
            [max(int(steps * 0.5), 1), max(int(steps * 0.75), 2)],
            [learning_rate, learning_rate * 0.1, learning_rate * 0.01],
        )
    else:
        raise ValueError(f"unknown schedule {recipe.schedule!r}")
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if recipe.optimizer == "nesterov":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True)
    raise ValueError(f"unknown optimizer {recipe.optimizer!r}")


def fit_classifier(
    model, recipe: Recipe, train, *, seed: int = 0, learning_rate=None, log=None, progress=False
):
    """Trains `model` (images -> logits) on `train = (x, y)` with the recipe; returns the history.

    Args:
      model: an uncompiled keras.Model producing logits.
      recipe: Recipe (epochs, batch size, optimizer, schedule, augmentation).
      train: (x, y): x uint8 images, float32 images in [-1, 1] or float32 points; y int labels.
      seed: shuffling / augmentation seed (weights are seeded by the builder).
      learning_rate: overrides recipe.learning_rate.
      log: callable(str) for one line per epoch (None: silent).
      progress: a progress bar over all batches on a terminal (tf_amgan.progress).

    Returns:
      dict metric -> list of per-epoch values (loss, accuracy).
    """
    import keras

    x, y = train
    steps = recipe.epochs * math.ceil(len(y) / recipe.batch_size)
    model.compile(
        optimizer=_optimizer(recipe, steps, learning_rate or recipe.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    callbacks = []
    if log is not None:
        start = time.perf_counter()

        def on_epoch_end(epoch, logs):
            log(
                f"epoch {epoch + 1}/{recipe.epochs}: loss {logs['loss']:.4f} "
                f"accuracy {logs['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)"
            )

        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end))
    bar = None
    if progress:
        from tf_amgan.progress import Progress

        bar = Progress(steps, label="batch", lines=False)  # off a terminal: the epoch lines
        done = {"n": 0}

        def on_batch_end(batch, logs):
            done["n"] += 1
            bar.update(done["n"], {"loss": float(logs.get("loss", float("nan")))})

        callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=on_batch_end))
    history = model.fit(
        _train_dataset(x, y, recipe, seed),
        epochs=recipe.epochs,
        verbose=0,
        callbacks=callbacks,
        shuffle=False,  # the dataset reshuffles itself (seeded)
    )
    if bar is not None:
        bar.close()
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


# ----------------------------------------------------------------------------------------------
# Dataset classifiers: the saved object.


class DatasetClassifier(Classifier):
    """A trained dataset classifier: C(x) for the AM Score, penultimate features for FID / P&R.

    Attributes (besides Classifier's):
      model: the Keras model (images -> logits).
      class_prior: `[K]` C̄^train, the mean prediction on the training set (P001 Eq. 27).
      info: the classifier.json contents (plus "kind" and "path").
    """

    def __init__(self, model, info: dict[str, Any], path: str | None = None):
        import keras
        import tensorflow as tf

        self.model = model
        probe = keras.Model(model.inputs, [model.get_layer("features").output, model.outputs[0]])
        self.num_classes = int(model.outputs[0].shape[-1])
        self.feature_dim = int(probe.outputs[0].shape[-1])
        self.input_shape = tuple(int(s) for s in model.inputs[0].shape[1:])
        prior = info.get("class_prior")
        self.class_prior = None if prior is None else np.asarray(prior, np.float64)

        @tf.function(reduce_retracing=True)
        def run(images):
            features, logits = probe(images, training=False)
            return tf.nn.softmax(tf.cast(logits, tf.float32)), tf.cast(features, tf.float32)

        self._run = run
        super().__init__(
            {**info, "kind": "dataset", "path": os.path.abspath(path) if path else None}
        )

    def _outputs(self, images):
        return self._run(images)

    def describe(self) -> dict[str, Any]:
        """The short description recorded in evaluation results."""
        keys = ("kind", "path", "dataset", "arch", "test_accuracy", "num_classes", "feature_dim")
        return {k: self.info.get(k) for k in keys}


def load_classifier(path: str) -> DatasetClassifier:
    """Loads a dataset classifier saved by `train_classifier` (a directory, or its model.keras).

    Raises:
      FileNotFoundError: no classifier there (the message says how to train one).
    """
    import keras

    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(path) and path.endswith(".keras"):
        path = os.path.dirname(path)
    meta_path = os.path.join(path, CLASSIFIER_FILE)
    model_path = os.path.join(path, MODEL_FILE)
    if not (os.path.isfile(meta_path) and os.path.isfile(model_path)):
        raise FileNotFoundError(
            f"no dataset classifier at {path} (expected {CLASSIFIER_FILE} and {MODEL_FILE}); train "
            "one with: python -m tf_amgan.classifiers --dataset=NAME --output_dir=" + path
        )
    with open(meta_path, encoding="utf-8") as f:
        info = json.load(f)
    if info.get("format") != FORMAT:
        raise ValueError(f"{meta_path} is not a {FORMAT} file")
    model = keras.models.load_model(model_path, compile=False)
    return DatasetClassifier(model, info, path)


def _class_prior_and_accuracy(classifier: Classifier, x, y, batch_size: int):
    """(C̄ = mean prediction, accuracy) of the classifier on (x, y), streamed."""
    from tf_amgan.metrics.streaming import PredictionAccumulator

    acc = PredictionAccumulator(classifier.num_classes)
    correct = 0
    for s in range(0, len(y), batch_size):
        batch = x[s : s + batch_size]
        if batch.dtype == np.uint8:
            batch = (batch.astype(np.float32) - 127.5) / 127.5
        probs, _ = classifier.batch_outputs(batch)
        acc.update(probs)
        correct += int(np.sum(np.argmax(probs, axis=1) == y[s : s + batch_size]))
    return acc.mean_prediction(), correct / len(y)


def _load_split(dataset: str, split: str, recipe: Recipe, data_dir, download, options):
    from tf_amgan import data

    if dataset in data.SYNTHETIC_DATASETS:
        n = recipe.train_points if split == "train" else 10000
        return data.load_arrays(dataset, split, num_samples=n or 10000, **options)
    return data.load_arrays(
        dataset, split, data_dir=data_dir, download=download, normalize=False, **options
    )


def _write_atomically(output_dir: str, model, info: dict, overwrite: bool) -> None:
    parent = os.path.dirname(os.path.abspath(output_dir))
    os.makedirs(parent, exist_ok=True)
    import keras

    tmp = tempfile.mkdtemp(prefix=".tmp-classifier-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private
    old = None
    try:
        # An uncompiled copy: the optimizer state is not needed for inference.
        clean = keras.Model.from_config(model.get_config())
        clean.set_weights(model.get_weights())
        clean.save(os.path.join(tmp, MODEL_FILE))
        with open(os.path.join(tmp, CLASSIFIER_FILE), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2, sort_keys=True)
            f.write("\n")
        if os.path.exists(output_dir):
            if not overwrite:
                raise FileExistsError(
                    f"{output_dir} already exists (pass --overwrite to replace it)"
                )
            old = tempfile.mkdtemp(prefix=".old-classifier-", dir=parent)
            os.replace(output_dir, os.path.join(old, "previous"))
        os.replace(tmp, output_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old:
            shutil.rmtree(old, ignore_errors=True)


def train_classifier(
    dataset: str,
    output_dir: str,
    *,
    arch: str | None = None,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    max_train_samples: int | None = None,
    arch_options: dict | None = None,
    data_dir: str | None = None,
    download: bool | None = None,
    overwrite: bool = False,
    log=None,
    progress: bool = False,
    **data_options,
) -> dict[str, Any]:
    """Trains, tests and saves the dataset classifier of `dataset` (atomically: temp dir + rename).

    Args:
      dataset: a name from tf_amgan.data.DATASETS.
      output_dir: the classifier directory to create.
      arch: "cnn" / "densenet" / "mlp" (default: per data set, `default_arch`).
      seed: weights, shuffling and augmentation seed (reproducible with op determinism on).
      epochs, batch_size, learning_rate: override the recipe (RECIPES[arch]).
      max_train_samples: train on a seeded random subset of this size (quick runs / tests).
      arch_options: override the builder options (e.g. {"depth": 10, "growth_rate": 4}).
      data_dir, download: data location / download policy (tf_amgan.data.load_arrays).
      overwrite: replace an existing output_dir.
      log: callable(str) for progress lines (None: silent).
      progress: a progress bar over the training batches on a terminal.
      **data_options: data set options (pad_to_32, std, ...), exactly as the GAN run uses them.

    Returns:
      The classifier.json contents.
    """
    from tf_amgan import data

    if os.path.exists(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir} already exists (pass --overwrite to replace it)")
    info = data.get_info(dataset, **data_options)
    arch = arch or default_arch(dataset)
    base = RECIPES.get(arch)
    if base is None:
        raise ValueError(f"unknown classifier arch {arch!r}; choose from {tuple(RECIPES)}")
    recipe = dataclasses.replace(
        base,
        epochs=epochs or base.epochs,
        batch_size=batch_size or base.batch_size,
        learning_rate=learning_rate or base.learning_rate,
        arch_options={**base.arch_options, **(arch_options or {})},
        augment=base.augment and info.is_image,
    )
    if recipe.epochs <= 0 or recipe.batch_size <= 0:
        raise ValueError("epochs and batch_size must be positive")
    say = log or (lambda _: None)
    x, y = _load_split(dataset, "train", recipe, data_dir, download, data_options)
    x_test, y_test = _load_split(dataset, "test", recipe, data_dir, download, data_options)
    if max_train_samples and max_train_samples < len(y):
        keep = np.sort(np.random.default_rng(seed).permutation(len(y))[:max_train_samples])
        x, y = x[keep], y[keep]
    y, y_test = np.asarray(y, np.int64), np.asarray(y_test, np.int64)
    mean, variance = _channel_moments(x)

    import keras

    keras.utils.set_random_seed(seed)
    model = build_classifier(
        arch, tuple(info.shape), info.num_classes, mean=mean, variance=variance, seed=seed,
        **recipe.arch_options,
    )  # fmt: skip
    say(f"training {arch} ({model.count_params()} parameters) on {dataset}: {len(y)} examples, "
        f"{recipe.epochs} epochs, batch {recipe.batch_size}")  # fmt: skip
    start = time.perf_counter()
    history = fit_classifier(model, recipe, (x, y), seed=seed, log=say, progress=progress)
    train_seconds = time.perf_counter() - start

    classifier = DatasetClassifier(model, {})
    prior, train_acc = _class_prior_and_accuracy(classifier, x, y, DEFAULT_BATCH)
    _, test_acc = _class_prior_and_accuracy(classifier, x_test, y_test, DEFAULT_BATCH)
    say(f"test accuracy {test_acc:.4f} (train {train_acc:.4f}), {train_seconds:.0f} s")

    import tensorflow as tf

    frequencies = np.bincount(y, minlength=info.num_classes) / len(y)
    meta = {
        "format": FORMAT,
        "dataset": dataset,
        "data_options": dict(data_options),
        "arch": arch,
        "arch_options": recipe.arch_options,
        "recipe": dataclasses.asdict(recipe),
        "num_classes": info.num_classes,
        "input_shape": list(info.shape),
        "feature_dim": classifier.feature_dim,
        "num_parameters": int(model.count_params()),
        "class_prior": prior.tolist(),
        "label_frequencies": frequencies.tolist(),
        "test_accuracy": test_acc,
        "train_accuracy": train_acc,
        "num_train": int(len(y)),
        "num_test": int(len(y_test)),
        "history": history,
        "training_seconds": train_seconds,
        "seed": seed,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }
    _write_atomically(output_dir, model, meta, overwrite)
    return meta
