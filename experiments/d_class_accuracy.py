"""D's class accuracy on real test images under each batch-norm statistics policy (issue 10).

    python experiments/d_class_accuracy.py --run_dir=runs/quickstart [--num_images=10000]

Restores a run's last checkpoint and classifies the test split with D's class logits:
  moving      inference mode with the moving averages (what `classify` used before issue 10:
              they mix real batches and the fake batches of the D and G steps);
  batch       the authors' batch statistics: training-mode BN on batches of the training size
              (noise and dropout off, moving averages untouched);
  standing    `GANTrainer.classify_data`: standing statistics collected on the test images
              themselves (the evaluation-time policy for real data);
  eval        inference mode inside `GANTrainer.evaluation_statistics` (statistics collected on
              G's samples: the policy for classifying generated samples), for reference.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run_dir", required=True)
    p.add_argument("--num_images", type=int, default=10000)
    args = p.parse_args(argv)

    import tensorflow as tf

    from tf_amgan import data, networks, runs

    trainer, checkpoint = runs.restore_run(args.run_dir)
    cfg = trainer.config
    if trainer.latent or trainer.objective.head_units == 1:
        print(f"error: --model={cfg.model} has no class logits in D", file=sys.stderr)
        return 2
    images, labels = data.load_arrays(
        cfg.dataset, "test", data_dir=cfg.data_dir, download=cfg.download_arg, **cfg.data_options
    )
    images, labels = images[: args.num_images], labels[: args.num_images]
    D, obj, b = trainer.discriminator, trainer.objective, trainer.global_batch

    def accuracy(classes) -> float:
        return float(np.mean(np.asarray(classes) == labels))

    def batch_stats(x):
        bns = [v for v in networks.walk_layers(D) if hasattr(v, "moving_mean")]
        saved = [(v, v.numpy()) for bn in bns for v in (bn.moving_mean, bn.moving_variance)]
        with networks.stochastic_layers_suspended(D):
            logits = D(tf.constant(x), training=True)
        for v, value in saved:
            v.assign(value)
        return np.argmax(obj.class_logits(logits).numpy(), axis=-1)

    chunks = range(0, len(images), b)
    with trainer.evaluation_statistics():
        eval_classes = np.concatenate([trainer.classify(images[i : i + b]).numpy() for i in chunks])
    out = {
        "run_dir": os.path.abspath(args.run_dir),
        "checkpoint": os.path.basename(checkpoint),
        "model": cfg.model,
        "d_norm": trainer.d_norm,
        "num_images": int(len(images)),
        "batch_size": b,
        "moving": accuracy(
            np.concatenate([trainer.classify(images[i : i + b]).numpy() for i in chunks])
        ),
        "batch": accuracy(np.concatenate([batch_stats(images[i : i + b]) for i in chunks])),
        "standing": accuracy(trainer.classify_data(images).numpy()),
        "eval": accuracy(eval_classes),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
