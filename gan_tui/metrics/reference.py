"""Reference statistics of real data, cached per dataset and extractor.

A reference holds, for the real images a profile trains on (after its
resize and channel settings): the feature mean and covariance over the whole
split (up to `MAX_STATS` images), a seeded subset of `MAX_KEEP` feature
vectors (for KID, precision/recall and diversity), and, where a domain
classifier reads them, its class histogram on those images.

Files live in `$GAN_TUI_CACHE` or the user cache dir
(`~/.cache/gan-tui/reference/`), one .npz a reference, named by a hash of
(dataset, data path, split, image size, channels, limit, extractor, weights
hash), so new weights or settings never reuse stale numbers. Writes go to a
temporary name and are renamed into place.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import platformdirs
import torch

from gan_tui.metrics.fid import feature_stats

CACHE_ENV = "GAN_TUI_CACHE"
MAX_STATS = 60_000
MAX_KEEP = 10_000
VERSION = 1  # bump when the file layout or the recipe changes


def cache_dir() -> Path:
    chosen = os.environ.get(CACHE_ENV)
    root = Path(chosen).expanduser() if chosen else Path(platformdirs.user_cache_dir("gan-tui"))
    return root / "reference"


def reference_key(dataset: str, split: str, image_size: int, channels: int, extractor: str, weights_hash: str,
                  data_path: str = "", limit: int = 0) -> dict:
    return {"version": VERSION, "dataset": dataset, "data_path": data_path, "split": split,
            "image_size": image_size, "channels": channels, "limit": limit, "extractor": extractor,
            "weights_hash": weights_hash}


def reference_path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{key['dataset']}-{key['split']}-{key['extractor']}-{digest}.npz"


class Reference:
    """mu, sigma (float64), features (float32 subset), class_histogram (or None), n (images in the stats)."""

    def __init__(self, mu, sigma, features, class_histogram, n: int, cached: bool = False, path: Path | None = None):
        self.mu, self.sigma, self.features = mu, sigma, features
        self.class_histogram = class_histogram
        self.n = n
        self.cached = cached
        self.path = path


def compute_reference(images: torch.Tensor, embed: Callable, max_stats: int = MAX_STATS, max_keep: int = MAX_KEEP,
                      seed: int = 0) -> Reference:
    """Features of real uint8 images (N, C, H, W) -> Reference.

    `embed(batch) -> (features, class_probs or None)`; class probabilities come from the domain
    classifier where there is one, and give the real class histogram.
    """
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=g)[:max_stats]
    feats, labels = [], []
    for index in order.split(5000):
        f, probs = embed(images[index])
        feats.append(f)
        if probs is not None:
            labels.append(probs.argmax(1))
            classes = probs.shape[1]
    features = np.concatenate(feats).astype(np.float32)
    mu, sigma = feature_stats(features)
    hist = np.bincount(np.concatenate(labels), minlength=classes) / len(features) if labels else None
    return Reference(mu, sigma, features[:max_keep], hist, len(features))


def load_or_compute(key: dict, compute: Callable[[], Reference]) -> Reference:
    """The cached reference for `key`, or compute and cache it. A damaged file is recomputed."""
    path = reference_path(key)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                hist = data["class_histogram"] if data["class_histogram"].size else None
                return Reference(data["mu"], data["sigma"], data["features"], hist, int(data["n"]),
                                 cached=True, path=path)
        except Exception:  # truncated or foreign file: rebuild it
            pass
    ref = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, mu=ref.mu, sigma=ref.sigma, features=ref.features,
             class_histogram=ref.class_histogram if ref.class_histogram is not None else np.zeros(0),
             n=np.int64(ref.n), key=np.array(json.dumps(key, sort_keys=True)))
    os.replace(tmp, path)
    ref.path = path
    return ref
