"""Every flag of the classifier training command (`python -m tf_amgan.classifiers`,
`tf-amgan-classifier`)."""

from __future__ import annotations

from absl import flags

from tf_amgan import commandline


def make_flags() -> flags.FlagValues:
    """A fresh FlagValues holding the command's flags (see tf_amgan.commandline)."""
    from tf_amgan.classifiers.dataset import RECIPES

    fv = flags.FlagValues()
    flags.DEFINE_string(
        "dataset", None, "Data set (tf_amgan.data.DATASETS; required).", flag_values=fv
    )
    flags.DEFINE_string(
        "output_dir", None, "Classifier directory to write (required).", flag_values=fv
    )
    flags.DEFINE_enum(
        "arch", None, list(RECIPES), "Architecture (default: per data set).", flag_values=fv
    )
    flags.DEFINE_integer("epochs", None, "Epochs (default: the recipe's).", flag_values=fv)
    flags.DEFINE_integer("batch_size", None, "Batch size (default: the recipe's).", flag_values=fv)
    flags.DEFINE_float(
        "learning_rate", None, "Learning rate (default: the recipe's).", flag_values=fv
    )
    flags.DEFINE_integer(
        "seed", 0, "Seed of initialization, augmentation and data order.", flag_values=fv
    )
    flags.DEFINE_integer(
        "max_train_samples",
        None,
        "Train on a random subset of this size (quick runs).",
        flag_values=fv,
    )
    flags.DEFINE_integer("depth", None, "DenseNet depth (6n + 4).", flag_values=fv)
    flags.DEFINE_integer("growth_rate", None, "DenseNet growth rate k.", flag_values=fv)
    commandline.define_data_location_flags(fv)
    flags.DEFINE_bool(
        "pad_to_32",
        True,
        "mnist / fashion_mnist: 28 -> 32 zero padding, as the GAN run.",
        flag_values=fv,
    )
    flags.DEFINE_float("mixture_std", None, "2-D sets: component std.", flag_values=fv)
    flags.DEFINE_bool("overwrite", False, "Replace an existing --output_dir.", flag_values=fv)
    flags.DEFINE_bool(
        "progress", True, "Progress bar on a terminal (--noprogress: none).", flag_values=fv
    )
    flags.mark_flags_as_required(["dataset", "output_dir"], flag_values=fv)
    return fv
