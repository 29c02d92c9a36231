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


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, section 3.2).

    Features f(x_i) in R^A are multiplied by a tensor T in R^(A x B x C) into B
    kernels of C numbers each, M_i = f(x_i) T. Per kernel b, o(x_i)_b = sum over
    the other examples j of exp(-||M_i,b - M_j,b||_1); the B numbers o(x_i) are
    appended to f(x_i), so the next (last) layer sees how close each example is
    to the rest of its batch: a collapsed generator's batch is all close.
    Its only parameter is T (A*B*C numbers), initialised as in improved-gan's
    weight-normalised layer: every kernel column starts with unit norm.
    """

    def __init__(self, in_features: int, kernels: int, kernel_dim: int):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) / in_features ** 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = x.flatten(1)
        m = (f @ self.T.to(f.dtype)).view(f.shape[0], self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        dist = torch.cdist(m.float(), m.float(), p=1)  # (B, N, N) L1 distances per kernel
        o = torch.exp(-dist).sum(2).sub(1.0).t()  # (N, B), without each example's own exp(0) = 1
        return torch.cat([f, o.to(f.dtype)], 1)


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
