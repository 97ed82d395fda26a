"""Throughput of each external sample source, and AM Score of 50,000 samples from an .npz.

    python benchmarks/eval_sources.py --classifier=classifiers/fashion_mnist
    python benchmarks/eval_sources.py --num_samples=50000 --folder_samples=10000

Writes, in a temporary directory, Fashion-MNIST training images (32x32x1, padded as the data
pipeline does) as: a uint8 .npz (stored, memory-mapped), a float32 .npz in [-1, 1], a compressed
uint8 .npz (read whole), a folder of PNG files in class subfolders, and a foreign-style SavedModel
(a width-0.25 A-3 generator with random weights behind a `generate(z)` signature, output NCHW in
[0, 1]). For each it times reading + conversion only (images/s of `source.batches`), then the
whole AM Score evaluation (`tf_amgan.evaluation.evaluate`, metrics=am) of the uint8 and float32
.npz with the dataset classifier. Prints the CPU model, the load average before and after, one
line per source side by side, then one JSON line.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from tf_amgan import classifiers, data, evaluation, networks  # noqa: E402
from tf_amgan.evaluation import external as X  # noqa: E402

DEFAULT_CLASSIFIER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "classifiers",
                                  "fashion_mnist")  # fmt: skip


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.startswith("Model name"))  # fmt: skip
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return "unknown"


def foreign_saved_model(path: str) -> None:
    generator = networks.build_generator("amgan", num_classes=10, conditional=False, width=0.25,
                                         image_shape=(32, 32, 1))  # fmt: skip
    module = tf.Module()
    module.generator = generator

    @tf.function(input_signature=[tf.TensorSpec([None, 100], tf.float32, name="z")])
    def generate(z):
        images = generator(z, training=False)
        return {"out": tf.transpose(images, [0, 3, 1, 2]) * 0.5 + 0.5}

    module.generate = generate
    tf.saved_model.save(module, path, signatures={"generate": generate})


def time_source(source, n: int, batch_size: int) -> float:
    t = time.perf_counter()
    for _ in source.batches(n, batch_size, 0):
        pass
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num_samples", type=int, default=50000)
    p.add_argument("--folder_samples", type=int, default=10000, help="PNG files written / read")
    p.add_argument("--saved_model_samples", type=int, default=10000)
    p.add_argument("--batch_size", type=int, default=500)
    p.add_argument("--classifier", default=DEFAULT_CLASSIFIER)
    args = p.parse_args()
    n, bs = args.num_samples, args.batch_size
    print(f"CPU: {cpu_model()}, {os.cpu_count()} CPUs; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    images, labels = data.load_arrays("fashion_mnist", "train", normalize=False, pad_to_32=True)
    images, labels = np.asarray(images[:n]), np.asarray(labels[:n])
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(os.path.join(tmp, "u8.npz"), images=images, labels=labels)
        np.savez(os.path.join(tmp, "f32.npz"), images=data.to_float(images), labels=labels)
        np.savez_compressed(os.path.join(tmp, "packed.npz"), images=images, labels=labels)
        folder = os.path.join(tmp, "png")
        m = min(args.folder_samples, n)
        for i in range(m):
            d = os.path.join(folder, str(labels[i]))
            os.makedirs(d, exist_ok=True)
            Image.fromarray(images[i, ..., 0]).save(os.path.join(d, f"{i:06d}.png"))
        foreign_saved_model(os.path.join(tmp, "foreign"))

        sources = {
            "npz uint8 (memory-mapped)": (lambda: X.open_array(os.path.join(tmp, "u8.npz")), n),
            "npz float32 (memory-mapped)": (lambda: X.open_array(os.path.join(tmp, "f32.npz")), n),
            "npz uint8 compressed": (lambda: X.open_array(os.path.join(tmp, "packed.npz")), n),
            "PNG folder": (lambda: X.FolderSource(folder), m),
            "real data (test split)": (
                lambda: X.RealDataSource("fashion_mnist", data_options={"pad_to_32": True}),
                min(n, 10000),
            ),
            "foreign SavedModel": (
                lambda: X.ForeignSavedModelSource(
                    os.path.join(tmp, "foreign"), signature="generate"
                ),  # fmt: skip
                min(args.saved_model_samples, n),
            ),
        }
        for name, (make, count) in sources.items():
            t = time.perf_counter()
            source = make()
            opened = time.perf_counter() - t
            seconds = time_source(source, count, bs)
            rows[name] = {"num_samples": count, "open_s": opened, "read_s": seconds,
                          "images_per_s": count / seconds}  # fmt: skip
            print(f"{name:>30}: open {opened:6.2f} s, read {count:6d} in {seconds:7.2f} s = "
                  f"{count / seconds:9.0f} img/s")  # fmt: skip

        clf = classifiers.load_classifier(args.classifier)
        options = evaluation.EvalOptions(metrics=("am",), num_samples=n, batch_size=bs)
        warm = evaluation.EvalOptions(metrics=("am",), num_samples=1000, batch_size=bs)
        evaluation.evaluate(X.open_array(os.path.join(tmp, "u8.npz")), warm, classifier=clf)
        for name in ("u8", "f32"):
            cpu0, t = time.process_time(), time.perf_counter()
            source = X.open_array(os.path.join(tmp, f"{name}.npz"))
            result = evaluation.evaluate(source, options, classifier=clf)
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu0
            key = f"AM Score, npz {name}"
            rows[key] = {"num_samples": n, "wall_s": wall, "cpu_s": cpu, "am": result.metrics["am"],
                         **{f"{k}_s": v for k, v in result.meta["timing"].items()}}  # fmt: skip
            print(f"{key:>30}: {n} samples in {wall:6.2f} s wall ({cpu:6.2f} s CPU), "
                  f"{n / wall:7.0f} img/s, am={result.metrics['am']:.4f}")  # fmt: skip
    load = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load)}")
    print(json.dumps({"cpu": cpu_model(), "load_after": load, "batch_size": bs, **rows}))


if __name__ == "__main__":
    main()
