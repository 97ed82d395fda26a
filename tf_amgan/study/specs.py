"""The paper studies as data: which runs make up each grid, and what the papers reported.

A study is a grid of cells (model x labeling x seed, plus per-cell flag overrides). Each scale
("paper": the papers' protocol, for GPUs; "cpu": a twin that fits a 2-core machine) names one
flagfile per data set; a cell's Config is that flagfile plus the cell's overrides, exactly what

    python run_experiment.py --flagfile=<flagfile> --model=<model> --labeling=<labeling> --seed=<s>

would train. Paper numbers are quoted from ../shared/spec/seed-spec.md (X-*), never computed.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

P001_MODELS = ("gan", "gan_star", "acgan_star", "acgan_plus", "labelgan", "amgan")
P000_RING_MODELS = P001_MODELS + ("samgan",)
LABELINGS = ("dynamic", "predefined")

MODEL_NAMES = {
    "gan": "GAN",
    "gan_star": "GAN*",
    "acgan": "AC-GAN",
    "acgan_star": "AC-GAN*",
    "acgan_star_lowaux": "AC-GAN* (G aux 0.1)",
    "acgan_plus": "AC-GAN*+",
    "labelgan": "LabelGAN",
    "amgan": "AM-GAN",
    "samgan": "SAM-GAN",
}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of a study grid."""

    model: str
    labeling: str
    seed: int
    dataset_key: str  # key into Scale.flagfiles
    overrides: tuple[tuple[str, Any], ...] = ()
    variant: str = ""  # distinguishes cells that differ only in overrides (e.g. a temperature)

    @property
    def name(self) -> str:
        parts = [self.dataset_key, self.model]
        if self.variant:
            parts.append(self.variant)
        parts += [self.labeling, f"s{self.seed}"]
        return "_".join(re.sub(r"[^A-Za-z0-9.]+", "-", p) for p in parts)

    @property
    def group(self) -> str:
        """Cells that differ only in the seed share a group (mean +- std over seeds)."""
        return self.name.rsplit("_s", 1)[0]


@dataclasses.dataclass(frozen=True)
class Scale:
    flagfiles: dict[str, str]  # dataset key -> flagfile
    final_samples: int  # samples of the final evaluation
    description: str
    notes: str = ""  # how the scale was chosen (rendered in the report)


@dataclasses.dataclass(frozen=True)
class Study:
    """A grid of runs and how its report is laid out (tf_amgan.study.report)."""

    name: str
    title: str
    kind: str  # "image" | "synthetic"
    scales: dict[str, Scale]
    models: tuple[str, ...]
    labelings: tuple[str, ...]
    final_metrics: tuple[str, ...]
    paper: dict[str, Any]
    variants: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = (("", ()),)
    # Models the variants apply to (None: all); the others get one plain cell.
    variant_models: tuple[str, ...] | None = None
    # (dataset key, model) pairs the paper has no cell for.
    skip: tuple[tuple[str, str], ...] = ()

    def cells(self, scale: str, seeds: int, predefined_seeds: int | None = None) -> list[Cell]:
        """Every cell, seed-major (all seed-0 cells first), so a partial grid is a useful one."""
        if scale not in self.scales:
            raise ValueError(
                f"study {self.name} has no scale {scale!r}; choose from {sorted(self.scales)}"
            )
        if seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {seeds}")
        predefined_seeds = seeds if predefined_seeds is None else predefined_seeds
        if predefined_seeds < 0:
            raise ValueError(f"--predefined_seeds must be >= 0, got {predefined_seeds}")
        out = []
        for seed in range(max(seeds, predefined_seeds)):
            for key in self.scales[scale].flagfiles:
                for labeling in self.labelings:
                    n = predefined_seeds if labeling == "predefined" else seeds
                    if seed >= n:
                        continue
                    for model in self.models:
                        if (key, model) in self.skip:
                            continue
                        variants = self.variants
                        if self.variant_models is not None and model not in self.variant_models:
                            variants = (("", ()),)
                        for variant, overrides in variants:
                            out.append(Cell(model, labeling, seed, key, overrides, variant))
        return out


