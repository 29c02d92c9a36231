"""Class coverage of generated images, read by the domain classifier.

The classifier labels every generated sample; the histogram of those labels
is compared with the histogram of the classifier's labels on real images
(labels predicted the same way, so the classifier's own confusions, e.g.
shirt vs T-shirt, cancel out):

- `classes_covered`: classes that receive at least `min_fraction` (10%) of
  the share they have in the real data (1% of samples for 10 balanced
  classes);
- `class_kl`: KL(generated || real) in nats, the reverse KL of VEEGAN and
  PacGAN: 0 when the histograms match, log(K) when G makes one class of K
  balanced ones. It stays finite because every class occurs in real data.

For a conditional generator, `asked_class_accuracy` is how often the
classifier names the class G was asked for, per class and on average (the
classifier's own accuracy on real test images is the ceiling: README).
"""

import numpy as np

MIN_FRACTION = 0.1


def class_histogram(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Fractions of each class among integer labels (sums to 1)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)[:num_classes]
    return counts / max(counts.sum(), 1)


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = 1e-12) -> float:
    """KL(p || q) in nats, with 0 log 0 = 0; q is floored at eps."""
    p = np.asarray(p, np.float64)
    q = np.maximum(np.asarray(q, np.float64), eps)
    mask = p > 0
    return float((p[mask] * (np.log(p[mask]) - np.log(q[mask]))).sum())


def class_coverage(fake_labels: np.ndarray, real_histogram: np.ndarray, class_names: list[str] | None = None,
                   min_fraction: float = MIN_FRACTION) -> dict:
    """{"histogram", "real_histogram", "classes_covered", "classes_total", "class_kl", "missing"}."""
    real_histogram = np.asarray(real_histogram, np.float64)
    k = len(real_histogram)
    hist = class_histogram(fake_labels, k)
    covered = hist >= min_fraction * real_histogram
    covered &= hist > 0
    names = class_names or [str(i) for i in range(k)]
    return {
        "histogram": hist.tolist(),
        "real_histogram": real_histogram.tolist(),
        "classes_covered": int(covered.sum()),
        "classes_total": k,
        "class_kl": kl_divergence(hist, real_histogram),
        "missing": [names[i] for i in range(k) if not covered[i]],
    }


def asked_labels(n: int, num_classes: int) -> np.ndarray:
    """The classes a conditional G is asked for in an evaluation of n samples: 0, 1, ..., K-1, 0, ..."""
    return np.arange(n) % num_classes


def asked_class_accuracy(predicted: np.ndarray, asked: np.ndarray, num_classes: int) -> dict:
    """{"asked_class_accuracy": mean over classes, "asked_class_accuracies": one per class}."""
    predicted, asked = np.asarray(predicted), np.asarray(asked)
    per_class = [float((predicted[asked == k] == k).mean()) if (asked == k).any() else float("nan")
                 for k in range(num_classes)]
    return {"asked_class_accuracy": float(np.nanmean(per_class)), "asked_class_accuracies": per_class}


def weakest_class(result: dict) -> tuple[str, float] | None:
    """(name, accuracy) of the class a conditional G draws worst, from an evaluation's result; None without one.
    The mean hides it: a G can score 85% on average with one class at 60%."""
    accuracies = result.get("asked_class_accuracies")
    if not isinstance(accuracies, list) or not accuracies:
        return None
    names = result.get("class_names") or [str(i) for i in range(len(accuracies))]
    scored = [(acc, i) for i, acc in enumerate(accuracies) if isinstance(acc, (int, float)) and acc == acc]
    if not scored or len(names) != len(accuracies):
        return None
    acc, worst = min(scored)
    return names[worst], float(acc)
