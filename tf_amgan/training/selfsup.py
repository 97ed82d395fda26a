"""The categorical prior P(C) of the latent-code models (P003): fixed, dynamic (EMA) or Gumbel.

- "fixed": P(C) stays at its initial value (InfoGAN with the optimal prior, M-20; M-21).
- "dynamic" (CGPGAN, P003 §3, Alg. 1 line 25): after `update_start` steps,
  P(C) <- decay·P(C) + (1 - decay)·mean_batch(c'_r), c'_r = Q's softmax on the real batch (after
  prob_normalize while early in training). The mean is the global-batch mean, reduced over replicas
  by the trainer before the (cross-replica) update, so every replica holds the same P(C).
- "gumbel" (Elastic InfoGAN without the contrastive loss, M-22): P(C) = softmax(logits), the logits
  trained by G's loss through Gumbel-softmax relaxed codes softmax((log P(C) + g) / t), from
  `update_start` on.

Codes are sampled from Gumbel noise g `[B, d_c]` drawn statelessly in the input pipeline, so a
batch's codes depend only on (seed, batch index) and the current P(C): hard codes use the
Gumbel-max trick onehot(argmax(log P(C) + g)), which is an exact draw from Categorical(P(C)).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tf_amgan.losses.cgpgan import PRIOR_KINDS

__all__ = ["CategoricalPrior", "gumbel_noise", "prior_statistics"]

ACTIVE_THRESHOLD = 0.01  # P003 omits categories below 1% from its reports (E-12)


def gumbel_noise(shape, seed) -> tf.Tensor:
    """Stateless standard Gumbel noise -log(-log U), U ~ U(tiny, 1), float32."""
    u = tf.random.stateless_uniform(
        shape, seed, minval=np.finfo(np.float32).tiny, maxval=1.0, dtype=tf.float32
    )
    return -tf.math.log(-tf.math.log(u))


def prior_statistics(probs) -> dict[str, tf.Tensor]:
    """Logged P(C) diagnostics (E-12): prior_entropy (nats), prior_active (# > 1%), prior_<k>."""
    probs = tf.cast(probs, tf.float32)
    safe = tf.maximum(probs, 1e-30)
    out = {
        "prior_entropy": -tf.reduce_sum(tf.where(probs > 0, probs * tf.math.log(safe), 0.0)),
        "prior_active": tf.reduce_sum(tf.cast(probs > ACTIVE_THRESHOLD, tf.float32)),
    }
    for k in range(int(probs.shape[0])):
        out[f"prior_{k}"] = probs[k]
    return out


class CategoricalPrior:
    """P(C) over d_c categories with its variables (create it inside the strategy scope).

    Args:
      num_categories: d_c.
      kind: "fixed", "dynamic" or "gumbel".
      initial: `[d_c]` initial probabilities (None = uniform); normalised here.
      decay: EMA decay of the dynamic prior (P003: 0.999).
      update_start: first step (0-based iteration index) at which P(C) is updated.
      normalize_until: prob_normalize Q's real-batch predictions while step < this (P003: "early
        in training", the same epoch as update_start); None = update_start.
      temperature: Gumbel-softmax temperature t ("gumbel").
      learning_rate: Adam learning rate of the prior logits ("gumbel").

    Attributes:
      variables: dict name -> tf.Variable for the checkpoint.
      trainable_variables: the logits for "gumbel", else [].
      optimizer: the logits' optimizer ("gumbel") or None.
    """

    def __init__(
        self,
        num_categories: int,
        kind: str,
        *,
        initial=None,
        decay: float = 0.999,
        update_start: int = 0,
        normalize_until: int | None = None,
        temperature: float = 0.1,
        learning_rate: float = 1e-4,
    ):
        if kind not in PRIOR_KINDS:
            raise ValueError(f"unknown prior kind {kind!r}; choose from {PRIOR_KINDS}")
        d_c = int(num_categories)
        if d_c < 1:
            raise ValueError(f"num_categories must be >= 1, got {num_categories}")
        if initial is None:
            initial = np.full(d_c, 1.0 / d_c)
        initial = np.asarray(initial, np.float64)
        if initial.shape != (d_c,) or np.any(initial < 0) or not initial.sum() > 0:
            raise ValueError(
                f"the initial prior must be [{d_c}] non-negative values, got {initial}"
            )
        initial = initial / initial.sum()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"prior decay must be in [0, 1), got {decay}")
        if temperature <= 0:
            raise ValueError(f"Gumbel-softmax temperature must be > 0, got {temperature}")
        self.num_categories = d_c
        self.kind = kind
        self.decay = float(decay)
        self.update_start = int(update_start)
        self.normalize_until = (
            self.update_start if normalize_until is None else int(normalize_until)
        )
        self.temperature = float(temperature)
        self.variables: dict[str, tf.Variable] = {}
        self.optimizer = None
        if kind == "gumbel":
            with np.errstate(divide="ignore"):
                logits = np.maximum(np.log(initial), -30.0)
            self.logits = tf.Variable(logits.astype(np.float32), name="prior_logits")
            self.variables["prior_logits"] = self.logits
            self.optimizer = keras.optimizers.Adam(
                learning_rate=learning_rate, beta_1=0.0, beta_2=0.99, name="prior_adam"
            )
            self.optimizer.build([self.logits])
            self.variables["prior_optimizer"] = self.optimizer
        else:
            self.probs_variable = tf.Variable(
                initial.astype(np.float32), trainable=False, name="category_prior"
            )
            self.variables["category_prior"] = self.probs_variable

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        return [self.logits] if self.kind == "gumbel" else []

    def probs(self) -> tf.Tensor:
        """Current P(C) `[d_c]` float32."""
        if self.kind == "gumbel":
            return tf.nn.softmax(self.logits)
        return tf.convert_to_tensor(self.probs_variable)

    def log_probs(self) -> tf.Tensor:
        if self.kind == "gumbel":
            return tf.nn.log_softmax(self.logits)
        return tf.math.log(tf.maximum(self.probs_variable, 1e-30))

    def sample_codes(self, gumbel, *, relaxed: bool | None = None) -> tf.Tensor:
        """Codes `[B, d_c]` float32 from Gumbel noise `[B, d_c]`.

        Hard one-hot codes (Gumbel-max: an exact Categorical(P(C)) draw) for "fixed"/"dynamic";
        for "gumbel" the relaxed softmax((log P(C) + g) / t), differentiable in the logits, unless
        relaxed=False (e.g. for sampling at evaluation).
        """
        relaxed = (self.kind == "gumbel") if relaxed is None else relaxed
        scores = self.log_probs()[None, :] + tf.cast(gumbel, tf.float32)
        if relaxed:
            return tf.nn.softmax(scores / self.temperature, axis=-1)
        return tf.one_hot(tf.argmax(scores, axis=-1), self.num_categories)

    def normalize_active(self, step) -> tf.Tensor:
        """Whether prob_normalize applies at this (0-based) step."""
        return tf.cast(step, tf.int64) < self.normalize_until

    def update_active(self, step) -> tf.Tensor:
        return tf.cast(step, tf.int64) >= self.update_start

    def update(self, step, batch_mean) -> None:
        """Dynamic prior EMA (cross-replica context); a no-op for the other kinds.

        Args:
          step: the 0-based index of the iteration that produced `batch_mean`.
          batch_mean: `[d_c]` global-batch mean of c'_r.
        """
        if self.kind != "dynamic":
            return
        p = self.probs_variable
        new = self.decay * p + (1.0 - self.decay) * tf.cast(batch_mean, tf.float32)
        p.assign(tf.where(self.update_active(step), new, tf.convert_to_tensor(p)))

    def statistics(self) -> dict[str, tf.Tensor]:
        return prior_statistics(self.probs())
