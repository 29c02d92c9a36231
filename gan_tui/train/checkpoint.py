"""Checkpoints: weights as safetensors, optimiser and RNG state as a weights-only torch file.

Each checkpoint is a folder `step-0000500/` written under a temporary name and
renamed into place, so a kill at any moment leaves the last good one readable.
"""

import os
import re
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as save_safetensors

from gan_tui.errors import BadInput, RunWriteError

_NAME = re.compile(r"^step-(\d+)$")
_HIDDEN = re.compile(r"^\.(tmp|old|trash)-step-(\d+)-(\d+)$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def _tidy(folder: Path) -> None:
    """Remove what killed writers left behind: half-written `.tmp-` folders of dead processes and
    `.trash-` folders; a `.old-` folder (a checkpoint being replaced by one of the same step) goes
    back into place when its replacement never arrived."""
    for entry in folder.iterdir():
        found = _HIDDEN.match(entry.name)
        if not found:
            continue
        kind, step, pid = found.group(1), int(found.group(2)), int(found.group(3))
        if pid == os.getpid() or _pid_alive(pid):
            continue
        final = folder / f"step-{step:07d}"
        if kind == "old" and not final.exists():
            os.rename(entry, final)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _write(path: Path, write, shown: Path) -> None:
    """Write one file of a checkpoint and fsync it; any failure is a RunWriteError naming the file
    (`shown`: its name once the checkpoint is complete)."""
    try:
        with open(path, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except Exception as exc:
        raise RunWriteError(shown, exc) from exc


def save_checkpoint(folder: Path, step: int, weights: dict[str, torch.Tensor], state: dict, keep: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _tidy(folder)
    final = folder / f"step-{step:07d}"
    tmp = folder / f".tmp-step-{step:07d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        tensors = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
        _write(tmp / "model.safetensors", lambda fh: fh.write(save_safetensors(tensors)), final / "model.safetensors")
        _write(tmp / "state.pt", lambda fh: torch.save(state, fh), final / "state.pt")
    except BaseException:  # a full disk, a kill signal turned exception: leave no half checkpoint
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():  # the same step saved twice (e.g. "checkpoint now" on a checkpoint step)
        old = folder / f".old-step-{step:07d}-{os.getpid()}"
        os.rename(final, old)  # a kill from here to the next rename is undone by the next _tidy
    os.rename(tmp, final)
    _fsync_dir(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    for stale in list_checkpoints(folder)[:-keep]:
        # Hidden first, so a delete cut short never leaves a half checkpoint that is listed.
        trash = folder / f".trash-{stale.name}-{os.getpid()}"
        os.rename(stale, trash)
        shutil.rmtree(trash, ignore_errors=True)
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
    file = path / "model.safetensors"
    try:
        weights = load_file(str(file), device=str(device))
        file = path / "state.pt"
        state = torch.load(file, map_location=device, weights_only=True)
    except Exception as exc:  # any corruption: say which file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BadInput(f"{path}: checkpoint cannot be read ({file.name}: {exc.__class__.__name__}: {reason})") from None
    if not isinstance(state, dict) or "step" not in state:
        raise BadInput(f"{path}: checkpoint cannot be read (state.pt holds no training state)")
    return weights, state


def latest_good_checkpoint(folder: Path, device: torch.device, on_bad=None):
    """The newest checkpoint that loads, with its contents; None when there is none.
    `on_bad(message)` hears of each newer one that could not be read (the message names the file)."""
    for path in reversed(list_checkpoints(folder)):
        try:
            return path, *load_checkpoint(path, device)
        except BadInput as exc:
            if on_bad is not None:
                on_bad(str(exc))
            continue
    return None
