"""Running `gan-tui` as a subprocess from the benchmarks, the way a user would, and reading its
`--json` lines: shared by zoo_quality.py, zoo_toys.py and cyclegan_quality.py."""

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_args(data: str | None) -> list[str]:
    """`--data DIR` made absolute: gan_tui() runs from the repository root, wherever the benchmark was started."""
    return ["--data", str(Path(data).resolve())] if data else []


def gan_tui(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_tui", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def run_args(profile: str, runs: Path, sets: list[str], data: str | None) -> list[str]:
    """`gan-tui run PROFILE --json` into `runs`, with the overrides and the data folder."""
    args = ["run", profile, "--json", "--runs-dir", str(runs)]
    for item in sets:
        args += ["--set", item]
    return args + data_args(data)


def the_run(runs: Path) -> Path:
    """The one run directory a benchmark's run left in `runs`."""
    return next(p for p in runs.iterdir() if (p / "meta.json").is_file())


def train(profile: str, runs: Path, sets: list[str], data: str | None, timeout: float):
    """(json rows, wall seconds, run dir), or raises RuntimeError with gan-tui's own message."""
    start = time.time()
    proc = gan_tui(run_args(profile, runs, sets, data), timeout)
    wall = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return rows, wall, the_run(runs)


def train_for(profile: str, runs: Path, sets: list[str], data: str | None, seconds: float, timeout: float):
    """Train for `seconds` of wall time from the first logged step (start-up, data loading and the first
    steps' compilation are not counted), then stop it as Ctrl-C does: gan-tui saves a checkpoint at the
    step it reached and exits 130. Returns (json rows, training wall seconds, run dir), or raises
    RuntimeError with gan-tui's own message."""
    args = [sys.executable, "-m", "gan_tui", *run_args(profile, runs, ["train.steps=100000000", *sets], data)]
    rows, first, stopped = [], [], []

    def stop():  # once: a second Ctrl-C would kill it without a checkpoint
        stopped.append(time.time())
        proc.send_signal(signal.SIGINT)

    with tempfile.TemporaryFile("w+") as stderr:  # a file, not a pipe: a full pipe would stall the run
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
        timers = [threading.Timer(timeout, proc.kill), threading.Timer(seconds, stop)]
        timers[0].start()  # a hung run ends the wait, not the benchmark
        try:
            for line in proc.stdout:  # one JSON object per event; the clock starts at the first scalars
                if line.startswith("{"):
                    rows.append(json.loads(line))
                    if not first and rows[-1].get("event") == "scalars":
                        first.append(time.time())
                        timers[1].start()
            code = proc.wait()
        finally:
            for timer in timers:
                timer.cancel()
            if proc.poll() is None:
                proc.kill()
        stderr.seek(0)
        message = stderr.read().strip()
    if code != 130 or not stopped:
        raise RuntimeError(message.splitlines()[-1] if message else f"exit {code} before {seconds:.0f} s of training")
    return rows, stopped[0] - first[0], the_run(runs)


def steady(rows: list[dict], key: str) -> float:
    """The mean of `key` over the second half of the scalar rows (compilation and warm-up left out)."""
    scalars = [r for r in rows if r.get("event") == "scalars" and key in r]
    half = scalars[len(scalars) // 2:] or scalars
    return sum(r[key] for r in half) / max(len(half), 1)
