"""End to end: the real `gan-tui ring8` in a tmux pane, driven by send-keys and read with capture-pane.

This is how a user on a plain SSH terminal sees it: no mouse, keys only, the
window resized under the app, and `q` leaving a checkpointed, interrupted run.
"""

import json
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket
        self.target = "dash"

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.target)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.target, *keys)

    def wait_for(self, pattern: str, timeout: float = 90.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.screen())
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; the screen was:\n{self.screen()}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.target],
                              capture_output=True).returncode == 0


@pytest.fixture
def tmux():
    t = Tmux(f"gan-tui-test-{uuid.uuid4().hex[:8]}")
    yield t
    t("kill-server")


def test_real_dashboard_in_tmux(tmux, tmp_path):
    runs = tmp_path / "runs"
    done = tmp_path / "exit-code"
    command = (f"cd {REPO} && {sys.executable} -m gan_tui ring8 --runs-dir {runs} --color 256 --fps 8 "
               "--set train.steps=2000 --set train.device=cpu --set data.batch_size=64 --set log.samples=256 "
               "--set log.every=5 --set log.histograms_every=5 --set log.samples_every=10 --set eval.every=0; "
               f"echo $? > {done}")
    tmux("new-session", "-d", "-s", tmux.target, "-x", "120", "-y", "40", command)

    # 120x40 is wide: every pane is on screen. Fresh samples every 10 steps.
    tmux.wait_for(r"step [1-9]\d*\s+● real")
    screen = tmux.screen()
    assert "Losses" in screen and "D outputs" in screen and "not computed" in screen
    assert "▀" in screen  # 256 colours: half-blocks
    run_dir = next(runs.iterdir())
    assert run_dir.name in screen  # the run id in the status bar

    tmux.keys("Space")
    tmux.wait_for(r"● paused")
    tmux.keys("c")
    tmux.wait_for(r"checkpoint saved at step \d+")
    tmux.keys("l")
    tmux.wait_for(r"· log")
    tmux.keys("+")
    tmux.wait_for(r"EMA 0\.95")
    tmux.keys("-", "-")
    tmux.wait_for(r"EMA 0\.8")
    tmux.keys("s")
    tmux.wait_for(r"saved the sample grid")
    assert list((run_dir / "exports").glob("samples-step-*.png"))
    tmux.keys("f")  # while paused: the real evaluator answers, and the FID pane shows its labelled score
    tmux.wait_for(r"evaluation requested at step \d+")
    tmux.wait_for(r"FID \(points\) \S+ @ [\d,]+")
    assert "best" in tmux.screen() and "not computed" not in tmux.screen()
    tmux.keys("?")
    tmux.wait_for(r"Keys \(esc closes\)")
    tmux.keys("Escape")

    # Shrink to 80x24 under the running app: one pane at a time, tab to move.
    tmux("resize-window", "-t", tmux.target, "-x", "80", "-y", "24")
    tmux.wait_for(r"Losses\s+D outputs\s+Samples\s+Diversity\s+FID")
    tmux.keys("Tab")
    tmux.wait_for(r"╭─ D outputs")
    tmux.keys("Space")
    tmux.wait_for(r"● running")

    tmux.keys("q")
    tmux.wait_for(r"Quit\?")
    tmux.keys("y")
    deadline = time.monotonic() + 90
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert done.read_text().strip() == "0"

    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["last_checkpoint"] == meta["step"] > 0
    checkpoints = sorted((run_dir / "checkpoints").glob("step-*"))
    assert len(checkpoints) >= 2  # the one asked for with c, and the one q saved
    assert (checkpoints[-1] / "model.safetensors").is_file()


def test_sigterm_to_the_dashboard_saves_and_exits_143(tmux, tmp_path):
    """Like `gan-tui run`: SIGTERM checkpoints, marks the run interrupted and exits 143."""
    import os
    import signal

    runs = tmp_path / "runs"
    done = tmp_path / "exit-code"
    command = (f"cd {REPO} && {sys.executable} -m gan_tui ring8 --runs-dir {runs} --color 256 "
               "--set train.steps=100000 --set train.device=cpu --set data.batch_size=64 --set log.samples=64 "
               "--set log.every=5 --set eval.every=0; "
               f"echo $? > {done}")
    tmux("new-session", "-d", "-s", tmux.target, "-x", "100", "-y", "30", command)
    tmux.wait_for(r"step [1-9][\d,]*")
    run_dir = next(runs.iterdir())
    os.kill(json.loads((run_dir / "meta.json").read_text())["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 90
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert done.read_text().strip() == "143"
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["last_checkpoint"] == meta["step"] > 0


def test_ctrl_z_suspends_to_the_shell_and_fg_brings_the_dashboard_back(tmux, tmp_path):
    """Job control as in any terminal program: Textual read ctrl+z as a key and nothing happened."""
    runs = tmp_path / "runs"
    tmux("new-session", "-d", "-s", tmux.target, "-x", "100", "-y", "30", "bash --norc --noprofile")
    tmux.keys(f"cd {REPO} && {sys.executable} -m gan_tui ring8 --runs-dir {runs} --color 256 "
              "--set train.steps=100000 --set train.device=cpu --set eval.every=0", "Enter")
    tmux.wait_for(r"step [1-9][\d,]*/100,000")
    pid = json.loads((next(runs.iterdir()) / "meta.json").read_text())["pid"]

    tmux.keys("C-z")
    tmux.wait_for(r"Stopped")  # the shell's job notice: the terminal is the shell's again
    with open(f"/proc/{pid}/stat") as fh:
        assert fh.read().rsplit(")", 1)[1].split()[0] == "T"  # stopped, training with it

    tmux.keys("fg", "Enter")
    before = int(tmux.wait_for(r"step ([\d,]+)/100,000").group(1).replace(",", ""))
    deadline = time.monotonic() + 60
    while int(tmux.wait_for(r"step ([\d,]+)/100,000").group(1).replace(",", "")) <= before:
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.2)
    tmux.keys("q")
    tmux.wait_for(r"Quit\?")
    tmux.keys("y")
    tmux.wait_for(r"interrupted at step \d+")  # the dashboard's last words, back at the shell
    meta = json.loads((next(runs.iterdir()) / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["last_checkpoint"] == meta["step"] > before
