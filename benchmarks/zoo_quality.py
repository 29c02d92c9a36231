"""The image profiles of the zoo for the same wall-time budget each: FID (domain), images/s, and for the
conditional profiles the domain classifier's accuracy on the class G was asked for.

One unattended command (a CUDA GPU by default; Fashion-MNIST IDX files reachable by the usual
search, or --data DIR):

    python benchmarks/zoo_quality.py [--budget-s 30] [--device cuda] [--data DIR]
                                     [--profiles dcgan-fashion cgan-fashion ...] [--out benchmarks/results]

For each profile (by default every shipped image profile but cyclegan-fashion, which has
benchmarks/cyclegan_quality.py):

1. calibrates: trains it for --calibrate-steps steps and reads the steady steps/s;
2. trains a fresh run for as many steps as fit in --budget-s at that rate (the profile's own
   settings otherwise), with a checkpoint at the end and no evaluations during training;
3. evaluates that checkpoint with `gan-tui eval RUN --features domain --n N --format json`.

It writes benchmarks/results/zoo_quality-DEVICE.json and prints a Markdown table for RESULTS.md.
A profile that cannot run (mnist-dcgan without MNIST's files, say) gets a row saying why, and the
others go on. The whole command takes about (budget + 40 s) per profile on an H100.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from cli_runs import data_args, gan_tui, steady, train  # noqa: E402
from gan_tui.metrics.features import TOY_DATASETS  # noqa: E402
from gan_tui.profile import available_profiles, load_profile  # noqa: E402

QUIET = ["log.every=50", "log.histograms_every=100000", "log.samples_every=100000", "eval.every=0"]


def image_profiles() -> list[str]:
    names = []
    for name in sorted(available_profiles()):
        profile = load_profile(name)
        if profile.data.name not in TOY_DATASETS and profile.model.architecture != "cyclegan":
            names.append(name)
    return names


def measure(profile: str, args, tmp: Path) -> dict:
    device = [f"train.device={args.device}"]
    rows, _, _ = train(profile, tmp / f"{profile}-calibrate", [*device, *QUIET, f"train.steps={args.calibrate_steps}",
                                                              "checkpoint.every=100000"], args.data,
                       timeout=args.budget_s + 900)
    rate = steady(rows, "it_per_s")
    steps = max(100, int(args.budget_s * rate))
    rows, wall, run = train(profile, tmp / f"{profile}-runs", [*device, *QUIET, f"train.steps={steps}",
                                                               f"checkpoint.every={steps}"], args.data,
                            timeout=args.budget_s * 3 + 900)
    meta = json.loads((run / "meta.json").read_text())
    evaluation = gan_tui(["eval", run.name, "--runs-dir", str(run.parent), "--format", "json", "--features", "domain",
                          "--device", args.device, "--n", str(args.n), *data_args(args.data)],
                         timeout=1800)
    if evaluation.returncode != 0:
        raise RuntimeError(evaluation.stderr.strip().splitlines()[-1])
    m = json.loads(evaluation.stdout)
    return {"profile": profile, "device": meta.get("device_name"), "steps": steps, "train_wall_s": round(wall, 1),
            "calibrated_it_per_s": round(rate, 2), "it_per_s": round(steady(rows, "it_per_s"), 2),
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
        asked = "-"
        if r["asked_class_accuracy"] is not None:
            names = r["class_names"] or [str(i) for i in range(len(r["asked_class_accuracies"]))]
            worst = min(range(len(names)), key=lambda i: r["asked_class_accuracies"][i])
            asked = f"{r['asked_class_accuracy']:.1%} ({names[worst]} {r['asked_class_accuracies'][worst]:.1%})"
        lines.append(f"| {r['profile']} | {r['steps']:,} | {r['images_per_s']:,.0f} | {r['fid_domain']:.2f} | "
                     f"{r['precision']:.2f} / {r['recall']:.2f} | {r['classes_covered']}/10 | {asked} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=30.0, help="training wall time for each profile")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default=None, help="folder with the Fashion-MNIST (and MNIST) IDX files")
    parser.add_argument("--profiles", nargs="*", default=None, help="default: every shipped image profile")
    parser.add_argument("--calibrate-steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    profiles = args.profiles or image_profiles()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for profile in profiles:
            try:
                results.append(measure(profile, args, Path(tmp)))
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results.append({"profile": profile, "error": str(exc)})
            print(json.dumps(results[-1]), flush=True)
    device = next((r["device"] for r in results if r.get("device")), args.device)
    tag = re.sub(r"[^a-z0-9]+", "-", str(device).lower()).strip("-")
    path = out_dir / f"zoo_quality-{tag}.json"
    path.write_text(json.dumps({"device": device, "budget_s": args.budget_s, "n": args.n, "results": results},
                               indent=2))
    print(markdown(results, args.n))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
