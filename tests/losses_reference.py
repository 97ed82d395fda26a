"""Independent float64 NumPy references for the objectives, written from seed-spec §0-§1 formulas.

Distributions are built explicitly (D = softmax(l), F(D) = [D_r, D_{K+1}], full K+1 target
vectors) and every loss is a plain H(p, q) = -Σ p log q, so these share no code path with
tf_amgan.losses (which uses sparse CE, sigmoid CE of l_r - l_{K+1}, etc.).
"""

import numpy as np
from scipy.special import logsumexp


def log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    return logits - logsumexp(logits, axis=-1, keepdims=True)


def softmax(logits):
    return np.exp(log_softmax(logits))


def cross_entropy(p, log_q):
    """H(p, q) per row; 0·log 0 = 0."""
    p = np.asarray(p, np.float64)
    return -np.sum(np.where(p == 0, 0.0, p * log_q), axis=-1)


def onehot(y, n):
    out = np.zeros((len(y), n))
    out[np.arange(len(y)), y] = 1.0
    return out


# ---------------------------------------------------------------- K+1 heads (M-3, M-4, M-5, M-16)


def kplus1_logits(logits, fake_logit="trainable"):
    logits = np.array(logits, np.float64)
    if fake_logit == "zero":
        logits[:, -1] = 0.0
    return logits


def real_target(y, k, s=1.0):
    """[s·u(y), 1-s] (M-11)."""
    t = np.zeros((len(y), k + 1))
    t[:, :k] = s * onehot(y, k)
    t[:, k] = 1.0 - s
    return t


def fake_target(n, k, s=1.0):
    """[((1-s)/K)·1_K, s] (M-11)."""
    t = np.full((n, k + 1), (1.0 - s) / k)
    t[:, k] = s
    return t


def log_f(logits):
    """log F(D) = [log D_r, log D_{K+1}] from K+1 logits."""
    ld = log_softmax(logits)
    return np.stack([logsumexp(ld[:, :-1], axis=-1), ld[:, -1]], axis=-1)


def kplus1_d(real, y, fake, s=1.0, fake_logit="trainable", priors=None):
    real, fake = kplus1_logits(real, fake_logit), kplus1_logits(fake, fake_logit)
    k = real.shape[1] - 1
    r = cross_entropy(real_target(y, k, s), log_softmax(real))
    f = cross_entropy(fake_target(len(fake), k, s), log_softmax(fake))
    if priors is not None:
        priors = np.asarray(priors)
        r, f = r * priors[1:][y], f * priors[0]
    return r + f


def labelgan_g(fake, s=1.0, fake_logit="trainable"):
    target = np.tile([s, 1.0 - s], (len(fake), 1))
    return cross_entropy(target, log_f(kplus1_logits(fake, fake_logit)))


def amgan_g(fake, y, s=1.0, fake_logit="trainable"):
    fake = kplus1_logits(fake, fake_logit)
    return cross_entropy(real_target(y, fake.shape[1] - 1, s), log_softmax(fake))


def samgan_g(fake, t, s=1.0, fake_logit="trainable"):
    fake = kplus1_logits(fake, fake_logit)
    v = softmax(fake[:, :-1] / t)
    target = np.concatenate([s * v, np.full((len(fake), 1), 1.0 - s)], axis=1)
    return cross_entropy(target, log_softmax(fake))


# ---------------------------------------------------------------- binary heads (M-1, M-2, M-6..M-9)


def log_binary(logit):
    """[log D_r, log D_f] for a real logit."""
    logit = np.asarray(logit, np.float64)
    return np.stack([-np.logaddexp(0.0, -logit), -np.logaddexp(0.0, logit)], axis=-1)


def binary_h(a, logit):
    """H([a, 1-a], [D_r, D_f])."""
    target = np.tile([a, 1.0 - a], (len(logit), 1))
    return cross_entropy(target, log_binary(logit))


DEFAULTS = {
    "gan": {},
    "gan_star": {"d_aux_weight": 0.1},
    "acgan": {"d_aux_weight": 1.0, "g_aux_weight": 1.0, "source_loss": "nonsaturating"},
    "acgan_star": {"d_aux_weight": 1.0, "g_aux_weight": 1.0},
    "acgan_star_lowaux": {"d_aux_weight": 1.0, "g_aux_weight": 0.1},
    "acgan_plus": {"d_aux_weight": 1.0, "g_aux_weight": 1.0},
}


def binary_losses(name, real, y, fake, c, **opts):
    """(D, G) per example for gan / gan_star / acgan*: spec M-1, M-2, M-6..M-9."""
    o = {**DEFAULTS[name], **opts}
    s = o.get("label_smoothing", 1.0)
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    d = binary_h(s, real[:, 0]) + binary_h(1.0 - s, fake[:, 0])
    if o.get("source_loss", "nonsaturating") == "minimax":
        g = -binary_h(1.0 - s, fake[:, 0])
    else:
        g = binary_h(s, fake[:, 0])
    if name == "gan":
        return d, g
    k = real.shape[1] - 1
    log_c_real, log_c_fake = log_softmax(real[:, 1:]), log_softmax(fake[:, 1:])
    aux = cross_entropy(onehot(y, k), log_c_real)
    if name == "acgan":
        aux = aux + cross_entropy(onehot(c, k), log_c_fake)
    if name == "acgan_plus":
        aux = aux + cross_entropy(np.full((len(fake), k), 1.0 / k), log_c_fake)
    d = d + o["d_aux_weight"] * aux
    if name != "gan_star":
        g = g + o["g_aux_weight"] * cross_entropy(onehot(c, k), log_c_fake)
    return d, g


def losses(name, real, y, fake, c, **opts):
    """(D, G) per example for any registry name (the independent reference)."""
    if name in DEFAULTS:
        return binary_losses(name, real, y, fake, c, **opts)
    s = opts.get("label_smoothing", 1.0)
    fl = opts.get("fake_logit", "trainable")
    d = kplus1_d(real, y, fake, s, fl, opts.get("class_priors"))
    if name in ("labelgan", "kplus1"):
        g = labelgan_g(fake, s, fl)
    elif name in ("amgan", "modegan"):
        g = amgan_g(fake, c, s, fl)
    elif name == "samgan":
        g = samgan_g(fake, opts.get("temperature", 0.5), s, fl)
    else:
        raise KeyError(name)
    return d, g


# ---------------------------------------------------------------- extra terms (M-12..M-15)


def class_distribution(logits, fake_logit="trainable"):
    """R(E_batch D)."""
    d = softmax(kplus1_logits(logits, fake_logit)).mean(axis=0)[:-1]
    return d / d.sum()


def semi_supervised(logits, s=1.0, fake_logit="trainable"):
    logits = kplus1_logits(logits, fake_logit)
    y = np.argmax(logits[:, :-1], axis=1)
    return cross_entropy(real_target(y, logits.shape[1] - 1, s), log_softmax(logits))


def marginal(logits, p_ref=None, fake_logit="trainable"):
    r = class_distribution(logits, fake_logit)
    p = np.full(len(r), 1.0 / len(r)) if p_ref is None else np.asarray(p_ref, np.float64)
    return float(-np.sum(p * np.log(r)))


def class_mode(data_logits, fake_logits, fake_logit="trainable"):
    p = class_distribution(data_logits, fake_logit)
    return float(-np.sum(p * np.log(class_distribution(fake_logits, fake_logit))))
