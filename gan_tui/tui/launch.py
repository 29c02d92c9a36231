"""`gan-tui [PROFILE | --resume RUN] [--set KEY=VALUE ...] [--runs-dir DIR] [--color DEPTH] [--fps N]`: the dashboard.

Bad arguments end with one sentence on stderr and exit code 2, before any
screen is drawn. Textual is imported only after the colour depth is known,
because it reads TEXTUAL_COLOR_SYSTEM once at import.
"""

import argparse
import os
import sys

from gan_tui.errors import BadInput
from gan_tui.frame_rate import DEFAULT_FPS, MAX_FPS, MIN_FPS
from gan_tui.tui.color import DEPTHS, apply_to_environment, detect_depth

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own format is a usage block; ours is one sentence
        raise BadInput(f"{message}; see `{self.prog} --help`.")


def build_parser(prog_name: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog_name, description="Train a GAN profile and watch it live. "
                     "Without PROFILE, pick one from a list.")
    parser.add_argument("profile", nargs="?", help="a profile name (see `gan-tui profiles list`) or a .toml path")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile key, e.g. --set train.steps=500 (repeatable)")
    parser.add_argument("--resume", metavar="RUN", help="continue run RUN (an id, or a unique part of one) from its "
                        "last checkpoint, with its own saved profile")
    parser.add_argument("--runs-dir", help="where run directories go [$GAN_TUI_RUNS_DIR]")
    parser.add_argument("--data", help="folder (or file) of the dataset, overriding data.path")
    parser.add_argument("--color", help=f"colour depth: {', '.join(DEPTHS)} (default: from COLORTERM, TERM, NO_COLOR)")
    parser.add_argument("--fps", default=f"{DEFAULT_FPS:g}",
                        help=f"screen refreshes per second, {MIN_FPS:g} to {MAX_FPS:g} (default {DEFAULT_FPS:g})")
    return parser


def parse(argv: list[str], prog_name: str = "gan-tui") -> argparse.Namespace:
    """Parsed and checked arguments; BadInput with one sentence otherwise."""
    args = build_parser(prog_name).parse_args(argv)
    try:
        args.fps = float(args.fps)
    except ValueError:
        raise BadInput(f'--fps is "{args.fps}"; give a number of frames per second such as 2.') from None
    if not MIN_FPS <= args.fps <= MAX_FPS:
        raise BadInput(f"--fps is {args.fps:g}; use a value from {MIN_FPS:g} to {MAX_FPS:g}.")
    try:
        args.depth = detect_depth(flag=args.color)
    except ValueError as exc:
        raise BadInput(f"{exc}.") from None
    return args


def _resumed_profile(args):
    """(the run's own saved profile with --set applied, the run's id) for --resume; the checks that need
    no training (a live run, too few steps) are resume_session's, on the screen."""
    from gan_tui.paths import runs_dir
    from gan_tui.profile import load_profile
    from gan_tui.store.runs import BadRun, find_run, load_meta

    if args.profile:
        raise BadInput("--resume continues a run with its own saved profile; drop the PROFILE argument "
                       "(change keys with --set).")
    run_dir = find_run(runs_dir(args.runs_dir), args.resume)
    try:
        meta, _ = load_meta(run_dir)
    except BadRun as exc:
        raise BadInput(f"{exc}; the run cannot be resumed without it.") from None
    profile = load_profile(str(run_dir / "profile.toml"), args.overrides)
    profile.name = meta.get("profile") or profile.name  # "ring8", not the saved file's name, "profile"
    return profile, run_dir.name


def dashboard_app(prog_name: str = "gan-tui", argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse(argv, prog_name)
        profile, resume = None, None
        if args.resume:
            profile, resume = _resumed_profile(args)
        elif args.profile:
            from gan_tui.profile import load_profile

            profile = load_profile(args.profile, args.overrides)
        elif args.overrides:
            from gan_tui.profile import DEFAULT_PROFILE, load_profile

            load_profile(DEFAULT_PROFILE, args.overrides)  # check the keys now, not on the first Enter
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)

    apply_to_environment(args.depth)
    # Textual sizes the screen with shutil.get_terminal_size, which believes COLUMNS/LINES over the
    # terminal itself; a stale exported value would pin the layout and make resizing do nothing.
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
    import gan_tui.train.session  # noqa: F401  (torch loads before the first frame, not on the first key)
    from gan_tui.tui.app import DashboardApp

    app = DashboardApp(profile=profile, overrides=args.overrides, runs_dir=args.runs_dir, depth=args.depth,
                       fps=args.fps, data_path=args.data, resume=resume)
    try:
        app.run()
    finally:
        run = app.training
        if run is not None and not run.done.is_set():  # belt and braces: never leave it unsaved
            run.stop()
            run.done.wait(timeout=120)
    if app.return_code:  # SIGTERM: 143, as `gan-tui run` exits
        sys.exit(app.return_code)
    if isinstance(app.return_value, tuple) and app.return_value[0] == "watch":  # `d`: re-attached as a watcher
        from gan_tui.tui.watch import watch

        run_dir = app.return_value[1]
        print(f"run {run_dir.name}: training in the background (output in {run_dir / 'console.log'})",
              file=sys.stderr)
        watched = watch(run_dir, depth=args.depth, fps=args.fps)
        status = watched.model.status if watched.model is not None else "?"
        print(f"run {run_dir.name}: {status}; re-attach with `gan-tui watch {run_dir.name}`", file=sys.stderr)
        return
    model = app.model
    if run is not None and model is not None and model.info is not None:  # the terminal is back: say where it went
        again = f"; continue it with `gan-tui --resume {model.info.run_id}`" if model.status == "interrupted" else ""
        print(f"run {model.info.run_id}: {model.status} at step {model.step:,} ({model.info.run_dir}){again}",
              file=sys.stderr)
    notice = run.session.exit_notice() if run is not None and run.session is not None else None
    if notice:
        print(notice, file=sys.stderr)
