"""`gan-tui runs [rm]`, and the helpers the other run commands share (cli_compare.py, cli_export.py).

`runs_app` (bare `runs` lists, `runs rm` deletes) is added to the main app by gan_tui/cli.py. `runs` never
imports torch: it reads meta.json only. A run directory that cannot be read is named on stderr in one line
and skipped.
"""

import json
import math
import os
import shutil
import sys
from datetime import datetime
from difflib import get_close_matches
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Optional

import typer

from gan_tui import paths
from gan_tui.errors import BadInput
from gan_tui.store.meta import jsonable
from gan_tui.store.runs import (LIVE, STATUSES, BadRun, find_run, format_duration, list_runs, short_run_labels,
                                summarize)

runs_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, invoke_without_command=True,
                       help="List runs (newest last); `gan-tui runs rm RUN` deletes one.")

LOSS_NAMES = ("d_loss", "g_loss", "d_real", "d_fake")
LOSS_LABELS = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))"}
RUNS_DIR_HELP = "Where run directories are [$GAN_TUI_RUNS_DIR]."


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}; skipped.", err=True)


def _check_format(fmt: str, known: tuple[str, ...]) -> None:
    if fmt not in known:
        _fail(f'--format is "{fmt}"; use {", ".join(known[:-1])} or {known[-1]}.')


def _console():
    """Rich console; when stdout is not a terminal, wide enough that table rows never wrap."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=400)


def _num(value, digits: int = 4) -> str:
    """Numbers for tables: 17597.4, 1.3608, 4.00e-04."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) >= 1e7 or (value != 0 and abs(value) < 1e-3):
            return f"{value:.{digits - 2}e}"
        if abs(value) >= 100:
            return f"{value:.1f}"
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def _local_time(iso: str | None) -> str:
    if not isinstance(iso, str):
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


# ---------------------------------------------------------------------------
# gan-tui runs


def _fid_text(value: float | None, label: str | None, step: int | None) -> str:
    if value is None:
        return "-"
    return f"{label or 'FID'} {_num(value, 3)}" + (f" @ {step:,}" if isinstance(step, int) else "")


def _steps_text(step, total) -> str:
    """"2,300/100,000", as the dashboard writes it; "-" for what a run does not say."""
    def text(n) -> str:
        return "-" if n is None else f"{n:,}" if isinstance(n, int) else str(n)

    return f"{text(step)}/{text(total)}"


STATUS_COLOUR = {"running": "32", "starting": "32", "paused": "36", "failed": "31", "diverged": "31",
                 "interrupted": "33"}  # ANSI: green, cyan, red, yellow


