"""Sample sources for samples made anywhere: arrays (.npz / .npy), image folders, foreign
SavedModels, and the real data set itself (the "real data" ceiling row).

Every source yields `SampleBatch`es of float32 images in [-1, 1], like the sources of our own
runs, so `evaluate` treats them all the same way:
  - `ArraySource` / `open_array`: an `[N, H, W, C]` array in an .npy (memory-mapped) or .npz
    (optionally with a `[N]` label array);
  - `FolderSource`: PNG / JPEG files under a folder, decoded batch by batch (never all at once);
    one subfolder per class gives labels;
  - `ForeignSavedModelSource`: any SavedModel with a signature that maps noise (and optionally
    labels) to images; the noise shape comes from the signature;
  - `RealDataSource`: held-out real images of a data set, with their labels.

Value ranges: uint8 data is [0, 255]; float data is detected as [0, 1], [-1, 1] or [0, 255]
(the narrowest that holds every value, 1e-3 tolerance), or given (`value_range`). The range used
and whether it was detected are in `describe()`, hence in the evaluation record. Values outside
the range by more than the tolerance are an error, never silently clipped.

Finite sources (arrays, folders, real data) visit their samples in a seeded random order by
default (`shuffle=True`): IS / AM Score split std uses contiguous splits, and files are often
stored class by class. `num_samples` may not exceed what they hold.
"""

from __future__ import annotations

import os

from tf_amgan.evaluation.foreign import ForeignSavedModelSource
from tf_amgan.evaluation.sources import (
    SavedModelSource,
    open_source,
    resolve_saved_model,
)
from tf_amgan.evaluation.stored import (
    IMAGE_EXTENSIONS,
    VALUE_RANGES,
    ArraySource,
    FolderSource,
    detect_value_range,
    open_array,
    to_unit_range,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "VALUE_RANGES",
    "ArraySource",
    "FolderSource",
    "ForeignSavedModelSource",
    "RealDataSource",
    "detect_value_range",
    "open_array",
    "open_generator",
    "real_data_row",
    "to_unit_range",
]

# ----------------------------------------------------------------------------------------------
# Real data (the ceiling row).


class RealDataSource(ArraySource):
    """Real images of a data set split (default: the held-out test split) with their labels,
    through the same evaluation path as generated samples: the "real data" row of a table (its
    FID against the train statistics is FID(train, test))."""

    def __init__(
        self,
        dataset: str,
        *,
        split: str = "test",
        data_options: dict | None = None,
        data_dir: str | None = None,
        download: bool | None = None,
        shuffle: bool = True,
    ):
        from tf_amgan import data

        info = data.get_info(dataset, **(data_options or {}))
        if not info.is_image:
            raise ValueError(f"the real-data source needs an image data set, not {dataset!r}")
        images, labels = data.load_arrays(dataset, split, data_dir=data_dir, download=download,
                                           normalize=False, **(data_options or {}))  # fmt: skip
        super().__init__(images, labels, value_range="0,255", shuffle=shuffle,
                         description={"type": "real", "path": f"{dataset}:{split}",
                                      "split": split},
                         dataset=dataset, data_options=data_options)  # fmt: skip


def real_data_row(
    dataset: str,
    *,
    classifier=None,
    inception=None,
    metrics=("is", "am", "acc", "msssim", "fid"),
    data_options: dict | None = None,
    split: str = "test",
    num_samples: int | None = None,
    batch_size: int = 500,
    seed: int = 0,
    real_samples: int | None = None,
    data_dir: str | None = None,
    download: bool | None = None,
):
    """The "real data" row of a study table: held-out real images through `evaluate`.

    IS, AM Score, accuracy and max MS-SSIM of the `split` images (with their true labels), FID
    between the train statistics and `split` (FID train-vs-test). Metrics that need a network
    not given are dropped rather than failing, so a report can always ask for the row.

    Args:
      dataset, data_options: the data set (its options as the runs use them).
      classifier, inception: the evaluation networks (as for generated samples).
      metrics: wanted metric names (image metrics of `evaluate`).
      split: held-out split ("test"); num_samples: default the whole split.
      batch_size, seed, real_samples, data_dir, download: as EvalOptions (real_samples caps the
        train images of the FID statistics).

    Returns:
      {"metrics": {...}, "meta": {...}} as the study runner records a cell's final evaluation.
    """
    from tf_amgan.evaluation.runner import EvalOptions, evaluate
    from tf_amgan.io_utils import json_safe

    source = RealDataSource(dataset, split=split, data_options=data_options, data_dir=data_dir,
                            download=download)  # fmt: skip
    wanted = tuple(metrics)
    if classifier is None:
        wanted = tuple(m for m in wanted if m not in ("am", "am_v1", "mode", "acc"))
        if inception is None:
            wanted = tuple(m for m in wanted if m not in ("is", "fid", "prd"))
    if not wanted:
        raise ValueError("real_data_row: no metric left to compute without networks")
    n = source.num_available if num_samples is None else min(num_samples, source.num_available)
    options = EvalOptions(metrics=wanted, num_samples=n, batch_size=batch_size, seed=seed,
                          prd_samples=min(10000, n), real_samples=real_samples, data_dir=data_dir,
                          download=download)  # fmt: skip
    result = evaluate(source, options, classifier=classifier, inception=inception, dataset=dataset,
                      data_options=data_options)  # fmt: skip
    keep = ("source", "num_samples", "is_network", "feature_network", "acc_reference", "seconds")
    meta = {k: result.meta[k] for k in keep if k in result.meta}
    if "msssim" in result.meta:
        meta["msssim_grouping"] = result.meta["msssim"]["grouping"]
    return {"metrics": json_safe(result.metrics), "meta": json_safe(meta)}


