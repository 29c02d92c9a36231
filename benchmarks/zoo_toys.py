"""The 2D toy profiles of the zoo for the same wall-time budget each, over several seeds: modes
captured and the fraction of high-quality samples (within 3 std of a centre), as VEEGAN and
PacGAN report them.

One unattended command (a CUDA GPU by default):

    python benchmarks/zoo_toys.py [--budget-s 60] [--device cuda] [--seeds 0 1 2 3 4] [--jobs 5]
                                  [--profiles ring8 grid25 unrolled-ring8 vanilla-ring8] [--out benchmarks/results]

For each profile: calibrates the steady steps/s on its own (seed 0, --calibrate-steps steps),
then trains every seed for budget x that rate steps (--jobs seeds at once: the step count, not
the shared machine, sets what each seed gets), and evaluates the last checkpoint with
`gan-tui eval RUN --n 2500 --format json`. Goal (issue "GAN zoo"): ring8 and grid25 capture every
mode with at least 90% high-quality samples on every seed, while vanilla-ring8 collapses.

Writes benchmarks/results/zoo_toys-DEVICE.json and prints a Markdown table for RESULTS.md.
"""

import argparse
import json
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cli_runs import gan_tui, steady, train
from zoo_quality import HERE, QUIET

TOYS = ["ring8", "grid25", "unrolled-ring8", "vanilla-ring8"]
N = 2500  # samples per evaluation: PacGAN's count, which its mode rule (20 of 2,500) is stated for


def calibrate(profile: str, args, tmp: Path) -> float:
    rows, _, _ = train(profile, tmp / f"{profile}-calibrate", [f"train.device={args.device}", *QUIET,
                                                              f"train.steps={args.calibrate_steps}",
                                                              "checkpoint.every=100000"], None, timeout=900)
    return steady(rows, "it_per_s")


def one_seed(profile: str, seed: int, steps: int, args, tmp: Path) -> dict:
    try:
        rows, wall, run = train(profile, tmp / f"{profile}-{seed}", [f"train.device={args.device}", *QUIET,
                                                                    f"train.seed={seed}", f"train.steps={steps}",
                                                                    f"checkpoint.every={steps}"], None,
                                timeout=args.budget_s * 10 + 900)
        evaluation = gan_tui(["eval", run.name, "--runs-dir", str(run.parent), "--format", "json",
                              "--device", args.device, "--n", str(N)], timeout=900)
        if evaluation.returncode != 0:
            raise RuntimeError(evaluation.stderr.strip().splitlines()[-1])
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {"profile": profile, "seed": seed, "error": str(exc)}
    m = json.loads(evaluation.stdout)
    return {"profile": profile, "seed": seed, "steps": steps, "train_wall_s": round(wall, 1),
            "it_per_s": round(steady(rows, "it_per_s"), 1), "modes_captured": m["modes_captured"],
            "modes_total": m["modes_total"], "high_quality": round(m["high_quality"], 4),
            "fid_points": m.get("fid"), "collapse": [a["reason"] for a in m.get("collapse", [])]}


def markdown(results: list[dict], seeds: list[int]) -> str:
    lines = ["| profile | steps in budget | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|---|" + "---|" * len(seeds)]
    for profile in dict.fromkeys(r["profile"] for r in results):
        rows = {r["seed"]: r for r in results if r["profile"] == profile}
        steps = next((f"{r['steps']:,}" for r in rows.values() if "steps" in r), "-")
        cells = []
        for s in seeds:
            r = rows.get(s, {"error": "not run"})
            cells.append(f"not run: {r['error']}" if "error" in r
                         else f"{r['modes_captured']}/{r['modes_total']}, {r['high_quality']:.0%}")
        lines.append(f"| {profile} | {steps} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=60.0, help="training wall time for each run")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=5, help="seeds trained at once")
    parser.add_argument("--profiles", nargs="+", default=TOYS)
    parser.add_argument("--calibrate-steps", type=int, default=1000)
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        for profile in args.profiles:
            try:
                rate = calibrate(profile, args, Path(tmp))
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results += [{"profile": profile, "seed": s, "error": str(exc)} for s in args.seeds]
                continue
            steps = max(100, int(args.budget_s * rate))
            for result in pool.map(lambda s: one_seed(profile, s, steps, args, Path(tmp)), args.seeds):
                results.append(result)
                print(json.dumps(result), flush=True)
    device = args.device if args.device != "cuda" else _gpu_name()
    tag = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"zoo_toys-{tag}.json"
    path.write_text(json.dumps({"device": device, "budget_s": args.budget_s, "n": N, "results": results}, indent=2))
    print(markdown(results, args.seeds))
    print(f"results: {path}")


def _gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cuda"


if __name__ == "__main__":
    main()
