"""Every flag of the study command (`python -m tf_amgan.study`, `tf-amgan-study`)."""

from __future__ import annotations

from absl import flags


def make_flags() -> flags.FlagValues:
    """A fresh FlagValues holding the command's flags (see tf_amgan.commandline)."""
    fv = flags.FlagValues()
    flags.DEFINE_string("study", None, "Study name (--list shows them).", flag_values=fv)
    flags.DEFINE_string("scale", "cpu", "cpu (the twin that runs here) or paper.", flag_values=fv)
    flags.DEFINE_integer("seeds", 3, "Seeds per cell.", flag_values=fv)
    flags.DEFINE_integer(
        "predefined_seeds",
        None,
        "Seeds per predefined-labeling cell (default: --seeds).",
        flag_values=fv,
    )
    flags.DEFINE_string("runs_dir", "runs/studies", "Run directories go here.", flag_values=fv)
    flags.DEFINE_string("results_dir", "results", "Records, report and figures.", flag_values=fv)
    flags.DEFINE_string(
        "classifier",
        None,
        "Dataset classifier dir (image studies; AM Score, and IS/FID without --inception_weights).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "inception_weights", None, "ImageNet Inception for IS / FID.", flag_values=fv
    )
    flags.DEFINE_integer(
        "final_samples",
        None,
        "Samples of each final evaluation (default: the scale's).",
        flag_values=fv,
    )
    flags.DEFINE_integer("train_steps", None, "Override (smoke runs only).", flag_values=fv)
    flags.DEFINE_enum(
        "strategy",
        None,
        ["default", "mirrored", "multi_worker"],
        "tf.distribute strategy of every run (default: the flagfile's).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "only", "", "Comma-separated substrings of cell names to run.", flag_values=fv
    )
    flags.DEFINE_bool(
        "report_only",
        False,
        "Rewrite report.md and figures from results.json; train nothing.",
        flag_values=fv,
    )
    flags.DEFINE_bool("list", False, "List the studies and their cells.", flag_values=fv)
    return fv
