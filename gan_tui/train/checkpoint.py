"""Checkpoints: weights as safetensors, optimiser and RNG state as a weights-only torch file.

Each checkpoint is a folder `step-0000500/` written under a temporary name and
renamed into place, so a kill at any moment leaves the last good one readable.
"""

import os
import re
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from gan_tui.errors import BadInput

_NAME = re.compile(r"^step-(\d+)$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(folder: Path, step: int, weights: dict[str, torch.Tensor], state: dict, keep: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:07d}"
    tmp = folder / f".tmp-step-{step:07d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file({k: v.detach().contiguous().cpu() for k, v in weights.items()}, str(tmp / "model.safetensors"))
    torch.save(state, tmp / "state.pt")
    for file in tmp.iterdir():
        with open(file, "rb") as fh:
            os.fsync(fh.fileno())
    if final.exists():  # the same step saved twice (e.g. "checkpoint now" on a checkpoint step)
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync_dir(folder)
    for old in list_checkpoints(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary folders are never listed)."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name) and p.is_dir()]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def checkpoint_step(path: Path) -> int:
    return int(_NAME.match(path.name).group(1))


def load_checkpoint(path: Path, device: torch.device) -> tuple[dict[str, torch.Tensor], dict]:
    try:
        weights = load_file(str(path / "model.safetensors"), device=str(device))
        state = torch.load(path / "state.pt", map_location=device, weights_only=True)
    except Exception as exc:  # any corruption: say which file
        raise BadInput(f"{path}: checkpoint cannot be read ({exc.__class__.__name__}: {exc}); "
                       f"delete that folder to resume from an earlier one.") from None
    return weights, state


def latest_good_checkpoint(folder: Path, device: torch.device):
    """The newest checkpoint that loads, with its contents; None when there is none."""
    for path in reversed(list_checkpoints(folder)):
        try:
            return path, *load_checkpoint(path, device)
        except BadInput:
            continue
    return None
