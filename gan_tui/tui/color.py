"""How many colours the terminal can show, from the --color flag and the environment.

Over SSH `TERM` is forwarded but `COLORTERM` usually is not, so both are read;
`NO_COLOR` (any value) and `TEXTUAL_COLOR_SYSTEM` are honoured, and the flag
wins over everything.
"""

import os
from collections.abc import Mapping

DEPTHS = ("truecolor", "256", "16", "none")

# Textual's names for each depth (TEXTUAL_COLOR_SYSTEM); "none" is "standard" plus NO_COLOR.
_TEXTUAL_NAMES = {"truecolor": "truecolor", "256": "256", "16": "standard", "none": "standard"}
_FROM_TEXTUAL = {"truecolor": "truecolor", "256": "256", "standard": "16", "windows": "16"}


def detect_depth(env: Mapping[str, str] | None = None, flag: str | None = None) -> str:
    """One of DEPTHS: the flag if given, else what the environment says."""
    env = os.environ if env is None else env
    if flag:
        if flag not in DEPTHS:
            raise ValueError(f'--color is "{flag}"; use one of {", ".join(DEPTHS)}')
        return flag
    if "NO_COLOR" in env:
        return "none"
    forced = env.get("TEXTUAL_COLOR_SYSTEM", "").lower()
    if forced in _FROM_TEXTUAL:
        return _FROM_TEXTUAL[forced]
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = env.get("TERM", "").lower()
    if not term or term == "dumb":
        return "none"
    if term.endswith("-direct") or term.endswith("truecolor"):
        return "truecolor"
    if "256color" in term or term.endswith("kitty") or term.startswith("alacritty"):
        return "256"
    return "16"


def apply_to_environment(depth: str, env: dict | None = None) -> None:
    """Tell Textual the depth. Must run before Textual is imported (it reads the variable once)."""
    env = os.environ if env is None else env
    env["TEXTUAL_COLOR_SYSTEM"] = _TEXTUAL_NAMES[depth]
    if depth == "none":
        env["NO_COLOR"] = "1"
