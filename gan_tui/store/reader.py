"""RunReader: everything a viewer needs, rebuilt from a run directory alone."""

import json
import sqlite3
import tomllib
from pathlib import Path

import numpy as np

from gan_tui.store.db import connect
from gan_tui.store.meta import read_meta


class RunReader:
    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.db = connect(self.run_dir)

    def meta(self) -> dict:
        return read_meta(self.run_dir)

    def profile(self) -> dict:
        with open(self.run_dir / "profile.toml", "rb") as fh:
            return tomllib.load(fh)

    def scalar_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT name FROM scalars ORDER BY name")]

    def scalars(self, name: str, after: int = -1) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT step, value FROM scalars WHERE name = ? AND step > ? ORDER BY step",
                               (name, after)).fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0)
        steps, values = zip(*rows)
        return np.array(steps, np.int64), np.array(values, np.float64)

    def last_scalars(self, names: tuple[str, ...] = ()) -> dict[str, tuple[int, float]]:
        """{name: (step, value)}: everything logged at the last logged step, and the last value of
        each of `names` logged before it. Index lookups only, however long the run."""
        out = {name: (step, value) for step, name, value in self.db.execute(
            "SELECT step, name, value FROM scalars WHERE step = (SELECT MAX(step) FROM scalars)")}
        for name in names:
            if name not in out:
                row = self.db.execute("SELECT step, value FROM scalars WHERE name = ? ORDER BY step DESC LIMIT 1",
                                      (name,)).fetchone()
                if row:
                    out[name] = row
        return out

    def histogram_steps(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT step FROM histograms ORDER BY step")]

    def histogram(self, step: int | None = None):
        """(step, kind, real, fake) at `step`, or the latest; None when there is none."""
        sql = "SELECT step, kind, real, fake FROM histograms "
        row = (self.db.execute(sql + "WHERE step = ?", (step,)) if step is not None
               else self.db.execute(sql + "ORDER BY step DESC LIMIT 1")).fetchone()
        if row is None:
            return None
        return row[0], row[1], np.frombuffer(row[2], np.float32), np.frombuffer(row[3], np.float32)

    def sample_steps(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT step FROM samples ORDER BY step")]

    def samples(self, step: int | None = None) -> dict | None:
        """{"step", "png", and "images" (with "labels", "columns", "caption": the grid's layout) or
        "points"/"real"/"surface"/"extent"}; None when none yet."""
        sql = "SELECT step, png, npy FROM samples "
        row = (self.db.execute(sql + "WHERE step = ?", (step,)) if step is not None
               else self.db.execute(sql + "ORDER BY step DESC LIMIT 1")).fetchone()
        if row is None:
            return None
        folder = self.run_dir / "samples"
        out = {"step": row[0], "png": folder / row[1]}
        if row[2].endswith(".npy"):  # runs written before the layout was saved: images alone
            out.update(images=np.load(folder / row[2]), labels=None, columns=0, caption="")
            return out
        with np.load(folder / row[2]) as data:
            if "images" in data:
                out.update(images=data["images"], labels=data["labels"] if "labels" in data else None,
                           columns=int(data["columns"]), caption=str(data["caption"]))
            else:
                out.update(points=data["points"], real=data["real"], surface=data["surface"],
                           extent=float(data["extent"]))
        return out

    def evaluations(self, after: int = -1) -> list[tuple[int, dict]]:
        """(step, metrics dict) of every evaluation after `after`, in step order."""
        rows = self._rows("SELECT step, metrics FROM evaluations WHERE step > ? ORDER BY step", (after,))
        return [(step, json.loads(text)) for step, text in rows]

    def timed_evaluations(self) -> list[tuple[int, dict, float | None]]:
        """(step, metrics dict, wall time it was written) of every evaluation, in step order."""
        rows = self._rows("SELECT step, metrics, wall FROM evaluations ORDER BY step")
        return [(step, json.loads(text), wall) for step, text, wall in rows]

    def last_evaluation(self) -> tuple[int, dict] | None:
        """(step, metrics) of the last evaluation; None when there is none."""
        rows = self._rows("SELECT step, metrics FROM evaluations ORDER BY step DESC LIMIT 1")
        return (rows[0][0], json.loads(rows[0][1])) if rows else None

    def median_speed(self, last: int = 2000) -> tuple[float, float] | None:
        """(it/s, images/s): the medians of the rates logged with the last `last` log steps, so that a
        pause, an evaluation or the short final window does not stand for the run (and a long run's
        start-up does not either); an index read however long the run. None when none was logged."""
        rows = self._rows("SELECT it_per_s, images_per_s FROM progress WHERE it_per_s > 0 ORDER BY step DESC LIMIT ?",
                          (last,))
        if not rows:
            return None
        rates = np.array(rows, np.float64)
        return float(np.median(rates[:, 0])), float(np.median(rates[:, 1]))

    def alarms(self) -> list[dict]:
        """The collapse alarms the run raised: step, rule, reason, since."""
        rows = self._rows("SELECT step, rule, reason, since FROM alarms ORDER BY id")
        return [{"step": s, "rule": r, "reason": why, "since": since} for s, r, why, since in rows]

    def _rows(self, sql: str, args: tuple = ()) -> list:
        """Rows of a table that runs written by older versions may lack (then none)."""
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise

    def events(self, kind: str | None = None) -> list[tuple[int, str, str]]:
        sql = "SELECT step, kind, message FROM events"
        rows = self.db.execute(sql + " WHERE kind = ? ORDER BY id", (kind,)) if kind else self.db.execute(sql + " ORDER BY id")
        return rows.fetchall()

    def checkpoints(self) -> list[Path]:
        from gan_tui.train.checkpoint import list_checkpoints

        return list_checkpoints(self.run_dir / "checkpoints")

    def close(self) -> None:
        self.db.close()
