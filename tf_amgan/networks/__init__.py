"""Generator and discriminator networks (spec A-1 .. A-8) and their building blocks.

Public API:
  build_generator(arch, ...), build_discriminator(arch, ...)  -> keras.Model
  ARCHS = ("amgan", "acgan", "mlp")
  WeightNormalization, data_dependent_init, GaussianNoise, Dropout, batch_norm,
  set_standing_statistics, standing_statistics, stochastic_layers_suspended, walk_layers

Per-architecture defaults (used when an argument is left as None):

| arch  | spec      | weight_norm | input_noise_std      | dropout | image_shape |
|-------|-----------|-------------|----------------------|---------|-------------|
| amgan | A-1/2/3   | True        | 0.1 (D input)        | 0.3     | (32, 32, 3) |
| acgan | A-6       | False       | 0.1 (every D conv)   | 0.5     | (32, 32, 3) |
| mlp   | A-4 / A-8 | False       | 0.0                  | 0.0     | (2,)        |
"""

from __future__ import annotations

import keras

from tf_amgan.networks import acgan, amgan, mlp
from tf_amgan.networks import builders as L
from tf_amgan.networks.layers import (
    Dropout,
    GaussianNoise,
    WeightNormalization,
    batch_norm,
    data_dependent_init,
    set_standing_statistics,
    standing_statistics,
    stochastic_layers_suspended,
    walk_layers,
)

__all__ = [
    "ARCHS",
    "build_generator",
    "build_discriminator",
    "WeightNormalization",
    "data_dependent_init",
    "GaussianNoise",
    "Dropout",
    "batch_norm",
    "set_standing_statistics",
    "standing_statistics",
    "stochastic_layers_suspended",
    "walk_layers",
]

_MODULES = {"amgan": amgan, "acgan": acgan, "mlp": mlp}
ARCHS = tuple(_MODULES)

_ARCH_DEFAULTS = {
    "amgan": {
        "weight_norm": True,
        "input_noise_std": 0.1,
        "dropout": 0.3,
        "image_shape": (32, 32, 3),
    },
    "acgan": {
        "weight_norm": False,
        "input_noise_std": 0.1,
        "dropout": 0.5,
        "image_shape": (32, 32, 3),
    },
    "mlp": {"weight_norm": False, "input_noise_std": 0.0, "dropout": 0.0, "image_shape": (2,)},
}
_COMMON_OPTIONS = {"bn_momentum": 0.99, "seed": None}
_MLP_OPTIONS = {"depth": mlp.DEFAULT_DEPTH, "units": mlp.DEFAULT_UNITS, "equalized_lr": False}


def _module(arch):
    if arch not in _MODULES:
        raise ValueError(f"unknown network arch {arch!r}; choose from {ARCHS}")
    return _MODULES[arch]


def _options(arch, kwargs, builder, extra):
    allowed = dict(_COMMON_OPTIONS, **extra)
    if arch == "mlp":
        allowed.update(_MLP_OPTIONS)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(
            f"{builder}(arch={arch!r}) got unexpected options {unknown}; allowed: {sorted(allowed)}"
        )
    return {**allowed, **kwargs}


def _default(value, arch, key):
    return _ARCH_DEFAULTS[arch][key] if value is None else value


def _network_options(arch, width, image_shape, weight_norm, batch_norm, sync_batch_norm, rng,
                     name, opts) -> L.NetworkOptions:  # fmt: skip
    return L.NetworkOptions(
        width=width,
        image_shape=_default(image_shape, arch, "image_shape"),
        weight_norm=_default(weight_norm, arch, "weight_norm"),
        batch_norm=batch_norm,
        sync_batch_norm=sync_batch_norm,
        rng=rng,
        name=name,
        **opts,
    )


