"""Frechet distance, kernel inception distance and inception score, from features.

All three take plain arrays of features (or class probabilities), so they
work the same on Inception-v3 features, the domain evaluator's features and
the 2D toys' points.

FID (Heusel et al. 2017) between Gaussians N(mu1, S1) and N(mu2, S2):

    |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

computed in float64. The trace of the matrix square root is the sum of the
square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2), a symmetric positive
semi-definite matrix with the same spectrum as S1 S2. Taking it through two
symmetric eigendecompositions (`eigh`) avoids the complex round-off and the
"imaginary component" fix-ups that a general `sqrtm(S1 @ S2)` needs, and stays
exact when the covariances are singular (fewer samples than dimensions, or
ReLU features that are always zero): eigenvalues within round-off of zero
(n * eps * the largest) are set to zero before their square roots are taken.

KID (Binkowski et al. 2018): the unbiased MMD^2 estimate with the cubic
polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets;
mean and standard deviation over the subsets, as torch-fidelity and the
paper report.

IS (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), mean and standard
deviation over splits. With the domain classifier it is the "IS (domain)",
bounded by the number of classes.
"""

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class GaussianStats:
    """Mean and covariance of a feature set (float64), with the sample count."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    @classmethod
    def of(cls, features: np.ndarray) -> "GaussianStats":
        return cls(*feature_stats(features), n=len(features))


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, unbiased covariance) of (N, D) features, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least 2 feature vectors as an (N, D) array, got shape {x.shape}")
    mu = x.mean(0)
    centred = x - mu
    sigma = centred.T @ centred / (len(x) - 1)
    return mu, sigma


def _clip_round_off(values: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with round-off removed: those within n * eps * max|value| of zero
    are zero (their square roots would turn 1e-16 of noise into 1e-8 of error)."""
    tol = len(values) * np.finfo(np.float64).eps * max(float(np.abs(values).max(initial=0.0)), 1e-300)
    return np.where(values > tol, values, 0.0)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(_clip_round_off(values))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) for symmetric PSD S1, S2, through eigh only."""
    root = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    middle = root @ np.asarray(sigma2, dtype=np.float64) @ root
    values = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sqrt(_clip_round_off(values)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """FID between two Gaussians given by means and covariances (float64; never negative)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"feature sizes differ: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(float(value), 0.0)


def fid_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    return frechet_distance(*feature_stats(features1), *feature_stats(features2))


def fid_from_stats(a: GaussianStats, b: GaussianStats) -> float:
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)


def _cubic_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    k = torch.addmm(torch.ones(1, 1, dtype=a.dtype), a, b.T, alpha=1.0 / a.shape[1])  # a.b / d + 1
    return k * k * k


def _poly_mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> float:
    m, n = len(x), len(y)
    kxx, kyy, kxy = _cubic_kernel(x, x), _cubic_kernel(y, y), _cubic_kernel(x, y)
    f64 = torch.float64
    sum_xx = (kxx.sum(dtype=f64) - kxx.diagonal().sum(dtype=f64)) / (m * (m - 1))
    sum_yy = (kyy.sum(dtype=f64) - kyy.diagonal().sum(dtype=f64)) / (n * (n - 1))
    return float(sum_xx + sum_yy - 2.0 * kxy.mean(dtype=f64))


def kid(features1: np.ndarray, features2: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial-kernel MMD^2 over random subsets.

    Kernel matrices are float32 (the slow part: 3 x subset_size^2 entries a subset), their sums
    float64; against an all-float64 computation the difference is far below the spread over subsets.
    """
    x = torch.as_tensor(np.asarray(features1), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(features2), dtype=torch.float32)
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError("KID needs at least 2 samples on each side")
    if size == len(x) == len(y):  # every "subset" is the whole of both sets: one value, no spread
        return _poly_mmd2_unbiased(x, y), 0.0
    rng = np.random.default_rng(seed)
    values = [_poly_mmd2_unbiased(x[torch.from_numpy(rng.choice(len(x), size, replace=False))],
                                  y[torch.from_numpy(rng.choice(len(y), size, replace=False))])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """(mean, std) over `splits` of exp(E KL(p(y|x) || p(y))), from (N, classes) probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    splits = max(1, min(splits, len(p)))
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0).sum(1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
