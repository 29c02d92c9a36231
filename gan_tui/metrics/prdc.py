"""Improved precision and recall, density and coverage, from features.

- Precision and recall (Kynkaanniemi et al. 2019): each sample gets a ball
  whose radius is the distance to its k-th nearest neighbour in its own set
  (k = 3, as in the paper). Precision is the fraction of generated samples
  inside at least one real ball (are the samples realistic?); recall is the
  fraction of real samples inside at least one generated ball (is the data
  covered?).
- Density and coverage (Naeem et al. 2020), with real balls of the k-th
  neighbour for k = 5 (the paper's choice; with equal set sizes coverage of
  a perfect generator is then about 1 - 2^-5 = 0.97): density counts, per generated sample, how many real balls hold it, divided
  by k and averaged (about 1 when the two sets match, more or less where
  samples crowd or avoid dense regions); coverage is the fraction of real
  samples whose ball holds at least one generated sample (robust to outliers).

Distances are Euclidean, computed in row chunks so 10k x 10k pairs never sit
in memory at once.
"""

import numpy as np
import torch

CHUNK = 2048


def _as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Exact differences rather than the |a|^2 + |b|^2 - 2ab expansion, so tiny distances stay exact.
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist") if a.shape[1] <= 8 else \
        torch.cdist(a, b).clamp_min_(0)


def kth_neighbour_radii(x: torch.Tensor, ks: tuple[int, ...]) -> list[torch.Tensor]:
    """For each k in ks, the distance from each row to its k-th nearest other row."""
    out = [[] for _ in ks]
    top = max(ks) + 1
    for chunk in x.split(CHUNK):
        values = _distances(chunk, x).topk(top, dim=1, largest=False).values  # column 0: the point itself
        for i, k in enumerate(ks):
            out[i].append(values[:, k])
    return [torch.cat(parts) for parts in out]


def nearest_distances(x: torch.Tensor, others: torch.Tensor | None = None) -> torch.Tensor:
    """Distance from each row of x to its nearest row of `others` (of x itself, excluding itself, if None)."""
    out = []
    start = 0
    for chunk in x.split(CHUNK):
        if others is None:
            d = _distances(chunk, x)
            d[torch.arange(len(chunk)), torch.arange(start, start + len(chunk))] = float("inf")
        else:
            d = _distances(chunk, others)
        out.append(d.min(1).values)
        start += len(chunk)
    return torch.cat(out)


def prdc(real_features, fake_features, k: int = 3, k_dc: int = 5) -> dict:
    """{"precision", "recall", "density", "coverage"} of fake against real features."""
    real, fake = _as_tensor(real_features), _as_tensor(fake_features)
    if len(real) <= max(k, k_dc) or len(fake) <= k:
        raise ValueError(f"precision/recall and coverage need more than {max(k, k_dc)} samples on each side")
    r_real, r_real_dc = kth_neighbour_radii(real, (k, k_dc))
    (r_fake,) = kth_neighbour_radii(fake, (k,))
    inside_any = torch.zeros(len(fake), dtype=torch.bool)
    balls_holding = torch.zeros(len(fake))
    real_covered = torch.zeros(len(real), dtype=torch.bool)
    real_recalled = torch.zeros(len(real), dtype=torch.bool)
    start = 0
    for chunk in fake.split(CHUNK):
        d = _distances(chunk, real)  # (chunk, n_real)
        stop = start + len(chunk)
        inside_any[start:stop] = (d <= r_real[None, :]).any(1)
        within_dc = d <= r_real_dc[None, :]
        balls_holding[start:stop] = within_dc.sum(1).float()
        real_covered |= within_dc.any(0)
        real_recalled |= (d <= r_fake[start:stop, None]).any(0)
        start = stop
    return {
        "precision": float(inside_any.float().mean()),
        "recall": float(real_recalled.float().mean()),
        "density": float(balls_holding.mean() / k_dc),
        "coverage": float(real_covered.float().mean()),
    }
