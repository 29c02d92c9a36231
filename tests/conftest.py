import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test reads the machine's own profiles or runs, or tries a download."""
    monkeypatch.setenv("GAN_TUI_OFFLINE", "1")
    monkeypatch.setenv("GAN_TUI_PROFILES", str(tmp_path / "user-profiles"))
    monkeypatch.setenv("GAN_TUI_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("GAN_TUI_DATA", raising=False)
    monkeypatch.setenv("GAN_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_TUI_INCEPTION", raising=False)


@pytest.fixture
def one_thread():
    """torch on one intra-op thread for the test, then back: tiny networks gain nothing from a second
    thread, and on a shared 2-core machine OpenMP's spinning threads make each small op wait for the
    other (measured: 8x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def runs_dir(tmp_path) -> Path:
    return tmp_path / "runs"


def run_cli(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `gan-tui ARGS` as a user would, in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "gan_tui", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=REPO)


def visible_runs(runs_dir: Path) -> list[Path]:
    """Run directories, without the hidden ones a run is built in before it is renamed into place."""
    return [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")] if runs_dir.is_dir() else []


def only_run(runs_dir: Path) -> Path:
    runs = visible_runs(runs_dir)
    assert len(runs) == 1, runs
    return runs[0]


FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not FASHION.is_dir(),
                                   reason="needs Debian's dataset-fashion-mnist (.ci/run installs it)")
MNIST = REPO / ".data" / "mnist"  # not in Debian: `.ci/get-mnist .data/mnist` fetches it (.ci/run does)
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-labels-idx1-ubyte.gz").is_file(),
                                 reason="needs MNIST's IDX files in .data/mnist (`.ci/get-mnist .data/mnist`)")
