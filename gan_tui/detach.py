"""Training that outlives the terminal: `gan-tui run --detach` and the dashboard's `d`.

The training runs as `gan-tui run ...` in a new session (setsid: no
controlling terminal, so closing the terminal or an SSH drop sends it no
SIGHUP), stdin from /dev/null, stdout and stderr to a log file, where its
progress goes as a plain line every 30 s and each evaluation (`tail -f` it). The log starts
as runs_dir/.console-PID.log (the run id is not known yet) and is renamed to
RUN/console.log once the run directory appears (the child keeps writing to it
through the same open file). `gan-tui watch RUN` re-attaches.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gan_tui.errors import BadInput
from gan_tui.paths import made_runs_dir

WAIT_S = 300.0  # loading a large dataset can take a while before the run directory exists


def command(profile: str | None, overrides: list[str], runs_dir: Path, data: str | None,
            resume: str | None) -> list[str]:
    argv = [sys.executable, "-m", "gan_tui", "run", "--runs-dir", str(runs_dir)]
    if resume:
        argv += ["--resume", resume]
    elif profile:
        argv.append(profile)
    for item in overrides:
        argv += ["--set", item]
    if data:
        argv += ["--data", data]
    return argv


def start(profile: str | None, overrides: list[str], runs_dir: Path, data: str | None = None,
          resume: str | None = None, wait_s: float = WAIT_S) -> tuple[str, Path, int]:
    """Start training detached; (run id, run dir, pid) once its run directory exists.

    BadInput with the log's last lines when the child ends before that."""
    runs_dir = made_runs_dir(Path(runs_dir).resolve())
    log = runs_dir / f".console-{os.getpid()}-{time.time_ns()}.log"
    started = time.time()
    with open(os.devnull, "rb") as null, open(log, "ab") as out:
        child = subprocess.Popen(command(profile, overrides, runs_dir, data, resume), stdin=null, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        run_dir = _run_of(runs_dir, child.pid, started, resume)
        if run_dir is not None:
            try:
                os.replace(log, run_dir / "console.log")
            except OSError:
                pass
            return run_dir.name, run_dir, child.pid
        if child.poll() is not None:
            tail = _tail(log)
            log.unlink(missing_ok=True)
            raise BadInput(f"the detached training ended at once (exit {child.returncode}): {tail}")
        time.sleep(0.1)
    raise BadInput(f"the detached training (pid {child.pid}) made no run directory in {wait_s:g} s; "
                   f"its output is in {log}")


def _run_of(runs_dir: Path, pid: int, since: float, resume: str | None) -> Path | None:
    """The run directory whose meta.json names process `pid` (looking only at folders changed since `since`)."""
    if resume:
        from gan_tui.store.runs import find_run

        candidates = [find_run(runs_dir, resume)]
    else:
        try:
            with os.scandir(runs_dir) as entries:
                candidates = [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir()
                              and e.stat().st_mtime >= since - 2]
        except OSError:
            return None
    for run_dir in candidates:
        try:
            meta = json.loads((run_dir / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        if meta.get("pid") == pid:
            return run_dir
    return None


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no output"
    return " / ".join(text[-lines:]) or "no output"


def watch_hint(run_id: str, runs_dir: Path | None = None) -> str:
    extra = f" --runs-dir {runs_dir}" if runs_dir is not None else ""
    return f"gan-tui watch {run_id}{extra}"
