"""One evaluation of a generator: FID, KID, IS, precision/recall, density/coverage,
diversity, and mode or class coverage, as one plain dict.

`evaluate_generator` is what `gan-tui eval` and the trainer's evaluation
thread call. It works on a frozen copy of G (deep-copied, eval mode, no
gradients) and its own seeded random generators, so it never changes the
trainer's networks, optimisers or random state.

For the 2D toys the points are the features; for images the extractor is
Inception-v3 where its weights are available, else the domain evaluator
(labelled "FID (domain)"). Class coverage on labelled image sets always uses
the domain classifier where one exists for the dataset.
"""

import copy
import time

import numpy as np
import torch

from gan_tui.errors import BadInput
from gan_tui.metrics.classes import asked_class_accuracy, asked_labels, class_coverage
from gan_tui.metrics.diversity import diversity
from gan_tui.metrics.features import TOY_DATASETS, DomainFeatures, FeatureExtractor, pick_extractor, quantize
from gan_tui.metrics.fid import GaussianStats, fid_from_stats, inception_score, kid
from gan_tui.metrics.prdc import prdc
from gan_tui.metrics.reference import Reference, compute_reference, load_or_compute, reference_key
from gan_tui.metrics.toy_modes import mode_coverage

PRDC_K = 3  # precision and recall; density and coverage use k = 5 (prdc.py)
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
MAX_FEATURE_SAMPLES = 10_000  # KID / precision-recall / density-coverage use at most this many of each


def _labels(suffix: str) -> dict:
    tag = f" ({suffix})" if suffix else ""
    return {"fid": f"FID{tag}", "kid": f"KID{tag}", "is": f"IS{tag}",
            "precision": f"precision{tag}, k={PRDC_K}", "recall": f"recall{tag}, k={PRDC_K}",
            "density": f"density{tag}, k=5", "coverage": f"coverage{tag}, k=5", "diversity": f"diversity{tag}",
            "near_duplicates": f"near-duplicates{tag}"}


def feature_metrics(fake: np.ndarray, real: np.ndarray, real_stats: GaussianStats | None = None,
                    kid_subsets: int = KID_SUBSETS, seed: int = 0) -> dict:
    """FID, KID, precision/recall, density/coverage and diversity of fake vs real features."""
    fake_stats = GaussianStats.of(fake)
    real_stats = real_stats or GaussianStats.of(real)
    fake_k, real_k = fake[:MAX_FEATURE_SAMPLES], real[:MAX_FEATURE_SAMPLES]
    kid_mean, kid_std = kid(real_k, fake_k, subsets=kid_subsets, subset_size=KID_SUBSET_SIZE, seed=seed)
    out = {"fid": fid_from_stats(real_stats, fake_stats), "kid_mean": kid_mean, "kid_std": kid_std}
    out.update(prdc(real_k, fake_k, k=PRDC_K))
    div = diversity(real_k, fake_k, seed=seed)
    out.update(diversity=div["diversity"], near_duplicates=div["near_duplicates"])
    return out


def toy_metrics(points: np.ndarray, dataset, real_points: np.ndarray | None = None, seed: int = 0,
                kid_subsets: int = KID_SUBSETS) -> dict:
    """All metrics for 2D points against a ToyMixture (`real_points` drawn from it when not given)."""
    points = np.asarray(points, np.float32)
    if real_points is None:
        g = torch.Generator(device=dataset.centres.device).manual_seed(seed + 7919)
        real_points = dataset.sample(max(len(points), 2), g)[0].cpu().numpy()
    out = feature_metrics(points, np.asarray(real_points, np.float32), kid_subsets=kid_subsets, seed=seed)
    cov = mode_coverage(points, dataset.centres.cpu().numpy(), dataset.std)
    out.update(modes_captured=cov.modes_captured, modes_total=cov.modes_total, high_quality=cov.high_quality,
               per_mode=cov.per_mode)
    out["labels"] = {**_labels("points"), "modes_captured": "modes captured",
                     "high_quality": "high-quality samples (within 3 std)"}
    return out


def toy_signals(points: np.ndarray, dataset, real_points: np.ndarray | None = None, seed: int = 0) -> dict:
    """The cheap collapse signals for 2D points (mode coverage, diversity, near-duplicates):
    milliseconds for the ~1k fixed-noise points of a Samples event."""
    points = np.asarray(points, np.float32)
    if real_points is None:
        g = torch.Generator(device=dataset.centres.device).manual_seed(seed + 7919)
        real_points = dataset.sample(max(len(points), 2), g)[0].cpu().numpy()
    cov = mode_coverage(points, dataset.centres.cpu().numpy(), dataset.std)
    div = diversity(np.asarray(real_points, np.float32), points, seed=seed)
    return {"modes_captured": cov.modes_captured, "modes_total": cov.modes_total, "high_quality": cov.high_quality,
            "diversity": div["diversity"], "near_duplicates": div["near_duplicates"]}


