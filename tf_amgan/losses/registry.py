"""Model registry: model name -> objective factory, its options and defaults, and its family.

This is the only place that maps model names to loss variants (style anchors: no `if model == ...`
elsewhere). Aliases keep their own `name` but build the same objective. The family
(`tf_amgan.training.families`) is the train-step side of a model: the trainer asks it, never the
name.
A new variant is one `register_model` call (e.g. from a module named in --import_modules).
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Callable
from typing import Any

from tf_amgan.losses import binary, cgpgan, common, kplus1, projection, semisup

__all__ = [
    "available_objectives",
    "family_of",
    "get_objective",
    "register_model",
    "unregister_model",
    "uses_latent_code",
]


@dataclasses.dataclass(frozen=True)
class _Entry:
    factory: Callable[..., common.Objective]
    defaults: dict[str, Any]  # every accepted option with its default
    summary: str
    # The train-step side, a kind of tf_amgan.training.families: "class_label" or "latent_code"
    # (G takes a categorical code c_f ~ P(C), tf_amgan.losses.cgpgan).
    family: str = "class_label"


_SMOOTH = {"label_smoothing": 1.0, "projection": False}
_KPLUS1 = {
    **_SMOOTH,
    "fake_logit": "trainable",
    "class_priors": None,
    "semi_supervised": False,
    "unlabeled_marginal_weight": 1.0,
    "class_mode_weight": 0.0,
}
_ACGAN = {**_SMOOTH, "d_aux_weight": 1.0, "g_aux_weight": 1.0}


def _aux(fake_aux: str, **fixed):
    return functools.partial(binary.BinaryAuxObjective, fake_aux=fake_aux, **fixed)


def _kp1(generator: str):
    def factory(
        name,
        num_classes,
        *,
        semi_supervised=False,
        unlabeled_marginal_weight=1.0,
        class_mode_weight=0.0,
        **options,
    ):
        base = kplus1.KPlusOneObjective(name, num_classes, generator=generator, **options)
        if not semi_supervised and class_mode_weight == 0:
            return base
        return semisup.SemiSupervisedObjective(
            base,
            unlabeled_marginal_weight=unlabeled_marginal_weight,
            class_mode_weight=class_mode_weight,
        )

    return factory


def _latent(**fixed):
    return functools.partial(cgpgan.LatentCodeObjective, **fixed)


_INFOGAN = {"lambda_cls": 1.0, "lambda_creg": 0.0, "lambda_r2": 1.0}
_INFO = _latent(head="single", classifier=True, generator_classification=True)

_LABELGAN = _Entry(_kp1("labelgan"), _KPLUS1, "LabelGAN (M-3)")
_AMGAN = _Entry(_kp1("amgan"), _KPLUS1, "AM-GAN (M-4)")

_REGISTRY: dict[str, _Entry] = {
    "gan": _Entry(binary.GANObjective, _SMOOTH, "vanilla GAN, -log D (M-1)"),
    "gan_star": _Entry(
        _aux("none", g_aux_weight=None), {**_SMOOTH, "d_aux_weight": 0.1}, "GAN* (M-2, Q-7)"
    ),
    "labelgan": _LABELGAN,
    "kplus1": dataclasses.replace(_LABELGAN, summary="P002 K+1 GAN = LabelGAN (M-16)"),
    "amgan": _AMGAN,
    "modegan": dataclasses.replace(_AMGAN, summary="P002 Mode GAN = AM-GAN (M-17)"),
    "samgan": _Entry(_kp1("samgan"), {**_KPLUS1, "temperature": 0.5}, "SAM-GAN (M-5)"),
    "acgan": _Entry(
        _aux("target"), {**_ACGAN, "source_loss": "nonsaturating"}, "original AC-GAN (M-6, Q-8)"
    ),
    "acgan_star": _Entry(_aux("none"), _ACGAN, "AC-GAN* (M-7)"),
    "acgan_star_lowaux": _Entry(
        _aux("none"), {**_ACGAN, "g_aux_weight": 0.1}, "AC-GAN*, G aux weight 0.1 (M-8)"
    ),
    "acgan_plus": _Entry(_aux("uniform"), _ACGAN, "AC-GAN*+ (M-9)"),
    "cgpgan": _Entry(
        _latent(head="categorical", classifier=True, generator_classification=False),
        {**_INFOGAN, "lambda_creg": 0.1, "prior": "dynamic"},
        "CGPGAN: CAGAN head, classifier Q, Eq. 10 penalty, dynamic prior (M-23)",
        family="latent_code",
    ),
    "infogan": _Entry(
        _INFO,
        {**_INFOGAN, "prior": "fixed"},
        "InfoGAN, fixed prior (M-20)",
        family="latent_code",
    ),
    "elastic_infogan": _Entry(
        _INFO,
        {**_INFOGAN, "prior": "gumbel"},
        "Elastic InfoGAN without the contrastive loss: Gumbel-softmax prior (M-22)",
        family="latent_code",
    ),
    "gan_categorical": _Entry(
        _latent(head="single", classifier=False, generator_classification=False),
        {"lambda_r2": 1.0, "prior": "fixed"},
        "vanilla GAN with a categorical latent code (M-21)",
        family="latent_code",
    ),
}


_BUILTIN = frozenset(_REGISTRY)


def available_objectives() -> list[str]:
    """Sorted names accepted by `get_objective` (aliases included)."""
    return sorted(_REGISTRY)


def register_model(
    name: str,
    factory: Callable[..., common.Objective],
    defaults: dict[str, Any] | None = None,
    summary: str = "",
    family: str = "class_label",
) -> None:
    """Adds a model variant: `factory(name, num_classes, **options)` -> Objective.

    Args:
      name: the --model name (must be new).
      factory: builds the objective; receives every option of `defaults` (resolved).
      defaults: accepted options with their defaults (label_smoothing and projection are
        applied by their own code paths only when listed here).
      summary: one line for listings.
      family: the kind of tf_amgan.training.families the trainer uses ("class_label": G(z) or
        G(z, onehot(y)) and one discriminator; "latent_code": the P003 models).

    Raises:
      ValueError: the name is taken.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"model name must be a non-empty string, got {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is already registered")
    _REGISTRY[name] = _Entry(factory, dict(defaults or {}), summary, family)


