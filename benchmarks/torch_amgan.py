"""The A-1 AM-GAN networks and one D+G train step in PyTorch eager, for speed comparisons only.

The same networks as tf_amgan.networks.amgan (P001 App. E, A-1 / A-3 for 1-channel images):
G: z -> WN-Linear 4*4*768w -> BN -> LReLU(0.2) -> [WN-ConvT 3x3 s2 -> BN -> LReLU] x3 (384w, 192w,
96w) -> WN-ConvT 3x3 s1 C -> tanh; D: x + N(0, 0.1) -> [WN-Conv 3x3 -> BN -> LReLU -> Dropout 0.3]
(64w s1, 128w / 256w / 512w s2) -> global average pool -> Dropout 0.3 -> WN-Linear K+1. Weight norm
is torch's parametrization (w = g v / ||v||, one g per output channel); BN uses batch statistics
in training as ours does. The step is the trainer's: a D update (G forward on z_d, D on real and
on the detached fakes, K+1 cross entropy) then a G update (fresh z_g, AM-GAN dynamic targets =
argmax of D's class logits), each with Adam(lr 4e-4, beta1 0.5). benchmarks/compare_torch.py
checks that the parameter counts equal ours.

Needs the optional `bench` extra: pip install torch==2.13.0 (the CPU build).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

G_LINEAR, G_LAST, D_FIRST = 768, 96, 64


def scaled(channels: int, width: float) -> int:
    """tf_amgan.networks.builders.scaled_width: round half up."""
    return max(1, int(math.floor(channels * width + 0.5)))


class Generator(nn.Module):
    def __init__(self, z_dim=100, width=1.0, size=32, channels=1):
        super().__init__()
        start, n_up = size, 0
        while start % 2 == 0 and start // 2 >= 4:
            start, n_up = start // 2, n_up + 1
        self.start, self.c0 = start, scaled(G_LINEAR, width)
        self.linear = weight_norm(nn.Linear(z_dim, start * start * self.c0), dim=0)
        self.bn0 = nn.BatchNorm2d(self.c0, momentum=0.01, eps=1e-3)
        blocks, c_in = [], self.c0
        for i in range(n_up):
            c = scaled(G_LAST * 2 ** (n_up - 1 - i), width)
            deconv = nn.ConvTranspose2d(c_in, c, 3, stride=2, padding=1, output_padding=1)
            blocks += [weight_norm(deconv, dim=1), nn.BatchNorm2d(c, momentum=0.01, eps=1e-3)]
            c_in = c
        self.blocks = nn.ModuleList(blocks)
        self.out = weight_norm(nn.ConvTranspose2d(c_in, channels, 3, stride=1, padding=1), dim=1)

    def forward(self, z):
        x = self.linear(z).view(-1, self.start, self.start, self.c0).permute(0, 3, 1, 2)
        x = F.leaky_relu(self.bn0(x), 0.2)
        for deconv, bn in zip(self.blocks[::2], self.blocks[1::2], strict=True):
            x = F.leaky_relu(bn(deconv(x)), 0.2)
        return torch.tanh(self.out(x))


class Discriminator(nn.Module):
    def __init__(self, head_units=11, width=1.0, size=32, channels=1, noise=0.1, dropout=0.3):
        super().__init__()
        self.noise, self.dropout = noise, dropout
        specs, s, c = [(D_FIRST, 1)], size, D_FIRST
        while s > 4:
            s, c = math.ceil(s / 2), c * 2
            specs.append((c, 2))
        layers, c_in = [], channels
        for c, stride in specs:
            conv = nn.Conv2d(c_in, scaled(c, width), 3, stride=stride, padding=1)
            c_in = scaled(c, width)
            layers += [weight_norm(conv, dim=0), nn.BatchNorm2d(c_in, momentum=0.01, eps=1e-3)]
        self.blocks = nn.ModuleList(layers)
        self.head = weight_norm(nn.Linear(c_in, head_units), dim=0)

    def forward(self, x):
        x = x + self.noise * torch.randn_like(x)
        for conv, bn in zip(self.blocks[::2], self.blocks[1::2], strict=True):
            x = F.dropout(F.leaky_relu(bn(conv(x)), 0.2), self.dropout, training=True)
        x = F.dropout(x.mean(dim=(2, 3)), self.dropout, training=True)
        return self.head(x)


def param_counts(module: nn.Module) -> tuple[int, int]:
    """(trainable parameters, BN running statistics): Keras' trainable / non-trainable weights."""
    trainable = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for n, b in module.named_buffers() if "running_" in n)
    return trainable, stats


class AMGANStep:
    """One AM-GAN (dynamic labeling) D+G step, as tf_amgan.trainer's train_step."""

    def __init__(self, width=1.0, batch=100, z_dim=100, num_classes=10, size=32, channels=1,
                 seed=0, bf16=False):  # fmt: skip
        torch.manual_seed(seed)
        self.G = Generator(z_dim, width, size, channels)
        self.D = Discriminator(num_classes + 1, width, size, channels)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=4e-4, betas=(0.5, 0.999), eps=1e-7)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=4e-4, betas=(0.5, 0.999), eps=1e-7)
        self.batch, self.z_dim, self.k = batch, z_dim, num_classes
        self.bf16 = bf16
        # Fixed real batch: the data pipeline is not what is measured (ours prefetches).
        self.real = torch.rand(batch, channels, size, size) * 2 - 1
        self.labels = torch.randint(0, num_classes, (batch,))
        self.fake_class = torch.full((batch,), num_classes, dtype=torch.long)

    def _autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def step(self) -> float:
        G, D = self.G, self.D
        z_d = torch.randn(self.batch, self.z_dim)
        with self._autocast():
            with torch.no_grad():
                fake = G(z_d)
            real_logits = D(self.real).float()
            fake_logits = D(fake).float()
            d_loss = F.cross_entropy(real_logits, self.labels) + F.cross_entropy(
                fake_logits, self.fake_class
            )
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        z_g = torch.randn(self.batch, self.z_dim)
        # Only G's weight gradients (D's input gradients still flow), as tf.GradientTape computes.
        D.requires_grad_(False)
        with self._autocast():
            logits = D(G(z_g)).float()
            targets = logits[:, : self.k].argmax(dim=1).detach()
            g_loss = F.cross_entropy(logits, targets)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        D.requires_grad_(True)
        return float(d_loss.detach())
