"""The domain evaluator: a small CNN classifier the project trains itself.

It gives "FID (domain)" features (its penultimate layer) and class
probabilities for datasets where Inception-v3 weights are not at hand.
Weights are safetensors files named after the dataset, looked for in the
user data dir (`~/.local/share/gan-tui/evaluator/`, where
`gan-tui evaluator train DATASET` writes by default) and then in the package
(`gan_tui/evaluator/weights/`, shipped: fashion-mnist and mnist).
"""

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from gan_tui import paths
from gan_tui.errors import BadInput
from gan_tui.evaluator.model import WIDTHS, DomainCNN

SHIPPED_DIR = Path(__file__).resolve().parent / "weights"


def user_weights_dir() -> Path:
    return paths.user_data_dir() / "evaluator"


def weights_candidates(dataset: str) -> list[Path]:
    return [user_weights_dir() / f"{dataset}.safetensors", SHIPPED_DIR / f"{dataset}.safetensors"]


def find_weights(dataset: str) -> Path | None:
    """The evaluator weights for a dataset (user's first, then shipped), or None."""
    return next((p for p in weights_candidates(dataset) if p.is_file()), None)


def read_info(path: Path) -> dict:
    """The metadata saved with the weights: dataset, classes, test accuracy, how it was trained."""
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
    info = dict(meta)
    for key in ("classes", "widths"):
        if key in info:
            info[key] = json.loads(info[key])
    for key in ("test_accuracy", "train_seconds"):
        if key in info:
            info[key] = float(info[key])
    for key in ("epochs", "seed", "num_classes", "train_images", "test_images"):
        if key in info:
            info[key] = int(info[key])
    return info


def load_evaluator(path: Path, device: torch.device | str = "cpu") -> tuple[DomainCNN, dict]:
    """(model in eval mode, info); a file that is not evaluator weights is a BadInput."""
    try:
        info = read_info(path)
        state = load_file(str(path), device=str(device))
        model = DomainCNN(int(info.get("num_classes", 10)), tuple(info.get("widths", WIDTHS)))
        model.load_state_dict(state)
    except Exception as exc:
        raise BadInput(f"{path}: not domain evaluator weights ({exc.__class__.__name__}); "
                       f"retrain with `gan-tui evaluator train DATASET` or delete the file.") from None
    return model.to(device).eval().requires_grad_(False), info


__all__ = ["DomainCNN", "find_weights", "load_evaluator", "read_info", "user_weights_dir", "SHIPPED_DIR"]
