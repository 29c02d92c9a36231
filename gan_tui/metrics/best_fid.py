"""The lowest FID a run has reached, from its evaluations in step order.

The console, the run's meta.json, the dashboard and `gan-tui compare` all
report it, so they share this one rule: only a finite FID counts (a failed
or NaN evaluation never becomes "best"), and a tie keeps the earlier step.
"""

import math
from dataclasses import dataclass


def finite_fid(metrics: dict) -> float | None:
    """The evaluation's FID when it is a finite number, else None."""
    fid = metrics.get("fid")
    if isinstance(fid, (int, float)) and not isinstance(fid, bool) and math.isfinite(fid):
        return float(fid)
    return None


@dataclass
class BestFid:
    value: float | None = None
    step: int | None = None
    label: str | None = None  # "FID" or "FID (domain)": the extractor matters when comparing values

    @classmethod
    def from_meta(cls, meta: dict) -> "BestFid":
        """The best a run's meta.json records (best_fid, best_fid_step, best_fid_label)."""
        value = finite_fid({"fid": meta.get("best_fid")})
        if value is None:
            return cls()
        return cls(value, meta.get("best_fid_step"), meta.get("best_fid_label") or "FID")

    def update(self, step: int, metrics: dict) -> bool:
        """Take one evaluation into account; True when it is the new best."""
        fid = finite_fid(metrics)
        if fid is None or (self.value is not None and fid >= self.value):
            return False
        self.value, self.step = fid, step
        self.label = metrics.get("labels", {}).get("fid", "FID")
        return True

    @property
    def pair(self) -> tuple[float, int] | None:
        """(value, step), or None before any finite FID."""
        return None if self.value is None else (self.value, self.step)