def unregister_model(name: str) -> None:
    """Removes a model added by `register_model` (tests); built-in models cannot be removed."""
    if name in _BUILTIN:
        raise ValueError(f"model {name!r} is built in")
    _REGISTRY.pop(name, None)


def _entry(name: str) -> _Entry:
    entry = _REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(
            f"unknown objective {name!r}; valid names: {', '.join(available_objectives())}"
        )
    return entry


def uses_latent_code(name: str) -> bool:
    """Whether `name`'s generator takes a categorical code c_f ~ P(C) (CGPGAN, InfoGAN family)."""
    return _entry(name).family == "latent_code"


def family_of(name: str) -> str:
    """The family kind (tf_amgan.training.families) the trainer uses for model `name`."""
    return _entry(name).family


def get_objective(name: str, num_classes: int, **options) -> common.Objective:
    """Builds the objective registered under `name`.

    Args:
      name: one of `available_objectives()`.
      num_classes: K (>= 1; `gan` ignores it and also accepts 0).
      **options: per-objective options (None = default):
        label_smoothing (all): on-target probability s in (0, 1], 1 = off (M-11, Q-3);
        fake_logit (K+1 heads): "trainable" or "zero" (Q-6);
        class_priors (K+1 heads): P002 priors (p_0 fake, p_1..p_K) weighting the D terms (M-16);
        projection (all but the latent-code models): P002 projection head (M-19,
          tf_amgan.losses.projection), K extra head units;
        semi_supervised (K+1 heads): real labels < 0 mark unlabeled data (M-12/M-13,
          tf_amgan.losses.semisup); unlabeled_marginal_weight (1.0): weight of the M-13 term;
          class_mode_weight (K+1 heads, 0.0): weight of the M-14 G term (M-15 = all three at 1);
        temperature (samgan): t > 0, default 0.5 (M-5);
        d_aux_weight (gan_star 0.1, acgan family 1.0): weight of D's aux-classifier terms;
        g_aux_weight (acgan family; 1.0, acgan_star_lowaux 0.1): weight of G's aux term;
        source_loss (acgan): "nonsaturating" (default, P001) or "minimax" (P004);
        lambda_cls, lambda_creg, lambda_r2 (latent-code models, P003 Eq. 7, Eq. 10, R2):
          weights of L_cls (1.0), the classifier gradient penalty (cgpgan 0.1, else 0) and R2 on
          fakes (1.0);
        prior (latent-code models): "fixed" (infogan, gan_categorical), "dynamic" (cgpgan) or
          "gumbel" (elastic_infogan).
      For latent-code models (`uses_latent_code(name)`) num_classes is d_c, the number of
      categories of the code.

    Raises:
      ValueError: unknown name, bad num_classes or an invalid option value.
      TypeError: an option this objective does not accept, or of the wrong type.
    """
    entry = _entry(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an int, got {num_classes!r}")
    num_classes = int(num_classes)
    if num_classes < (0 if name == "gan" else 1):
        raise ValueError(f"objective {name!r} needs num_classes >= 1, got {num_classes}")
    unknown = sorted(set(options) - set(entry.defaults))
    if unknown:
        raise TypeError(
            f"objective {name!r} does not accept option(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(sorted(entry.defaults))}"
        )
    resolved = {
        key: default if options.get(key) is None else options[key]
        for key, default in entry.defaults.items()
    }
    project = resolved.pop("projection", False)
    if project and resolved.get("semi_supervised"):
        raise ValueError("projection heads do not combine with semi-/unsupervised training")
    objective = entry.factory(name, num_classes, **resolved)
    return projection.ProjectionObjective(objective) if project else objective
