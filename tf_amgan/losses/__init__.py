"""GAN objectives of the class-label GAN papers (seed-spec §1), per example and numerically stable.

Usage:

    obj = tf_amgan.losses.get_objective("amgan", num_classes=10)
    d_loss = obj.discriminator_loss(real_logits, real_labels, fake_logits, fake_targets)  # [batch]
    g_loss = obj.generator_loss(fake_logits, obj.dynamic_targets(fake_logits))           # [batch]

Names (`available_objectives()`): gan (M-1), gan_star (M-2), labelgan (M-3), kplus1 (alias of
labelgan, P002 M-16), amgan (M-4), modegan (alias of amgan, P002 M-17), samgan (M-5), acgan (M-6),
acgan_star (M-7), acgan_star_lowaux (M-8), acgan_plus (M-9).

Logit layouts: K+1 heads (labelgan, amgan, samgan) emit [l_1..l_K, l_fake]; binary+aux heads
(gan_star, acgan*) emit [l_real, a_1..a_K]; gan emits [l_real].

The M-12..M-15 extra terms for K+1 heads are plain functions: `semi_supervised_loss`,
`unsupervised_marginal_loss`, `class_mode_loss`, `extended_discriminator_loss`,
`extended_generator_loss` (and `class_distribution`).
"""

from tf_amgan.losses.binary import (
    BinaryAuxObjective,
    GANObjective,
    acgan_discriminator_loss,
    acgan_generator_loss,
    gan_discriminator_loss,
    gan_generator_loss,
)
from tf_amgan.losses.common import Objective
from tf_amgan.losses.extra import (
    class_distribution,
    class_mode_loss,
    extended_discriminator_loss,
    extended_generator_loss,
    log_class_distribution,
    semi_supervised_loss,
    unsupervised_marginal_loss,
)
from tf_amgan.losses.kplus1 import (
    KPlusOneObjective,
    amgan_generator_loss,
    kplus1_discriminator_loss,
    labelgan_generator_loss,
    samgan_generator_loss,
)
from tf_amgan.losses.registry import (
    available_objectives,
    get_objective,
    register_model,
    unregister_model,
)

__all__ = [
    "BinaryAuxObjective",
    "GANObjective",
    "KPlusOneObjective",
    "Objective",
    "acgan_discriminator_loss",
    "acgan_generator_loss",
    "amgan_generator_loss",
    "available_objectives",
    "class_distribution",
    "class_mode_loss",
    "extended_discriminator_loss",
    "extended_generator_loss",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "get_objective",
    "kplus1_discriminator_loss",
    "labelgan_generator_loss",
    "log_class_distribution",
    "register_model",
    "samgan_generator_loss",
    "semi_supervised_loss",
    "unregister_model",
    "unsupervised_marginal_loss",
]
