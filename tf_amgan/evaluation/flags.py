"""Every flag of the evaluation command (`python -m tf_amgan.evaluate`, `tf-amgan-evaluate`)."""

from __future__ import annotations

from absl import flags

from tf_amgan import commandline

GROUPINGS = ("auto", "conditioning", "model", "classifier")


def make_flags() -> flags.FlagValues:
    """A fresh FlagValues holding the command's flags (see tf_amgan.commandline)."""
    fv = flags.FlagValues()
    flags.DEFINE_string(
        "generator",
        None,
        "Run directory, SavedModel, model directory of versions, .npz / .npy samples, a folder of "
        "PNG / JPEG files, or 'real' (held-out real images: the ceiling row) (required).",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "metrics",
        "auto",
        "Comma-separated: is, am, am_v1, mode, acc, msssim, fid, prd, intra_fid (images); nll, "
        "modes, hq "
        "(2-D). auto = is,am,acc,msssim,fid / nll,modes,hq.",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "num_samples",
        None,
        "Samples to evaluate (default: 50000 generated; all of an npz / folder / real split).",
        flag_values=fv,
    )
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
    commandline.define_data_location_flags(fv)
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
    flags.DEFINE_enum(
        "intra_fid_grouping",
        "auto",
        GROUPINGS,
        "Class of a sample for intra_fid: auto = conditioning label, else the classifier.",
        flag_values=fv,
    )
    flags.DEFINE_enum(
        "is_protocol",
        "openai",
        ["openai", "p004"],
        "p004: also P004's Inception Score (select on 10 random groups of the samples, report "
        "is_p004 on 5 groups of fresh samples).",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "p004_report_samples",
        None,
        "Fresh samples for P004's report groups (default: num_samples / 2).",
        flag_values=fv,
    )
    # Samples made by other tools (npz / npy, folders, foreign SavedModels) and the real data.
    flags.DEFINE_enum(
        "sample_range",
        "auto",
        ["auto", "-1,1", "0,1", "0,255"],
        "Value range of stored samples (auto: uint8 is 0,255; float data detected).",
        flag_values=fv,
    )
    flags.DEFINE_enum(
        "sample_channels",
        None,
        ["1", "3"],
        "Convert samples to this many channels (RGB -> grey by luma, grey -> RGB by repetition).",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "sample_pad", 0, "Black pixels added on each side (2: 28x28 -> 32x32).", flag_values=fv
    )
    flags.DEFINE_bool(
        "shuffle",
        True,
        "Visit stored samples in a seeded random order (--noshuffle: file order).",
        flag_values=fv,
    )
    flags.DEFINE_string("images_key", None, ".npz member holding the images.", flag_values=fv)
    flags.DEFINE_string(
        "labels_key", None, ".npz member holding per-sample labels ('' for none).", flag_values=fv
    )
    flags.DEFINE_string("labels_path", None, ".npy of labels for .npy samples.", flag_values=fv)
    flags.DEFINE_enum(
        "on_bad_file",
        "fail",
        ["fail", "skip"],
        "Folders: stop at an unreadable or odd-sized file, or skip it and count it.",
        flag_values=fv,
    )
    flags.DEFINE_string(
        "saved_model_signature",
        None,
        "Call this signature of another tool's SavedModel (noise in, images out).",
        flag_values=fv,
    )
    flags.DEFINE_string("saved_model_input", None, "Its noise input.", flag_values=fv)
    flags.DEFINE_string(
        "saved_model_label_input", None, "Its label input (conditional models).", flag_values=fv
    )
    flags.DEFINE_string("saved_model_output", None, "Its image output.", flag_values=fv)
    flags.DEFINE_enum(
        "saved_model_noise",
        "normal",
        ["normal", "uniform"],
        "Noise fed to it: N(0, I) or U[-1, 1], shaped as the signature's input.",
        flag_values=fv,
    )
    flags.DEFINE_enum(
        "saved_model_layout",
        "auto",
        ["auto", "nhwc", "nchw"],
        "Layout of its image output (auto: [N, C, H, W] when C is 1 or 3 and W > 4).",
        flag_values=fv,
    )
    flags.DEFINE_integer(
        "num_classes",
        None,
        "Classes of a conditional foreign SavedModel's labels (default: the classifier's).",
        flag_values=fv,
    )
    flags.DEFINE_enum(
        "real_source_split",
        "test",
        ["train", "test"],
        "Split evaluated by --generator=real (FID is then against --real_split).",
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
