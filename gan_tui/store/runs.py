"""Finding runs and telling whether a run's process is still alive, from run directories alone.

Nothing here imports torch, so `gan-tui runs` over a thousand runs starts fast.

A run whose meta.json says "running" (or "starting"/"paused") may belong to a
process that was killed without a word (SIGKILL, OOM killer, a power cut). It
is live only when:
- same host: its pid exists and that process started before meta.json was last
  written (a process that started later holds a reused pid); on systems
  without /proc only the pid's existence is checked;
- another host: meta.json was written recently (the writer saves it at every
  log step, so its mtime is a heartbeat). A paused run rewrites it once a
  minute (the "heartbeat" key says it does; paused runs of older versions do
  not, and are taken at their word).
A dead one is shown as "interrupted" (its checkpoints can be resumed), with
`lost` set and a note why.
"""

import json
import math
import os
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gan_tui.errors import BadInput
from gan_tui.store.meta import META_NAME

TERMINAL = ("finished", "failed", "diverged", "interrupted")
LIVE = ("starting", "running", "paused")
STATUSES = ("running", "paused", "starting", *TERMINAL)

# Another host's run is taken for dead after this long without a meta.json write
# (and at least HEARTBEAT_INTERVALS of its own log intervals at its last speed).
HEARTBEAT_STALE_S = 15 * 60
HEARTBEAT_INTERVALS = 10
PID_START_SLACK_S = 1.0  # /proc's boot time has one-second resolution


class BadRun(Exception):
    """A run directory that cannot be read; the message names the file."""


def find_run(runs_dir: Path, run_id: str) -> Path:
    """A run directory from a path, a run id, or a unique part of one."""
    run_dir = Path(run_id) if Path(run_id).is_dir() else runs_dir / run_id
    if not (run_dir / META_NAME).is_file():
        matches = sorted(p for p in runs_dir.glob(f"*{run_id}*") if (p / META_NAME).is_file()) if runs_dir.is_dir() else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise BadInput(f'run "{run_id}" matches {len(matches)} runs ({names}); give more of the id.')
        raise BadInput(f'run "{run_id}" not found in {runs_dir}; list runs with `gan-tui runs` or pass --runs-dir.')
    return run_dir


def newest_run(runs_dir: Path) -> Path:
    """The run a bare `gan-tui watch` opens: the newest of those still training, else the newest of all."""
    runs = list_runs(runs_dir)
    if not runs:
        raise BadInput(f"no runs in {runs_dir} yet; start one with `gan-tui run PROFILE --detach`, "
                       "or pass --runs-dir.")
    live = [run for run in runs if run.status in LIVE]
    return (live or runs)[-1].dir


def short_run_labels(ids: list[str]) -> list[str]:
    """Names for runs side by side on a narrow screen: each id without its date and time
    ("ring8-28fb", which find_run accepts too), or the whole ids where that would not tell them apart."""
    short = [re.sub(r"^\d{8}-\d{6}-", "", run_id) for run_id in ids]
    return short if len(set(short)) == len(short) else list(ids)


def run_dirs(runs_dir: Path) -> list[Path]:
    """Every folder of `runs_dir` that could be a run (hidden temp folders left out), by name."""
    try:
        with os.scandir(runs_dir) as entries:  # d_type from the directory listing: no stat per entry
            return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def check_readable(run_dir: Path) -> None:
    """BadRun naming the file when meta.json or metrics.sqlite cannot be read (before a viewer opens)."""
    import sqlite3

    from gan_tui.store.db import DB_NAME, connect

    load_meta(run_dir)
    path = Path(run_dir) / DB_NAME
    try:
        db = connect(run_dir)
        try:
            for table in ("scalars", "samples", "events"):
                db.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()
        finally:
            db.close()
    except FileNotFoundError:
        raise BadRun(f"{path}: missing") from None
    except sqlite3.DatabaseError as exc:
        raise BadRun(f"{path}: cannot be read ({exc})") from None


def load_meta(run_dir: Path) -> tuple[dict, float]:
    """(meta.json as a dict, its mtime); BadRun naming the file when it is missing or not a run's meta."""
    path = run_dir / META_NAME
    try:
        with open(path) as fh:
            mtime = os.fstat(fh.fileno()).st_mtime
            meta = json.load(fh)
    except FileNotFoundError:
        raise BadRun(f"{path}: missing (not a run directory, or a run still being created)") from None
    except (OSError, ValueError) as exc:
        raise BadRun(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("id", run_dir.name), str):
        raise BadRun(f"{path}: is not a run's meta (expected a JSON object with an id)")
    return meta, mtime


# ---------------------------------------------------------------------------
# Is the process alive?


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


_BOOT_TIME: list[float] = []


