"""A mean and its spread as one readout, "1.770 ± 0.039", the same way in the dashboard and in `gan-tui eval`.

The spread is given to two significant figures and the mean to the same decimal
place, so the mean never looks less precise than its own uncertainty (the
readout "0.02 ± 0.0011" said the opposite of what it meant).
"""

import math


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def mean_and_spread(mean: float | None, spread: float | None) -> str:
    if not _number(mean):
        return "n/a" if mean is None else str(mean)
    if not _number(spread) or spread <= 0:
        return f"{mean:.4g}"
    decimals = min(max(1 - math.floor(math.log10(spread)), 0), 12)
    return f"{mean:.{decimals}f} ± {spread:.{decimals}f}"
