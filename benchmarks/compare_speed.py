"""`gan-tui compare` of 10 runs of 100,000 logged steps each (issue 6: opens under 2 s).

    python benchmarks/compare_speed.py [--runs 10] [--steps 100000] [--repeat 5]

Generates the runs in a temporary folder (benchmarks/synthetic_runs.py: real-schema
metrics.sqlite with 4 scalars and a progress row at each of the logged steps, and an
evaluation every 5,000 of them; profiles differing in optim.d.lr and train.seed), then times:
- subprocess: `python -m gan_tui compare RUN x10 --runs-dir DIR` (table) and
  `--format json`, as a user runs it: Python start, imports (never torch), reading;
- in process: the same command through typer's CliRunner (no interpreter start);
- for the compare screen to come (not a command yet): loading every logged value
  of the 4 curves of all runs through RunReader.scalars, the way a viewer reads them
  today (the scalars table is keyed by (step, name), so each name is a full scan).
Median and worst of --repeat runs after one warm-up. Writes benchmarks/results/compare_speed.txt.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from synthetic_runs import make_run  # noqa: E402
from timing import timed, write_report  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gan_tui.cli import app  # noqa: E402
from gan_tui.store.reader import RunReader  # noqa: E402

LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=100_000, help="logged steps per run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gan-tui-compare-bench-") as tmp:
        root = Path(tmp) / "runs"
        start = time.perf_counter()
        dirs = [make_run(root, i, logged_steps=args.steps, log_every=1, eval_every_logs=5000,
                         overrides=(f"optim.d.lr={0.001 * (1 + i % 3)}", f"train.seed={i}"))
                for i in range(args.runs)]
        generate_s = time.perf_counter() - start
        size_mb = sum(f.stat().st_size for d in dirs for f in d.glob("metrics.sqlite*")) / 2**20
        ids = [d.name for d in dirs]
        env = {**os.environ, "GAN_TUI_RUNS_DIR": str(root)}

        def subprocess_compare(*extra):
            def run():
                result = subprocess.run([sys.executable, "-m", "gan_tui", "compare", *ids, *extra], capture_output=True,
                                        text=True, cwd=REPO, env=env)
                assert result.returncode == 0 and "optim.d.lr" in result.stdout, result.stderr
            return run

        def in_process():
            result = CliRunner().invoke(app, ["compare", *ids, "--format", "json", "--runs-dir", str(root)])
            assert result.exit_code == 0 and "optim.d.lr" in result.stdout, result.output

        def all_curves():
            points = 0
            for d in dirs:
                reader = RunReader(d)
                for name in LOSSES:
                    points += len(reader.scalars(name)[0])
                reader.close()
            assert points == args.runs * args.steps * len(LOSSES)

        results = {
            "gan-tui compare (table), subprocess": timed(subprocess_compare(), args.repeat),
            "gan-tui compare --format json, subprocess": timed(subprocess_compare("--format", "json"), args.repeat),
            "gan-tui compare --format json, in process": timed(in_process, args.repeat),
            "all 4 curves of every run via RunReader.scalars (screen to come)": timed(all_curves, max(1, args.repeat // 2)),
        }
    write_report("compare_speed", f"gan-tui compare of {args.runs} runs of {args.steps:,} logged steps each "
                                  f"({size_mb:.0f} MiB of SQLite; generated in {generate_s:.0f} s; median and worst after a warm-up)",
                 results, show_runs=True)


if __name__ == "__main__":
    main()
