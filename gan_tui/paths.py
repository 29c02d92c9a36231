"""Where gan-tui keeps runs, user profiles and downloaded data."""

import os
from pathlib import Path

import platformdirs

from gan_tui.errors import BadInput

APP = "gan-tui"
RUNS_DIR_FIX = "give a folder you can write to with --runs-dir DIR or $GAN_TUI_RUNS_DIR"


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """`--runs-dir`, then `$GAN_TUI_RUNS_DIR`, then the platform's user data dir."""
    chosen = override or os.environ.get("GAN_TUI_RUNS_DIR")
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP)) / "runs"
    return path.expanduser()


def check_runs_dir(path: Path) -> Path:
    """`path`, after BadInput when something that is not a folder stands there."""
    if path.exists() and not path.is_dir():
        raise BadInput(f"runs folder {path} is a file, not a folder; {RUNS_DIR_FIX}.")
    return path


def made_runs_dir(path: Path) -> Path:
    """`path`, made if missing; BadInput naming it and the reason when it cannot be made or written,
    before anything else (loading the data, building the networks) is done for nothing."""
    check_runs_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"runs folder {path} cannot be made ({exc.strerror or exc}); {RUNS_DIR_FIX}.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise BadInput(f"runs folder {path} cannot be written (permission denied); {RUNS_DIR_FIX}.")
    return path


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
