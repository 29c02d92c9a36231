"""Diversity of generated samples, measured against real samples in the same feature space.

- `diversity`: mean pairwise distance between generated samples divided by
  the same mean between real samples. About 1 when G is as varied as the
  data; well below 1 when G collapses onto a few outputs.
- `near_duplicates`: the fraction of generated samples whose nearest other
  generated sample is closer than the `quantile` (1% by default) of the real
  samples' nearest-neighbour distances. A real set of the same size scores
  about `quantile` by construction; a collapsed G scores far more.

Both use at most `max_samples` samples of each set (a seeded subset), and the
real and generated sets are cut to the same size, since nearest-neighbour
distances shrink as a set grows.
"""

import numpy as np
import torch

from gan_tui.metrics.prdc import _as_tensor, _distances, nearest_distances

MAX_SAMPLES = 2000
DUPLICATE_QUANTILE = 0.01


def mean_pairwise_distance(x: torch.Tensor) -> float:
    total, count = 0.0, len(x) * (len(x) - 1)
    for chunk in x.split(1024):
        total += float(_distances(chunk, x).double().sum())  # the zero diagonal adds nothing
    return total / max(count, 1)


def _subset(x: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    if len(x) <= n:
        return x
    g = torch.Generator().manual_seed(seed)
    return x[torch.randperm(len(x), generator=g)[:n]]


def diversity(real_features, fake_features, max_samples: int = MAX_SAMPLES,
              quantile: float = DUPLICATE_QUANTILE, seed: int = 0) -> dict:
    """{"diversity", "near_duplicates", "duplicate_threshold", "real_pairwise", "fake_pairwise"}."""
    real, fake = _as_tensor(real_features), _as_tensor(fake_features)
    n = min(len(real), len(fake), max_samples)
    if n < 2:
        raise ValueError("diversity needs at least 2 samples on each side")
    real, fake = _subset(real, n, seed), _subset(fake, n, seed + 1)
    real_mean, fake_mean = mean_pairwise_distance(real), mean_pairwise_distance(fake)
    threshold = float(np.quantile(nearest_distances(real).numpy(), quantile))
    duplicates = float((nearest_distances(fake) < threshold).float().mean()) if threshold > 0 else \
        float((nearest_distances(fake) <= 0).float().mean())
    return {
        "diversity": fake_mean / real_mean if real_mean > 0 else float("nan"),
        "near_duplicates": duplicates,
        "duplicate_threshold": threshold,
        "real_pairwise": real_mean,
        "fake_pairwise": fake_mean,
    }
