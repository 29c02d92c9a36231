"""Full `dcgan-fashion` run on the GPU: steps/s, images/s, and the final sample grid.

One unattended command on a machine with a CUDA GPU (and Fashion-MNIST IDX files
reachable by the usual search, or --data DIR):

    python benchmarks/gpu_dcgan_fashion.py [--data DIR] [--steps 5000] [--out DIR]

It runs `gan-tui run dcgan-fashion --json`, reads the run directory, writes
benchmarks/results/gpu_dcgan_fashion.json, copies the final sample grid to
--out (default benchmarks/results/), and prints a Markdown row for RESULTS.md.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=None, help="folder with Fashion-MNIST IDX files")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "gan_tui", "run", "dcgan-fashion", "--json", "--runs-dir", tmp,
               "--set", "train.device=cuda", "--set", f"train.steps={args.steps}"]
        if args.data:
            cmd += ["--data", args.data]
        start = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - start
        if proc.returncode != 0:
            sys.exit(f"gan-tui failed ({proc.returncode}): {proc.stderr.strip()}")
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        scalars = [r for r in rows if r["event"] == "scalars"]
        run = next(Path(tmp).iterdir())
        meta = json.loads((run / "meta.json").read_text())
        grid = sorted((run / "samples").glob("*.png"))[-1]
        shutil.copy(grid, out_dir / "gpu_dcgan_fashion_samples.png")
    steady = scalars[len(scalars) // 2:]  # second half: past warm-up
    it_s = sum(r["it_per_s"] for r in steady) / len(steady)
    result = {"device": meta.get("device_name"), "torch": meta.get("torch_version"), "steps": args.steps,
              "batch_size": meta.get("batch_size"), "wall_s": round(wall, 1),
              "steady_it_per_s": round(it_s, 1), "steady_images_per_s": round(it_s * meta["batch_size"]),
              "whole_run_it_per_s": round(args.steps / meta.get("elapsed", wall), 1),
              "gpu_peak_mib": round(meta.get("gpu_peak", 0) / 2**20), "final": scalars[-1]}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "gpu_dcgan_fashion.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"| {result['device']} | {args.steps} | {result['batch_size']} | {result['steady_it_per_s']} | "
          f"{result['steady_images_per_s']} | {result['whole_run_it_per_s']} | {result['gpu_peak_mib']} |")


if __name__ == "__main__":
    main()
