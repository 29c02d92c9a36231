"""FID, KID and IS: against an independent float64 computation, and on real images."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_tui.metrics.prdc import prdc
from gan_tui.metrics.fid import (GaussianStats, feature_stats, fid_from_features, fid_from_stats,
                                 frechet_distance, inception_score, kid)


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula, float64, with scipy's general matrix square root (as pytorch-fid does it)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("dim,n", [(2, 500), (16, 400), (64, 2000), (128, 3000)])
def test_fid_matches_scipy_sqrtm_within_1e_6(dim, n):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(n, dim))
    b = rng.normal(size=(n, dim)) @ rng.normal(size=(dim, dim)) * 0.5 + rng.normal(size=dim)
    ours, theirs = fid_from_features(a, b), scipy_fid(a, b)
    assert abs(ours - theirs) / theirs < 1e-6


def test_fid_matches_scipy_on_close_sets():
    # Small FIDs are where round-off hurts: two samples of one distribution.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4000, 32)), rng.normal(size=(4000, 32))
    ours, theirs = fid_from_features(a, b), scipy_fid(a, b)
    assert abs(ours - theirs) / theirs < 1e-6


def test_fid_of_a_set_with_itself_is_zero_even_when_singular():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 64))
    assert fid_from_features(x, x) < 1e-9
    # Fewer samples than dimensions, and a dead (always zero) feature: singular covariances.
    y = np.concatenate([rng.normal(size=(50, 100)), np.zeros((50, 8))], 1)
    assert fid_from_features(y, y) < 1e-9
    assert fid_from_features(y, y + 1.0) == pytest.approx(108.0, rel=1e-9)  # |mean shift|^2, covariances equal


def test_frechet_distance_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    expected = 9 + sum((np.sqrt(a) - np.sqrt(b)) ** 2 for a, b in ((1, 4), (4, 4), (9, 1)))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError):
        frechet_distance(mu1, s1, np.zeros(2), np.eye(2))


def test_stats_are_float64_and_unbiased():
    x = np.random.default_rng(3).normal(size=(100, 5)).astype(np.float32)
    mu, sigma = feature_stats(x)
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-12)
    assert fid_from_stats(GaussianStats.of(x), GaussianStats.of(x)) < 1e-9


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_otherwise():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2000, 64)), rng.normal(size=(2000, 64))
    mean, std = kid(a, b, subsets=30, subset_size=500)
    assert abs(mean) < 3 * std / np.sqrt(30) + 1e-4
    shifted_mean, _ = kid(a, b + 0.2, subsets=30, subset_size=500)
    assert shifted_mean > 10 * abs(mean) and shifted_mean > 0


def test_kid_matches_a_float64_computation():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16)) * 1.1
    d = 16
    kxx, kyy, kxy = ((a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3)
    m = 400
    exact = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
             - 2 * kxy.mean())
    mean, std = kid(a, b, subsets=3, subset_size=400)  # the subset is the whole set: computed once
    assert mean == pytest.approx(exact, rel=1e-5) and std == 0.0


def test_inception_score_bounds():
    one_hot = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(one_hot, splits=10)[0] == pytest.approx(10.0)
    assert inception_score(np.tile(np.eye(10)[3], (500, 1)))[0] == pytest.approx(1.0)
    assert inception_score(np.full((500, 10), 0.1))[0] == pytest.approx(1.0)


# -- on real images, through the shipped domain evaluator --------------------


@pytest.fixture(scope="module")
def fashion():
    from conftest import FASHION
    from gan_tui.data.idx import load_idx_split

    if not FASHION.is_dir():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    train, _ = load_idx_split("fashion-mnist", str(FASHION), "test", "train")
    test, _ = load_idx_split("fashion-mnist", str(FASHION), "test", "t10k")
    return torch.from_numpy(train[:2000].copy()), torch.from_numpy(test[:2000].copy())


@pytest.fixture(scope="module")
def domain():
    from gan_tui.metrics.features import DomainFeatures

    return DomainFeatures("fashion-mnist")


def test_domain_fid_grows_monotonically_with_noise(fashion, domain):
    train, test = fashion
    ref, _ = domain(train)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(test.shape, generator=g)
    fids = []
    for sigma in (0.0, 0.1, 0.2, 0.4, 0.8):
        noisy = (test.float() / 127.5 - 1 + sigma * noise).clamp(-1, 1)
        feats, _ = domain(noisy)
        fids.append(fid_from_features(ref, feats))
    assert all(b > a for a, b in zip(fids, fids[1:])), fids
    assert fids[0] < 0.1 * fids[-1]


def test_domain_kid_is_near_zero_on_two_real_splits(fashion, domain):
    train, test = fashion
    a, _ = domain(train)
    b, _ = domain(test)
    mean, std = kid(a, b, subsets=20, subset_size=1000)
    noisy, _ = domain((test.float() / 127.5 - 1 + 0.3 * torch.randn(test.shape, generator=torch.Generator()
                                                                         .manual_seed(1))).clamp(-1, 1))
    noisy_mean, _ = kid(a, noisy, subsets=20, subset_size=1000)
    assert abs(mean) < 0.05 * noisy_mean
    assert abs(mean) < 3 * std


def test_domain_precision_recall_of_two_real_splits_are_near_one(fashion, domain):
    train, test = fashion
    a, _ = domain(train)
    b, _ = domain(test)
    r = prdc(a, b)
    # k = 3 balls in 128 dimensions leave gaps even between two samples of one distribution: real vs real
    # measures about 0.84 here at 2k, 5k and 10k samples alike (two halves of the train split too).
    assert r["precision"] > 0.8 and r["recall"] > 0.8 and abs(r["precision"] - r["recall"]) < 0.05
    assert r["coverage"] > 0.95 and 0.9 < r["density"] < 1.1
    noisy, _ = domain((test.float() / 127.5 - 1 + 0.5 * torch.randn(test.shape, generator=torch.Generator()
                                                                         .manual_seed(2))).clamp(-1, 1))
    worse = prdc(a, noisy)
    assert worse["precision"] < r["precision"] - 0.2 and worse["coverage"] < r["coverage"] - 0.2
