"""P002 §2.2, Fig. 1 (spec X-9): Mode GAN vs K+1 GAN vs binary GAN on 10 overlapping Gaussians.

    python experiments/p002_overlap10.py [--flagfiles=...] [--out=results/p002_overlap10]

Trains each flagfile with the ordinary engine (tf_amgan.study.runreport.run_sweep: resuming /
re-evaluating existing run directories), draws 20,000 samples per generator and writes to --out:
  histograms.png   2-D histograms over P002's plotting box (0, 4) x (-1, 5): the data, then one
                   panel per model (each panel scaled to its own maximum)
  table.md / results.json
                   per model: mode coverage and high-quality share (3σ), and the "mode emphasis"
                   ratio = share of samples within 0.15 of a class mean / share within 0.15 of a
                   midpoint between neighbouring means. P002's prediction (M-17): Mode GAN's
                   generator approaches the normalised pointwise max of the class densities, so its
                   ratio exceeds the data's, while K+1 and binary GANs match the data density.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RUNS = [f"flags/p002_overlap10_{m}.cfg" for m in ("modegan", "kplus1", "gan")]
BOX = (0.0, 4.0, -1.0, 5.0)  # P002 Fig. 1 axes
BINS = 20  # per unit length: the box is 4 x 6, so 80 x 120 square bins
RADIUS = 0.15
NUM_SAMPLES = 20000


def histogram(points: np.ndarray) -> np.ndarray:
    x0, x1, y0, y1 = BOX
    bins = [int((y1 - y0) * BINS), int((x1 - x0) * BINS)]
    h, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=bins, range=[[y0, y1], [x0, x1]])
    return h[::-1]  # image rows top-down


def mode_emphasis(points: np.ndarray, means: np.ndarray) -> float:
    """Share within RADIUS of a mean / share within RADIUS of a midpoint of neighbouring means."""
    mids = (means + np.roll(means, -1, axis=0)) / 2.0
    # Put the midpoints back on the circle so both sets sit at the same radius.
    centre = means.mean(0)
    radius = np.linalg.norm(means[0] - centre)
    mids = centre + (mids - centre) * radius / np.linalg.norm(mids - centre, axis=1, keepdims=True)

    def share(centres):
        d = np.linalg.norm(points[:, None, :] - centres[None], axis=-1).min(1)
        return float(np.mean(d < RADIUS))

    return share(means) / max(share(mids), 1e-12)


def panels_png(path: str, panels: list[np.ndarray], titles: list[str]) -> None:
    from PIL import Image, ImageDraw

    from tf_amgan.io_utils import atomic_write_bytes
    from tf_amgan.training.samples import png_bytes

    scale, gap, title_h = 4, 8, 14
    height, width = (n * scale for n in panels[0].shape)
    canvas = Image.new("RGB", (len(panels) * (width + gap) + gap, height + title_h + gap), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (h, title) in enumerate(zip(panels, titles, strict=True)):
        v = np.sqrt(h / max(h.max(), 1.0))  # sqrt scaling keeps the overlaps visible
        rgb = np.stack([255 * (1 - v), 255 * (1 - 0.6 * v), 255 * np.ones_like(v)], -1)
        tile = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).resize((width, height), 0)
        x = gap + i * (width + gap)
        canvas.paste(tile, (x, title_h))
        draw.text((x, 1), title, fill=(0, 0, 0))
    atomic_write_bytes(path, png_bytes(np.asarray(canvas)))


def main(argv=None) -> int:
    from tf_amgan import data
    from tf_amgan.metrics import mode_coverage
    from tf_amgan.study import runreport
    from tf_amgan.training import config as config_lib

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    runreport.add_arguments(parser, RUNS, "results/p002_overlap10")
    args = parser.parse_args(argv)

    # The data row and panel come from the first flagfile's data set (all use overlap10).
    cfg0 = config_lib.Config.from_flagfile(runreport.flagfile_paths(args, ROOT)[0])
    mixture = data.get_mixture(cfg0.dataset, **cfg0.data_options)
    real, _ = mixture.sample(NUM_SAMPLES, seed=cfg0.seed if args.seed is None else args.seed)
    panels, titles = [histogram(real)], ["data"]
    data_row = {"run": "data", "mode_emphasis": mode_emphasis(real, mixture.means),
                **_coverage(mode_coverage, real, mixture)}  # fmt: skip

    def report(run) -> dict:
        import tensorflow as tf

        cfg, trainer = run.config, run.trainer
        if (cfg.dataset, cfg.data_options) != (cfg0.dataset, cfg0.data_options):
            raise ValueError(f"{run.name}: its data set differs from the first flagfile's")
        labels = None
        if trainer.conditional:
            labels = tf.random.stateless_uniform([NUM_SAMPLES], [cfg.seed, 1], 0, 10, tf.int32)
        fake = trainer.generate(trainer.fixed_noise(NUM_SAMPLES), labels).numpy()
        panels.append(histogram(fake))
        titles.append(f"{cfg.model} ({cfg.train_steps} steps)")
        panels_png(os.path.join(args.out, "histograms.png"), panels, titles)
        return {"run": run.name, "model": cfg.model, "train_steps": cfg.train_steps,
                "seconds": run.seconds, "mode_emphasis": mode_emphasis(fake, mixture.means),
                **_coverage(mode_coverage, fake, mixture)}  # fmt: skip

    runreport.run_sweep(args, report, table, root=ROOT, leading_rows=[data_row], run_json=False)
    return 0


def table(rows: list[dict]) -> str:
    from tf_amgan.study.runreport import markdown_table

    header = ["run", "mode emphasis (mean/midpoint density)", "modes covered", "high-quality share"]
    return markdown_table(header, [[r["run"], f"{r['mode_emphasis']:.3f}", r["covered"],
                                    f"{r['high_quality']:.3f}"] for r in rows])  # fmt: skip


def _coverage(mode_coverage, points, mixture) -> dict:
    cov = mode_coverage(points, mixture.means, mixture.stds)
    return {"covered": int(cov.num_covered), "high_quality": float(cov.high_quality_fraction)}


if __name__ == "__main__":
    raise SystemExit(main())
