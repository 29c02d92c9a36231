"""`gan-tui runs` over 1,000 run directories (issue 6: under 1 s).

    python benchmarks/runs_listing.py [--runs 1000] [--repeat 5]

Generates the runs in a temporary folder (benchmarks/synthetic_runs.py: meta.json,
profile.toml and a real-schema metrics.sqlite of 200 logged steps each; 1 in 18
recorded as "running" with a dead pid, so the liveness check runs too), then times:
- subprocess: `python -m gan_tui runs --runs-dir DIR` (table, stdout a pipe) and
  `--format json`, as a user runs it: Python start, imports (never torch) and listing;
- baseline: `python -c "import gan_tui.cli"` (the part every command pays);
- in process: gan_tui.store.runs.list_runs alone (reading 1,000 meta.json files).
Median and worst of --repeat runs after one warm-up. Writes benchmarks/results/runs_listing.txt.
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

from synthetic_runs import STATUSES, make_run  # noqa: E402
from timing import timed, write_report  # noqa: E402

from gan_tui.store.runs import list_runs  # noqa: E402


def cli(*args: str, runs_dir: Path):
    def run():
        result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO,
                                env={**os.environ, "GAN_TUI_RUNS_DIR": str(runs_dir)})
        assert result.returncode == 0, result.stderr
        return result
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gan-tui-runs-bench-") as tmp:
        root = Path(tmp) / "runs"
        start = time.perf_counter()
        for i in range(args.runs):
            make_run(root, i, logged_steps=200, eval_every_logs=100, status=STATUSES[i % len(STATUSES)],
                     overrides=(f"train.seed={i}",))
        generate_s = time.perf_counter() - start

        listed = cli("-m", "gan_tui", "runs", "--format", "json", runs_dir=root)()
        assert listed.stdout.count('"id"') == args.runs, "not every run was listed"
        dead = sum(STATUSES[i % len(STATUSES)] == "running" for i in range(args.runs))
        assert listed.stdout.count('"lost": true') == dead, "a dead run was listed as running"
        results = {
            "gan-tui runs (table), subprocess": timed(cli("-m", "gan_tui", "runs", runs_dir=root), args.repeat),
            "gan-tui runs --format json, subprocess": timed(cli("-m", "gan_tui", "runs", "--format", "json",
                                                                runs_dir=root), args.repeat),
            "python -c 'import gan_tui.cli' (baseline)": timed(cli("-c", "import gan_tui.cli", runs_dir=root),
                                                               args.repeat),
            "list_runs() in process": timed(lambda: list_runs(root), args.repeat),
        }
    write_report("runs_listing", f"gan-tui runs over {args.runs} generated run directories "
                                 f"(generated in {generate_s:.1f} s; median and worst of {args.repeat} after a warm-up)",
                 results)


if __name__ == "__main__":
    main()
