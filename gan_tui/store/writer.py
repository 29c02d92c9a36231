"""RunStore: the sink that writes a run directory.

    <runs_dir>/<run_id>/
        profile.toml        the resolved profile
        meta.json           id, times, host, device, versions, status, progress
        metrics.sqlite      scalars, progress, D-output histograms, sample index, evaluations
                            (one JSON dict per step), collapse alarms, events (WAL)
        samples/            step-NNNNNNN.png (+ .npz raw arrays) of the fixed-noise batch
        checkpoints/        step-NNNNNNN/ (model.safetensors + state.pt), the last K
"""

import json
import os
import platform
import secrets
import shutil
import socket
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import tomli_w

from gan_tui import __version__
from gan_tui.metrics.best_fid import BestFid
from gan_tui.render import grid_image, sample_columns, scatter_image
from gan_tui.errors import RunWriteError
from gan_tui.store.db import BUSY_TIMEOUT_MS, DB_NAME, connect
from gan_tui.store.meta import META_NAME, jsonable, write_json_atomic
from gan_tui.store.runs import summarize
from gan_tui.train import events as ev

TERMINAL = {"finished", "failed", "diverged", "interrupted"}


def write_profile(run_dir: Path, profile) -> None:
    tmp = run_dir / f".profile.toml.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        tomli_w.dump(profile.to_dict(), fh)
    os.replace(tmp, run_dir / "profile.toml")


