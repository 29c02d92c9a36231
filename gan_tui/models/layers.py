"""Layers shared by architectures and tricks."""

import torch
from torch import nn


class MinibatchStd(nn.Module):
    """Append one feature: the mean standard deviation over groups of `group` examples.

    Works on (B, F) and (B, C, H, W); the batch size must be a multiple of the group
    (smaller batches use one group).
    """

    def __init__(self, group: int):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        g = self.group if b % self.group == 0 else b
        grouped = x.reshape(g, b // g, *x.shape[1:])  # example i belongs to group i % (b // g)
        std = grouped.float().var(0, unbiased=False).add(1e-8).sqrt()
        feature = std.reshape(b // g, -1).mean(1).to(x.dtype)  # one number per group
        feature = feature.repeat(g)  # back to (B,), same order as the groups
        shape = (b, 1, *x.shape[2:])
        return torch.cat([x, feature.view(b, *([1] * (x.dim() - 1))).expand(shape)], 1)


def apply_spectral_norm(module: nn.Module, embeddings: bool = False) -> int:
    """Wrap every Linear and Conv layer's weight in spectral_norm; returns how many.

    `embeddings=True` also wraps nn.Embedding, as a projection discriminator's class
    embedding is in SNGAN; G's shared class embedding (BigGAN) stays free.
    """
    kinds = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d) + ((nn.Embedding,) if embeddings else ())
    count = 0
    for child in list(module.modules()):
        if isinstance(child, kinds) and not hasattr(child, "parametrizations"):
            nn.utils.parametrizations.spectral_norm(child)
            count += 1
    return count
