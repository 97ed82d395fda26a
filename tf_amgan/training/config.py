"""The run configuration: one frozen record built from flags (or by hand in tests), validated up front."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from typing import Any

from tf_amgan.training import flags as flag_defs


class ConfigError(ValueError):
    """A bad combination of options; raised before any work is done."""


@dataclasses.dataclass(frozen=True)
class Config:
    # Modules imported before validation; they may register more models (losses.register_model).
    import_modules: tuple[str, ...] = ()
    model: str = "amgan"
    labeling: str = "dynamic"
    dataset: str = "cifar10"
    train_steps: int = 100000
    batch_size: int = 100
    output_dir: str = "runs/default"
    seed: int = 0
    strategy: str = "default"
    export_dir: str = ""
    data_dir: str | None = None
    download: str = "auto"
    pad_to_32: bool = True
    mixture_std: float | None = None
    arch: str = "auto"
    g_width: float = 1.0
    d_width: float = 1.0
    z_dim: int = 100
    mlp_depth: int = 4
    mlp_units: int = 128
    weight_norm: bool | None = None
    batch_norm: bool = True
    input_noise_std: float | None = None
    dropout: float | None = None
    g_layer_noise: bool = False
    extra_conv: str = "auto"
    label_smoothing: float = 1.0
    temperature: float = 0.5
    acgan_source_loss: str = "nonsaturating"
    fake_logit: str = "trainable"
    d_aux_weight: float | None = None
    g_aux_weight: float | None = None
    projection: bool = False
    class_priors: tuple[float, ...] | None = None
    # Semi-/unsupervised K+1 models (M-12..M-15; tf_amgan.losses.semisup).
    labeled_fraction: float = 1.0
    num_classes: int = 0
    unlabeled_marginal_weight: float | None = None
    class_mode_weight: float | None = None
    # Latent-code models (CGPGAN, InfoGAN family; tf_amgan.losses.cgpgan, tf_amgan.training.selfsup).
    num_categories: int = 0
    lambda_cls: float | None = None
    lambda_creg: float | None = None
    lambda_r2: float | None = None
    prior: str = "auto"
    category_prior: tuple[float, ...] | None = None
    prior_decay: float = 0.999
    prior_update_start: int = 0
    prob_normalize_until: int = -1
    gumbel_temperature: float = 0.1
    prior_lr: float = 1e-4
    optimizer: str = "adam"
    weight_decay: float = 1e-4
    equalized_lr: bool = False
    lr: float = 4e-4
    d_lr_multiplier: float = 1.0
    lr_decay: float = 0.5
    lr_decay_steps: int = 100000
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    ema_decay: float = 0.0
    mixed_precision: bool = False
    jit_compile: bool = False
    resume: bool = True
    log_every: int = 100
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    sample_every: int = 1000
    standing_stats_batches: int = 50
    export_model_name: str | None = None
    progress: bool = True
    devices: tuple[str, ...] | None = None
    num_cpu_devices: int = 0
    deterministic: bool = True
    eval_every: int = 0
    eval_samples: int = 5000
    eval_metrics: tuple[str, ...] = ("am", "is")
    classifier: str | None = None

    # ---- derived values -------------------------------------------------------------------
    @property
    def resolved_arch(self) -> str:
        if self.arch != "auto":
            return self.arch
        from tf_amgan import data

        return "amgan" if data.get_info(self.dataset, **self.data_options).is_image else "mlp"

    @property
    def conditional(self) -> bool:
        return self.labeling == "predefined"

    @property
    def resolved_extra_conv(self) -> bool:
        if self.extra_conv == "auto":
            return self.conditional and self.resolved_arch == "amgan"
        return self.extra_conv == "true"

    @property
    def latent_code(self) -> bool:
        """Whether the model's G takes a categorical code c_f ~ P(C) (P003 models)."""
        from tf_amgan.losses import registry

        return registry.uses_latent_code(self.model)

    def resolved_num_classes(self, dataset_classes: int) -> int:
        """K of the class-label models: --num_classes (unsupervised only), else the data set's."""
        return self.num_classes or int(dataset_classes)

    def resolved_num_categories(self, dataset_classes: int) -> int:
        """d_c of a latent-code model: --num_categories, else the data set's K (at least 1)."""
        return self.num_categories or max(int(dataset_classes), 1)

    @property
    def model_name(self) -> str:
        return self.export_model_name or self.model

    @property
    def data_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {}
        if self.dataset in ("mnist", "fashion_mnist"):
            opts["pad_to_32"] = self.pad_to_32
        if self.mixture_std is not None and self.dataset in ("ring8", "overlap10", "clusters4"):
            opts["std"] = self.mixture_std
        return opts

    @property
    def download_arg(self) -> bool | None:
        return {"auto": None, "true": True, "false": False}[self.download]

    def objective_options(self) -> dict[str, Any]:
        """Options for tf_amgan.losses.get_objective that apply to this model."""
        opts: dict[str, Any] = {}
        if self.label_smoothing != 1.0:
            opts["label_smoothing"] = self.label_smoothing
        if self.model == "samgan":
            opts["temperature"] = self.temperature
        if self.model == "acgan":
            opts["source_loss"] = self.acgan_source_loss
        if self.fake_logit != "trainable":
            opts["fake_logit"] = self.fake_logit
        if self.d_aux_weight is not None:
            opts["d_aux_weight"] = self.d_aux_weight
        if self.g_aux_weight is not None:
            opts["g_aux_weight"] = self.g_aux_weight
        for name in ("lambda_cls", "lambda_creg", "lambda_r2"):
            if getattr(self, name) is not None:
                opts[name] = getattr(self, name)
        if self.prior != "auto":
            opts["prior"] = self.prior
        if self.projection:
            opts["projection"] = True
        if self.class_priors is not None:
            opts["class_priors"] = self.class_priors
        if self.labeled_fraction < 1.0:
            opts["semi_supervised"] = True
        if self.unlabeled_marginal_weight is not None:
            opts["unlabeled_marginal_weight"] = self.unlabeled_marginal_weight
        if self.class_mode_weight is not None:
            opts["class_mode_weight"] = self.class_mode_weight
        return opts

    # ---- validation -----------------------------------------------------------------------
    def validate(self) -> Config:
        """Checks everything that can be checked without data or devices; raises ConfigError."""
        for module in self.import_modules:
            try:
                importlib.import_module(module)
            except ImportError as e:
                raise ConfigError(f"--import_modules: cannot import {module!r} ({e})") from e
        from tf_amgan.losses import registry

        models = tuple(registry.available_objectives())
        _check(self.model in models, f"unknown --model={self.model!r}; choose from {models}")
        _check(
            self.dataset in flag_defs.DATASETS,
            f"unknown --dataset={self.dataset!r}; choose from {flag_defs.DATASETS}",
        )
        _check(self.labeling in ("dynamic", "predefined"), f"unknown --labeling={self.labeling!r}")
        _check(
            self.strategy in ("default", "mirrored", "multi_worker"),
            f"unknown --strategy={self.strategy!r}",
        )
        for name in (
            "train_steps",
            "batch_size",
            "z_dim",
            "log_every",
            "checkpoint_every",
            "d_steps",
        ):
            _check(getattr(self, name) > 0, f"--{name} must be positive, got {getattr(self, name)}")
        for name in ("sample_every", "eval_every", "num_cpu_devices", "standing_stats_batches"):
            _check(getattr(self, name) >= 0, f"--{name} must be >= 0, got {getattr(self, name)}")
        _check(self.keep_checkpoints >= 1, "--keep_checkpoints must be >= 1")
        _check(self.g_width > 0 and self.d_width > 0, "--g_width and --d_width must be positive")
        _check(
            self.dropout is None or 0.0 <= self.dropout < 1.0,
            f"--dropout must be in [0, 1), got {self.dropout}",
        )
        _check(
            self.input_noise_std is None or self.input_noise_std >= 0,
            "--input_noise_std must be >= 0",
        )
        _check(0.0 < self.label_smoothing <= 1.0, "--label_smoothing must be in (0, 1]")
        _check(self.temperature > 0, "--temperature must be positive")
        _check(0.0 <= self.ema_decay < 1.0, "--ema_decay must be in [0, 1)")
        _check(self.lr > 0 and self.d_lr_multiplier > 0, "learning rates must be positive")
        _check(0.0 < self.lr_decay <= 1.0 and self.lr_decay_steps > 0, "bad learning-rate decay")
        _check(0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0, "Adam betas must be in [0, 1)")
        _check(self.eval_samples > 0, "--eval_samples must be positive")
        _check(bool(self.output_dir), "--output_dir must not be empty")
        _check(self.optimizer in ("adam", "adamw"), f"unknown --optimizer={self.optimizer!r}")
        _check(self.weight_decay >= 0, "--weight_decay must be >= 0")
        _check(
            self.prior in ("auto", "fixed", "dynamic", "gumbel"), f"unknown --prior={self.prior!r}"
        )
        _check(0.0 <= self.prior_decay < 1.0, "--prior_decay must be in [0, 1)")
        _check(self.prior_update_start >= 0, "--prior_update_start must be >= 0")
        _check(self.gumbel_temperature > 0, "--gumbel_temperature must be positive")
        _check(self.prior_lr > 0, "--prior_lr must be positive")
        _check(self.num_categories >= 0, "--num_categories must be >= 0")
        _check(0.0 <= self.labeled_fraction <= 1.0, "--labeled_fraction must be in [0, 1]")
        _check(self.num_classes >= 0, "--num_classes must be >= 0")
        _check(
            not self.num_classes or self.labeled_fraction == 0.0,
            "--num_classes (a free number of class logits) needs --labeled_fraction=0 "
            "(unsupervised); with labels K is the data set's",
        )
        _check(
            self.labeled_fraction == 1.0 or self.labeling == "dynamic",
            "--labeled_fraction < 1 (semi-/unsupervised, M-12/M-13) needs --labeling=dynamic",
        )
        self._validate_latent()

        from tf_amgan import data, losses

        dataset_k = data.get_info(self.dataset, **self.data_options).num_classes
        k = (
            self.resolved_num_categories(dataset_k)
            if self.latent_code
            else max(self.resolved_num_classes(dataset_k), 1)
        )
        try:
            objective = losses.get_objective(self.model, k, **self.objective_options())
        except (TypeError, ValueError) as e:
            raise ConfigError(f"--model={self.model}: {e}") from e
        _check(
            self.labeling in objective.labelings,
            f"--model={self.model} cannot use --labeling={self.labeling} "
            f"(allowed: {', '.join(objective.labelings)})",
        )
        return self

    def _validate_latent(self) -> None:
        if not self.latent_code:
            for name in ("num_categories", "category_prior"):
                _check(
                    not getattr(self, name),
                    f"--{name} applies only to latent-code models (cgpgan, infogan, "
                    f"elastic_infogan, gan_categorical), not --model={self.model}",
                )
            return
        if self.category_prior is not None:
            from tf_amgan import data

            k = data.get_info(self.dataset, **self.data_options).num_classes
            d_c = self.resolved_num_categories(k)
            _check(
                len(self.category_prior) == d_c,
                f"--category_prior has {len(self.category_prior)} values, the model has "
                f"{d_c} categories (--num_categories)",
            )
            _check(
                all(p >= 0 for p in self.category_prior) and sum(self.category_prior) > 0,
                "--category_prior must be non-negative and not all zero",
            )

    # ---- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown config keys: {unknown}")
        values = dict(values)
        for key in ("devices", "eval_metrics", "import_modules"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        for key in ("category_prior", "class_priors"):
            if values.get(key) is not None:
                values[key] = tuple(float(v) for v in values[key])
        return cls(**values)

    @classmethod
    def from_flags(cls, flag_values) -> Config:
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in flag_values:
                values[f.name] = flag_values[f.name].value
        return cls.from_dict(values)

    @classmethod
    def from_flagfile(cls, path: str, **overrides) -> Config:
        """The Config a `run_experiment.py --flagfile=path` run would use, with `overrides`.

        Parses into a private FlagValues, so it can be called repeatedly (experiment scripts).
        """
        import copy

        from absl import flags as absl_flags

        flag_defs.define_flags()
        fv = absl_flags.FlagValues()
        names = {f.name for f in dataclasses.fields(cls)}
        for name, flag in absl_flags.FLAGS._flags().items():
            if name == flag.name and name in names:
                fv[name] = copy.deepcopy(flag)  # fresh copies: parsing must not leak between calls
                fv[name].unparse()
        argv = fv(["prog", f"--flagfile={path}"], known_only=True)
        if argv != ["prog"]:
            raise ConfigError(f"{path}: unknown flags {argv[1:]}")
        return cls.from_flags(fv).replace(**overrides)

    def replace(self, **changes) -> Config:
        return dataclasses.replace(self, **changes)


# Options that may differ between the first run and a resumed one without changing the model.
RESUMABLE_CHANGES = frozenset(
    {
        "train_steps",
        "output_dir",
        "export_dir",
        "resume",
        "log_every",
        "checkpoint_every",
        "keep_checkpoints",
        "sample_every",
        "standing_stats_batches",
        "export_model_name",
        "progress",
        "data_dir",
        "download",
        "eval_every",
        "eval_samples",
        "eval_metrics",
        "classifier",
        "devices",
        "num_cpu_devices",
        "strategy",
        "jit_compile",
    }
)


def incompatible_changes(old: Config, new: Config) -> list[str]:
    """Names of options whose change would make resuming `old` with `new` meaningless."""
    a, b = old.to_dict(), new.to_dict()
    return sorted(k for k in a if k not in RESUMABLE_CHANGES and a[k] != b.get(k))


def load(path: str) -> Config:
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        return Config.from_dict(json.load(f))


def _check(condition: bool, message: str):
    if not condition:
        raise ConfigError(message)