def set_aside_if_corrupt(run_dir: Path) -> list[str]:
    """A metrics.sqlite that is not a sound database is renamed (kept for forensics) so that a
    resume starts a fresh one; returns the warning to show, naming the file."""
    path = run_dir / DB_NAME
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    if verdict == "ok":
        return []
    aside = path.with_name(f"{DB_NAME}.damaged-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            os.rename(f"{path}{suffix}", f"{aside}{suffix}")
    return [f"{path}: cannot be read ({verdict}); moved to {aside.name}, the resumed run logs into a new one"]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(profile_name: str) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{profile_name}-{secrets.token_hex(2)}"


class RunStore:
    def __init__(self, run_dir: Path, meta: dict):
        self.run_dir = Path(run_dir)
        self.meta = meta
        self.db = connect(self.run_dir, create=True)
        (self.run_dir / "samples").mkdir(exist_ok=True)
        self._progress: ev.Progress | None = None
        self.notes: list[str] = []  # warnings for the user (a damaged file set aside on reopening)
        self.best_fid = BestFid.from_meta(meta)

    # -- creating and reopening ------------------------------------------

    @classmethod
    def create(cls, runs_dir: Path, profile) -> "RunStore":
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_id = new_run_id(profile.name)
        meta = {
            "id": run_id,
            "profile": profile.name,
            "profile_source": profile.source,
            "profile_digest": profile.digest(),
            "description": profile.description,
            "status": "starting",
            "message": "",
            "start_time": now_iso(),
            "end_time": None,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "python": platform.python_version(),
            "gan_tui_version": __version__,
            "total_steps": profile.train.steps,
            "step": 0,
        }
        # Built under a hidden name and renamed into place: `runs` and readers never see a run
        # directory without its meta.json, profile.toml and tables (and two runs started in the
        # same second never share a name).
        for _ in range(20):
            building = runs_dir / f".new-{run_id}-{os.getpid()}"
            building.mkdir()
            connect(building, create=True).close()
            write_profile(building, profile)
            write_json_atomic(building / META_NAME, meta)
            try:
                os.rename(building, runs_dir / run_id)
                break
            except OSError:  # taken meanwhile
                shutil.rmtree(building, ignore_errors=True)
                run_id = meta["id"] = new_run_id(profile.name)
        else:
            raise RunWriteError(runs_dir / run_id, FileExistsError("no free run name"))
        return cls(runs_dir / run_id, meta)

    @classmethod
    def reopen(cls, run_dir: Path, profile) -> "RunStore":
        """Continue a run; the profile (the saved one, with any --set applied) is saved again."""
        # The run's duration is the sum of its sessions, not the calendar time since it first started:
        # summarize's duration so far (the sessions before, and the last one to its end) is all before this one.
        run = summarize(run_dir)
        meta = run.meta
        meta["time_before"] = run.duration_s or 0.0
        meta.update(pid=os.getpid(), host=socket.gethostname(), end_time=None, session_start=now_iso(),
                    total_steps=profile.train.steps, profile_digest=profile.digest())
        notes = set_aside_if_corrupt(run_dir)
        store = cls(run_dir, meta)
        store.notes = notes
        store.save_profile(profile)
        return store

    def save_profile(self, profile) -> None:
        write_profile(self.run_dir, profile)

    def save_meta(self) -> None:
        write_json_atomic(self.run_dir / META_NAME, self.meta)

    def truncate_after(self, step: int) -> None:
        """Forget everything logged after `step` (a resume replays those steps)."""
        with self.db:
            for table in ("scalars", "progress", "histograms", "samples"):
                self.db.execute(f"DELETE FROM {table} WHERE step > ?", (step,))
            for table in ("evaluations", "alarms", "events"):
                self.db.execute(f"DELETE FROM {table} WHERE step > ?", (step,))
        for file in (self.run_dir / "samples").glob("step-*"):
            if int(file.name[5:12]) > step:
                file.unlink()
        self.meta["step"] = step
        self._recount_evaluations()

    def _recount_evaluations(self) -> None:
        """meta's best score (FID or cycle error) and alarm count, from what the database still holds."""
        for key in ("best_fid", "best_fid_step", "best_fid_label", "last_eval_step"):
            self.meta.pop(key, None)
        self.best_fid = BestFid()
        for step, text in self.db.execute("SELECT step, metrics FROM evaluations ORDER BY step"):
            metrics = json.loads(text)
            self._note_evaluation(step, metrics)
        self.meta["alarms"] = self.db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0]

    def _note_evaluation(self, step: int, metrics: dict) -> None:
        if self.best_fid.update(step, metrics):
            best = self.best_fid
            self.meta.update(best_fid=best.value, best_fid_step=best.step, best_fid_label=best.label)
        self.meta["last_eval_step"] = step

    # -- the sink --------------------------------------------------------

    def handle(self, event) -> None:
        handler = getattr(self, "_on_" + type(event).__name__, None)
        if handler:
            try:
                handler(event)
            except (OSError, sqlite3.Error) as exc:  # a full disk, an I/O error: name the file
                raise RunWriteError(self._file_of(event, exc), exc) from exc

    def _file_of(self, event, exc: BaseException) -> Path:
        """The file a failed write was writing."""
        if isinstance(exc, sqlite3.Error):
            return self.run_dir / DB_NAME
        if getattr(exc, "filename", None):
            return Path(exc.filename)
        if isinstance(event, ev.Samples):
            return self.run_dir / "samples" / f"step-{event.step:07d}.png"
        return self.run_dir / META_NAME

    def _on_RunStarted(self, e: ev.RunStarted) -> None:
        import torch

        self.meta.update(device=e.device, data_kind=e.data_kind, output_kind=e.output_kind,
                         batch_size=e.batch_size, world_size=e.world_size, torch_version=torch.__version__, start_step=e.start_step,
                         num_classes=e.num_classes)
        if e.data_shape:  # what `gan-tui eval` and `sample` rebuild G for, without reading the data again
            self.meta["data_shape"] = list(e.data_shape)
        if e.device.startswith("cuda"):
            self.meta["device_name"] = torch.cuda.get_device_name(torch.device(e.device))
        else:
            self.meta["device_name"] = platform.processor() or platform.machine()
        self._status("running", e.start_step, "")

    def _on_Scalars(self, e: ev.Scalars) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO scalars VALUES (?, ?, ?, ?)",
                                [(e.step, k, v, e.wall_time) for k, v in e.values.items()])
            p = self._progress
            if p is not None:
                self.db.execute("INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?, ?, ?)",
                                (e.step, p.it_per_s, p.images_per_s, p.elapsed, p.gpu_mem, p.gpu_peak))
        self.meta["step"] = e.step
        self.save_meta()

    def _on_Progress(self, e: ev.Progress) -> None:
        self._progress = e
        if e.total and e.step == e.total:  # the run's mean rate (trainer.py): what `watch` shows once it ended
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?, ?, ?)",
                                (e.step, e.it_per_s, e.images_per_s, e.elapsed, e.gpu_mem, e.gpu_peak))
        self.meta.update(it_per_s=e.it_per_s, images_per_s=e.images_per_s, elapsed=e.elapsed,
                         gpu_peak=max(e.gpu_peak, self.meta.get("gpu_peak", 0)))

    def _on_Histograms(self, e: ev.Histograms) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO histograms VALUES (?, ?, ?, ?)",
                            (e.step, e.kind, e.real.astype(np.float32).tobytes(),
                             e.fake.astype(np.float32).tobytes()))

    def _on_Samples(self, e: ev.Samples) -> None:
        stem = self.run_dir / "samples" / f"step-{e.step:07d}"
        if e.images is not None:
            # The event's own layout (CycleGAN: A | A→B | A→B→A | B | B→A | B→A→B), else one
            # column per class for conditional samples, else square.
            grid_image(e.images, sample_columns(e), e.caption).save(f"{stem}.png")
            # The layout travels with the images, so `watch` and `compare` replay the same grid.
            layout = {"labels": e.labels} if e.labels is not None else {}
            np.savez(f"{stem}.npz", images=e.images, columns=np.int64(e.columns), caption=np.str_(e.caption),
                     **layout)
        else:
            scatter_image(e.points, e.real_points, e.surface, e.extent).save(f"{stem}.png")
            np.savez(f"{stem}.npz", points=e.points, real=e.real_points, surface=e.surface,
                     extent=np.float32(e.extent))
        raw = f"{stem.name}.npz"
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO samples VALUES (?, ?, ?)", (e.step, f"{stem.name}.png", raw))

    def _on_CheckpointSaved(self, e: ev.CheckpointSaved) -> None:
        self._event(e.step, "checkpoint", e.path)
        self.meta["last_checkpoint"] = e.step
        self.save_meta()

    def _on_Evaluated(self, e: ev.Evaluated) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?)",
                            (e.step, json.dumps(jsonable(e.metrics)), time.time()))
        self._note_evaluation(e.step, e.metrics)
        self.save_meta()

    def _on_EvaluationFailed(self, e: ev.EvaluationFailed) -> None:
        self._event(e.step, "evaluation failed", e.message)

    def _on_CollapseAlarm(self, e: ev.CollapseAlarm) -> None:
        with self.db:
            self.db.execute("INSERT INTO alarms (step, rule, reason, since, wall) VALUES (?, ?, ?, ?, ?)",
                            (e.step, e.rule, e.reason, e.since, time.time()))
        self.meta["alarms"] = self.meta.get("alarms", 0) + 1
        self.save_meta()

    def _on_StatusChanged(self, e: ev.StatusChanged) -> None:
        rollback = e.extra.get("rollback")
        if rollback:  # training went back to the checkpoint at e.step: what came after is replayed
            self.truncate_after(e.step)
            self.meta["rollbacks"] = rollback.get("count", self.meta.get("rollbacks", 0) + 1)
        self._status(e.status, e.step, e.message)

    def _on_Heartbeat(self, e: ev.Heartbeat) -> None:
        self.meta["heartbeat"] = now_iso()
        self.save_meta()  # its mtime is what readers on other hosts go by

    def _status(self, status: str, step: int, message: str) -> None:
        # meta.json first: when the database cannot be written (a full disk), the status still is.
        self.meta.update(status=status, message=message, step=step)
        if status == "paused":  # from now on a Heartbeat a minute (runs.liveness)
            self.meta["heartbeat"] = now_iso()
        if status in TERMINAL:
            self.meta["end_time"] = now_iso()
        self.save_meta()
        self._event(step, "status", f"{status}: {message}" if message else status)

    def note(self, step: int, message: str) -> None:
        """A warning kept in the events table (kind "warning")."""
        self._event(step, "warning", message)

    def _event(self, step: int, kind: str, message: str) -> None:
        with self.db:
            self.db.execute("INSERT INTO events (step, kind, message, wall) VALUES (?, ?, ?, ?)",
                            (step, kind, message, time.time()))

    def close(self) -> None:
        self.db.close()
