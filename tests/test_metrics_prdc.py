"""Precision/recall (k=3), density and coverage (k=5), diversity and class coverage."""

import numpy as np
import pytest
import torch

from gan_tui.metrics.classes import class_coverage, class_histogram, kl_divergence
from gan_tui.metrics.diversity import diversity
from gan_tui.metrics.prdc import kth_neighbour_radii, prdc


def brute_prdc(real, fake, k=3, k_dc=5):
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=2)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=2)
    r_real = np.sort(d_rr, 1)[:, k]
    r_real5 = np.sort(d_rr, 1)[:, k_dc]
    r_fake = np.sort(d_ff, 1)[:, k]
    return {"precision": (d_fr <= r_real[None]).any(1).mean(),
            "recall": (d_fr <= r_fake[:, None]).any(0).mean(),
            "density": (d_fr <= r_real5[None]).sum(1).mean() / k_dc,
            "coverage": (d_fr.min(0) <= r_real5).mean()}


def test_prdc_matches_a_brute_force_computation():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8)).astype(np.float32)
    fake = (rng.normal(size=(250, 8)) * 1.3 + 0.3).astype(np.float32)
    ours, brute = prdc(real, fake), brute_prdc(real.astype(np.float64), fake.astype(np.float64))
    for key in brute:
        assert ours[key] == pytest.approx(brute[key], abs=1e-6), key


def test_real_against_real_is_near_one_and_collapse_is_not():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
    same = prdc(a, b)
    assert same["precision"] > 0.93 and same["recall"] > 0.93
    assert 0.95 < same["density"] < 1.05 and same["coverage"] > 0.93  # about 1 - 2^-5 for k = 5
    collapsed = prdc(a, rng.normal(size=(3000, 4)) * 0.05 + a[0])  # every sample near one real point
    assert collapsed["recall"] < 0.05 and collapsed["coverage"] < 0.05


def test_radii_exclude_the_point_itself():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    r1, r2 = kth_neighbour_radii(x, (1, 2))
    assert r1.tolist() == [1.0, 1.0, 2.0, 4.0] and r2.tolist() == [3.0, 2.0, 3.0, 6.0]


def test_diversity_ratio_and_near_duplicates():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(1500, 32))
    same = diversity(real, rng.normal(size=(1500, 32)))
    assert same["diversity"] == pytest.approx(1.0, abs=0.03) and same["near_duplicates"] < 0.05
    narrow = diversity(real, rng.normal(size=(1500, 32)) * 0.2)
    assert narrow["diversity"] == pytest.approx(0.2, abs=0.02)
    copies = np.repeat(rng.normal(size=(50, 32)), 30, axis=0)  # 50 distinct samples, each 30 times
    dup = diversity(real, copies)
    assert dup["near_duplicates"] == pytest.approx(1.0) and dup["diversity"] > 0.9  # spread, yet copies


def test_class_histogram_kl_and_coverage():
    assert class_histogram(np.array([0, 0, 1, 3]), 4).tolist() == [0.5, 0.25, 0.0, 0.25]
    uniform = np.full(10, 0.1)
    assert kl_divergence(uniform, uniform) == pytest.approx(0.0)
    one_class = class_coverage(np.zeros(500, int), uniform, [f"c{i}" for i in range(10)])
    assert one_class["classes_covered"] == 1 and one_class["class_kl"] == pytest.approx(np.log(10))
    assert one_class["missing"] == [f"c{i}" for i in range(1, 10)]
    balanced = class_coverage(np.arange(1000) % 10, uniform)
    assert balanced["classes_covered"] == 10 and balanced["class_kl"] == pytest.approx(0.0, abs=1e-12)
    # A class at 0.5% of samples where real data has 10% is under the 10%-of-its-share line: not covered.
    rare = class_coverage(np.array([0] * 5 + [1] * 995), np.array([0.1, 0.9]))
    assert rare["classes_covered"] == 1
