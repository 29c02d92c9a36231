"""How fast `gan-tui run ring8` captures the modes of the ring, on this machine.

Runs the real command line once per seed, then reads the run directory:
modes captured and high-quality fraction (metrics/toy_modes.py) at every
sample step, against wall time since the command was launched.

    python benchmarks/ring8_modes.py --seeds 0 1 2 [--budget 60]

Writes benchmarks/results/ring8_modes.json and prints a Markdown table.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gan_tui.data.toy import ring8
from gan_tui.metrics.toy_modes import mode_coverage
from gan_tui.store import RunReader

HERE = Path(__file__).resolve().parent


def one_seed(seed: int, budget: float, runs_dir: Path) -> dict:
    start = time.time()
    cmd = [sys.executable, "-m", "gan_tui", "run", "ring8", "--quiet", "--runs-dir", str(runs_dir),
           "--set", f"train.seed={seed}", "--set", "train.device=cpu"]
    subprocess.run(cmd, check=True)
    wall = time.time() - start
    run = max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    reader = RunReader(run)
    steps, _ = reader.scalars("d_loss")
    walls = dict(zip(steps.tolist(), reader.db.execute(
        "SELECT wall FROM scalars WHERE name = 'd_loss' ORDER BY step").fetchall()))
    data = ring8(None, torch.device("cpu"))
    timeline = []
    for step in reader.sample_steps():
        cov = mode_coverage(reader.samples(step)["points"], data.centres.numpy(), data.std)
        t = walls[step][0] - start if step in walls else 0.0
        timeline.append({"step": step, "seconds": round(t, 1), "modes": cov.modes_captured,
                         "high_quality": round(cov.high_quality, 3)})
    within = [row for row in timeline if row["seconds"] <= budget]
    first7 = next((row["seconds"] for row in timeline if row["modes"] >= 7), None)
    return {"seed": seed, "wall_s": round(wall, 1), "final": timeline[-1],
            "modes_at_budget": within[-1]["modes"] if within else 0,
            "first_7_modes_s": first7, "timeline": timeline}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=60.0)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            results.append(one_seed(seed, args.budget, Path(tmp) / f"seed{seed}"))
    out = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
           "torch": torch.__version__, "budget_s": args.budget, "runs": results}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ring8_modes.json").write_text(json.dumps(out, indent=2))
    print(f"| seed | whole command (s) | first >=7/8 modes at (s) | modes within {args.budget:.0f} s | "
          "final modes | final high-quality |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['seed']} | {r['wall_s']} | {r['first_7_modes_s']} | {r['modes_at_budget']}/8 | "
              f"{r['final']['modes']}/8 | {r['final']['high_quality']:.0%} |")


if __name__ == "__main__":
    main()
