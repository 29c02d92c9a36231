"""How much a checkpoint evaluation stalls training (goal: under 5% of the evaluation's wall time).

    python benchmarks/eval_stall.py --device cuda [--data DIR] [--features inception|domain] [--n 10000]

One unattended command. It trains `dcgan-fashion` through the real Trainer and:
1. times `--baseline-steps` steps with no evaluation (the step time to expect);
2. asks for one evaluation (the trainer's own path: a frozen copy of the EMA/raw
   G taken on the training thread, then the evaluation thread) and keeps
   training until the result arrives, timing every step;
3. stall = (wall time of the steps taken while the evaluation ran) minus
   (the same number of steps at the baseline rate), plus the snapshot time;
   reported as a fraction of the evaluation's own wall time.

Inception weights are random-initialised ones of the right shape in a
temporary file (timing does not depend on the weights); `--features domain`
uses the shipped domain evaluator. The reference statistics are computed
(and cached) before the timed part, as they are once per dataset in real use.

Writes benchmarks/results/eval_stall-DEVICE.json and prints a Markdown row.
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

from gan_tui.metrics.evaluate import image_reference  # noqa: E402
from gan_tui.metrics.features import DomainFeatures, pick_extractor, random_inception_state_dict  # noqa: E402
from gan_tui.profile import load_profile  # noqa: E402
from gan_tui.train.session import new_session  # noqa: E402

sys.path.insert(0, str(HERE))
from eval_speed import sync  # noqa: E402  (the same CUDA sync the evaluation timings use)


def timed_steps(trainer, steps: int) -> float:
    sync(trainer.device)
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    sync(trainer.device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--features", default="inception", choices=["inception", "domain"])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--baseline-steps", type=int, default=300)
    parser.add_argument("--data", default=None, help="folder of Fashion-MNIST's IDX files")
    parser.add_argument("--set", action="append", default=[], help="profile overrides, KEY=VALUE")
    args = parser.parse_args()
    device = torch.device(args.device)
    os.environ.setdefault("GAN_TUI_OFFLINE", "1")
    overrides = [f"train.device={args.device}", f"eval.n={args.n}", f"eval.features={args.features}",
                 "eval.every=0", "eval.collapse=false", "checkpoint.every=1000000", "log.samples_every=1000000",
                 *args.set] + ([f"data.path={args.data}"] if args.data else [])
    profile = load_profile("dcgan-fashion", overrides)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GAN_TUI_CACHE"] = str(Path(tmp) / "cache")
        if args.features == "inception":
            weights = Path(tmp) / "random-inception.pth"
            torch.save(random_inception_state_dict(), weights)
            os.environ["GAN_TUI_INCEPTION"] = str(weights)
        # The reference statistics, once (cached): real use computes them once per dataset.
        extractor, _ = pick_extractor(profile.data.name, args.features, device)
        classifier = extractor if extractor.kind == "domain" else DomainFeatures(profile.data.name, device)
        image_reference(profile.data, extractor, classifier, args.data)

        session = new_session(profile, Path(tmp) / "runs", data_path=args.data)
        trainer = session.trainer
        timed_steps(trainer, 50)  # warm-up: cuDNN autotuning, allocator
        baseline_s = timed_steps(trainer, args.baseline_steps)
        step_s = baseline_s / args.baseline_steps

        # A first evaluation warms the evaluation path (model load, cuDNN for the extractor).
        trainer.request_evaluation(on_demand=True)
        trainer.evaluations.wait()

        sync(device)
        start = time.perf_counter()
        trainer.request_evaluation(on_demand=True)
        snapshot_s = time.perf_counter() - start
        steps, result = 0, None
        while result is None:
            trainer.train_step()
            steps += 1
            for outcome in trainer.evaluations.collect():
                if not outcome.started:
                    result = outcome
        sync(device)
        during_s = time.perf_counter() - start
        session.close()
    if result.error:
        sys.exit(f"evaluation failed: {result.error}")
    eval_s = result.metrics["seconds"]
    stall_s = max(during_s - steps * step_s, 0.0)
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    out = {"device": str(device), "machine": machine, "torch": torch.__version__, "features": args.features,
           "label": result.metrics["labels"]["fid"], "n": args.n, "batch_size": profile.data.batch_size,
           "baseline_step_ms": round(step_s * 1000, 3), "snapshot_ms": round(snapshot_s * 1000, 2),
           "evaluation_s": round(eval_s, 2), "steps_during_evaluation": steps,
           "wall_during_evaluation_s": round(during_s, 2), "stall_s": round(stall_s, 3),
           "stall_fraction_of_evaluation": round(stall_s / eval_s, 4), "overrides": args.set}
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / f"eval_stall-{device.type}-{args.features}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"{machine}, torch {torch.__version__}; dcgan-fashion batch {profile.data.batch_size}")
    print("| features | n | evaluation (s) | steps during it | baseline step (ms) | stall (s) | stall / evaluation |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {out['label']} | {args.n} | {out['evaluation_s']} | {steps} | {out['baseline_step_ms']} | "
          f"{out['stall_s']} | {out['stall_fraction_of_evaluation']:.1%} |")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
