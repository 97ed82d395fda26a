"""Evaluation speed: AM Score of 50,000 generated samples with the Fashion-MNIST classifier.

    python benchmarks/eval_speed.py                               # 50k samples, width-0.25 G
    python benchmarks/eval_speed.py --classifier=classifiers/fashion_mnist --metrics=am,is,msssim

Runs the real evaluation pipeline (`tf_amgan.evaluation.evaluate`) on a CPU-sized A-3 generator
(`networks.build_generator("amgan", width=0.25, image_shape=(32, 32, 1))`, random weights: speed
depends only on the architecture). Without a trained classifier directory, an untrained classifier
of the same architecture is used (same cost). Prints the seconds and images/s of the sampling and
classification stages, the metric computation, and the total, then one JSON line.
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tf_amgan import classifiers, evaluation, networks  # noqa: E402
from tf_amgan.evaluation import sources  # noqa: E402

DEFAULT_CLASSIFIER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "classifiers",
                                  "fashion_mnist")  # fmt: skip


class GeneratorSource(evaluation.SampleSource):
    """A bare Keras generator (no discriminator classes), compiled once."""

    def __init__(self, generator, z_dim):
        self.sample_shape = tuple(generator.output.shape[1:])
        self.dataset = "fashion_mnist"
        self.data_options = {"pad_to_32": True}
        self._z_dim = z_dim
        self._fn = tf.function(lambda z: generator(z, training=False), reduce_retracing=True)

    def describe(self):
        return {"type": "benchmark_generator"}

    def batches(self, num_samples, batch_size, seed):
        for i, n in sources._batch_sizes(num_samples, batch_size):
            z = tf.random.stateless_normal([n, self._z_dim], tf.constant([seed, i], tf.int64))
            images = self._fn(z).numpy()
            yield evaluation.SampleBatch(images, None, np.full(n, -1, np.int32))


def untrained_classifier(tmp):
    model = classifiers.build_cnn((32, 32, 1), 10, seed=0)
    info = {"format": classifiers.FORMAT, "dataset": "fashion_mnist", "arch": "cnn",
            "data_options": {"pad_to_32": True}, "class_prior": [0.1] * 10}  # fmt: skip
    classifiers._write_atomically(os.path.join(tmp, "untrained"), model, info, overwrite=False)
    return classifiers.load_classifier(os.path.join(tmp, "untrained"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num_samples", type=int, default=50000)
    p.add_argument("--batch_size", type=int, default=500)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--classifier", default=DEFAULT_CLASSIFIER)
    p.add_argument("--metrics", default="am")
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args()

    generator = networks.build_generator("amgan", num_classes=10, conditional=False,
                                         width=args.width, image_shape=(32, 32, 1))  # fmt: skip
    source = GeneratorSource(generator, 100)
    with tempfile.TemporaryDirectory() as tmp:
        if os.path.isdir(args.classifier):
            clf = classifiers.load_classifier(args.classifier)
            which = args.classifier
        else:
            clf = untrained_classifier(tmp)
            which = "untrained cnn (no trained classifier found)"
        options = evaluation.EvalOptions(metrics=tuple(args.metrics.split(",")),
                                         num_samples=args.num_samples, batch_size=args.batch_size)  # fmt: skip
        # Warm-up: traces the generator and classifier functions.
        evaluation.evaluate(source, evaluation.EvalOptions(metrics=options.metrics, num_samples=1000,
                                                           batch_size=args.batch_size),
                            classifier=clf)  # fmt: skip
        print(f"generator: amgan width {args.width}, {generator.count_params()} parameters; "
              f"classifier: {which}; {os.cpu_count()} CPUs")  # fmt: skip
        for _ in range(args.repeats):
            t = time.perf_counter()
            result = evaluation.evaluate(source, options, classifier=clf)
            total = time.perf_counter() - t
            timing = result.meta["timing"]
            n = args.num_samples
            for stage in ("sampling", "classification", "metrics"):
                s = timing.get(stage, 0.0)
                print(f"{stage:>15}: {s:7.2f} s  {n / max(s, 1e-9):9.0f} img/s")
            print(f"{'total':>15}: {total:7.2f} s  {n / total:9.0f} img/s   metrics: "
                  + ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()))  # fmt: skip
            print(json.dumps({"num_samples": n, "total_s": total, **{f"{k}_s": v for k, v in
                              timing.items()}, **result.metrics}))  # fmt: skip


if __name__ == "__main__":
    main()
