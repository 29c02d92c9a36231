"""CycleGAN quality for a fixed wall-time budget: held-out cycle errors and translation accuracy.

One unattended command (a CUDA GPU by default; Fashion-MNIST IDX files reachable by the
usual search, or --data DIR):

    python benchmarks/cyclegan_quality.py [--budget-s 600] [--device cuda] [--data DIR]
                                          [--set KEY=VALUE ...] [--out benchmarks/results]

1. Calibrates: trains `cyclegan-fashion` (with the --set overrides; by default the paper's
   widths, ngf = ndf = 64 and 6 residual blocks, batch 16) for --calibrate-steps steps and
   reads the steady steps/s.
2. Trains a fresh run for as many steps as fit in --budget-s at that rate, so the learning
   rate schedule (constant, then linear decay over the second half) completes inside the
   budget, with evaluations on 1000 test images per domain at each quarter.
3. Evaluates the last checkpoint with `gan-tui eval RUN --format json` (all 1000 t10k images
   of each domain) and writes benchmarks/results/cyclegan_quality-DEVICE.json (settings, steps,
   wall time, steps/s, the evaluation curve, the final metrics) and the last sample grid PNG,
   then prints a Markdown row for RESULTS.md.
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from cli_runs import data_args, gan_tui, steady, train

HERE = Path(__file__).resolve().parent
PAPER = ["model.g_width=64", "model.d_width=64", "model.depth=6", "data.batch_size=16"]
KEYS = ("cycle_error_a", "cycle_error_b", "translation_accuracy_ab", "translation_accuracy_ba",
        "real_accuracy_a", "real_accuracy_b")


def train_or_exit(runs: Path, sets: list[str], data: str | None, timeout: float):
    try:
        return train("cyclegan-fashion", runs, sets, data, timeout)
    except RuntimeError as exc:
        sys.exit(f"gan-tui run failed: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-s", type=float, default=600.0, help="training wall time to fill")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default=None, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("--calibrate-steps", type=int, default=300)
    parser.add_argument("--set", dest="sets", action="append", default=None,
                        help=f"profile overrides (default: {' '.join(PAPER)})")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    sets = (args.sets if args.sets is not None else PAPER) + [f"train.device={args.device}"]
    quiet = ["log.every=50", "log.samples_every=100000", "checkpoint.every=100000", "eval.every=0"]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows, _, _ = train_or_exit(Path(tmp) / "calibrate", [*sets, *quiet, f"train.steps={args.calibrate_steps}"],
                                   args.data, timeout=args.budget_s + 600)
        rate = steady(rows, "it_per_s")
        steps = max(100, int(args.budget_s * rate * 0.95))  # room for evaluations and checkpoints
        quarter = max(steps // 4, 1)
        rows, wall, run = train_or_exit(Path(tmp) / "runs", [*sets, f"train.steps={steps}", "log.every=50",
                                                              f"log.samples_every={quarter}", f"checkpoint.every={quarter}",
                                                              f"eval.every={quarter}", "eval.n=1000"],
                                        args.data, timeout=args.budget_s * 3 + 600)
        meta = json.loads((run / "meta.json").read_text())
        final = gan_tui(["eval", run.name, "--runs-dir", str(Path(tmp) / "runs"), "--format", "json",
                         "--device", args.device, "--n", "1000", *data_args(args.data)],
                        timeout=1200)
        if final.returncode != 0:
            sys.exit(f"gan-tui eval failed ({final.returncode}): {final.stderr.strip()[-2000:]}")
        metrics = json.loads(final.stdout)
        device_tag = re.sub(r"[^a-z0-9]+", "-", str(meta.get("device_name", args.device)).lower()).strip("-")
        grid = sorted((run / "samples").glob("*.png"))[-1]
        shutil.copy(grid, out_dir / f"cyclegan_quality-{device_tag}.png")
    curve = [{"step": r["step"], **{k: r[k] for k in KEYS if k in r}} for r in rows if r["event"] == "evaluation"]
    last = [r for r in rows if r["event"] == "scalars"][-1]
    result = {"device": meta.get("device_name"), "torch": meta.get("torch_version"), "settings": sets,
              "budget_s": args.budget_s, "calibrated_it_per_s": round(rate, 2), "steps": steps,
              "train_wall_s": round(wall, 1), "batch_size": meta.get("batch_size"),
              "gpu_peak_mib": round(meta.get("gpu_peak", 0) / 2**20),
              "final_losses": {k: last[k] for k in ("d_loss", "g_loss", "cycle", "identity")},
              "evaluations": curve, "final": {k: metrics.get(k) for k in (*KEYS, "n_a", "n_b", "split")}}
    path = out_dir / f"cyclegan_quality-{device_tag}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    f = result["final"]
    print(f"| {result['device']} | {args.budget_s:.0f} s | {steps} | {result['calibrated_it_per_s']} | "
          f"{f['cycle_error_a']:.4f} / {f['cycle_error_b']:.4f} | "
          f"{f.get('translation_accuracy_ab', 0):.1%} / {f.get('translation_accuracy_ba', 0):.1%} |")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
