"""`gan-tui compare`: final and best metrics of runs side by side, and the profile keys that differ.

It never imports torch: it reads meta.json, profile.toml and metrics.sqlite only. A run directory that
cannot be read is named on stderr in one line and skipped.
"""

import csv
import io
import json
import math
import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Optional

import typer

from gan_tui import paths
from gan_tui.cli_runs import (LOSS_LABELS, LOSS_NAMES, RUNS_DIR_HELP, _check_format, _console, _fail, _num,
                              _steps_text, _warn)
from gan_tui.errors import BadInput
from gan_tui.metrics.best_fid import BestFid
from gan_tui.metrics.classes import weakest_class
from gan_tui.store.meta import jsonable
from gan_tui.store.runs import LIVE, BadRun, find_run, format_duration, short_run_labels, summarize

compare_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


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


def _run_report(run_dir: Path, warn: bool = True) -> dict | None:
    """What compare shows of one run; None (after a warning) when its meta.json is unreadable.
    `warn=False`: no warnings on stderr, for the compare screen's reloads of runs still training."""
    from gan_tui.store.reader import RunReader

    try:
        s = summarize(run_dir)
    except BadRun as exc:
        if warn:
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
    for problem in report["problems"] if warn else ():
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
        weakest = [weakest_class(e["metrics"]) if e else None for e in evaluations]  # conditional runs
        if any(weakest):
            rows.append(("last lowest class", [f"{w[0]} {w[1]:.1%}" if w else None for w in weakest]))
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


def text_rows(reports: list[dict]) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(metric rows, profile-difference rows) as the table and markdown formats write them."""
    rows, differences, fractions = compare_rows(reports)
    metrics = [(label, [format_duration(v) if label == "duration" else _percent(v) if label in fractions
                        else _metric_text(v) for v in values]) for label, values in rows]
    return metrics, [(key, [_setting_text(v) for v in values]) for key, values in differences.items()]


def markdown_table(reports: list[dict]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    ids = [r["id"] for r in reports]
    metrics, differences = text_rows(reports)
    lines = ["| metric | " + " | ".join(cell(i) for i in ids) + " |",
             "|---|" + "---|" * len(ids)]
    lines += [f"| {cell(label)} | " + " | ".join(cell(v) for v in values) + " |" for label, values in metrics]
    if differences:
        lines.append("| **profile differences** |" + " |" * len(ids))
        lines += [f"| `{key}` | " + " | ".join(cell(v) for v in values) + " |" for key, values in differences]
    return "\n".join(lines)


def rich_table(reports: list[dict], short_ids: bool):
    """The table for a terminal (and the compare screen); `short_ids`: run ids without their date and time."""
    from rich.table import Table

    ids = [r["id"] for r in reports]
    metrics, differences = text_rows(reports)
    table = Table("", *(short_run_labels(ids) if short_ids else ids), box=None)
    table.columns[0].overflow = "fold"  # a long profile key wraps whole, not cut to "tricks.spectral_n…" twice
    for i, (label, values) in enumerate(metrics):
        table.add_row(label, *values, end_section=i == len(metrics) - 1 and bool(differences))
    if differences:
        table.add_row("[bold]profile differences[/]", *[""] * len(ids))
        for key, values in differences:
            table.add_row(key, *values)
    else:
        table.add_row("profile differences", *["none"] + [""] * (len(ids) - 1))
    return table


def table_rereader(reports: list[dict], short_ids: bool):
    """For the compare screen: () -> the table again, the runs still training read anew (quietly), the
    others as they were."""
    def reread():
        for i, report in enumerate(reports):
            if report["status"] in LIVE:
                reports[i] = _run_report(Path(report["dir"]), warn=False) or report
        return rich_table(reports, short_ids)

    return reread


@compare_app.command("compare")
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
    ids = [r["id"] for r in reports]
    if fmt in ("json", "csv"):
        rows, differences, _ = compare_rows(reports)
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
    if fmt == "markdown":
        typer.echo(markdown_table(reports))
        return
    console = _console()
    # On a screen, run ids without their date and time (which find_run accepts), rather than cut to "2026…"
    short = tui or console.is_terminal
    table = rich_table(reports, short)
    if tui:
        from gan_tui.tui.color import apply_to_environment, detect_depth

        depth = detect_depth()
        apply_to_environment(depth)  # before Textual is imported
        from gan_tui.tui.compare import run_compare

        run_compare(reports, table, depth, table_rereader(list(reports), short))
        return
    console.print(table, highlight=False)
