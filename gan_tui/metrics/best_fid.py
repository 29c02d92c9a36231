"""The best headline score a run has reached, from its evaluations in step order.

The headline is FID or, for a translation run (CycleGAN draws nothing from
noise, so it has no FID), the A→B→A cycle error; lower is better for both.
The console, the run's meta.json (best_fid, best_fid_step, best_fid_label:
the label says which score it is), `gan-tui runs`, the dashboard and
`gan-tui compare` all report it, so they share this one rule: only a finite
number counts (a failed or NaN evaluation never becomes "best"), and a tie
keeps the earlier step.
"""

import math
from dataclasses import dataclass

HEADLINE_KEYS = ("fid", "cycle_error_a")  # the first an evaluation carries is its headline
HEADLINE_NAMES = {"cycle_error_a": "cycle error A→B→A"}  # FID's name comes from its evaluator's label


def _finite(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def finite_fid(metrics: dict) -> float | None:
    """The evaluation's FID when it is a finite number, else None."""
    return _finite(metrics.get("fid"))


def headline_key(metrics: dict) -> str | None:
    """Which of HEADLINE_KEYS the evaluation carries as a number (NaN included), if any."""
    return next((key for key in HEADLINE_KEYS
                 if isinstance(metrics.get(key), (int, float)) and not isinstance(metrics.get(key), bool)), None)


def headline_name(metrics: dict, key: str) -> str:
    """"FID", "FID (domain)", "cycle error A→B→A": the headline's short name."""
    if key == "fid":
        return (metrics.get("labels") or {}).get("fid", "FID")
    return HEADLINE_NAMES.get(key, key)


@dataclass
class BestFid:
    value: float | None = None
    step: int | None = None
    label: str | None = None  # "FID", "FID (domain)", "cycle error A→B→A": which score, and which extractor

    @classmethod
    def from_meta(cls, meta: dict) -> "BestFid":
        """The best a run's meta.json records (best_fid, best_fid_step, best_fid_label)."""
        value = _finite(meta.get("best_fid"))
        if value is None:
            return cls()
        return cls(value, meta.get("best_fid_step"), meta.get("best_fid_label") or "FID")

    def update(self, step: int, metrics: dict) -> bool:
        """Take one evaluation into account; True when it is the new best."""
        key = headline_key(metrics)
        value = _finite(metrics.get(key)) if key else None
        if value is None or (self.value is not None and value >= self.value):
            return False
        self.value, self.step = value, step
        self.label = headline_name(metrics, key)
        return True

    @property
    def pair(self) -> tuple[float, int] | None:
        """(value, step), or None before any finite score."""
        return None if self.value is None else (self.value, self.step)
