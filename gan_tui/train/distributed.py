"""Several processes, one run: torchrun sets the environment, DistributedDataParallel
averages the gradients.

    torchrun --nproc-per-node N -m gan_tui run PROFILE

Each rank trains on its own shard of the data with its own noise (`data.batch_size`
is per rank, so the global batch is N times larger); rank 0 alone writes the run
directory, shows progress and evaluates. Ranks agree on stopping and
checkpointing once per log interval (one tiny broadcast), never per step.
"""

import datetime
import os
import sys
import threading
from dataclasses import dataclass
from typing import NoReturn

import torch
import torch.distributed as dist

from gan_tui.errors import BadInput

RANK_SEED_STRIDE = 1_000_003  # rank r's noise and batches come from seed + r * stride


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def seed(self, seed: int) -> int:
        return seed + self.rank * RANK_SEED_STRIDE


SINGLE = World()


def world_from_env() -> World:
    """What torchrun says (RANK, WORLD_SIZE, LOCAL_RANK); one process when it says nothing."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return SINGLE
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def start(world: World, device_setting: str) -> torch.device:
    """Join the process group; returns this rank's device (cuda:LOCAL_RANK on GPUs, else the CPU)."""
    wants_cuda = device_setting != "cpu" and torch.cuda.is_available()
    if device_setting.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f'key "train.device" is "{device_setting}" but no CUDA GPU is available here; '
                       f'use "auto" or "cpu".')
    if wants_cuda:
        if world.local_rank >= torch.cuda.device_count():
            raise BadInput(f"torchrun started {world.size} processes on this machine but it has "
                           f"{torch.cuda.device_count()} GPU(s); use --nproc-per-node {torch.cuda.device_count()}.")
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if wants_cuda else "gloo", timeout=datetime.timedelta(minutes=30))
    return device


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def end_rank(code: int) -> NoReturn:
    """End this torchrun rank once its run is closed, skipping the interpreter's shutdown.

    gloo's worker threads outlive destroy_process_group(), and one may still be dropping the
    last reference to a tensor of the final collective; if that happens while the interpreter
    shuts down, the thread cannot take the GIL and the process aborts ("terminate called
    without an active exception", pytorch/pytorch#190489) after the run has finished. With
    os._exit nothing runs after this point, so every file must already be closed (Session.close
    does it); what is left of the shutdown is done here: the threads the interpreter would wait
    for (an evaluation that was running, see evaluation.py), then stdio."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def broadcast_object(obj, world: World):
    """Rank 0's `obj` on every rank (the run directory, an agreed command)."""
    if not world.active:
        return obj
    box = [obj if world.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sum_across_ranks(tensor: torch.Tensor, world: World) -> torch.Tensor:
    if world.active:
        dist.all_reduce(tensor)
    return tensor


def wrap(module: torch.nn.Module, world: World, device: torch.device) -> torch.nn.Module:
    """The module DDP trains on this rank (the module itself when there is one process)."""
    if not world.active or not any(p.requires_grad for p in module.parameters()):
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None)
