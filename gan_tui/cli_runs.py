"""Run commands: `gan-tui runs [rm]`, `gan-tui compare`, `gan-tui export`, `gan-tui sample`.

`runs_app` (bare `runs` lists, `runs rm` deletes) and `commands_app` are merged
into the main app by gan_tui/cli.py. `runs` and `compare` never import torch:
they read meta.json, profile.toml and metrics.sqlite only. A run directory
that cannot be read is named on stderr in one line and skipped.
"""

import csv
import io
import json
import math
import os
import shutil
import sqlite3
import sys
import tomllib
from datetime import datetime
from difflib import get_close_matches
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Optional

import typer

from gan_tui import __version__, paths
from gan_tui.errors import BadInput
from gan_tui.metrics.best_fid import BestFid
from gan_tui.store.meta import jsonable
from gan_tui.store.runs import (LIVE, STATUSES, BadRun, find_run, format_duration, list_runs, short_run_labels,
                                summarize)

runs_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, invoke_without_command=True,
                       help="List runs (newest last); `gan-tui runs rm RUN` deletes one.")
commands_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

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


# ---------------------------------------------------------------------------
# gan-tui compare


def flatten(table: dict, prefix: str = "") -> dict:
    """{"optim": {"d": {"lr": 1}}} -> {"optim.d.lr": 1}; lists stay values."""
    out = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def profile_differences(profiles: list[dict | None]) -> dict[str, list]:
    """Dotted keys whose values are not the same in every readable profile (missing counts as a value).

    The description is prose, not a setting, and is left out. Values are None where a
    profile lacks the key or could not be read."""
    flat = [flatten(p) if p is not None else None for p in profiles]
    readable = [f for f in flat if f is not None]
    missing = object()
    keys = sorted({k for f in readable for k in f} - {"description"})
    out = {}
    for key in keys:
        values = [f.get(key, missing) for f in readable]
        if any(v != values[0] or type(v) is not type(values[0]) for v in values[1:]):
            out[key] = [None if f is None else f.get(key) for f in flat]
    # An empty table (`tricks = {}`) against another profile's filled one: the keys inside already differ.
    return {key: values for key, values in out.items()
            if not (all(v in (None, {}) for v in values) and any(k.startswith(key + ".") for k in out))}


# Metrics of the last evaluation shown by compare, in order: (key, default label).
EVAL_ROWS = (("fid", "FID"), ("kid_mean", "KID"), ("is_mean", "IS"), ("precision", "precision"),
             ("recall", "recall"), ("density", "density"), ("coverage", "coverage"), ("diversity", "diversity"),
             ("near_duplicates", "near-duplicates"), ("modes_captured", "modes captured"),
             ("high_quality", "high-quality samples"), ("classes_covered", "classes covered"),
             ("class_kl", "class KL"))
LABEL_KEYS = {"kid_mean": "kid", "is_mean": "is"}
FRACTION_KEYS = {"near_duplicates", "high_quality"}  # written as percentages in the text formats


