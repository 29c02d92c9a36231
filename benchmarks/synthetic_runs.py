"""Synthetic run directories for the `runs` and `compare` benchmarks, written fast.

Each run has what the writer leaves: meta.json, the resolved profile.toml, and
metrics.sqlite created through gan_tui.store.db.connect (the real schema, WAL)
with scalars, progress and evaluation rows inserted in bulk (synchronous off
while generating: only the timing of reading them matters).
"""

import json
import math
import os
import random
import socket
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_tui.profile import load_profile  # noqa: E402
from gan_tui.store.db import connect  # noqa: E402

_DEAD: list[int] = []
STATUSES = ["finished"] * 14 + ["failed", "diverged", "interrupted", "running"]  # "running" ones have a dead pid


def dead_pid() -> int:
    """A pid that is not in use (the highest pids are rarely taken)."""
    pid = 4_000_000
    if _DEAD:
        return _DEAD[0]
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _DEAD.append(pid)
            return pid
        except PermissionError:
            pass
        pid -= 1


def make_run(root: Path, index: int, logged_steps: int, log_every: int = 10, eval_every_logs: int = 500,
             overrides: tuple[str, ...] = (), status: str = "finished", pid: int | None = None,
             profile_name: str = "ring8") -> Path:
    rng = random.Random(index)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=7 * index)
    run_id = f"{start:%Y%m%d-%H%M%S}-{profile_name}-{index:04x}"
    run_dir = root / run_id
    (run_dir / "samples").mkdir(parents=True)
    profile = load_profile(profile_name, [f"train.steps={logged_steps * log_every}", f"log.every={log_every}",
                                          *overrides])
    with open(run_dir / "profile.toml", "wb") as fh:
        tomli_w.dump(profile.to_dict(), fh)

    db = connect(run_dir, create=True)
    db.execute("PRAGMA synchronous = OFF")
    last = logged_steps * log_every
    with db:
        db.executemany("INSERT INTO scalars VALUES (?, ?, ?, ?)",
                       ((s * log_every, name, 1.0 + 0.3 * math.sin(s / 50 + k) + rng.random() * 0.05, 1.7e9 + s)
                        for s in range(1, logged_steps + 1)
                        for k, name in enumerate(("d_loss", "g_loss", "d_real", "d_fake"))))
        db.executemany("INSERT INTO progress VALUES (?, ?, ?, ?, ?, ?)",
                       ((s * log_every, 60.0, 15360.0, s * 0.16, 0, 0) for s in range(1, logged_steps + 1)))
        evals = []
        for s in range(eval_every_logs, logged_steps + 1, eval_every_logs):
            fid = 5.0 / (1 + s / 1000) + rng.random() * 0.1
            evals.append((s * log_every, json.dumps({
                "fid": fid, "kid_mean": fid / 100, "kid_std": 0.001, "precision": 0.9, "recall": 0.8,
                "density": 0.95, "coverage": 0.85, "diversity": 1.0, "near_duplicates": 0.01,
                "modes_captured": 8, "modes_total": 8, "high_quality": 0.8, "per_mode": [0.125] * 8,
                "labels": {"fid": "FID (points)", "kid": "KID (points)"}, "n": 2000, "seconds": 0.4}), 1.7e9 + s))
        db.executemany("INSERT INTO evaluations VALUES (?, ?, ?)", evals)
        db.execute("INSERT INTO events (step, kind, message, wall) VALUES (?, ?, ?, ?)", (last, "status", status, 1.7e9))
    db.close()

    best = min(evals, key=lambda e: json.loads(e[1])["fid"]) if evals else None
    meta = {"id": run_id, "profile": profile_name, "profile_source": "benchmark", "profile_digest": profile.digest(),
            "description": profile.description, "status": status, "message": "",
            "start_time": start.isoformat(timespec="seconds"),
            "end_time": None if status == "running" else (start + timedelta(seconds=last / 60)).isoformat(timespec="seconds"),
            "host": socket.gethostname(), "pid": pid or dead_pid(), "python": "3.11", "gan_tui_version": "0.1.0",
            "total_steps": last, "step": last, "it_per_s": 60.0, "images_per_s": 15360.0, "elapsed": last / 60,
            "gpu_peak": 0, "device": "cpu", "alarms": 0}
    if best:
        meta.update(best_fid=json.loads(best[1])["fid"], best_fid_step=best[0], best_fid_label="FID (points)")
    (run_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return run_dir
