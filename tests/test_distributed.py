"""torchrun: two CPU processes on the gloo backend train one run with DistributedDataParallel.

Rank 0 alone writes the run; the run finishes with the step count and shapes of
a single-process run (the trainer also checks at the end that both ranks hold
the same weights, so a bypassed DDP fails the run); and its checkpoint resumes
in a single process.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_tui.data.base import ImageDataset
from gan_tui.store.reader import RunReader
from gan_tui.train.distributed import World, world_from_env

pytestmark = pytest.mark.slow

TINY = ["--set", "train.steps=30", "--set", "log.every=10", "--set", "log.samples=64",
        "--set", "log.samples_every=30", "--set", "checkpoint.every=30", "--set", "eval.every=0",
        "--set", "data.batch_size=64", "--set", "train.device=cpu"]


def torchrun(args, runs_dir, nproc=2, timeout=240):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "gan_tui", "run", *args, "--runs-dir", str(runs_dir), "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def single(args, runs_dir, timeout=240):
    cmd = [sys.executable, "-m", "gan_tui", "run", *args, "--runs-dir", str(runs_dir), "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def only_run(runs_dir):
    (run,) = [p for p in runs_dir.iterdir() if (p / "meta.json").is_file()]
    return run


def test_two_processes_train_one_run_like_a_single_process(tmp_path):
    ddp_dir, one_dir = tmp_path / "ddp", tmp_path / "one"
    proc = torchrun(["ring8", *TINY], ddp_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["event"] for r in rows].count("started") == 1  # rank 0 alone reports
    assert proc.returncode == 0 and single(["ring8", *TINY], one_dir).returncode == 0

    ddp, one = RunReader(only_run(ddp_dir)), RunReader(only_run(one_dir))
    meta = ddp.meta()
    assert meta["status"] == "finished" and meta["step"] == 30 and meta["world_size"] == 2
    assert one.meta()["world_size"] == 1
    assert len(list(ddp_dir.iterdir())) == 1  # one run directory, not one per rank
    steps, _ = ddp.scalars("d_loss")
    assert list(steps) == list(one.scalars("d_loss")[0]) == [10, 20, 30]
    a, b = ddp.samples(), one.samples()
    assert a["step"] == b["step"] == 30 and a["points"].shape == b["points"].shape == (64, 2)
    # the same networks: the checkpoints hold the same tensors with the same shapes
    from safetensors.torch import load_file

    wa = load_file(ddp.checkpoints()[-1] / "model.safetensors")
    wb = load_file(one.checkpoints()[-1] / "model.safetensors")
    assert {k: v.shape for k, v in wa.items()} == {k: v.shape for k, v in wb.items()}
    # ...but trained differently: two ranks saw twice the data
    assert any(not torch.equal(wa[k], wb[k]) for k in wa)

    # a checkpoint written by two ranks resumes in one process
    resumed = single(["--resume", meta["id"], "--set", "train.steps=40", "--set", "train.device=cpu"], ddp_dir)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = RunReader(only_run(ddp_dir))
    assert after.meta()["step"] == 40 and after.meta()["world_size"] == 1
    assert list(after.scalars("d_loss")[0]) == [10, 20, 30, 40]


def test_world_from_env(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not world_from_env().active and world_from_env().is_main
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    world = world_from_env()
    assert world == World(3, 4, 1) and world.active and not world.is_main
    assert world.seed(5) != World(0, 4, 0).seed(5) == 5  # rank 0 draws what a single process draws


def test_image_shards_are_disjoint_and_cover_the_set():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    data = ImageDataset("x", images, torch.arange(10), ["c"] * 10)
    parts = [data.shard(r, 3) for r in range(3)]
    seen = np.concatenate([p.images[:, 0, 0, 0].numpy() for p in parts])
    assert sorted(seen.tolist()) == list(range(10)) and [len(p) for p in parts] == [4, 3, 3]
    assert torch.equal(parts[1].labels, torch.tensor([1, 4, 7]))


def test_a_rank_ends_with_its_code_after_its_threads_and_output():
    """end_rank skips the interpreter's shutdown (where gloo's threads abort the process), so it
    must itself wait for non-daemon threads (a running evaluation) and flush what was printed."""
    script = ("import threading, time\n"
              "from gan_tui.train.distributed import end_rank\n"
              "print('trained', end='')\n"
              "threading.Thread(target=lambda: (time.sleep(0.5), print(' evaluated', end=''))).start()\n"
              "end_rank(3)\n"
              "print(' never')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as in a pipe
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert (proc.returncode, proc.stdout) == (3, "trained evaluated"), proc.stderr