def frozen_copy(generator: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A deep copy in eval mode without gradients; the original is not touched."""
    clone = copy.deepcopy(generator)
    return clone.to(device).eval().requires_grad_(False)


@torch.no_grad()
def generate(generator: torch.nn.Module, n: int, device: torch.device, seed: int = 0,
             latent_dim: int | None = None, batch_size: int = 500) -> torch.Tensor:
    """n samples from G on fixed seeded noise, on the CPU: uint8 images or float points."""
    latent_dim = latent_dim or getattr(generator, "latent_dim", None)
    if not latent_dim:
        raise ValueError("the generator has no latent_dim attribute; pass latent_dim")
    g = torch.Generator(device=device).manual_seed(seed)
    classes = getattr(generator, "num_classes", 0)
    # A conditional G is asked for the classes the accuracy is scored against.
    asked = torch.from_numpy(asked_labels(n, classes)).to(device) if classes else None
    out = []
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), latent_dim, generator=g, device=device)
        x = (generator(z, asked[start:start + len(z)]) if classes else generator(z)).float()
        out.append((quantize(x) if x.dim() == 4 else x).cpu())
    return torch.cat(out)


def _embedder(extractor: FeatureExtractor, classifier: DomainFeatures | None):
    def embed(batch):
        feats, probs = extractor(batch)
        if classifier is None:
            return feats, None
        return feats, probs if classifier is extractor else classifier(batch)[1]
    return embed


def image_reference(settings, extractor: FeatureExtractor, classifier: DomainFeatures | None,
                    data_path: str | None = None) -> Reference:
    """The cached (or freshly computed) reference of a profile's real images for this extractor."""
    from gan_tui.data import load_dataset

    path = data_path or settings.path or ""
    ident = extractor.cache_id + (f"+{classifier.cache_id}" if classifier and classifier is not extractor else "")
    key = reference_key(settings.name, "train", settings.image_size, settings.channels, extractor.name, ident,
                        data_path=str(path), limit=settings.limit)

    def compute() -> Reference:
        data = load_dataset(settings, torch.device("cpu"), source="evaluation", data_path=data_path)
        if data.kind != "images":
            raise BadInput(f'dataset "{settings.name}" holds no images to compare with.')
        return compute_reference(data.images, _embedder(extractor, classifier))

    return load_or_compute(key, compute)


def evaluate_generator(generator: torch.nn.Module, dataset_settings, n: int = 10_000,
                       device: torch.device | str = "cpu", features: str = "auto", *, seed: int = 0,
                       inception_weights: str | None = None, data_path: str | None = None,
                       kid_subsets: int = KID_SUBSETS, step: int | None = None, frozen: bool = False) -> dict:
    """Evaluate n samples of a (frozen copy of a) generator against the profile's real data.

    `dataset_settings` is a profile's [data] table (`profile.data`). `features`: "auto",
    "inception" or "domain" (ignored for the 2D toys). Raises BadInput when no extractor
    fits (no Inception weights and no domain evaluator for the dataset). `frozen=True` says the
    generator already is a frozen copy that nothing else uses (the trainer's snapshot): no second copy.
    """
    start = time.perf_counter()
    device = torch.device(device)
    if n < 10:
        raise BadInput(f"evaluation needs at least 10 samples, not {n}; raise --n.")
    G = generator if frozen else frozen_copy(generator, device)
    name = dataset_settings.name
    result: dict = {"dataset": name, "n": n, "step": step, "notes": []}
    if name in TOY_DATASETS:
        from gan_tui.data import load_dataset

        data = load_dataset(dataset_settings, torch.device("cpu"), source="evaluation")
        points = generate(G, n, device, seed).numpy()
        result.update(features="points", extractor="the 2D points themselves")
        result.update(toy_metrics(points, data, seed=seed, kid_subsets=kid_subsets))
    else:
        extractor, notes = pick_extractor(name, features, device, inception_weights)
        result["notes"] += notes
        classifier = extractor if extractor.kind == "domain" else _optional_classifier(name, device)
        ref = image_reference(dataset_settings, extractor, classifier, data_path)
        images = generate(G, n, device, seed)
        feats, probs = extractor(images)
        class_probs = probs if classifier is extractor else (classifier(images)[1] if classifier else None)
        suffix = "domain" if extractor.kind == "domain" else ""
        result.update(features=extractor.kind, extractor=extractor.description, extractor_id=extractor.cache_id)
        result.update(feature_metrics(feats, ref.features, GaussianStats(ref.mu, ref.sigma, ref.n),
                                      kid_subsets=kid_subsets, seed=seed))
        if probs is not None:
            result["is_mean"], result["is_std"] = inception_score(probs)
        if class_probs is not None and ref.class_histogram is not None:
            cov = class_coverage(class_probs.argmax(1), ref.class_histogram, classifier.class_names)
            result.update(classes_covered=cov["classes_covered"], classes_total=cov["classes_total"],
                          class_kl=cov["class_kl"], class_histogram=cov["histogram"],
                          real_class_histogram=cov["real_histogram"], missing_classes=cov["missing"],
                          class_names=list(classifier.class_names))
            classes = getattr(G, "num_classes", 0)
            if classes and classes == len(ref.class_histogram):  # conditional: does G make what it is asked?
                result.update(asked_class_accuracy(class_probs.argmax(1), asked_labels(n, classes), classes))
        result["labels"] = {**_labels(suffix), "classes_covered": "classes covered (domain classifier)",
                            "class_kl": "class KL(generated || real), nats",
                            "asked_class_accuracy": "asked-class accuracy (domain)"}
        result["reference"] = {"n": ref.n, "cached": ref.cached, "path": str(ref.path) if ref.path else None}
    result["seconds"] = time.perf_counter() - start
    return result


def _optional_classifier(dataset: str, device) -> DomainFeatures | None:
    try:
        return DomainFeatures(dataset, device)
    except BadInput:
        return None
