"""How well a pair of translators (CycleGAN's G_AB and G_BA) does on held-out images.

- Cycle reconstruction error: mean |G_BA(G_AB(a)) - a| over pixels and images
  (and B -> A -> B), on the networks' [-1, 1] scale, the same scale as the
  training curve "cycle". 0 is a perfect round trip.
- Translation accuracy (needs the dataset's domain classifier, see
  gan_tui/evaluator): the share of G_AB(a) that the classifier takes for
  class B, out of all its classes, and of G_BA(b) for class A. The
  classifier's accuracy on the real images of A and B is given alongside, as
  the ceiling to read it against.

`translation_metrics` takes frozen copies of the translators and uint8
images; it changes no weights and draws no random numbers.
"""

import time

import torch

from gan_tui.metrics.features import quantize

LABELS = {
    "cycle_error_a": "cycle error A→B→A (mean L1, [-1, 1])",
    "cycle_error_b": "cycle error B→A→B (mean L1, [-1, 1])",
    "translation_accuracy_ab": "A→B classified as B (domain classifier)",
    "translation_accuracy_ba": "B→A classified as A (domain classifier)",
    "real_accuracy_a": "real A classified as A (domain classifier)",
    "real_accuracy_b": "real B classified as B (domain classifier)",
}


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> the networks' [-1, 1] scale."""
    return images.float().div(127.5).sub(1.0)


@torch.no_grad()
def translation_metrics(g_ab: torch.nn.Module, g_ba: torch.nn.Module, images_a: torch.Tensor,
                        images_b: torch.Tensor, classifier=None, classes: tuple[int, int] | None = None,
                        device: torch.device | str = "cpu", batch_size: int = 250) -> dict:
    """Cycle errors and (with a classifier and the two domains' class indices) translation accuracies.

    `images_a`, `images_b`: uint8 (N, C, H, W). `classifier`: a DomainFeatures (or anything called
    on uint8 images that returns (features, probabilities)).
    """
    start = time.perf_counter()
    device = torch.device(device)
    sums = {"cycle_error_a": 0.0, "cycle_error_b": 0.0}
    hits = {"translation_accuracy_ab": 0, "translation_accuracy_ba": 0, "real_accuracy_a": 0, "real_accuracy_b": 0}
    for images, forward, back, side, target, own in ((images_a, g_ab, g_ba, "a", 1, 0),
                                                     (images_b, g_ba, g_ab, "b", 0, 1)):
        for chunk in images.split(batch_size):
            x = to_float(chunk.to(device))
            there = forward(x).float()
            again = back(there).float()
            sums[f"cycle_error_{side}"] += float((again - x).abs().mean((1, 2, 3)).sum())
            if classifier is not None and classes is not None:
                other = "ab" if side == "a" else "ba"
                translated = classifier(quantize(there))[1].argmax(1)
                real = classifier(chunk)[1].argmax(1)
                hits[f"translation_accuracy_{other}"] += int((translated == classes[target]).sum())
                hits[f"real_accuracy_{side}"] += int((real == classes[own]).sum())
    n_a, n_b = len(images_a), len(images_b)
    out: dict = {"cycle_error_a": sums["cycle_error_a"] / max(n_a, 1),
                 "cycle_error_b": sums["cycle_error_b"] / max(n_b, 1)}
    if classifier is not None and classes is not None:
        out.update(translation_accuracy_ab=hits["translation_accuracy_ab"] / max(n_a, 1),
                   translation_accuracy_ba=hits["translation_accuracy_ba"] / max(n_b, 1),
                   real_accuracy_a=hits["real_accuracy_a"] / max(n_a, 1),
                   real_accuracy_b=hits["real_accuracy_b"] / max(n_b, 1))
    out["labels"] = {k: v for k, v in LABELS.items() if k in out}
    out["n"] = min(n_a, n_b)
    out["n_a"], out["n_b"] = n_a, n_b
    out["features"] = "domain" if classifier is not None else "none"
    out["seconds"] = time.perf_counter() - start
    return out


def evaluate_translation(generators: torch.nn.Module, dataset_settings, classes: tuple[int, int],
                         domain_names: tuple[str, str], n: int = 1000, device: torch.device | str = "cpu",
                         data_path: str | None = None, step: int | None = None) -> dict:
    """`translation_metrics` for a (frozen copy of a) CycleGenerators pair on up to n test images
    of each domain; the domain classifier is used where the dataset has one."""
    from gan_tui.data.unpaired import domain_test_images
    from gan_tui.errors import BadInput
    from gan_tui.metrics.features import DomainFeatures

    start = time.perf_counter()
    images_a, images_b, split = domain_test_images(dataset_settings, classes, n, data_path)
    notes = []
    try:
        classifier = DomainFeatures(dataset_settings.name, device)
    except BadInput:
        classifier = None
        notes.append(f'no domain classifier for dataset "{dataset_settings.name}": translation accuracy is not '
                     'measured, only the cycle errors')
    result = translation_metrics(generators.ab, generators.ba, images_a, images_b, classifier, classes, device)
    result.update(dataset=dataset_settings.name, step=step, split=split, notes=notes,
                  domains={"a": domain_names[0], "b": domain_names[1]},
                  extractor=classifier.description if classifier is not None else "none",
                  seconds=time.perf_counter() - start)
    return result
