"""Running `gan-tui` as a subprocess from the benchmarks, the way a user would, and reading its
`--json` lines: shared by zoo_quality.py, zoo_toys.py and cyclegan_quality.py."""

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_args(data: str | None) -> list[str]:
    """`--data DIR` made absolute: gan_tui() runs from the repository root, wherever the benchmark was started."""
    return ["--data", str(Path(data).resolve())] if data else []


def gan_tui(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_tui", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def train(profile: str, runs: Path, sets: list[str], data: str | None, timeout: float):
    """(json rows, wall seconds, run dir), or raises RuntimeError with gan-tui's own message."""
    args = ["run", profile, "--json", "--runs-dir", str(runs)]
    for item in sets:
        args += ["--set", item]
    args += data_args(data)
    start = time.time()
    proc = gan_tui(args, timeout)
    wall = time.time() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    run = next(p for p in runs.iterdir() if (p / "meta.json").is_file())
    return rows, wall, run


def steady(rows: list[dict], key: str) -> float:
    """The mean of `key` over the second half of the scalar rows (compilation and warm-up left out)."""
    scalars = [r for r in rows if r.get("event") == "scalars" and key in r]
    half = scalars[len(scalars) // 2:] or scalars
    return sum(r[key] for r in half) / max(len(half), 1)
