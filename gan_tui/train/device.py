"""Choosing the device and precision a profile asks for."""

import contextlib

import torch

from gan_tui.errors import BadInput


def pick_device(name: str, source: str = "profile") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadInput(f'{source}: key "train.device" is "{name}" but no CUDA GPU is available here; '
                           f'use "auto" or "cpu".')
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise BadInput(f'{source}: key "train.device" is "{name}" but only {torch.cuda.device_count()} '
                           f"GPU(s) exist; pick one of cuda:0..cuda:{torch.cuda.device_count() - 1}.")
    return torch.device(name)


def set_cpu_threads(threads: int) -> None:
    """torch's CPU thread count for the process; 0 leaves torch's default (or $OMP_NUM_THREADS)."""
    if threads:
        torch.set_num_threads(threads)


def autocast_for(precision: str, device: torch.device):
    """A context for the forward passes: bf16 autocast, or nothing for fp32/tf32."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def set_matmul_precision(precision: str) -> None:
    # tf32 lets fp32 matmuls and convolutions use tensor cores; fp32 keeps them exact.
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