def _x4(values: dict[str, tuple]) -> dict[str, dict[str, float | None]]:
    cols = ("cifar10/dynamic", "cifar10/predefined", "tiny_imagenet/dynamic",
            "tiny_imagenet/predefined")  # fmt: skip
    return {m: dict(zip(cols, v, strict=True)) for m, v in values.items()}


# X-4 (P001 Table 1) and X-5 (Table 3).
P001_TABLE1_IS = _x4({
    "gan": (7.04, 7.27, None, None),
    "gan_star": (7.25, 7.31, None, None),
    "acgan_star": (7.41, 7.79, 7.28, 7.89),
    "acgan_plus": (8.56, 8.01, 10.25, 8.23),
    "labelgan": (8.63, 7.88, 10.82, 8.62),
    "amgan": (8.83, 8.35, 11.45, 9.55),
})  # fmt: skip
P001_TABLE1_AM = _x4({
    "gan": (0.45, 0.43, None, None),
    "gan_star": (0.40, 0.41, None, None),
    "acgan_star": (0.17, 0.16, 1.64, 1.01),
    "acgan_plus": (0.10, 0.14, 1.04, 1.20),
    "labelgan": (0.13, 0.25, 1.11, 1.37),
    "amgan": (0.08, 0.05, 0.88, 0.61),
})  # fmt: skip
P001_TABLE3_MSSSIM = {
    "acgan_star": {"cifar10/dynamic": 0.61, "cifar10/predefined": 0.35},
    "acgan_plus": {"cifar10/dynamic": 0.39, "cifar10/predefined": 0.36},
    "labelgan": {"cifar10/dynamic": 0.35, "cifar10/predefined": 0.32},
    "amgan": {"cifar10/dynamic": 0.36, "cifar10/predefined": 0.36},
}

_P001_CPU_NOTES = (
    "The grid had to fit a few hours on 2 cores with at least 3 seeds for the dynamic column. "
    "Measured here at batch 64 on Fashion-MNIST: width 1/4 takes 0.171 s per D+G step, width 1/8 "
    "0.090 s; two runs side by side gave no more throughput (0.18 s/step each), so the cells run "
    "one after another. 1,500 steps (1.6 epochs) at width 1/8 was planned as ~135 s of training "
    "and ~30 s of evaluation per run; inside the grid a run took 190-240 s when the machine was "
    "otherwise idle (the mean step time is on the next line), so 3 seeds of the dynamic column "
    "and 2 of the predefined one (30 runs) took about 100 minutes. A third predefined seed can be "
    "added with --predefined_seeds=3 without rerunning anything. Resolution: 28x28 zero-padded to 32x32 as the reference code "
    "does for MNIST (A-3), so the A-1 network is used as it is, with one channel. The optimiser "
    "and every other setting are the paper's; nothing was tuned on these results."
)

_P001_CONVERGE_NOTES = (
    "The 1,500-step cpu scale stops while the samples are still blotches. This scale trains each "
    "cell 8x longer at twice the width (1/4: 0.171 s per D+G step measured at batch 64, so ~35 "
    "min of training and ~3 min of periodic evaluation a cell, one cell per ~40 minutes of a "
    "session). The length is a candidate, not a finding: the convergence table below says for "
    "every cell whether its FID curve had flattened and its samples showed every class; a cell "
    "that fails is reported as such, not dropped or shortened."
)

STUDIES: dict[str, Study] = {}


def _register(study: Study) -> Study:
    if study.name in STUDIES:
        raise ValueError(f"study {study.name} registered twice")
    STUDIES[study.name] = study
    return study