def _run_report(run_dir: Path) -> dict | None:
    """What compare shows of one run; None (after a warning) when its meta.json is unreadable."""
    from gan_tui.store.reader import RunReader

    try:
        s = summarize(run_dir)
    except BadRun as exc:
        _warn(str(exc))
        return None
    meta = s.meta
    report = {"id": s.id, "dir": str(run_dir), "profile": s.profile, "status": s.status,
              "recorded_status": s.recorded_status, "step": s.step, "total_steps": s.total_steps,
              "final": {}, "final_step": None,
              "best_fid": None if s.best_fid is None else {"value": s.best_fid, "step": s.best_fid_step,
                                                           "label": s.best_fid_label},
              "last_evaluation": None, "images_per_s": meta.get("images_per_s"), "it_per_s": meta.get("it_per_s"),
              "duration_s": s.duration_s, "alarms": s.alarms, "profile_settings": None, "problems": []}
    try:
        with open(run_dir / "profile.toml", "rb") as fh:
            report["profile_settings"] = tomllib.load(fh)
    except (OSError, ValueError) as exc:
        report["problems"].append(f"{run_dir / 'profile.toml'}: cannot be read ({type(exc).__name__})")
    db = run_dir / "metrics.sqlite"
    try:
        reader = RunReader(run_dir)
        try:
            last = reader.last_scalars(LOSS_NAMES)
            evaluation = reader.last_evaluation()
            speed = reader.median_speed()
            if report["best_fid"] is None:  # runs whose meta predates best_fid
                best = BestFid()
                for step, metrics in sorted(reader.evaluations(), key=lambda item: item[0]):
                    best.update(step, metrics)
                if best.value is not None:
                    report["best_fid"] = {"value": best.value, "step": best.step, "label": best.label}
        finally:
            reader.close()
    except FileNotFoundError:
        report["problems"].append(f"{db}: missing")
    except (sqlite3.DatabaseError, ValueError) as exc:
        report["problems"].append(f"{db}: cannot be read ({type(exc).__name__}: {exc})")
    else:
        report["final"] = {name: value for name, (_, value) in last.items()}
        if last:
            report["final_step"] = max(step for step, _ in last.values())
        if evaluation:
            report["last_evaluation"] = {"step": evaluation[0], "metrics": evaluation[1]}
        if speed is not None:
            report["it_per_s"], report["images_per_s"] = speed
    for problem in report["problems"]:
        typer.echo(f"warning: {problem}; its values are left out.", err=True)
    return report


def _common(values: list):
    present = [v for v in values if v is not None]
    return present[0] if present and all(v == present[0] for v in present) else None


def _other_labelled_scores(evaluations: list) -> list[str]:
    """Numeric scores an evaluator labelled beyond EVAL_ROWS, in the order it gave them."""
    known = {key for key, _ in EVAL_ROWS} | set(LABEL_KEYS.values())
    keys: list[str] = []
    for e in evaluations:
        metrics = e["metrics"] if e else {}
        for key in metrics.get("labels") or {}:
            value = metrics.get(key)
            if key not in known and key not in keys and isinstance(value, (int, float)) and not isinstance(value, bool):
                keys.append(key)
    return keys


def compare_rows(reports: list[dict]) -> tuple[list[tuple[str, list]], dict[str, list], set[str]]:
    """([(row label, [raw value per run])], profile differences, the labels of rows that are fractions,
    for the text formats to write as percentages). Raw values are plain JSON types; the duration is in seconds."""
    fractions: set[str] = set()
    rows: list[tuple[str, list]] = [
        ("profile", [r["profile"] for r in reports]),
        ("status", [r["status"] for r in reports]),
        ("steps", [_steps_text(r["step"], r["total_steps"]) for r in reports]),
        ("last logged step", [r["final_step"] for r in reports]),
    ]
    for name in LOSS_NAMES:
        rows.append((f"final {LOSS_LABELS[name]}", [r["final"].get(name) for r in reports]))
    extras = sorted({k for r in reports for k in r["final"]} - set(LOSS_NAMES))
    for name in extras:
        rows.append((f"final {name}", [r["final"].get(name) for r in reports]))
    labels = [r["best_fid"]["label"] if r["best_fid"] else None for r in reports]
    shared = _common(labels)
    if any(r["best_fid"] for r in reports):
        # "best FID ..." while every run's headline is an FID; a CycleGAN's is its cycle error
        noun = "FID" if all(label.startswith("FID") for label in labels if label) else "score"
        rows.append((f"best {shared or noun}", [r["best_fid"]["value"] if r["best_fid"] else None for r in reports]))
        rows.append((f"best {noun} step", [r["best_fid"]["step"] if r["best_fid"] else None for r in reports]))
        if shared is None:
            rows.append((f"best {noun} label", labels))
    evaluations = [r["last_evaluation"] for r in reports]
    if any(evaluations):
        rows.append(("last evaluation step", [e["step"] if e else None for e in evaluations]))
        for key, default in EVAL_ROWS:
            values = [e["metrics"].get(key) if e else None for e in evaluations]
            if all(v is None for v in values):
                continue
            label_key = LABEL_KEYS.get(key, key)
            label = _common([e["metrics"].get("labels", {}).get(label_key) if e else None for e in evaluations])
            if key in ("modes_captured", "classes_covered"):
                total_key = key.replace("_captured", "_total").replace("_covered", "_total")
                values = [f"{e['metrics'][key]}/{e['metrics'].get(total_key, '?')}"
                          if e and e["metrics"].get(key) is not None else None for e in evaluations]
            rows.append((f"last {label or default}", values))
            if key in FRACTION_KEYS:
                fractions.add(rows[-1][0])
        for key in _other_labelled_scores(evaluations):  # a CycleGAN's cycle errors and translation accuracies
            label = _common([e["metrics"].get("labels", {}).get(key) if e else None for e in evaluations])
            rows.append((f"last {label or key}", [e["metrics"].get(key) if e else None for e in evaluations]))
            if "accuracy" in key:  # as `gan-tui eval` and the dashboard write them
                fractions.add(rows[-1][0])
    rows.append(("images/s (median)", [r["images_per_s"] for r in reports]))
    rows.append(("it/s (median)", [r["it_per_s"] for r in reports]))
    rows.append(("duration", [r["duration_s"] for r in reports]))
    if any(r["alarms"] for r in reports):
        rows.append(("collapse alarms", [r["alarms"] for r in reports]))
    differences = profile_differences([r["profile_settings"] for r in reports])
    return rows, differences, fractions


