"""Named training tricks and their parameters (the `[tricks.NAME]` tables of a profile).

Each trick is a settings dataclass; the trainer and the losses read the
parameters. Unknown names or parameters are refused with the known ones listed.
"""

from dataclasses import dataclass

from gan_tui.schema import field


@dataclass
class LabelSmoothing:
    """One-sided label smoothing (Salimans et al. 2016): D's target for real data."""

    real: float = field(0.9, min=0.0, max=1.0)


TRICKS: dict[str, type] = {
    "label_smoothing": LabelSmoothing,
}
