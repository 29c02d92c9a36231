"""`gan-tui watch RUN`: the dashboard on a run directory (live through its control socket, or replayed)."""

import os
from pathlib import Path
from typing import Optional

import typer

from gan_tui import paths
from gan_tui.errors import BadInput
from gan_tui.frame_rate import DEFAULT_FPS, MAX_FPS, MIN_FPS

watch_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@watch_app.command("watch")
def watch(
    run: Optional[str] = typer.Argument(None, help="Run id (or a unique part of it, or the run directory); "
                                        "left out: the newest run still training, else the newest run."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Where run directories are [$GAN_TUI_RUNS_DIR]."),
    color: Optional[str] = typer.Option(None, "--color", help="Colour depth (default: from COLORTERM, TERM, NO_COLOR)."),
    fps: float = typer.Option(DEFAULT_FPS, "--fps", help=f"Screen refreshes per second, {MIN_FPS:g} to {MAX_FPS:g}."),
):
    """Open the dashboard on a run: live while it trains, a replay once it has ended.

    Live, space, c, f and q steer its training; once it has ended, [ and ] step through the logged samples."""
    from gan_tui.store.runs import BadRun, check_readable, find_run, newest_run
    from gan_tui.tui.color import apply_to_environment, detect_depth

    try:
        run_dir = find_run(paths.runs_dir(runs_dir), run) if run else newest_run(paths.runs_dir(runs_dir))
        try:
            check_readable(run_dir)
        except BadRun as exc:
            raise BadInput(f"{exc}; the run cannot be watched (`gan-tui runs` lists the readable ones).") from None
        if not MIN_FPS <= fps <= MAX_FPS:
            raise BadInput(f"--fps is {fps:g}; use a value from {MIN_FPS:g} to {MAX_FPS:g}.")
        try:
            depth = detect_depth(flag=color)
        except ValueError as exc:
            raise BadInput(f"{exc}.") from None
    except BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    apply_to_environment(depth)
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
    from gan_tui.tui.watch import watch as run_watch

    app = run_watch(run_dir, depth=depth, fps=fps)
    model = app.model
    if model is not None and model.info is not None:
        typer.echo(f"run {model.info.run_id}: {model.status} at step {model.step:,} ({run_dir})", err=True)
