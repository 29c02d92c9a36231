"""Training the domain evaluator: `gan-tui evaluator train DATASET`.

Fully seeded (initialisation, shuffling and augmentation draw from `seed`);
on a CPU with the same thread count the same weights come out. Recipe:
AdamW with a one-cycle learning rate (peak 3e-3), batch 128, label smoothing
0.1, random horizontal flips for Fashion-MNIST (never for digits), 8 epochs
over the training split; the accuracy reported is on the t10k split, which
training never sees.
"""

import json
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gan_tui.data.idx import IDX_SETS, load_idx_split
from gan_tui.errors import BadInput
from gan_tui.evaluator import user_weights_dir
from gan_tui.evaluator.model import WIDTHS, DomainCNN, to_evaluator_input

FLIP_OK = {"fashion-mnist"}  # mirrored clothes are clothes; mirrored digits are not digits


def _tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return to_evaluator_input(torch.from_numpy(np.array(images))), torch.from_numpy(np.array(labels))


@torch.no_grad()
def accuracy(model: DomainCNN, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of `model` on [-1, 1] images (N, 1, 28, 28)."""
    was_training = model.training
    model.eval()
    correct = 0
    for x, y in zip(images.split(batch_size), labels.split(batch_size)):
        correct += int((model(x).argmax(1) == y).sum())
    model.train(was_training)
    return correct / max(len(labels), 1)


def train_evaluator(dataset: str, epochs: int = 8, seed: int = 0, batch_size: int = 128, lr: float = 3e-3,
                    data_path: str | None = None, limit: int = 0, test_limit: int = 0,
                    out: Path | None = None, log: Callable[[str], None] = lambda line: None) -> dict:
    """Train, test on t10k, save safetensors (with the recipe and accuracy as metadata); returns the info."""
    if dataset not in IDX_SETS:
        raise BadInput(f'no evaluator recipe for dataset "{dataset}"; known: {", ".join(sorted(IDX_SETS))}.')
    source = f"gan-tui evaluator train {dataset}"
    train_x, train_y = load_idx_split(dataset, data_path, source, "train")
    test_x, test_y = load_idx_split(dataset, data_path, source, "t10k")
    if limit:
        train_x, train_y = train_x[:limit], train_y[:limit]
    if test_limit:
        test_x, test_y = test_x[:test_limit], test_y[:test_limit]
    train_x, train_y = _tensors(train_x, train_y)
    test_x, test_y = _tensors(test_x, test_y)
    classes = IDX_SETS[dataset][1]

    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    model = DomainCNN(len(classes))
    batches = max(len(train_x) // batch_size, 1)
    steps = epochs * batches
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    flip = dataset in FLIP_OK
    start = time.perf_counter()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(train_x), generator=rng)
        total = 0.0
        for b in range(batches):
            index = order[b * batch_size:(b + 1) * batch_size]
            x = train_x[index]
            if flip:
                mirror = torch.rand(len(x), generator=rng) < 0.5
                x = torch.where(mirror[:, None, None, None], x.flip(3), x)
            loss = F.cross_entropy(model(x), train_y[index], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        log(f"epoch {epoch + 1}/{epochs}: loss {total / batches:.4f}, "
            f"{time.perf_counter() - start:.0f} s")
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, test_x, test_y)
    info = {
        "dataset": dataset,
        "classes": classes,
        "num_classes": len(classes),
        "widths": list(WIDTHS),
        "test_accuracy": round(test_accuracy, 4),
        "train_images": len(train_x),
        "test_images": len(test_x),
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "command": f"gan-tui evaluator train {dataset} --epochs {epochs} --seed {seed}",
    }
    target = Path(out) if out else user_weights_dir() / f"{dataset}.safetensors"
    save_weights(model, info, target)
    info["path"] = str(target)
    log(f"test accuracy {test_accuracy:.2%} on {len(test_x)} t10k images; saved {target}")
    return info


def save_weights(model: DomainCNN, info: dict, target: Path) -> None:
    """Write weights + metadata atomically (temp name, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {k: json.dumps(v) if isinstance(v, (list, dict)) else str(v) for k, v in info.items()}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(tmp), metadata=meta)
    os.replace(tmp, target)
