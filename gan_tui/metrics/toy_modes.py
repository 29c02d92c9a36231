"""Mode coverage on the 2D mixtures, as VEEGAN and PacGAN report it.

A sample is *high quality* when it lies within 3 standard deviations of the
nearest centre; a mode is *captured* when at least `min_share` of the samples
are high-quality samples of that mode (PacGAN: 20 of 2,500, i.e. 0.8%).
"""

from dataclasses import dataclass

import numpy as np

PACGAN_MIN_SHARE = 20 / 2500


@dataclass
class ModeCoverage:
    modes_captured: int
    modes_total: int
    high_quality: float  # fraction of samples within 3 std of some centre
    per_mode: list[int]  # high-quality samples per mode

    def as_dict(self) -> dict:
        return {"modes_captured": self.modes_captured, "modes_total": self.modes_total,
                "high_quality": self.high_quality, "per_mode": self.per_mode}


def mode_coverage(points: np.ndarray, centres: np.ndarray, std: float,
                  min_share: float = PACGAN_MIN_SHARE) -> ModeCoverage:
    points = np.asarray(points, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    nearest = distances.argmin(1)
    good = distances[np.arange(len(points)), nearest] <= 3 * std
    per_mode = np.bincount(nearest[good], minlength=len(centres))
    threshold = max(1, int(np.ceil(min_share * len(points))))
    return ModeCoverage(int((per_mode >= threshold).sum()), len(centres), float(good.mean()) if len(points) else 0.0,
                        per_mode.tolist())