def _percent(value) -> str:
    """0.974 -> "97.4%"; anything else (None, a NaN) as _num writes it."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.1%}"
    return _num(value)


def _metric_text(value) -> str:
    """A metric cell: steps and rates with thousands separators, as the dashboard and `gan-tui runs` write them."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.1f}"
    return _num(value)


def _setting_text(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return _num(value) if isinstance(value, float) else str(value)


def _raw(value):
    """A CSV cell: numbers as Python writes them, lists as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


@commands_app.command("compare")
def compare(
    runs: list[str] = typer.Argument(..., help="Two or more run ids (or unique parts of them), or run directories."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table, markdown, csv or json (default: table, or the --tui screen in a terminal)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
    tui: bool = typer.Option(False, "--tui", help="A screen with the curves overlaid, the table and the sample "
                             "grids (the default in a terminal when --format is not given)."),
):
    """Final and best metrics of runs side by side, and the profile keys that differ."""
    tui = tui or (fmt is None and sys.stdout.isatty() and sys.stdin.isatty())
    fmt = fmt or "table"
    _check_format(fmt, ("table", "markdown", "csv", "json"))
    if tui and fmt != "table":
        _fail(f"--tui shows the table on screen; drop --format {fmt} (or --tui).")
    if len(runs) < 2:
        _fail("compare needs at least two runs, e.g. gan-tui compare RUN_A RUN_B.")
    root = paths.runs_dir(runs_dir)
    try:
        run_dirs = [find_run(root, run) for run in runs]
    except BadInput as exc:
        _fail(str(exc))
    reports = [r for r in (_run_report(d) for d in run_dirs) if r is not None]
    if not reports:
        _fail("none of the runs could be read (see the warnings above).", 1)
    rows, differences, fractions = compare_rows(reports)
    ids = [r["id"] for r in reports]
    if fmt == "json":
        out = {"runs": [{k: v for k, v in r.items() if k != "profile_settings"} for r in reports],
               "rows": {label: values for label, values in rows},
               "differences": {key: dict(zip(ids, values)) for key, values in differences.items()}}
        typer.echo(json.dumps(jsonable(out), indent=2))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["metric", *ids])
        for label, values in [*rows, *differences.items()]:
            writer.writerow([label, *(_raw(v) for v in values)])
        typer.echo(buffer.getvalue(), nl=False)
        return
    text_rows = [(label, [format_duration(v) if label == "duration" else _percent(v) if label in fractions
                          else _metric_text(v) for v in values]) for label, values in rows]
    diff_rows = [(key, [_setting_text(v) for v in values]) for key, values in differences.items()]
    if fmt == "markdown":
        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        lines = ["| metric | " + " | ".join(cell(i) for i in ids) + " |",
                 "|---|" + "---|" * len(ids)]
        lines += [f"| {cell(label)} | " + " | ".join(cell(v) for v in values) + " |" for label, values in text_rows]
        if diff_rows:
            lines.append("| **profile differences** |" + " |" * len(ids))
            lines += [f"| `{key}` | " + " | ".join(cell(v) for v in values) + " |" for key, values in diff_rows]
        typer.echo("\n".join(lines))
        return
    from rich.table import Table

    console = _console()
    # On a screen, run ids without their date and time (which find_run accepts), rather than cut to "2026…"
    table = Table("", *(short_run_labels(ids) if tui or console.is_terminal else ids), box=None)
    table.columns[0].overflow = "fold"  # a long profile key wraps whole, not cut to "tricks.spectral_n…" twice
    for i, (label, values) in enumerate(text_rows):
        table.add_row(label, *values, end_section=i == len(text_rows) - 1 and bool(diff_rows))
    if diff_rows:
        table.add_row("[bold]profile differences[/]", *[""] * len(ids))
        for key, values in diff_rows:
            table.add_row(key, *values)
    else:
        table.add_row("profile differences", *["none"] + [""] * (len(ids) - 1))
    if tui:
        from gan_tui.tui.color import apply_to_environment, detect_depth

        depth = detect_depth()
        apply_to_environment(depth)  # before Textual is imported
        from gan_tui.tui.compare import run_compare

        run_compare(reports, table, depth)
        return
    console.print(table, highlight=False)


# ---------------------------------------------------------------------------
# PNGs that say where they came from


def png_provenance(meta: dict, step: int | None, **extra):
    """PNG text chunks: tool, version, run id, step, profile and its digest, and `extra`."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    fields = {"Software": f"gan-tui {__version__}", "tool": "gan-tui", "version": __version__,
              "run_id": meta.get("id"), "step": step, "profile": meta.get("profile"),
              "profile_digest": meta.get("profile_digest"), **extra}
    for key, value in fields.items():
        if value is not None:
            info.add_text(key, str(value))
    return info


