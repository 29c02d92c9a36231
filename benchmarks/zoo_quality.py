"""The image profiles of the zoo for the same wall-time budget each: FID (domain), images/s, and for the
conditional profiles the domain classifier's accuracy on the class G was asked for.

One unattended command (a CUDA GPU by default; Fashion-MNIST IDX files reachable by the usual
search, or --data DIR):

    python benchmarks/zoo_quality.py [--budget-s 20] [--device cuda] [--data DIR]
                                     [--profiles dcgan-fashion cgan-fashion ...] [--out benchmarks/results]

For each profile (by default every shipped image profile but cyclegan-fashion, which has
benchmarks/cyclegan_quality.py, and the compiled dcgan64-fashion, which gpu_throughput.py measures):

1. trains it with its own settings (no evaluations during training) for --budget-s of wall time,
   counted from its first logged step, then stops it as Ctrl-C does, which saves a checkpoint;
2. evaluates that checkpoint with `gan-tui eval RUN --features domain --n N --format json`.

One profile at a time, so each has the GPU to itself. It writes benchmarks/results/zoo_quality-DEVICE.json
after every profile (a run cut short by a time limit keeps what it measured) and prints a Markdown table
for RESULTS.md. A profile that cannot run (mnist-dcgan without MNIST's files, say) gets a row saying why,
and the others go on. Each profile takes the budget plus its start-up (seconds; a minute or more for a
compiled one) and its evaluation.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from cli_runs import data_args, gan_tui, steady, train_for  # noqa: E402
from gan_tui.metrics.features import TOY_DATASETS  # noqa: E402
from gan_tui.metrics.classes import weakest_class  # noqa: E402
from gan_tui.profile import available_profiles, load_profile  # noqa: E402

QUIET = ["log.every=50", "log.histograms_every=100000", "log.samples_every=100000", "eval.every=0"]


def image_profiles() -> list[str]:
    """Every shipped image profile of the zoo: not CycleGAN's (benchmarks/cyclegan_quality.py), nor the
    compiled fast-path one (`dcgan64-fashion`, whose minute of compilation would not fit the session;
    benchmarks/gpu_throughput.py measures it)."""
    names = []
    for name in sorted(available_profiles()):
        profile = load_profile(name)
        if (profile.data.name not in TOY_DATASETS and profile.model.architecture != "cyclegan"
                and profile.train.compile == "off"):
            names.append(name)
    return names


def measure(profile: str, args, tmp: Path) -> dict:
    device = [f"train.device={args.device}"]
    rows, wall, run = train_for(profile, tmp / f"{profile}-runs", [*device, *QUIET, "checkpoint.every=100000000"],
                                args.data, args.budget_s, timeout=args.budget_s + 600)
    meta = json.loads((run / "meta.json").read_text())
    evaluation = gan_tui(["eval", run.name, "--runs-dir", str(run.parent), "--format", "json", "--features", "domain",
                          "--device", args.device, "--n", str(args.n), *data_args(args.data)],
                         timeout=1800)
    if evaluation.returncode != 0:
        raise RuntimeError(evaluation.stderr.strip().splitlines()[-1])
    m = json.loads(evaluation.stdout)
    return {"profile": profile, "device": meta.get("device_name"), "steps": meta["step"], "train_wall_s": round(wall, 1),
            "it_per_s": round(steady(rows, "it_per_s"), 2),
            "images_per_s": round(steady(rows, "images_per_s"), 1), "batch_size": meta.get("batch_size"),
            "gpu_peak_mib": round((meta.get("gpu_peak") or 0) / 2**20),
            "fid_domain": m.get("fid"), "kid_domain": m.get("kid_mean"), "precision": m.get("precision"),
            "recall": m.get("recall"), "classes_covered": m.get("classes_covered"), "class_kl": m.get("class_kl"),
            "asked_class_accuracy": m.get("asked_class_accuracy"),
            "asked_class_accuracies": m.get("asked_class_accuracies"), "class_names": m.get("class_names"),
            "n": m.get("n"), "eval_s": round(m.get("seconds", 0), 1)}


def markdown(results: list[dict], n: int) -> str:
    lines = [f"| profile | steps in budget | images/s | FID (domain), {n:,} samples | precision / recall | classes covered | "
             "accuracy on the asked class (lowest) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['profile']} | not run: {r['error']} | | | | | |")
            continue
        asked, weakest = "-", weakest_class(r)
        if r["asked_class_accuracy"] is not None and weakest:
            asked = f"{r['asked_class_accuracy']:.1%} ({weakest[0]} {weakest[1]:.1%})"
        lines.append(f"| {r['profile']} | {r['steps']:,} | {r['images_per_s']:,.0f} | {r['fid_domain']:.2f} | "
                     f"{r['precision']:.2f} / {r['recall']:.2f} | {r['classes_covered']}/10 | {asked} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=20.0, help="training wall time for each profile")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default=None, help="folder with the Fashion-MNIST (and MNIST) IDX files")
    parser.add_argument("--profiles", nargs="*", default=None, help="default: every shipped image profile")
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    profiles = args.profiles or image_profiles()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") and torch.cuda.is_available() else args.device
    path = out_dir / f"zoo_quality-{re.sub(r'[^a-z0-9]+', '-', device.lower()).strip('-')}.json"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for profile in profiles:
            try:
                results.append(measure(profile, args, Path(tmp)))
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results.append({"profile": profile, "error": str(exc)})
            print(json.dumps(results[-1]), flush=True)
            path.write_text(json.dumps({"device": device, "budget_s": args.budget_s, "n": args.n, "results": results},
                                       indent=2))
    print(markdown(results, args.n))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
