"""Command-line entry points: `gan-tui`, `gan-tui run`, `gan-tui profiles ...`."""

import json
import signal
import sys
import traceback
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperGroup

from gan_tui import paths
from gan_tui.errors import BadInput, TrainingDiverged


# `gan-tui --help` lists the commands in panels, in the order a user meets them (registration
# order, otherwise, follows the modules they live in).
HELP_PANELS = {"Train": ("run", "profiles"),
               "Runs": ("runs", "watch", "compare", "sample", "export"),
               "Evaluate": ("eval", "fid", "evaluator")}
HELP_ORDER = [name for names in HELP_PANELS.values() for name in names]


class _PanelOrder(TyperGroup):
    """Lists commands in HELP_ORDER: typer lists sub-groups after every command, which put the
    `runs` group after `export` in the Runs panel."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(super().list_commands(ctx), key=HELP_ORDER.index)  # _arrange_help: each has a panel


app = typer.Typer(cls=_PanelOrder, add_completion=False, no_args_is_help=False, pretty_exceptions_enable=False,
                  help="Train PyTorch GANs and watch them live in the terminal.\n\n"
                       "The dashboard: `gan-tui` alone lists the profiles to pick from; `gan-tui PROFILE "
                       "[--set KEY=VALUE ...]` starts one at once (`gan-tui PROFILE --help` for its options), "
                       "`gan-tui --resume RUN` continues a stopped run. The commands below work without it.")
profiles_app = typer.Typer(help="List profiles (`gan-tui profiles show NAME` prints one's settings).",
                           pretty_exceptions_enable=False, invoke_without_command=True)
app.add_typer(profiles_app, name="profiles")


def _register_evaluation() -> None:
    """`gan-tui eval`, `gan-tui fid` and `gan-tui evaluator train` live in cli_eval.py."""
    from gan_tui.cli_eval import eval_app, evaluator_app

    app.registered_commands.extend(eval_app.registered_commands)
    app.add_typer(evaluator_app, name="evaluator")


_register_evaluation()


def _register_runs() -> None:
    """`gan-tui runs [rm]` is in cli_runs.py, `compare` in cli_compare.py, `export` and `sample` in cli_export.py."""
    from gan_tui.cli_compare import compare_app
    from gan_tui.cli_export import export_app
    from gan_tui.cli_runs import runs_app

    for sub_app in (compare_app, export_app):
        app.registered_commands.extend(sub_app.registered_commands)
    app.add_typer(runs_app, name="runs")
    from gan_tui.cli_watch import watch_app  # `gan-tui watch RUN`

    app.registered_commands.extend(watch_app.registered_commands)


_register_runs()

EXIT_FINISHED, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DIVERGED = 0, 1, 2, 3
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
EXIT_CODES = {**SIGNAL_EXIT, signal.SIGPIPE: 141}  # SIGPIPE: the reader of --json went away (no handler)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _stop_on_signals(commands, received: dict) -> None:
    """First SIGINT/SIGTERM/SIGHUP asks the trainer to checkpoint and stop; a second one kills."""

    def handler(signum, frame):
        received.setdefault("signal", signum)
        signal.signal(signum, signal.SIG_DFL)
        commands.send("stop")

    for sig in SIGNAL_EXIT:
        signal.signal(sig, handler)


def _stop_when_output_is_lost(commands, received: dict):
    """For the console sinks: the terminal closed (EIO; its SIGHUP may come later or not at all)
    or the reader of the pipe left (EPIPE): checkpoint and stop, as a hang-up does."""

    def lost(exc: OSError) -> None:
        received.setdefault("signal", signal.SIGPIPE if isinstance(exc, BrokenPipeError) else signal.SIGHUP)
        commands.send("stop")

    return lost


@app.command()
def run(
    profile: Optional[str] = typer.Argument(None, help="A profile name (see `gan-tui profiles list`) or a .toml path."),
    set_: list[str] = typer.Option([], "--set", help="Override a key, e.g. --set train.steps=500 (repeatable)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Where run directories go [$GAN_TUI_RUNS_DIR]."),
    data: Optional[str] = typer.Option(None, "--data", help="Folder (or file) of the dataset, overriding data.path."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue run RUN_ID from its last checkpoint."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    json_lines: bool = typer.Option(False, "--json", help="One JSON object per log interval on stdout."),
    detach: bool = typer.Option(False, "--detach", help="Train in the background, surviving the terminal; "
                                "prints the run id and how to watch it."),
):
    """Train a profile headless, with a progress bar."""
    if detach:
        _run_detached(profile, set_, runs_dir, data, resume)
        return
    from gan_tui.train import distributed

    world = distributed.world_from_env()  # several processes when started by torchrun
    if not world.active:
        _train(profile, set_, runs_dir, data, resume, quiet, json_lines, world)
        return
    code = EXIT_FINISHED
    try:
        _train(profile, set_, runs_dir, data, resume, quiet, json_lines, world)
    except typer.Exit as exc:
        code = exc.exit_code
    distributed.end_rank(code)


def _train(profile, set_, runs_dir, data, resume, quiet, json_lines, world) -> None:
    """`gan-tui run` without --detach: train (or resume) one run; raises typer.Exit with its exit code."""
    from gan_tui.console import ConsoleProgress, JsonLines
    from gan_tui.profile import DEFAULT_PROFILE, load_profile
    from gan_tui.train import distributed
    from gan_tui.train.control import Commands
    from gan_tui.train.control_server import serve_session
    from gan_tui.train.session import new_session, resume_session

    commands = Commands()
    received = {}  # the signal (or lost output) that stopped the run, for the exit code
    sinks = []
    if not world.is_main:
        pass  # rank 0 alone reports
    elif json_lines:
        sinks.append(JsonLines(on_lost=_stop_when_output_is_lost(commands, received)))
    elif not quiet:
        sinks.append(ConsoleProgress(on_lost=_stop_when_output_is_lost(commands, received)))
    root = paths.runs_dir(runs_dir)
    session = control = None
    try:
        if resume:
            if profile:
                fail("--resume continues a run with its own saved profile; drop the PROFILE argument "
                     "(--set still applies, e.g. --set train.steps=20000 to train longer).")
            session = resume_session(lambda path: load_profile(str(path), set_), root, resume, sinks, commands, data,
                                     world)
        else:
            session = new_session(load_profile(profile or DEFAULT_PROFILE, set_), root, sinks, commands, data, world)
        for note in session.notes:  # damaged files passed over on resume, each named
            typer.echo(f"warning: {note.rstrip('.')}.", err=True)
        total = session.trainer.profile.train.steps
        if resume and session.trainer.step >= total and not quiet:  # e.g. a job script that resumes until done
            typer.echo(f"note: run {session.trainer.run_id} has already trained all its {total:,} steps; to train "
                       f"it longer, give more, e.g. --set train.steps={2 * total}.", err=True)
        _stop_on_signals(commands, received)
        control = serve_session(session, commands)  # `gan-tui watch` steers the run through RUN/control.sock
        outcome = session.trainer.run()
    except BadInput as exc:
        fail(str(exc))
    except TrainingDiverged as exc:
        fail(f"{exc}; lower the learning rates (optim.g.lr, optim.d.lr) or change the loss. "
             f"Checkpoints before that step are in {session.run_dir / 'checkpoints'}.", EXIT_DIVERGED)
    except Exception as exc:  # anything unexpected: mark the run failed, keep the traceback in the run dir
        _record_failure(session, exc)
    finally:
        for sink in sinks:
            sink.close()
        if control is not None:
            control.close()
        if session:
            session.close()
            if notice := session.exit_notice():
                typer.echo(notice, err=True)
        distributed.stop()
    if outcome == "interrupted":
        raise typer.Exit(EXIT_CODES.get(received.get("signal"), 130))


def _run_detached(profile, set_, runs_dir, data, resume) -> None:
    """`run --detach`: the same command in its own session, output in RUN/console.log."""
    from gan_tui import detach

    if resume and profile:
        fail("--resume continues a run with its own saved profile; drop the PROFILE argument.")
    root = paths.runs_dir(runs_dir)
    try:
        run_id, run_dir, pid = detach.start(profile, set_, root, data, resume)
    except BadInput as exc:
        fail(str(exc))
    typer.echo(run_id)
    typer.echo(f"training in the background (pid {pid}), output in {run_dir / 'console.log'}; "
               f"watch it with: {detach.watch_hint(run_id, runs_dir)}", err=True)


def _record_failure(session, exc: Exception) -> None:
    """Mark the run failed and end with one sentence (exit 1). Called in the `except` block.

    Each write is tried on its own: when the disk is full the traceback file or the
    database may not take it, meta.json (a small file rewritten whole) usually still does."""
    from gan_tui.train.events import StatusChanged
    from gan_tui.train.failures import failure_message

    trainer = session.trainer if session is not None else None
    message = failure_message(exc, trainer)
    where = ""
    if session is not None and session.store is not None:
        log = session.run_dir / "error.log"
        try:
            log.write_text(traceback.format_exc())
            where = f" (traceback in {log})"
        except OSError:
            pass
        try:
            session.store.handle(StatusChanged("failed", trainer.step, message))
        except Exception:  # noqa: BLE001 - the database may be what is full; meta.json is written first
            if _recorded_status(session.run_dir) != "failed":
                where += (f"; the run could not be marked failed either ({session.run_dir / 'meta.json'} cannot be "
                          "written), so `gan-tui runs` shows it as interrupted")
    fail(f"training failed: {message}{where}.", EXIT_FAILED)


def _recorded_status(run_dir: Path) -> str | None:
    from gan_tui.store.meta import read_meta

    try:
        return read_meta(run_dir).get("status")
    except (OSError, ValueError, AttributeError):
        return None


@profiles_app.callback()
def profiles_default(ctx: typer.Context):
    """List and show training profiles; alone, `gan-tui profiles` lists them (as `gan-tui runs` lists runs)."""
    if ctx.invoked_subcommand is None:
        profiles_list("table")


@profiles_app.command("list")
def profiles_list(fmt: str = typer.Option("table", "--format", help="table or json")):
    """Shipped and user profiles with a one-line description each."""
    from gan_tui.profile import available_profiles, describe

    found = available_profiles()
    user_dir = paths.user_profiles_dir()
    rows = [{"name": name, "description": describe(path), "path": str(path),
             "origin": "user" if path.parent == user_dir else "shipped"} for name, path in found.items()]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    if fmt != "table":
        fail(f'--format is "{fmt}"; use table or json.')
    from rich.console import Console
    from rich.table import Table

    table = Table("profile", "description", "origin", box=None)
    for row in rows:
        table.add_row(row["name"], row["description"], row["origin"])
    Console().print(table)


@profiles_app.command("show")
def profiles_show(
    name: str = typer.Argument(..., help="Profile name or .toml path."),
    set_: list[str] = typer.Option([], "--set", help="Override a key, as for `run`."),
):
    """Print the fully resolved profile (extends and --set applied) as TOML."""
    import tomli_w

    from gan_tui.profile import load_profile

    try:
        profile = load_profile(name, set_)
    except BadInput as exc:
        fail(str(exc))
    typer.echo(f"# {profile.name} ({profile.source})")
    typer.echo(tomli_w.dumps(profile.to_dict()), nl=False)


def _arrange_help() -> None:
    panel = {name: title for title, names in HELP_PANELS.items() for name in names}

    def name_of(info) -> str:
        return info.name or info.callback.__name__

    for info in [*app.registered_commands, *app.registered_groups]:
        info.rich_help_panel = panel[name_of(info)]  # a KeyError here: a new command needs a panel


_arrange_help()


def _command_names() -> set[str]:
    return {c.name or c.callback.__name__ for c in app.registered_commands} | {g.name for g in app.registered_groups}


def _dashboard_argv(argv: list[str]) -> bool:
    """`gan-tui` alone, or `gan-tui PROFILE [options]`, opens the dashboard."""
    return not argv or (argv[0] not in _command_names() and argv[0] not in ("--help", "-h"))


def _mistyped_command(word: str) -> str | None:
    """The command `word` looks like a typo of ("comapre": "compare"), when it is neither a profile
    nor a path and no profile name is closer; None otherwise."""
    from difflib import get_close_matches

    from gan_tui.profile import available_profiles

    if word.startswith("-") or "/" in word or word.endswith(".toml") or Path(word).exists():
        return None
    profiles = set(available_profiles())  # a profile's own name is its closest match: None
    close = get_close_matches(word, sorted(_command_names() | profiles), n=1, cutoff=0.7)
    return close[0] if close and close[0] not in profiles else None


def main() -> None:
    argv = sys.argv[1:]
    try:
        if _dashboard_argv(argv):
            typo = _mistyped_command(argv[0]) if argv else None
            if typo:  # else "comapre A B" would read as a profile and end in "unrecognized arguments: A B"
                typer.echo(f'error: "{argv[0]}" is neither a command nor a profile; did you mean `gan-tui {typo}`? '
                           "(`gan-tui --help` lists the commands, `gan-tui profiles list` the profiles.)", err=True)
                sys.exit(EXIT_BAD_INPUT)
            from gan_tui.tui.launch import dashboard_app

            dashboard_app(prog_name="gan-tui")
        else:
            app()
    except KeyboardInterrupt:
        sys.exit(130)