_register(Study(
    name="p001_table1",
    title="P001 Table 1 (IS, AM Score) and Table 3 (max intra-class MS-SSIM), dynamic vs predefined",
    kind="image",
    scales={
        "paper": Scale({"cifar10": "flags/p001_table1_cifar10.cfg",
                        "tiny_imagenet": "flags/p001_table1_tiny_imagenet.cfg"}, 50000,
                       "A-1 network at full width, batch 100, 1M iterations (the reference "
                       "code's budget), IS with the ImageNet Inception graph, AM Score with a "
                       "DenseNet-BC trained on the data set"),
        "cpu": Scale({"fashion_mnist": "flags/p001_table1_cpu.cfg"}, 10000,
                     "A-1 network at width 1/8, batch 64, 1,500 iterations on Fashion-MNIST "
                     "(padded to 32x32); IS, AM Score, FID and MS-SSIM with the Fashion-MNIST "
                     "CNN classifier (no Inception weights offline)", _P001_CPU_NOTES),
        "converge": Scale({"fashion_mnist": "flags/p001_table1_converge.cfg"}, 10000,
                          "A-1 network at width 1/4, batch 64, 12,000 iterations (12.8 epochs) on "
                          "Fashion-MNIST (padded to 32x32), D at twice G's learning rate as in the "
                          "authors' code; FID every 1,000 steps for the convergence criterion",
                          _P001_CONVERGE_NOTES),
    },
    models=P001_MODELS,
    labelings=LABELINGS,
    final_metrics=("is", "am", "acc", "msssim", "fid"),
    paper={"is": P001_TABLE1_IS, "am": P001_TABLE1_AM, "msssim": P001_TABLE3_MSSSIM},
    skip=(("tiny_imagenet", "gan"), ("tiny_imagenet", "gan_star")),
))  # fmt: skip

_register(Study(
    name="p001_ablations",
    title="P001 ablations quoted in the text (X-6): AC-GAN* with G aux weight 0.1, original AC-GAN",
    kind="image",
    scales={
        "paper": Scale({"cifar10": "flags/p001_table1_cifar10.cfg"}, 50000,
                       "as p001_table1 (paper scale)"),
        "cpu": Scale({"fashion_mnist": "flags/p001_table1_cpu.cfg"}, 10000,
                     "as p001_table1 (cpu scale)"),
    },
    models=("acgan_star_lowaux", "acgan"),
    labelings=LABELINGS,
    final_metrics=("is", "am", "acc", "msssim", "fid"),
    paper={
        "is": {"acgan_star_lowaux": {"cifar10/dynamic": 7.19},
               "acgan": {"cifar10/dynamic": 6.48, "cifar10/predefined": 7.66}},
        "am": {"acgan_star_lowaux": {"cifar10/dynamic": 0.23},
               "acgan": {"cifar10/dynamic": 0.43, "cifar10/predefined": 0.20}},
        "msssim": {"acgan_star_lowaux": {"cifar10/dynamic": 0.35}},
    },
))  # fmt: skip

_register(Study(
    name="p001_enhanced",
    title="P001 Table 2: AM-GAN with the enhanced discriminator (A-2, IS 8.91 +- 0.11)",
    kind="image",
    scales={
        "paper": Scale({"cifar10": "flags/p001_enhanced_d_cifar10.cfg"}, 50000,
                       "A-1 with D filters x1.5 (reference README: 192 instead of 128)"),
        "cpu": Scale({"fashion_mnist": "flags/p001_enhanced_d_cpu.cfg"}, 10000,
                     "the p001_table1 cpu twin with --d_width=0.1875 (x1.5)"),
    },
    models=("amgan",),
    labelings=("dynamic",),
    final_metrics=("is", "am", "acc", "msssim", "fid"),
    paper={"is": {"amgan": {"cifar10/dynamic": 8.91}}},
))  # fmt: skip