def build_generator(
    arch: str,
    *,
    num_classes: int,
    conditional: bool,
    z_dim: int = 100,
    width: float = 1.0,
    image_shape=None,
    weight_norm: bool | None = None,
    batch_norm: bool = True,
    layer_noise: bool = False,
    sync_batch_norm: bool = False,
    rng=None,
    name: str = "generator",
    **kwargs,
) -> keras.Model:
    """Builds the generator of `arch` ("amgan" A-1/A-3, "acgan" A-6, "mlp" A-4/A-8).

    See the arch module's `build_generator` for its spec table. Defaults are the paper's; None means
    the per-arch default of the module docstring table.

    Args:
      arch: "amgan", "acgan" or "mlp".
      num_classes: K (the one-hot width when conditional).
      conditional: predefined labeling: the model takes [noise [N, z_dim], onehot [N, K]].
      z_dim: noise dimension.
      width: multiplier of every hidden width (> 0).
      image_shape: output (H, W, C) for conv archs (square; e.g. (32,32,3), (32,32,1), (28,28,1),
        (64,64,3)); (data_dim,) for "mlp". None: (32, 32, 3) / (2,).
      weight_norm: weight-normalised layers (None: arch default).
      batch_norm: BN on hidden layers.
      layer_noise: training-only Gaussian noise on every deconv (hidden-layer) input (Q-4).
      sync_batch_norm: synchronised BN (MirroredStrategy runs equal single-device runs).
      rng: optional tf.random.Generator for the stochastic layers (create it in the strategy scope).
      name: model name.
      **kwargs: bn_momentum (0.99), layer_noise_std (0.1), seed (None: global Keras seed),
        normalize_code (False: standardise the one-hot, P003 code); for "mlp" also depth (4),
        units (512) and equalized_lr (False, P003 A-8).

    Returns:
      keras.Model: noise (or [noise, onehot]) -> images float32 [N, H, W, C] in [-1, 1] (tanh), or
      samples float32 [N, data_dim] (linear) for "mlp".

    Raises:
      ValueError: unknown arch or option, impossible shape, bad width/dimensions.
    """
    module = _module(arch)
    opts = _options(
        arch, kwargs, "build_generator", {"layer_noise_std": 0.1, "normalize_code": False}
    )
    layer_noise_std = opts.pop("layer_noise_std")
    spec = L.GeneratorSpec(
        num_classes=num_classes,
        conditional=bool(conditional),
        z_dim=z_dim,
        layer_noise_std=layer_noise_std if layer_noise else 0.0,
        normalize_code=opts.pop("normalize_code"),
    )
    return module.build_generator(
        _network_options(arch, width, image_shape, weight_norm, batch_norm, sync_batch_norm,
                         rng, name, opts),
        spec,
    )  # fmt: skip


def build_discriminator(
    arch: str,
    *,
    head_units: int,
    image_shape=None,
    width: float = 1.0,
    extra_conv: bool = False,
    input_noise_std: float | None = None,
    dropout: float | None = None,
    weight_norm: bool | None = None,
    batch_norm: bool = True,
    sync_batch_norm: bool = False,
    rng=None,
    name: str = "discriminator",
    **kwargs,
) -> keras.Model:
    """Builds the discriminator of `arch`: inputs -> linear logits [N, head_units].

    See the arch module's `build_discriminator` for its spec table. The heads (softmax / sigmoid) are
    applied by the losses (Q-6).

    Args:
      arch: "amgan", "acgan" or "mlp".
      head_units: number of logits.
      image_shape: input (H, W, C) (conv archs) or (data_dim,) ("mlp"); None: (32, 32, 3) / (2,).
      width: multiplier of every hidden width (A-2 enhanced D: 1.5).
      extra_conv: the stride-1 conv of class-condition runs (A-1 Convolution*); an extra hidden
        layer for "mlp".
      input_noise_std: training-only Gaussian noise std: D input ("amgan", "mlp") or every conv
        input ("acgan", Q-15). None: arch default.
      dropout: training-only dropout rate after every hidden block. None: arch default.
      weight_norm, batch_norm, sync_batch_norm, rng, name: as in `build_generator`.
      **kwargs: bn_momentum (0.99), seed; for "mlp" also depth (4), units (512) and
        equalized_lr (False).

    Returns:
      keras.Model: images float32 [N, H, W, C] (or [N, data_dim]) -> logits float32 [N, head_units].

    Raises:
      ValueError: unknown arch or option, impossible shape, bad width / head_units.
    """
    module = _module(arch)
    opts = _options(arch, kwargs, "build_discriminator", {})
    spec = L.DiscriminatorSpec(
        head_units=head_units,
        extra_conv=bool(extra_conv),
        input_noise_std=_default(input_noise_std, arch, "input_noise_std"),
        dropout=_default(dropout, arch, "dropout"),
    )
    return module.build_discriminator(
        _network_options(arch, width, image_shape, weight_norm, batch_norm, sync_batch_norm,
                         rng, name, opts),
        spec,
    )  # fmt: skip
