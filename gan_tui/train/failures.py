"""One sentence for each way training can fail, shared by `gan-tui run` and the dashboard.

CUDA out of memory names the batch size and the memory figures and suggests a
fix; a failed write names the file and why (a full disk, a file size limit);
anything else is the exception's type and message.
"""

import re

from gan_tui.errors import BadInput, RunWriteError

GIB = 1024 ** 3


def _gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def cuda_memory_figures(device) -> str:
    """"X allocated by PyTorch, Y reserved, Z free of T on cuda:N, peak P"; "" where unknown."""
    import torch

    try:
        device = torch.device(device)
        if device.type != "cuda" or not torch.cuda.is_available():
            return ""
        free, total = torch.cuda.mem_get_info(device)
        return (f"{_gib(torch.cuda.memory_allocated(device))} allocated by PyTorch, "
                f"{_gib(torch.cuda.memory_reserved(device))} reserved, {_gib(free)} free of {_gib(total)} "
                f"on {device}, peak {_gib(torch.cuda.max_memory_allocated(device))}")
    except Exception:  # noqa: BLE001 - a CUDA context in a bad state: say what we can
        return ""


def out_of_memory_message(exc: BaseException, batch_size: int | None, device=None, step: int | None = None) -> str:
    at = f" at step {step:,}" if step else ""
    facts = []
    if batch_size:
        facts.append(f"data.batch_size = {batch_size}")
    asked = re.search(r"[Tt]ried to allocate ([\d.]+ [KMGT]i?B)", str(exc))
    if asked:
        facts.append(f"it tried to allocate {asked.group(1)}")
    figures = cuda_memory_figures(device) if device is not None else ""
    if figures:
        facts.append(figures)
    else:  # no live figures (another device, or CUDA unusable): what the allocator said
        capacity = re.search(r"total capacity of ([\d.]+ [KMGT]i?B) of which ([\d.]+ [KMGT]i?B) is free", str(exc))
        if capacity:
            facts.append(f"{capacity.group(2)} free of {capacity.group(1)}")
    half = f" (try {max(1, batch_size // 2)})" if batch_size and batch_size > 1 else ""
    return (f"CUDA ran out of memory{at}" + (f" ({'; '.join(facts)})" if facts else "")
            + f"; lower data.batch_size{half} or the model widths (model.g_width, model.d_width), "
            'or set train.precision = "bf16"')


def failure_message(exc: BaseException, trainer=None, profile=None) -> str:
    """What went wrong, in one sentence without a final full stop. `trainer` (or `profile`, before
    there is a trainer) gives the batch size, device and step for CUDA out of memory."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        profile = getattr(trainer, "profile", profile)
        batch = getattr(getattr(profile, "data", None), "batch_size", None)
        return out_of_memory_message(exc, batch, getattr(trainer, "device", None), getattr(trainer, "step", None))
    if isinstance(exc, RunWriteError):
        run = getattr(trainer, "run_id", None) or "RUN"
        return (f"{exc}; free some space there (or raise the file size limit), then continue from the last "
                f"checkpoint with `gan-tui run --resume {run}`")
    if isinstance(exc, BadInput):
        return str(exc).rstrip(".")
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
