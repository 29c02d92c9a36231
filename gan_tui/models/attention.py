"""Self-attention block of SAGAN (Zhang et al. 2019)."""

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    """x + gamma * attention(x), with 1x1 query/key/value convolutions.

    gamma starts at 0, so the block is the identity at first and the network
    learns to lean on non-local evidence gradually (the SAGAN recipe).
    """

    def __init__(self, channels: int):
        super().__init__()
        inner = max(1, channels // 8)
        self.query = nn.Conv2d(channels, inner, 1, bias=False)
        self.key = nn.Conv2d(channels, inner, 1, bias=False)
        self.value = nn.Conv2d(channels, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, N, inner)
        k = self.key(x).flatten(2).transpose(1, 2)
        v = self.value(x).flatten(2).transpose(1, 2)  # (B, N, C)
        # SAGAN uses unscaled dot products; SDPA picks a fused kernel on GPUs.
        out = F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None], scale=1.0)[:, 0]
        return x + self.gamma * out.transpose(1, 2).reshape(b, c, h, w)
