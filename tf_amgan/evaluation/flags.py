"""Every flag of the evaluation command (`python -m tf_amgan.evaluate`, `tf-amgan-evaluate`)."""

from __future__ import annotations

from absl import flags

GROUPINGS = ("auto", "conditioning", "model", "classifier")


def make_flags() -> flags.FlagValues:
    """A fresh FlagValues holding the command's flags (see tf_amgan.commandline)."""
    fv = flags.FlagValues()
    flags.DEFINE_string(
        "generator",
        None,
        "Run directory, SavedModel, or model directory of versions (required).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "metrics",
        "auto",
        "Comma-separated: is, am, am_v1, mode, acc, msssim, fid, prd (images); nll, modes, hq "
        "(2-D). auto = is,am,acc,msssim,fid / nll,modes,hq.",
        flag_values=fv,
    )
    flags.DEFINE_integer("num_samples", 50000, "Generated samples.", flag_values=fv)
    flags.DEFINE_string(
        "classifier",
        None,
        "Dataset classifier directory (python -m tf_amgan.classifiers).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "inception_weights",
        None,
        "classify_image_graph_def.pb / inception-2015-12-05.tgz / Keras InceptionV3 .h5, or a "
        "directory holding one (used for is, fid, prd).",
        flag_values=fv,
    )
    flags.DEFINE_bool(
        "softmax_bias",
        False,
        "Inception graph: add the softmax bias (improved-gan omits it).",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "batch_size", 500, "Samples per generator / classifier call.", flag_values=fv
    )
    flags.DEFINE_integer("seed", 0, "Seed of the generated samples.", flag_values=fv)
    flags.DEFINE_string(
        "dataset",
        None,
        "Training data set (needed for SavedModels without --classifier).",
        flag_values=fv,
    )
    flags.DEFINE_float("mixture_std", None, "2-D sets: component std.", flag_values=fv)
    flags.DEFINE_string("data_dir", None, "tfds data directory.", flag_values=fv)
    flags.DEFINE_enum(
        "download",
        "auto",
        ["auto", "true", "false"],
        "Whether tfds may download missing data.",
        flag_values=fv,
    )
    flags.DEFINE_enum(
        "real_split",
        "train",
        ["train", "test"],
        "Real split for the fid / prd statistics.",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "real_samples",
        None,
        "Cap on real images for the fid statistics (default: the whole split).",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "prd_samples", 10000, "Samples (generated and real) for precision / recall.", flag_values=fv
    )
    flags.DEFINE_integer("splits", 10, "IS / AM Score splits.", flag_values=fv)
    flags.DEFINE_integer("msssim_pairs", 100, "Random pairs per class.", flag_values=fv)
    flags.DEFINE_enum(
        "msssim_grouping",
        "auto",
        GROUPINGS,
        "auto: conditioning label (predefined), model's class (dynamic), else classifier.",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "output", None, "Result file (default: next to the generator).", flag_values=fv
    )
    flags.DEFINE_bool(
        "progress", True, "Progress bar on stderr (--noprogress: none).", flag_values=fv
    )
    flags.mark_flag_as_required("generator", flag_values=fv)
    return fv
