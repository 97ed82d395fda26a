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
    "cgpgan",
    "infogan",
    "elastic_infogan",
    "gan_categorical",
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
    flags.DEFINE_string(
        "model",
        "amgan",
        f"Objective / discriminator head (spec section 1): {', '.join(MODELS)}, or a model a "
        "module of --import_modules registers (tf_amgan.losses.register_model).",
    )
    flags.DEFINE_list(
        "import_modules",
        [],
        "Python modules to import before the configuration is checked; they may register model "
        "variants (BUILD.md, 'Adding a model variant').",
    )
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
    flags.DEFINE_list(
        "class_priors",
        None,
        "K+1 GAN class priors p_0 (fake), p_1..p_K weighting the D terms (P002 Eq. 1, M-16), "
        "comma-separated; default: all 1 (LabelGAN).",
    )
    flags.DEFINE_boolean(
        "projection",
        False,
        "Projection discriminator head (P002 2.3): K extra head units e_k.phi(x); for K+1 heads p_y "
        "is added to the class logit l_y (tf_amgan.losses.projection). gan + projection needs "
        "--labeling=predefined.",
    )

    # --- Semi-/unsupervised K+1 models (M-12..M-15).
    flags.DEFINE_float(
        "labeled_fraction",
        1.0,
        "Share of training examples whose label is used (K+1 models, dynamic labeling); the others "
        "are unlabeled (M-12). 0 = unsupervised AM-GAN (M-13) with --num_classes class logits.",
    )
    flags.DEFINE_integer(
        "num_classes",
        0,
        "Class logits K of an unsupervised model (--labeled_fraction=0); 0 = data set's.",
    )
    flags.DEFINE_float(
        "unlabeled_marginal_weight",
        None,
        "Weight of H(uniform, R(E_unl D)) on unlabeled data (M-13); default 1.",
    )
    flags.DEFINE_float(
        "class_mode_weight",
        None,
        "Weight of the class-level mode-collapse G term (M-14); default 0 (M-15 uses 1).",
    )

    # --- Latent-code models: CGPGAN (M-23), InfoGAN (M-20), Elastic InfoGAN (M-22), M-21 (P003).
    flags.DEFINE_integer(
        "num_categories", 0, "Categories d_c of G's code c_f (0 = the data set's K; P003: 16)."
    )
    flags.DEFINE_float("lambda_cls", None, "Weight of L_cls in Q (and G for InfoGAN); default 1.")
    flags.DEFINE_float(
        "lambda_creg", None, "Classifier gradient penalty weight (P003 Eq. 10); cgpgan default 0.1."
    )
    flags.DEFINE_float("lambda_r2", None, "R2 penalty on fakes in D (P003); default 1.")
    flags.DEFINE_enum(
        "prior",
        "auto",
        ["auto", "fixed", "dynamic", "gumbel"],
        "P(C): fixed, dynamic EMA of Q on real data (cgpgan), or learned Gumbel-softmax "
        "(elastic_infogan); auto = the model's.",
    )
    flags.DEFINE_list(
        "category_prior",
        None,
        "Initial (fixed) P(C), d_c comma-separated values, e.g. 0.1,0.2,0.3,0.4 (default uniform).",
    )
    flags.DEFINE_float("prior_decay", 0.999, "EMA decay of the dynamic prior (P003).")
    flags.DEFINE_integer(
        "prior_update_start",
        0,
        "Step from which P(C) is updated (P003: after epoch 30 of 100 on the clusters).",
    )
    flags.DEFINE_integer(
        "prob_normalize_until",
        -1,
        "prob_normalize (P003 Eq. 13) Q's real predictions before this step; -1 = --prior_update_start.",
    )
    flags.DEFINE_float("gumbel_temperature", 0.1, "Gumbel-softmax temperature (elastic_infogan).")
    flags.DEFINE_float("prior_lr", 1e-4, "Learning rate of the Gumbel prior logits.")

    # --- Optimisation.
    flags.DEFINE_float("lr", 4e-4, "Initial learning rate of G (and D before the multiplier).")
    flags.DEFINE_float("d_lr_multiplier", 1.0, "D learning rate = lr * this (reference code: 2.0).")
    flags.DEFINE_float("lr_decay", 0.5, "Staircase exponential decay factor.")
    flags.DEFINE_integer("lr_decay_steps", 100000, "Decay the learning rate every this many steps.")
    flags.DEFINE_enum(
        "optimizer",
        "adam",
        ["adam", "adamw"],
        "Adam, or AdamW with decoupled --weight_decay (P003: AdamW, beta1 0, beta2 0.99).",
    )
    flags.DEFINE_float("weight_decay", 1e-4, "AdamW weight decay (--optimizer=adamw).")
    flags.DEFINE_boolean(
        "equalized_lr",
        False,
        "Equalized learning rate (ProGAN) for the MLP networks' dense layers (P003 A-8).",
    )
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