@runs_app.callback()
def runs_list(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
    profile: list[str] = typer.Option([], "--profile", help="Only runs of this profile; * and ? match (repeatable)."),
    status: list[str] = typer.Option([], "--status", help=f"Only runs with this status: {', '.join(STATUSES)} "
                                     "(repeatable)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """List runs: id, profile, status, steps, best FID (a CycleGAN: cycle error), duration and start time.

    A run whose process died without recording an end (killed, crashed) is shown as interrupted.
    """
    if ctx.invoked_subcommand is not None:
        return
    _check_format(fmt, ("table", "json"))
    for wanted in status:
        if wanted not in STATUSES:
            close = get_close_matches(wanted, STATUSES, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            _fail(f'--status is "{wanted}"; {hint}known: {", ".join(STATUSES)}.')
    root = paths.runs_dir(runs_dir)
    try:
        paths.check_runs_dir(root)
    except BadInput as exc:
        _fail(str(exc))
    found = list_runs(root, on_bad=_warn)
    shown = [s for s in found
             if (not profile or any(fnmatchcase(s.profile, p) for p in profile))
             and (not status or s.status in status)]
    if fmt == "json":
        typer.echo(json.dumps([jsonable(s.to_json()) for s in shown], indent=2))
        return
    if not shown:
        what = "runs" if not (profile or status) else "runs that match"
        typer.echo(f"no {what} in {root}" + ("" if found else "; start one with `gan-tui run PROFILE`."), err=True)
        return
    columns = {"run": [s.id for s in shown], "profile": [s.profile for s in shown],
               "status": [s.status + ("*" if s.lost else "") for s in shown],
               "steps": [_steps_text(s.step, s.total_steps) for s in shown],
               "best": [_fid_text(s.best_fid, s.best_fid_label, s.best_fid_step) for s in shown],
               "duration": [format_duration(s.duration_s) for s in shown],
               "started": [_local_time(s.start_time) for s in shown]}
    tty = sys.stdout.isatty()
    left_out = fit_columns(columns, shutil.get_terminal_size().columns) if tty else []
    # A plain table: rich takes ~1.5 s to lay out a thousand rows, this a few milliseconds.
    colour = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    typer.echo(plain_table(list(columns), [list(row) for row in zip(*columns.values())],
                           {list(columns).index("status"): STATUS_COLOUR} if colour else None))
    if left_out:
        typer.echo(f"({' and '.join(left_out)} left out to fit; `--format json` has all)")
    if any(s.lost for s in shown):
        typer.echo("* its process is gone without recording an end (killed or crashed); "
                   "continue it with `gan-tui run --resume RUN`.")


def fit_columns(columns: dict[str, list[str]], width: int) -> list[str]:
    """Narrow the runs table to `width` columns of terminal rather than let every row wrap: run ids lose their
    date and time and the profile column goes (each short id starts with its profile; `watch` and the rest
    accept the rest of an id), then the duration column, the started column or both, whichever fits first.
    Returns the names of the columns left out."""
    def table_width(names) -> int:
        return sum(max(map(len, [name, *columns[name]])) for name in names) + 2 * (len(names) - 1)

    if table_width(columns) <= width:
        return []
    columns["run"] = short_run_labels(columns["run"])
    if all(label.startswith(f"{profile}-") for label, profile in zip(columns["run"], columns["profile"])):
        del columns["profile"]
    for left_out in ((), ("duration",), ("started",), ("duration", "started")):
        if table_width([name for name in columns if name not in left_out]) <= width:
            break
    for name in left_out:
        del columns[name]
    return list(left_out)


def plain_table(header: list[str], rows: list[list[str]], colours: dict | None = None) -> str:
    """Columns padded to their widest cell, two spaces apart; `colours` maps a column to
    {cell text prefix: ANSI colour code} for a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = []
        for col, (cell, width) in enumerate(zip(row, widths)):
            text = str(cell).ljust(width) if col < len(row) - 1 else str(cell)
            code = colours and i > 0 and col in colours and colours[col].get(str(cell).rstrip("*"))
            cells.append(f"\x1b[{code}m{text}\x1b[0m" if code else text)
        line = "  ".join(cells)
        lines.append(f"\x1b[1m{line}\x1b[0m" if colours and i == 0 else line)  # a bold header
    return "\n".join(lines)


@runs_app.command("rm")
def runs_rm(
    runs: list[str] = typer.Argument(..., help="Run ids (or unique parts of them), or run directories."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """Delete runs and everything in their directories; a live run is refused."""
    root = paths.runs_dir(runs_dir)
    chosen: list[tuple[Path, str]] = []
    try:
        for run in runs:
            run_dir = find_run(root, run)
            try:
                s = summarize(run_dir)
            except BadRun as exc:  # unreadable meta: nothing says it is live; say what is wrong and go on
                chosen.append((run_dir, f"{run_dir.name} (unreadable meta.json: {exc})"))
                continue
            if s.status in LIVE:
                _fail(f"run {s.id} is {s.status} ({s.where}); stop it first (ctrl+c where it runs, or "
                      f"kill -INT {s.pid or 'PID'}), then remove it.")
            chosen.append((run_dir, f"{s.id} ({s.profile}, {s.status}, {_steps_text(s.step, s.total_steps)} steps)"))
    except BadInput as exc:
        _fail(str(exc))
    if not yes:
        for _, description in chosen:
            typer.echo(f"  {description}", err=True)
        try:
            confirmed = typer.confirm(f"Delete {'this run' if len(chosen) == 1 else f'these {len(chosen)} runs'}?",
                                      err=True)
        except typer.Abort:  # no input to answer from
            confirmed = False
        if not sys.stdin.isatty():  # the answer was not echoed: end the prompt's line
            typer.echo("", err=True)
        if not confirmed:
            _fail("nothing deleted (pass --yes to delete without asking).", 1)
    for run_dir, _ in chosen:
        # Rename first, so a delete cut short leaves a hidden folder, never a half run that is listed.
        doomed = run_dir.with_name(f".deleting-{run_dir.name}-{os.getpid()}")
        try:
            os.rename(run_dir, doomed)
        except OSError as exc:
            _fail(f"{run_dir}: cannot be removed ({exc.strerror}); check its permissions.", 1)
        shutil.rmtree(doomed, ignore_errors=True)
        typer.echo(f"deleted {run_dir.name}")
