"""How class labels enter the networks (`model.conditioning`).

- concat: one-hot labels appended to G's noise and to D's input, as extra
  features or constant channels (Mirza & Osindero 2014).
- projection: D adds <embed(y), features> to its logit (Miyato & Koyama 2018).
- cbn: G's batch norms take gain and bias from a shared class embedding,
  optionally with a chunk of z (BigGAN, Brock et al. 2019).
"""

import torch
import torch.nn.functional as F
from torch import nn


def labels_or_default(labels, batch: int, num_classes: int, device) -> torch.Tensor:
    """G called without labels draws the classes in turn (0, 1, ..., K-1, 0, ...),
    so a grid of samples from fixed noise shows every class."""
    if labels is not None:
        return labels
    return torch.arange(batch, device=device) % num_classes


def one_hot(labels, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """(B, K) in like's dtype; no labels gives zeros ("no class"), e.g. for D's decision surface."""
    if labels is None:
        return like.new_zeros(like.shape[0], num_classes)
    return F.one_hot(labels.long(), num_classes).to(like.dtype)


def append_labels(x: torch.Tensor, labels, num_classes: int) -> torch.Tensor:
    """Concatenate one-hot labels to (B, F) features or as K constant channels to (B, C, H, W)."""
    code = one_hot(labels, num_classes, x)
    if x.dim() == 2:
        return torch.cat([x, code], 1)
    return torch.cat([x, code[:, :, None, None].expand(-1, -1, *x.shape[2:])], 1)


class Projection(nn.Module):
    """The class term of a projection discriminator: <embed(y), phi(x)>."""

    def __init__(self, num_classes: int, features: int):
        super().__init__()
        self.embed = nn.Embedding(num_classes, features)
        nn.init.xavier_uniform_(self.embed.weight)

    def forward(self, features: torch.Tensor, labels) -> torch.Tensor:
        if labels is None:  # no class: only the unconditional term counts
            return features.new_zeros(features.shape[0])
        return (self.embed(labels) * features).sum(1)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm without its own affine; gain (1 + .) and bias come from the condition vector."""

    def __init__(self, channels: int, cond_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(cond_dim, channels)
        self.bias = nn.Linear(cond_dim, channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(cond)
        return self.norm(x) * gain[:, :, None, None] + self.bias(cond)[:, :, None, None]


class BatchNorm2d(nn.BatchNorm2d):
    """Plain batch norm that accepts (and ignores) a condition, so blocks need not branch."""

    def forward(self, x: torch.Tensor, cond=None) -> torch.Tensor:
        return super().forward(x)


def batch_norm(channels: int, cond_dim: int = 0) -> nn.Module:
    return ConditionalBatchNorm2d(channels, cond_dim) if cond_dim else BatchNorm2d(channels)
