"""Export a trained generator as a TF Serving SavedModel: <export_dir>/<model_name>/<version>/.

Signatures:
  serving_default(noise float32 [N, z_dim] [, labels int32 [N]]) -> {images, classes}
  sample(num_samples int32 [], seed int32 []) -> {images, classes, noise}
Latent-code models (cgpgan, infogan, elastic_infogan, gan_categorical):
  serving_default(noise float32 [N, z_dim], categories int32 [N]) -> {images, categories}
  sample(num_samples int32 [], seed int32 []) -> {images, categories, noise}

`images` are float32 [N, H, W, C] in [-1, 1] (or [N, 2] for 2-D mixtures). `classes` is the given label for
predefined-labeling models; for dynamic models the class the discriminator (or its auxiliary
classifier) assigns to the sample in inference mode; -1 for models without classes (`gan`).
`categories` are the codes c_f in [0, d_c); `sample` draws them from the run's final P(C), stored
in the export as a constant (stratified: category k appears floor or ceil of N·P(k) times).
The generator is exported in inference mode with standing batch-norm statistics, so one row's
output does not depend on the other rows.

Also a command: python -m tf_amgan.export --run_dir=RUN --export_dir=DIR [--model_name=NAME]
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import keras
import tensorflow as tf


def next_version(model_dir: str) -> int:
    """1 + the largest integer version directory under model_dir (1 if none)."""
    if not os.path.isdir(model_dir):
        return 1
    versions = [int(n) for n in os.listdir(model_dir) if re.fullmatch(r"\d+", n)]
    return max(versions, default=0) + 1


def _latent_serving_functions(trainer):
    """serving_default(noise, categories) and sample(num_samples, seed) of a latent-code model."""
    from tf_amgan import data

    G, z_dim, d_c = trainer.generator, trainer.config.z_dim, trainer.num_categories
    # The final P(C) as a constant: the export must not change when the run continues.
    prior = tf.constant(trainer.prior.probs().numpy(), tf.float32)

    def generate(noise, categories):
        categories = tf.cast(categories, tf.int32)
        checks = (
            _check_noise(noise, z_dim)
            + [tf.debugging.assert_rank(categories, 1, message="categories must be int32 [N]")]
            + _check_indices(categories, noise, d_c, "categories", "num_categories")
        )
        noise, categories = _after(checks, noise, categories)
        images = G([noise, tf.one_hot(categories, d_c, dtype=noise.dtype)], training=False)
        return {"images": tf.cast(images, tf.float32), "categories": categories}

    signature = [
        tf.TensorSpec([None, z_dim], tf.float32, name="noise"),
        tf.TensorSpec([None], tf.int32, name="categories"),
    ]

    def sample(num_samples, seed):
        (num_samples,) = _after(
            [tf.debugging.assert_positive(num_samples, message="num_samples must be positive")],
            num_samples,
        )
        seed2 = tf.stack([tf.cast(seed, tf.int64), tf.constant(0x5EED, tf.int64)])
        noise = tf.random.stateless_normal(tf.stack([num_samples, z_dim]), seed2)
        categories = data.sample_labels(
            seed2 + tf.constant([0, 1], tf.int64), num_samples, d_c, prior=prior, stratified=True
        )
        return {**generate(noise, categories), "noise": noise}

    return generate, signature, sample


def _check_noise(noise, z_dim) -> list:
    return [
        tf.debugging.assert_rank(noise, 2, message="noise must be float32 [N, z_dim]"),
        tf.debugging.assert_equal(
            tf.shape(noise)[1], z_dim, message=f"noise must have {z_dim} columns"
        ),
        tf.debugging.assert_all_finite(noise, "noise must be finite"),
    ]


def _check_indices(values, noise, upper: int, name: str, upper_name: str) -> list:
    """Labels / categories: one per noise row, in [0, upper)."""
    return [
        tf.debugging.assert_equal(
            tf.shape(values)[0], tf.shape(noise)[0], message=f"{name} and noise need the same N"
        ),
        tf.debugging.assert_non_negative(values, message=f"{name} must be >= 0"),
        tf.debugging.assert_less(values, upper, message=f"{name} must be < {upper_name} ({upper})"),
    ]


def _after(checks, *tensors) -> list:
    """`tensors`, available only once `checks` passed.

    A graph does not order independent ops: without this, a bad input can fail inside G first,
    with a shape error instead of the check's message.
    """
    with tf.control_dependencies([c for c in checks if c is not None]):
        return [tf.identity(t) for t in tensors]


def _serving_functions(trainer):
    """Builds the two endpoint functions around the trainer's (inference-mode) networks."""
    sample_signature = [
        tf.TensorSpec([], tf.int32, name="num_samples"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ]
    if trainer.latent:
        return (*_latent_serving_functions(trainer), sample_signature)
    G, D, obj = trainer.generator, trainer.discriminator, trainer.objective
    num_classes, conditional, z_dim = trainer.num_classes, trainer.conditional, trainer.config.z_dim
    has_classes = obj.head_units > 1

    def classes_of(images):
        if not has_classes:
            return tf.fill([tf.shape(images)[0]], tf.constant(-1, tf.int32))
        logits = D(images, training=False)
        return tf.argmax(obj.class_logits(logits), axis=-1, output_type=tf.int32)

    if conditional:

        def generate(noise, labels):
            labels = tf.cast(labels, tf.int32)
            checks = _check_noise(noise, z_dim) + _check_indices(
                labels, noise, num_classes, "labels", "num_classes"
            )
            noise, labels = _after(checks, noise, labels)
            images = G([noise, tf.one_hot(labels, num_classes)], training=False)
            return {"images": tf.cast(images, tf.float32), "classes": labels}

        serving_default = generate
        signature = [
            tf.TensorSpec([None, z_dim], tf.float32, name="noise"),
            tf.TensorSpec([None], tf.int32, name="labels"),
        ]
    else:

        def generate(noise):
            (noise,) = _after(_check_noise(noise, z_dim), noise)
            images = tf.cast(G(noise, training=False), tf.float32)
            return {"images": images, "classes": classes_of(images)}

        serving_default = generate
        signature = [tf.TensorSpec([None, z_dim], tf.float32, name="noise")]

    def sample(num_samples, seed):
        (num_samples,) = _after(
            [tf.debugging.assert_positive(num_samples, message="num_samples must be positive")],
            num_samples,
        )
        seed2 = tf.stack([tf.cast(seed, tf.int64), tf.constant(0x5EED, tf.int64)])
        noise = tf.random.stateless_normal(tf.stack([num_samples, z_dim]), seed2)
        if conditional:
            labels = tf.random.stateless_uniform(
                tf.reshape(num_samples, [1]),
                seed2 + tf.constant([0, 1], tf.int64),
                minval=0,
                maxval=num_classes,
                dtype=tf.int32,
            )
            out = generate(noise, labels)
        else:
            out = generate(noise)
        return {**out, "noise": noise}

    return serving_default, signature, sample, sample_signature


def export_generator(
    trainer,
    export_dir: str,
    model_name: str,
    version: int | None = None,
    standing_stats_batches: int = 50,
    use_ema: bool = True,
) -> str:
    """Writes the SavedModel atomically and returns its final path.

    Recomputes the generator's standing BN statistics over `standing_stats_batches` batches of
    random inputs first (and swaps in the EMA weights when the run kept them).
    """

    if not model_name or "/" in model_name:
        raise ValueError(f"bad model name {model_name!r}")
    model_dir = os.path.join(export_dir, model_name)
    version = next_version(model_dir) if version is None else int(version)
    final = os.path.join(model_dir, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"export version already exists: {final}")

    # EMA weights and standing statistics are swapped in for the export only; the live generator
    # is put back afterwards so that it still equals the last checkpoint.
    saved = [(v, v.numpy()) for v in trainer.generator.variables]
    try:
        return _export(
            trainer, export_dir, model_dir, final, version, standing_stats_batches, use_ema
        )
    finally:
        for v, value in saved:
            v.assign(value)


def _export(trainer, export_dir, model_dir, final, version, standing_stats_batches, use_ema):
    from tf_amgan import networks

    opt = trainer.g_optimizer
    inner = getattr(opt, "inner_optimizer", opt)
    if use_ema and getattr(inner, "use_ema", False):
        inner.finalize_variable_values(trainer.generator.trainable_variables)

    if trainer.config.batch_norm and standing_stats_batches > 0:
        counter = iter(range(10**9))

        def input_fn():
            i = next(counter)
            z = trainer.fixed_noise(trainer.global_batch, index=1000 + i)
            if trainer.latent:  # the categories the export will see: drawn from P(C)
                y = trainer.sample_categories(trainer.global_batch, index=7919 + i)
            else:
                y = tf.random.stateless_uniform(
                    [trainer.global_batch],
                    [trainer.config.seed, 7919 + i],
                    0,
                    trainer.num_classes,
                    tf.int32,
                )
            return trainer.generator_inputs(z, y)

        networks.set_standing_statistics(trainer.generator, input_fn, standing_stats_batches)

    serving_default, signature, sample, sample_signature = _serving_functions(trainer)
    archive = keras.export.ExportArchive()
    archive.track(trainer.generator)
    if trainer.objective.head_units > 1 and not (trainer.conditional or trainer.latent):
        archive.track(trainer.discriminator)
    archive.add_endpoint("serving_default", serving_default, input_signature=signature)
    archive.add_endpoint("sample", sample, input_signature=sample_signature)

    os.makedirs(model_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    try:
        archive.write_out(os.path.join(tmp, "model"), verbose=False)
        os.replace(os.path.join(tmp, "model"), final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def export_run(
    run_dir: str,
    export_dir: str,
    model_name: str | None = None,
    version: int | None = None,
    standing_stats_batches: int = 50,
) -> str:
    """Restores a run's last checkpoint and exports its generator."""
    from tf_amgan import runs

    trainer, _ = runs.restore_run(run_dir)
    return export_generator(
        trainer,
        export_dir,
        model_name or trainer.config.model_name,
        version=version,
        standing_stats_batches=standing_stats_batches,
    )


def exporter(config, log=print):
    """The training loop's `on_finish`: exports to `config.export_dir` (None when it is unset)."""
    if not config.export_dir:
        return None

    def on_finish(trainer) -> str:
        path = export_generator(
            trainer,
            config.export_dir,
            config.model_name,
            standing_stats_batches=config.standing_stats_batches,
        )
        log(f"exported generator to {path}")
        return path

    return on_finish


def make_flags():
    """The export command's flags, on a fresh FlagValues (see tf_amgan.commandline)."""
    from absl import flags

    fv = flags.FlagValues()
    flags.DEFINE_string(
        "run_dir", None, "Run directory written by run_experiment.py (required).", flag_values=fv
    )
    flags.DEFINE_string("export_dir", None, "Export base directory (required).", flag_values=fv)
    flags.DEFINE_string("model_name", None, "Default: the run's --model.", flag_values=fv)
    flags.DEFINE_integer("version", None, "Default: the next free integer.", flag_values=fv)
    flags.DEFINE_integer(
        "standing_stats_batches",
        50,
        "Batches for the standing batch-norm statistics.",
        flag_values=fv,
    )
    flags.mark_flags_as_required(["run_dir", "export_dir"], flag_values=fv)
    return fv


def main(argv=None) -> int:
    """Exports a run's generator and prints the export path; 2 after one `error:` line."""
    import sys

    from tf_amgan import commandline

    args = commandline.parse(
        make_flags, sys.argv[1:] if argv is None else argv, "python -m tf_amgan.export", __doc__
    )
    if isinstance(args, int):
        return args
    try:
        path = export_run(
            args.run_dir,
            args.export_dir,
            model_name=args.model_name,
            version=args.version,
            standing_stats_batches=args.standing_stats_batches,
        )
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        return commandline.error(e)
    print(path)
    return 0


def run() -> int:
    """Console-script entry point (`tf-amgan-export`)."""
    return main()


if __name__ == "__main__":
    raise SystemExit(main())