def _why(exc: OSError) -> str:
    """"PATH: reason" of a failed write: the path may be a parent of the one asked for."""
    reason = exc.strerror or type(exc).__name__
    return f"{exc.filename}: {reason}" if exc.filename else reason


def save_png(image, path: Path, info) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    image.save(tmp, format="PNG", pnginfo=info)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# gan-tui export


def _count(n: int, noun: str) -> str:
    """"1 evaluation", "3 evaluations"."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _write_csv(path: Path, header: list[str], rows) -> int:
    count = 0
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    return count


def _export_scalars(db, out: Path, layout: str) -> int:
    if layout == "long":
        return _write_csv(out / "scalars.csv", ["step", "name", "value", "wall"],
                          db.execute("SELECT step, name, value, wall FROM scalars ORDER BY step, name"))
    names = [r[0] for r in db.execute("SELECT DISTINCT name FROM scalars ORDER BY name")]
    column = {name: i + 1 for i, name in enumerate(names)}

    def wide():
        row, current = None, None
        for step, name, value in db.execute("SELECT step, name, value FROM scalars ORDER BY step"):
            if step != current:
                if row is not None:
                    yield row
                row, current = [step] + [None] * len(names), step
            row[column[name]] = value
        if row is not None:
            yield row

    return _write_csv(out / "scalars.csv", ["step", *names], wide())


def _export_evaluations(evaluations: list[tuple[int, dict]], out: Path) -> int:
    """evaluations.csv (the scalar results, one row per evaluation) and evaluations.json (everything)."""
    keys = sorted({k for _, m in evaluations for k, v in m.items()
                   if isinstance(v, (int, float, str, bool)) or v is None} - {"step"})
    with open(out / "evaluations.json", "w") as fh:
        json.dump([{"step": step, **jsonable(m)} for step, m in evaluations], fh, indent=2)
    return _write_csv(out / "evaluations.csv", ["step", "fid_label", *keys],
                      ([step, m.get("labels", {}).get("fid"), *(m.get(k) for k in keys)] for step, m in evaluations))


def export_weights(run_dir: Path, meta: dict, out: Path, step: int | None) -> tuple[Path, int, bool] | None:
    """generator.safetensors from a checkpoint (the EMA copy where saved), prefixes stripped, with
    provenance in the safetensors metadata; None when the run has no checkpoint."""
    from safetensors.torch import load_file, save_file

    from gan_tui.train.checkpoint import checkpoint_step, list_checkpoints

    checkpoints = list_checkpoints(run_dir / "checkpoints")
    if step is not None:
        checkpoints = [c for c in checkpoints if checkpoint_step(c) == step]
        if not checkpoints:
            known = ", ".join(str(checkpoint_step(c)) for c in list_checkpoints(run_dir / "checkpoints")) or "none"
            raise BadInput(f"{run_dir}: no checkpoint at step {step}; the run keeps steps {known}.")
    if not checkpoints:
        return None
    for chosen in reversed(checkpoints):  # the newest that reads; each one passed over is named
        try:
            weights = load_file(str(chosen / "model.safetensors"))
            break
        except Exception as exc:  # noqa: BLE001 - any corruption: say which file
            message = f"{chosen / 'model.safetensors'}: cannot be read ({type(exc).__name__}: {exc})"
            if step is not None or chosen == checkpoints[0]:
                raise BadInput(message + ".") from None
            _warn(message)
    ema = any(k.startswith("G_ema.") for k in weights)
    prefix = "G_ema." if ema else "G."
    generator = {k[len(prefix):]: v.contiguous() for k, v in weights.items() if k.startswith(prefix)}
    target = out / "generator.safetensors"
    metadata = {"tool": "gan-tui", "version": __version__, "run_id": str(meta.get("id")),
                "step": str(checkpoint_step(chosen)), "profile": str(meta.get("profile")),
                "profile_digest": str(meta.get("profile_digest")), "weights": "ema" if ema else "generator",
                "architecture": "state_dict of gan_tui.models.build_models(profile.model, ...)[0]; see profile.toml"}
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    save_file(generator, str(tmp), metadata=metadata)
    os.replace(tmp, target)
    return target, checkpoint_step(chosen), ema


def export_tensorboard(reader, out: Path, sample_pngs: list[tuple[int, Path]]) -> Path:
    """TensorBoard event files of the scalars, throughput, evaluations and sample grids.

    ImportError when tensorboard is not installed."""
    import numpy as np
    from PIL import Image
    from torch.utils.tensorboard import SummaryWriter

    log_dir = out / "tensorboard"
    writer = SummaryWriter(log_dir=str(log_dir))
    try:
        for step, name, value, wall in reader.db.execute("SELECT step, name, value, wall FROM scalars ORDER BY step"):
            if value is not None:
                writer.add_scalar(f"train/{name}", value, step, walltime=wall)
        for step, it_s, img_s in reader.db.execute("SELECT step, it_per_s, images_per_s FROM progress ORDER BY step"):
            if img_s is not None:
                writer.add_scalar("throughput/images_per_s", img_s, step)
            if it_s is not None:
                writer.add_scalar("throughput/it_per_s", it_s, step)
        for step, metrics in reader.evaluations():
            labels = metrics.get("labels", {})
            for key, value in metrics.items():
                if key in ("step", "n", "seconds"):
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    writer.add_scalar(f"eval/{labels.get(LABEL_KEYS.get(key, key), key)}", value, step)
        for step, png in sample_pngs:
            with Image.open(png) as image:
                writer.add_image("samples", np.asarray(image.convert("RGB")), step, dataformats="HWC")
    finally:
        writer.close()
    return log_dir


@commands_app.command("export")
def export(
    run: str = typer.Argument(..., help="A run id (or a unique part of one), or a run directory."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder to write into (created when missing)."),
    scalars: str = typer.Option("long", "--scalars", help="scalars.csv layout: long (step,name,value,wall) or "
                                "wide (step and one column per scalar)."),
    step: Optional[int] = typer.Option(None, "--step", help="Generator weights of this checkpoint step (default: the last)."),
    tensorboard: bool = typer.Option(True, "--tensorboard/--no-tensorboard",
                                     help="Also write TensorBoard event files (needs tensorboard installed)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """Export a run: sample PNGs with provenance, metrics as CSV, G's weights, TensorBoard events."""
    from PIL import Image

    from gan_tui.store.reader import RunReader
    from gan_tui.store.runs import load_meta

    if scalars not in ("long", "wide"):
        _fail(f'--scalars is "{scalars}"; use long or wide.')
    try:
        run_dir = find_run(paths.runs_dir(runs_dir), run)
        meta, _ = load_meta(run_dir)
    except BadInput as exc:
        _fail(str(exc))
    except BadRun as exc:
        _fail(f"{exc}; the run cannot be exported without it.")
    if out.exists() and not out.is_dir():
        _fail(f"--out {out} is a file; give a folder.")
    if out.resolve() == run_dir.resolve() or run_dir.resolve() in out.resolve().parents:
        _fail(f"--out {out} is inside the run directory; export somewhere else.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"--out {out} cannot be made ({_why(exc)}); give a folder you can write to.")
    db_path = run_dir / "metrics.sqlite"
    try:
        reader = RunReader(run_dir)
        sample_steps = reader.sample_steps()
    except FileNotFoundError:
        _fail(f"{db_path}: missing; the run directory is incomplete, nothing to export.", 1)
    except sqlite3.DatabaseError as exc:
        _fail(f"{db_path}: cannot be read ({exc}); nothing exported.", 1)
    done = []
    try:
        # Sample grids, re-encoded with provenance chunks.
        pngs = []
        for sample_step, name in reader.db.execute("SELECT step, png FROM samples ORDER BY step"):
            source = run_dir / "samples" / name
            target = out / "samples" / name
            try:
                with Image.open(source) as image:
                    image.load()
            except OSError as exc:
                typer.echo(f"warning: {source}: cannot be read ({type(exc).__name__}); skipped.", err=True)
                continue
            save_png(image, target, png_provenance(meta, sample_step, kind="fixed-noise samples"))
            pngs.append((sample_step, target))
        done.append(f"{_count(len(pngs), 'sample PNG')} in {out / 'samples'}" if sample_steps else "no samples yet")
        n = _export_scalars(reader.db, out, scalars)
        done.append(f"{out / 'scalars.csv'} ({n} rows, {scalars})")
        n = _write_csv(out / "progress.csv", ["step", "it_per_s", "images_per_s", "elapsed", "gpu_mem", "gpu_peak"],
                       reader.db.execute("SELECT * FROM progress ORDER BY step"))
        done.append(f"{out / 'progress.csv'} ({n} rows)")
        evaluations = reader.evaluations()
        if evaluations:
            _export_evaluations(evaluations, out)
            done.append(f"{out / 'evaluations.csv'} and evaluations.json ({_count(len(evaluations), 'evaluation')})")
        alarms = reader.alarms()
        if alarms:
            _write_csv(out / "alarms.csv", ["step", "rule", "reason", "since"],
                       ([a["step"], a["rule"], a["reason"], a["since"]] for a in alarms))
            done.append(f"{out / 'alarms.csv'} ({_count(len(alarms), 'alarm')})")
        for name in ("profile.toml", "meta.json"):
            if (run_dir / name).is_file():
                shutil.copyfile(run_dir / name, out / name)
        weights = export_weights(run_dir, meta, out, step)
        if weights:
            path, at, ema = weights
            done.append(f"{path} ({'EMA copy of G' if ema else 'G'} at step {at:,})")
        else:
            typer.echo("note: the run has no checkpoint yet; no generator weights exported.", err=True)
        if tensorboard:
            try:
                log_dir = export_tensorboard(reader, out, pngs)
                done.append(f"TensorBoard event files in {log_dir}")
            except ImportError as exc:
                typer.echo(f"note: tensorboard cannot be imported ({exc}), so no event files were written "
                           "(pip install tensorboard, then export again).", err=True)
    except BadInput as exc:
        _fail(str(exc))
    except sqlite3.DatabaseError as exc:
        _fail(f"{db_path}: cannot be read ({exc}); the export in {out} is incomplete.", 1)
    except OSError as exc:  # a full disk, a read-only folder: what was written stays
        _fail(f"the export in {out} is incomplete, a file cannot be written ({_why(exc)}); "
              "free some space or pick another --out.", 1)
    finally:
        reader.close()
    typer.echo(f"exported {meta.get('id', run_dir.name)}:")
    for line in done:
        typer.echo(f"  {line}")


# ---------------------------------------------------------------------------
# gan-tui sample


@commands_app.command("sample")
def sample(
    run: str = typer.Argument(..., help="A run id (or a unique part of one), or a run directory."),
    n: int = typer.Option(64, "-n", "--n", min=1, max=10_000, help="How many samples to draw."),
    out: Path = typer.Option(..., "-o", "--out", help="The PNG to write."),
    step: Optional[int] = typer.Option(None, "--step", help="Use this checkpoint step instead of the last."),
    seed: int = typer.Option(0, "--seed", help="Seed of the noise."),
    columns: Optional[int] = typer.Option(None, "--columns", min=1,
                                          help="Grid columns (default: one per class for conditional runs, else a square grid)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    data: Optional[str] = typer.Option(None, "--data", help="The run's folder dataset, when its profile has no "
                                       "data.path (only its image shape and classes are read)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
):
    """Draw new samples from a saved generator (the EMA copy where saved) into a PNG grid, or a scatter for 2D."""
    import torch

    from gan_tui.cli_eval import data_classes, load_run_generator
    from gan_tui.render import grid_image, scatter_image
    from gan_tui.store.runs import load_meta
    from gan_tui.train.device import pick_device

    try:
        dev = pick_device(device, "--device")
        run_dir = find_run(paths.runs_dir(runs_dir), run)
        meta, _ = load_meta(run_dir)
        profile, generator, chosen = load_run_generator(run_dir, step, dev, data, on_bad=_warn)
        classes = meta["num_classes"] if "num_classes" in meta else data_classes(profile, data)
    except BadInput as exc:
        _fail(str(exc))
    except BadRun as exc:
        _fail(f"{exc}; no samples can be drawn from the run without it.")
    if profile.model.architecture == "cyclegan":
        _fail(f"{run_dir.name} is a CycleGAN run: its generators translate images rather than draw them from "
              "noise; see its samples/ folder, or evaluate it with `gan-tui eval`.")
    noise = torch.Generator(device=dev).manual_seed(seed)
    z = torch.randn(n, profile.model.latent_dim, generator=noise, device=dev)
    labels = torch.arange(n, device=dev) % classes if classes else None
    generator.eval()
    with torch.no_grad():
        fake = generator(z, labels).float()
    if fake.dim() == 2:  # 2D toy: generated points over real ones
        from gan_tui.data import load_dataset

        data = load_dataset(profile.data, torch.device("cpu"))
        real = data.sample(n, torch.Generator().manual_seed(seed + 1))[0].numpy()
        image = scatter_image(fake.cpu().numpy(), real, None, float(data.extent))
        kind = f"{n} generated points (orange) over {n} real ones (blue)"
    else:
        images = ((fake + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        image = grid_image(images, columns or (classes or None))
        kind = f"{n} samples"
    try:
        save_png(image, out, png_provenance(meta, chosen, kind="samples", seed=seed, n=n))
    except OSError as exc:
        _fail(f"--out {out} cannot be written ({_why(exc)}); give a path in a folder you can write to.")
    typer.echo(f"wrote {out}: {kind} from {meta.get('id', run_dir.name)} at step {chosen:,} "
               f"({image.width}x{image.height}, seed {seed})")