def _boot_time() -> float | None:
    if not _BOOT_TIME:
        try:
            with open("/proc/stat") as fh:
                _BOOT_TIME.append(next(float(line.split()[1]) for line in fh if line.startswith("btime ")))
        except (OSError, StopIteration, ValueError):
            _BOOT_TIME.append(math.nan)
    return None if math.isnan(_BOOT_TIME[0]) else _BOOT_TIME[0]


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds, ~1 s resolution), from /proc; None where unknown."""
    boot = _boot_time()
    if boot is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces or parentheses: split after its last ')'.
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return boot + int(fields[19]) / _clock_ticks()  # field 22, starttime
    except (IndexError, ValueError):
        return None


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


def liveness(meta: dict, meta_mtime: float, now: float | None = None, hostname: str | None = None,
             log_every: int | None = None) -> tuple[bool, str]:
    """(alive, why not) for a run whose meta says it is starting, running or paused.

    `log_every` (the profile's log.every) sets how often a healthy run on another host
    rewrites meta.json."""
    now = time.time() if now is None else now
    host = meta.get("host")
    pid = meta.get("pid")
    if host == (hostname or socket.gethostname()) and isinstance(pid, int) and pid > 0:
        if not pid_exists(pid):
            return False, f"its process {pid} is gone"
        started = process_start_time(pid)
        if started is not None and started > meta_mtime + PID_START_SLACK_S:
            return False, f"its process {pid} is gone (the pid now belongs to a newer process)"
        return True, ""
    age = now - meta_mtime
    if meta.get("status") == "paused":
        if "heartbeat" in meta and age > HEARTBEAT_STALE_S:
            return False, f"paused, and no heartbeat from {host} for {format_duration(age)}"
        return True, ""
    interval = 0.0
    rate = meta.get("it_per_s")
    if isinstance(rate, (int, float)) and rate > 0 and log_every:
        interval = log_every / rate
    if age > max(HEARTBEAT_STALE_S, HEARTBEAT_INTERVALS * interval):
        return False, f"no heartbeat from {host} for {format_duration(age)}"
    return True, ""


# ---------------------------------------------------------------------------
# One line per run


def _parse_time(text) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _int(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _float(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


@dataclass
class RunSummary:
    """What `gan-tui runs` shows of a run, from meta.json alone."""

    id: str
    dir: Path
    profile: str
    status: str  # the effective status: a dead "running" run is "interrupted"
    recorded_status: str  # what meta.json says
    step: int | None
    total_steps: int | None
    best_fid: float | None
    best_fid_step: int | None
    best_fid_label: str | None
    start_time: str | None
    end_time: str | None
    duration_s: float | None
    host: str | None
    pid: int | None
    alarms: int | None
    lost: bool = False  # the process died without recording an end
    note: str = ""
    meta: dict = field(default_factory=dict, repr=False)

    @property
    def where(self) -> str:
        """Where it trains, for a sentence: "pid 1234 on gpu-box" (or "on gpu-box")."""
        return f"pid {self.pid} on {self.host}" if self.pid else f"on {self.host}"

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "meta"}
        out["dir"] = str(self.dir)
        return out


def _log_every(run_dir: Path, meta: dict, hostname: str | None) -> int | None:
    """log.every from profile.toml, read only for live runs of other hosts (the heartbeat's period)."""
    if meta.get("host") == (hostname or socket.gethostname()):
        return None
    import tomllib

    try:
        with open(run_dir / "profile.toml", "rb") as fh:
            every = tomllib.load(fh).get("log", {}).get("every")
    except (OSError, ValueError):
        return None
    return every if isinstance(every, int) and every > 0 else None


def summarize(run_dir: Path, now: float | None = None, hostname: str | None = None) -> RunSummary:
    """A run's summary; BadRun naming meta.json when it is missing or unreadable."""
    meta, mtime = load_meta(run_dir)
    now = time.time() if now is None else now
    recorded = meta.get("status") if isinstance(meta.get("status"), str) else "unknown"
    status, lost, note = recorded, False, ""
    if recorded in LIVE:
        alive, why = liveness(meta, mtime, now, hostname, _log_every(run_dir, meta, hostname))
        if not alive:
            status, lost, note = "interrupted", True, f"recorded as {recorded}, but {why}"
    start = _parse_time(meta.get("start_time"))
    session_start = _parse_time(meta.get("session_start")) or start  # a resumed run: its latest session
    end = _parse_time(meta.get("end_time"))
    if end is None:
        end = mtime if lost or recorded not in LIVE else now
    before = _float(meta.get("time_before")) or 0.0  # the sessions before it
    best = _float(meta.get("best_fid"))
    return RunSummary(
        id=meta.get("id", run_dir.name), dir=run_dir, profile=str(meta.get("profile", "?")), status=status,
        recorded_status=recorded, step=_int(meta.get("step")), total_steps=_int(meta.get("total_steps")),
        best_fid=best, best_fid_step=_int(meta.get("best_fid_step")) if best is not None else None,
        best_fid_label=(str(meta.get("best_fid_label") or "FID")) if best is not None else None,
        start_time=meta.get("start_time"), end_time=meta.get("end_time"),
        duration_s=(before + end - session_start) if session_start is not None else None, host=meta.get("host"),
        pid=_int(meta.get("pid")), alarms=_int(meta.get("alarms")), lost=lost, note=note, meta=meta)


def list_runs(runs_dir: Path, on_bad=None, now: float | None = None) -> list[RunSummary]:
    """Summaries of every run under `runs_dir`, oldest first; `on_bad(message)` hears of unreadable ones."""
    out = []
    hostname = socket.gethostname()
    for run_dir in run_dirs(runs_dir):
        try:
            out.append(summarize(run_dir, now, hostname))
        except BadRun as exc:
            if on_bad:
                on_bad(str(exc))
    out.sort(key=lambda s: (s.start_time if isinstance(s.start_time, str) else "", s.id))
    return out
