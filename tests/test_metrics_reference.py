"""Reference statistics: cached per dataset and extractor, keyed so stale numbers are never reused."""

import numpy as np
import pytest
import torch

from gan_tui.metrics.reference import (cache_dir, compute_reference, load_or_compute, reference_key,
                                       reference_path)


def embed(batch):
    x = batch.float().flatten(1)
    feats = torch.stack([x.mean(1), x.std(1), x[:, 0]], 1).numpy()
    probs = torch.nn.functional.one_hot((x[:, 0] > 127).long(), 2).float().numpy()
    return feats, probs


def images(n=300, seed=0):
    return torch.randint(0, 256, (n, 1, 8, 8), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_cache_dir_honours_the_environment(tmp_path):
    assert cache_dir() == tmp_path / "cache" / "reference"


def test_compute_reference_keeps_stats_features_and_class_histogram():
    imgs = images()
    ref = compute_reference(imgs, embed, max_keep=100)
    feats, probs = embed(imgs)
    np.testing.assert_allclose(ref.mu, feats.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(ref.sigma, np.cov(feats.astype(np.float64), rowvar=False), rtol=1e-5)
    assert ref.n == 300 and ref.features.shape == (100, 3) and ref.features.dtype == np.float32
    assert ref.class_histogram.tolist() == pytest.approx((probs.sum(0) / 300).tolist())
    capped = compute_reference(imgs, embed, max_stats=50)
    assert capped.n == 50
    assert compute_reference(imgs, lambda b: (embed(b)[0], None)).class_histogram is None


def test_load_or_compute_caches_once_and_keys_separate_settings():
    calls = []

    def compute():
        calls.append(1)
        return compute_reference(images(), embed)

    key = reference_key("fashion-mnist", "train", 32, 1, "domain-fashion-mnist", "abc123")
    first = load_or_compute(key, compute)
    second = load_or_compute(key, compute)
    assert len(calls) == 1 and not first.cached and second.cached
    np.testing.assert_array_equal(first.sigma, second.sigma)
    np.testing.assert_array_equal(first.class_histogram, second.class_histogram)
    assert second.path == reference_path(key) and second.path.parent == cache_dir()
    for changed in (dict(weights_hash="def456"), dict(image_size=28), dict(extractor="inception-v3"),
                    dict(split="t10k"), dict(limit=1000), dict(data_path="/elsewhere")):
        other = reference_key(**{**dict(dataset="fashion-mnist", split="train", image_size=32, channels=1,
                                        extractor="domain-fashion-mnist", weights_hash="abc123"), **changed})
        assert reference_path(other) != reference_path(key), changed
    assert list(cache_dir().glob(".*tmp*")) == []  # written under a temporary name, then renamed


def test_a_damaged_cache_file_is_rebuilt():
    key = reference_key("ring", "train", 8, 1, "x", "h")
    load_or_compute(key, lambda: compute_reference(images(), embed))
    reference_path(key).write_bytes(b"truncated")
    calls = []
    ref = load_or_compute(key, lambda: calls.append(1) or compute_reference(images(), embed))
    assert calls == [1] and not ref.cached and load_or_compute(key, lambda: None).cached
