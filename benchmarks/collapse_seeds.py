"""The collapse detector across seeds: healthy profiles must never raise an alarm,
the plain GAN built to collapse must raise one.

    python benchmarks/collapse_seeds.py [--seeds 0 1 2 3 4] [--healthy ring8 grid25] [--plain-steps 2000]

Each run trains in-process (CPU) with a sink that keeps the fixed-noise
samples (every 100 steps) and D's mean outputs; the detector reads the cheap
toy signals (modes, high-quality fraction, diversity, near-duplicates) of
each sample step. The healthy profiles run their full shipped step counts.

Writes benchmarks/results/collapse_seeds.json and prints a Markdown table.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from gan_tui.data import load_dataset  # noqa: E402
from gan_tui.metrics.collapse import detect_collapse  # noqa: E402
from gan_tui.metrics.evaluate import toy_signals  # noqa: E402
from gan_tui.profile import load_profile  # noqa: E402
from gan_tui.train.session import new_session  # noqa: E402
from test_metrics_collapse import PLAIN_RING8, Recorder  # noqa: E402


def one_run(profile, runs_dir: Path) -> dict:
    rec = Recorder()
    start = time.perf_counter()
    session = new_session(profile, runs_dir, [rec])
    session.trainer.run()
    session.close()
    train_s = time.perf_counter() - start
    data = load_dataset(profile.data, torch.device("cpu"))
    metrics = [(step, toy_signals(points, data, real, seed=profile.train.seed)) for step, points, real in rec.samples]
    alarms = detect_collapse(metrics, rec.d)
    last = metrics[-1][1]
    return {"steps": profile.train.steps, "train_s": round(train_s, 1),
            "alarms": [a.as_dict() for a in alarms],
            "final": {k: round(v, 3) if isinstance(v, float) else v for k, v in last.items()},
            "min_diversity_after_warmup": round(min(m["diversity"] for s, m in metrics if s >= 500), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--healthy", nargs="+", default=["ring8", "grid25"])
    parser.add_argument("--plain-steps", type=int, default=2000)
    args = parser.parse_args()
    common = ["train.device=cpu", "log.samples_every=100", "checkpoint.every=100000"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.healthy:
            for seed in args.seeds:
                r = one_run(load_profile(name, [f"train.seed={seed}", *common]), tmp / "runs")
                rows.append({"profile": name, "seed": seed, **r})
                print(f"{name} seed {seed}: {len(r['alarms'])} alarms, {r['train_s']} s", flush=True)
        for seed in args.seeds:
            path = tmp / f"plain-ring8-{seed}.toml"
            path.write_text(PLAIN_RING8.format(steps=args.plain_steps, seed=seed))
            r = one_run(load_profile(str(path)), tmp / "runs")
            rows.append({"profile": "plain-ring8 (built to collapse)", "seed": seed, **r})
            print(f"plain seed {seed}: {len(r['alarms'])} alarms, {r['train_s']} s", flush=True)
    out = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
           "torch": torch.__version__, "runs": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "collapse_seeds.json").write_text(json.dumps(out, indent=2))
    print("| profile | seed | steps | alarms (first: step, rule) | final modes | final diversity | "
          "min diversity after step 500 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        first = f"{len(r['alarms'])} ({r['alarms'][0]['step']}, {r['alarms'][0]['rule']})" if r["alarms"] else "0"
        print(f"| {r['profile']} | {r['seed']} | {r['steps']} | {first} | {r['final']['modes_captured']}/"
              f"{r['final']['modes_total']} | {r['final']['diversity']} | {r['min_diversity_after_warmup']} |")


if __name__ == "__main__":
    main()
