"""The interface every evaluation network shares, and the exact posterior of the 2-D mixtures.

`Classifier`: `predict_probs`, `features`, `outputs`, `class_prior`, `info`; always fed
generated-style images, float32 `[N, H, W, C]` in [-1, 1].
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

CLASSIFIER_FILE = "classifier.json"
MODEL_FILE = "model.keras"
FORMAT = "tf_amgan.classifier/1"
DEFAULT_BATCH = 500


# ----------------------------------------------------------------------------------------------
# The common interface.


@dataclasses.dataclass(frozen=True)
class ClassifierOutputs:
    """Outputs of a classifier on a set of images.

    Attributes:
      probs: `[N, K]` float32 class probabilities (K = 0 for feature-only networks).
      features: `[N, F]` float32 penultimate-layer features.
    """

    probs: np.ndarray
    features: np.ndarray


class Classifier:
    """Batched class probabilities and penultimate features of images in [-1, 1].

    Subclasses implement `_outputs` (one batch, TF tensors). Attributes:
      num_classes: K (0 if the network has no classification layer).
      feature_dim: F.
      class_prior: `[K]` float64 C̄^train (dataset classifiers), else None.
      info: dict describing the network (kind, path, ...), recorded in evaluation results.
      input_shape: the `(H, W, C)` the network requires, or None if any image size is resized.
    """

    num_classes: int = 0
    feature_dim: int = 0
    class_prior: np.ndarray | None = None
    input_shape: tuple[int, ...] | None = None

    def __init__(self, info: dict[str, Any]):
        self.info = info

    def _outputs(self, images):
        raise NotImplementedError

    def batch_outputs(self, images) -> tuple[np.ndarray, np.ndarray]:
        """(probs `[B, K]`, features `[B, F]`) float32 NumPy arrays for one batch."""
        import tensorflow as tf

        images = tf.convert_to_tensor(np.asarray(images, np.float32))
        self._check_shape(images.shape)
        probs, features = self._outputs(images)
        return probs.numpy(), features.numpy()

    def outputs(self, images, batch_size: int = DEFAULT_BATCH) -> ClassifierOutputs:
        """Probabilities and features of `[N, ...]` images, computed `batch_size` at a time."""
        images = np.asarray(images)
        if images.shape[0] == 0:
            raise ValueError("no images")
        parts = [
            self.batch_outputs(images[s : s + batch_size])
            for s in range(0, images.shape[0], batch_size)
        ]
        return ClassifierOutputs(
            probs=np.concatenate([p for p, _ in parts]),
            features=np.concatenate([f for _, f in parts]),
        )

    def predict_probs(self, images, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
        """`[N, K]` float32 class probabilities C(x) of images in [-1, 1]."""
        if not self.num_classes:
            raise ValueError(
                f"{self.info.get('kind')} network {self.info.get('path')} has no classes"
            )
        return self.outputs(images, batch_size).probs

    def features(self, images, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
        """`[N, F]` float32 penultimate features (for FID / precision-recall)."""
        return self.outputs(images, batch_size).features

    def _check_shape(self, shape) -> None:
        if self.input_shape is not None and tuple(shape[1:]) != tuple(self.input_shape):
            raise ValueError(
                f"{self.info.get('kind')} classifier {self.info.get('path')} takes images of shape "
                f"{tuple(self.input_shape)}, got {tuple(shape[1:])}"
            )

    def describe(self) -> dict[str, Any]:
        """The description recorded in evaluation results."""
        return dict(self.info)

    @property
    def cache_dir(self) -> str:
        """Directory for cached real-data feature statistics of this network."""
        path = self.info.get("path") or "unnamed"
        if os.path.isdir(path):
            return os.path.join(path, "real_stats")
        return f"{path}.real_stats"


def _to_rgb(images, channels: int = 3):
    import tensorflow as tf

    if images.shape[-1] == channels:
        return images
    if images.shape[-1] == 1:
        return tf.repeat(images, channels, axis=-1)
    raise ValueError(
        f"cannot feed {images.shape[-1]}-channel images to a {channels}-channel network"
    )


class MixturePosterior(Classifier):
    """The Bayes-optimal classifier p(k | x) of a 2-D Gaussian mixture (no training needed).

    For the 2-D sets its C̄^train is exactly the mixture weights (E_x p(k | x) = w_k), so the
    AM / Inception scores of P000 App. B.4 can be computed without a trained toy classifier.
    Features are the points themselves.

    Args:
      mixture: tf_amgan.data.GaussianMixture.
    """

    def __init__(self, mixture):
        self.mixture = mixture
        self.num_classes = int(mixture.num_components)
        self.feature_dim = int(mixture.dim)
        self.input_shape = (self.feature_dim,)
        self.class_prior = np.asarray(mixture.weights, np.float64)
        super().__init__({"kind": "mixture_posterior", "path": None, "dataset": mixture.name})

    def _outputs(self, images):
        import tensorflow as tf

        return tf.exp(self.mixture.log_posterior(images)), tf.cast(images, tf.float32)
