"""Where gan-tui keeps runs, user profiles and downloaded data."""

import os
from pathlib import Path

import platformdirs

APP = "gan-tui"


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """`--runs-dir`, then `$GAN_TUI_RUNS_DIR`, then the platform's user data dir."""
    chosen = override or os.environ.get("GAN_TUI_RUNS_DIR")
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP)) / "runs"
    return path.expanduser()


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def user_profiles_dir() -> Path:
    """`$GAN_TUI_PROFILES`, else the platform's user config dir."""
    chosen = os.environ.get("GAN_TUI_PROFILES")
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir(APP)) / "profiles"


def shipped_profiles_dir() -> Path:
    """Profiles bundled in the wheel, or `profiles/` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "profiles", here.parent / "profiles"):
        if candidate.is_dir():
            return candidate
    return here / "profiles"