def open_generator(
    generator: str,
    *,
    dataset: str | None = None,
    data_options: dict | None = None,
    num_classes: int | None = None,
    value_range: str | None = "auto",
    channels: int | None = None,
    pad: int = 0,
    shuffle: bool = True,
    images_key: str | None = None,
    labels_key: str | None = None,
    labels_path: str | None = None,
    on_bad_file: str = "fail",
    signature: str | None = None,
    input_name: str | None = None,
    label_input: str | None = None,
    output_name: str | None = None,
    noise: str = "normal",
    layout: str = "auto",
    real_split: str = "test",
    data_dir: str | None = None,
    download: bool | None = None,
):
    """The sample source `--generator` names, with its kind.

    "real" (the data set's `real_split`), an .npz / .npy file, a SavedModel called through
    `signature` when one is given, a run directory or tf-amgan SavedModel (model directory of
    versions), else a folder of PNG / JPEG files.

    Returns:
      (source, kind), kind in "real", "npz", "npy", "foreign_saved_model", "run_dir",
      "saved_model", "folder".
    """
    shared = dict(value_range=value_range, channels=channels, pad=pad)
    if generator == "real":
        if dataset is None:
            raise ValueError("--generator=real needs the data set: pass --dataset or --classifier")
        if (value_range not in (None, "auto")) or channels or pad:
            raise ValueError("--generator=real takes the data set as it is: drop --sample_range, "
                             "--sample_channels and --sample_pad")  # fmt: skip
        src = RealDataSource(dataset, split=real_split, data_options=data_options,
                             data_dir=data_dir, download=download, shuffle=shuffle)  # fmt: skip
        return src, "real"
    if not os.path.exists(generator):
        raise FileNotFoundError(f"--generator={generator} does not exist")
    if os.path.isfile(generator):
        if not generator.endswith((".npz", ".npy")):
            raise ValueError(f"--generator={generator}: files must be .npz or .npy arrays")
        src = open_array(generator, images_key=images_key, labels_key=labels_key,
                         labels_path=labels_path, shuffle=shuffle, dataset=dataset,
                         data_options=data_options, **shared)  # fmt: skip
        return src, src.describe()["type"]
    if signature is not None:
        src = ForeignSavedModelSource(
            generator, signature=signature, input_name=input_name, label_input=label_input,
            output_name=output_name, num_classes=num_classes, noise=noise, layout=layout,
            dataset=dataset, data_options=data_options, **shared,
        )  # fmt: skip
        return src, "foreign_saved_model"
    if os.path.isfile(os.path.join(generator, "config.json")):
        return open_source(generator, dataset, data_options)
    saved = resolve_saved_model(generator)
    if saved is not None:
        try:
            return SavedModelSource(saved, dataset, data_options), "saved_model"
        except ValueError as e:
            raise ValueError(f"{e}; for another tool's SavedModel pass --saved_model_signature "
                             "(and --saved_model_input / --saved_model_output)") from e  # fmt: skip
    try:
        src = FolderSource(generator, on_error=on_bad_file, shuffle=shuffle, dataset=dataset,
                           data_options=data_options, **shared)  # fmt: skip
    except ValueError as e:
        if "no PNG / JPEG files" not in str(e):
            raise
        raise FileNotFoundError(
            f"{generator} is not a run directory (config.json), a SavedModel (saved_model.pb), a "
            "model directory with integer versions, or a folder of PNG / JPEG files"
        ) from e
    return src, "folder"