_register(Study(
    name="p000_table1",
    title="P000 Table 1: LabelGAN, AM-GAN and SAM-GAN with label smoothing 0.75 (CIFAR-10 IS)",
    kind="image",
    scales={
        "paper": Scale({"cifar10": "flags/p000_table1_cifar10.cfg"}, 50000,
                       "A-1 network, dynamic labeling, label smoothing s = 0.75 (Q-3)"),
        "cpu": Scale({"fashion_mnist": "flags/p000_table1_cpu.cfg"}, 10000,
                     "the p001_table1 cpu twin with label smoothing s = 0.75"),
    },
    models=("labelgan", "amgan", "samgan"),
    labelings=("dynamic",),
    final_metrics=("is", "am", "acc", "msssim", "fid"),
    # which temperature gave 8.34 is not stated; both are run (only samgan uses it).
    variants=(("t0.67", (("temperature", 1 / 1.5),)), ("t0.5", (("temperature", 0.5),))),
    variant_models=("samgan",),
    paper={"is": {"labelgan": {"cifar10/dynamic": 8.18}, "amgan": {"cifar10/dynamic": 8.33},
                  "samgan": {"cifar10/dynamic": 8.34}}},
))  # fmt: skip

_register(Study(
    name="p000_ring8",
    title="P000 App. A (8-Gaussian ring: oracle NLL, mode coverage, high-quality share over "
    "training) and App. B.4 (correlation of IS / AM Score with the negative oracle NLL)",
    kind="synthetic",
    scales={
        "paper": Scale({"ring8": "flags/p000_ring8.cfg"}, 10000,
                       "4x128 MLPs, std 0.01 ring, 100k iterations (P000 gives no run length)"),
        "cpu": Scale({"ring8": "flags/p000_ring8_cpu.cfg"}, 10000,
                     "4x128 MLPs, std 0.01 ring, 6,000 iterations at batch 100",
                     "P000 gives no widths, learning rate or run length for the ring (A-4); the "
                     "MLP runs at ~150 steps/s here, so 6,000 steps with an evaluation every 300 "
                     "steps (20 points per run for the B.4 correlation) make the 21 runs about "
                     "25 minutes. The ring's std is the paper's 0.01 (Q-10), which makes "
                     "high-quality samples (within 3 std of a mode) rare at this length."),
    },
    models=P000_RING_MODELS,
    labelings=("dynamic",),
    final_metrics=("nll", "modes", "hq", "is", "am", "am_v1"),
    paper={"correlation": {"is": 0.926, "am_v1": 0.977}},
))  # fmt: skip

# P004 A-6: 3 G learning rates x 3 D learning rates x 3 activation-noise stds = 27 AC-GANs.
_P004_GRID = tuple(
    (f"glr{g}_dlr{d}_n{n}", (("lr", g * 1e-4), ("d_lr_multiplier", d / g), ("input_noise_std", n)))
    for g in (1, 2, 3) for d in (1, 2, 3) for n in (0.0, 0.1, 0.2)
)  # fmt: skip
_register(Study(
    name="p004_cifar10",
    title="P004 CIFAR-10 AC-GAN grid (A-6, X-14: IS 8.25 +- 0.07 for the best of 27)",
    kind="image",
    scales={
        "paper": Scale({"cifar10": "flags/p004_cifar10.cfg"}, 50000,
                       "A-6 network, minimax source loss, batch 100, 50k iterations, 27 configs"),
        "cpu": Scale({"fashion_mnist": "flags/p004_cpu.cfg"}, 10000,
                     "A-6 network at width 1/4 on Fashion-MNIST, 1,500 iterations, 27 configs"),
    },
    models=("acgan",),
    labelings=("predefined",),
    final_metrics=("is", "am", "acc", "msssim", "fid"),
    variants=_P004_GRID,
    paper={"is": {"acgan": {"cifar10/predefined": 8.25}}},
))  # fmt: skip


def get(name: str) -> Study:
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(sorted(STUDIES))}")
    return STUDIES[name]
