"""Every command-line flag of tf-amgan: the only module that defines absl flags.

All flags are optional so that library code and tests never need parsed FLAGS; `run_experiment.py`
calls `define_flags()` and turns the parsed values into a `config.Config`.
"""

from absl import flags

MODELS = (
    "gan",
    "gan_star",
    "labelgan",
    "amgan",
    "samgan",
    "acgan",
    "acgan_star",
    "acgan_star_lowaux",
    "acgan_plus",
    "kplus1",
    "modegan",
)
DATASETS = (
    "cifar10",
    "cifar100",
    "mnist",
    "fashion_mnist",
    "tiny_imagenet",
    "ring8",
    "overlap10",
    "clusters4",
)

_DEFINED = False


def define_flags():
    """Defines all flags once (idempotent)."""
    global _DEFINED
    if _DEFINED:
        return
    _DEFINED = True

    # --- What to train (names fixed: scripts rely on them).
    flags.DEFINE_enum("model", "amgan", MODELS, "Objective / discriminator head (spec section 1).")
    flags.DEFINE_enum(
        "labeling",
        "dynamic",
        ["dynamic", "predefined"],
        "Target-class selection (spec 1.2): 'dynamic' = G(z), target argmax of D's class logits; "
        "'predefined' = G(z, onehot(y)) with the class-condition discriminator (extra stride-1 conv).",
    )
    flags.DEFINE_enum("dataset", "cifar10", DATASETS, "Training data set.")
    flags.DEFINE_integer("train_steps", 100000, "Number of D+G iterations.")
    flags.DEFINE_integer("batch_size", 100, "Global batch size (split over replicas).")
    flags.DEFINE_string("output_dir", "runs/default", "Run directory (checkpoints, logs, samples).")
    flags.DEFINE_integer(
        "seed", 0, "Seed for weights, data order, noise; fixed seed = reproducible run on CPU."
    )
    flags.DEFINE_enum(
        "strategy",
        "default",
        ["default", "mirrored", "multi_worker"],
        "tf.distribute strategy: one device, MirroredStrategy over local devices, or "
        "MultiWorkerMirroredStrategy configured by TF_CONFIG.",
    )
    flags.DEFINE_string(
        "export_dir",
        "",
        "Export the generator as a TF Serving SavedModel under <export_dir>/<model_name>/<version>/ "
        "at the end of training. Empty = no export.",
    )

    # --- Data.
    flags.DEFINE_string(
        "data_dir", None, "tfds data dir (default $TF_AMGAN_DATA_DIR or ~/tensorflow_datasets)."
    )
    flags.DEFINE_enum(
        "download", "auto", ["auto", "true", "false"], "Whether tfds may download missing data."
    )
    flags.DEFINE_boolean(
        "pad_to_32", True, "Zero-pad 28x28 sets (MNIST, Fashion-MNIST) to 32x32 (A-3)."
    )
    flags.DEFINE_float(
        "mixture_std", None, "Std of the synthetic 2-D mixture components (default: the paper's)."
    )

    # --- Networks (spec A-*).
    flags.DEFINE_enum(
        "arch",
        "auto",
        ["auto", "amgan", "acgan", "mlp"],
        "Network family: amgan (A-1/A-3), acgan (A-6), mlp (A-4/A-8). auto = amgan for images, mlp for 2-D.",
    )
    flags.DEFINE_float(
        "g_width", 1.0, "Generator width multiplier (1.0 = paper; CPU runs use 0.25-0.5)."
    )
    flags.DEFINE_float("d_width", 1.0, "Discriminator width multiplier (1.5 = enhanced D of A-2).")
    flags.DEFINE_integer("z_dim", 100, "Noise dimension.")
    flags.DEFINE_integer("mlp_depth", 4, "Hidden layers of the MLP networks (arch=mlp).")
    flags.DEFINE_integer("mlp_units", 128, "Hidden units of the MLP networks (arch=mlp).")
    flags.DEFINE_boolean(
        "weight_norm",
        None,
        "Weight normalization with data-dependent init (default: on for amgan, A-1).",
    )
    flags.DEFINE_boolean("batch_norm", True, "Batch normalization (A-1 lost column, Q-4).")
    flags.DEFINE_float(
        "input_noise_std",
        None,
        "Std of the Gaussian noise on D's input (default per arch: 0.1 / none for mlp).",
    )
    flags.DEFINE_float(
        "dropout", None, "Dropout rate in D (default per arch: amgan 0.3, acgan 0.5, mlp 0)."
    )
    flags.DEFINE_boolean("g_layer_noise", False, "Noise at each G deconvolution (P000, Q-4).")
    flags.DEFINE_enum(
        "extra_conv",
        "auto",
        ["auto", "true", "false"],
        "Extra stride-1 conv in D ('Convolution*' of A-1); auto = on for predefined labeling with arch amgan.",
    )

    # --- Objective options (tf_amgan.losses.get_objective).
    flags.DEFINE_float(
        "label_smoothing", 1.0, "On-target probability s of the F(.) part (M-11); 1 = off."
    )
    flags.DEFINE_float("temperature", 0.5, "SAM-GAN temperature t (M-5).")
    flags.DEFINE_enum(
        "acgan_source_loss",
        "nonsaturating",
        ["nonsaturating", "minimax"],
        "AC-GAN G source loss (Q-8).",
    )
    flags.DEFINE_enum("fake_logit", "trainable", ["trainable", "zero"], "K+1 fake logit (Q-6).")
    flags.DEFINE_float("d_aux_weight", None, "Aux-classifier weight in D (default per model).")
    flags.DEFINE_float("g_aux_weight", None, "Aux-classifier weight in G (default per model).")

    # --- Optimisation.
    flags.DEFINE_float("lr", 4e-4, "Initial learning rate of G (and D before the multiplier).")
    flags.DEFINE_float("d_lr_multiplier", 1.0, "D learning rate = lr * this (reference code: 2.0).")
    flags.DEFINE_float("lr_decay", 0.5, "Staircase exponential decay factor.")
    flags.DEFINE_integer("lr_decay_steps", 100000, "Decay the learning rate every this many steps.")
    flags.DEFINE_float("beta1", 0.5, "Adam beta1.")
    flags.DEFINE_float("beta2", 0.999, "Adam beta2.")
    flags.DEFINE_integer("d_steps", 1, "D updates per G update.")
    flags.DEFINE_float("ema_decay", 0.0, "EMA of the generator weights (0 = off, e.g. 0.999).")
    flags.DEFINE_boolean(
        "mixed_precision", False, "mixed_float16 compute with dynamic loss scaling (GPU)."
    )
    flags.DEFINE_boolean("jit_compile", False, "XLA-compile the train step.")

    # --- Run directory, logging, checkpoints.
    flags.DEFINE_boolean(
        "resume", True, "Continue from the last checkpoint in --output_dir if any."
    )
    flags.DEFINE_integer(
        "log_every", 100, "Write metrics.jsonl / TensorBoard scalars every N steps."
    )
    flags.DEFINE_integer(
        "checkpoint_every", 1000, "Checkpoint every N steps (and on SIGINT/SIGTERM)."
    )
    flags.DEFINE_integer("keep_checkpoints", 3, "Checkpoints kept by the CheckpointManager.")
    flags.DEFINE_integer(
        "sample_every", 1000, "Write a PNG sample grid every N steps (0 = only at the end)."
    )
    flags.DEFINE_integer(
        "standing_stats_batches", 50, "Batches used for standing BN statistics at export."
    )
    flags.DEFINE_string("export_model_name", None, "TF Serving model name (default: --model).")
    flags.DEFINE_boolean("progress", True, "Console progress bar with ETA.")
    flags.DEFINE_list(
        "devices", None, "Devices for --strategy=mirrored (default: all local GPUs, else CPU)."
    )
    flags.DEFINE_integer(
        "num_cpu_devices",
        0,
        "Split the CPU into this many logical devices before anything runs (testing MirroredStrategy "
        "on CPU); 0 = leave as is.",
    )
    flags.DEFINE_boolean(
        "deterministic", True, "Enable TF op determinism (exactly reproducible on CPU)."
    )

    # --- Periodic evaluation (tf_amgan.metrics).
    flags.DEFINE_integer("eval_every", 0, "Evaluate every N steps (0 = never during training).")
    flags.DEFINE_integer("eval_samples", 5000, "Generated samples per periodic evaluation.")
    flags.DEFINE_list("eval_metrics", ["am", "is"], "Metrics for periodic evaluation.")
    flags.DEFINE_string(
        "classifier", None, "Dataset classifier (SavedModel dir) for periodic evaluation."
    )
