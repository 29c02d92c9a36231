"""How long an evaluation of 10k generated samples takes, domain evaluator and Inception-v3.

    python benchmarks/eval_speed.py                  # CPU: domain FID (Inception on CPU only with --inception)
    python benchmarks/eval_speed.py --device cuda    # GPU: domain and Inception, unattended

The generator is the dcgan-fashion profile's G (32 px, untrained: timing does
not depend on its weights). The Inception-v3 weights are random-initialised
ones of the right shape, written to a temporary file and loaded the way a
user's local file is ($GAN_TUI_INCEPTION): timing does not depend on weights,
so no download is needed. Real images are Fashion-MNIST's (apt-get install
dataset-fashion-mnist, or --data DIR).

Timed, per extractor:
- reference (cold): features + statistics of the real training images,
  computed once per dataset and extractor, then cached;
- FID, warm: generating n samples, their features and the FID against the
  cached reference (what a periodic FID during training costs);
- full evaluation, warm: evaluate_generator with every metric (FID, KID,
  IS, precision/recall, density/coverage, diversity, class coverage).

Writes benchmarks/results/eval_speed-DEVICE.json and prints a Markdown table.
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

from gan_tui.metrics.evaluate import evaluate_generator, generate, image_reference  # noqa: E402
from gan_tui.metrics.features import pick_extractor, random_inception_state_dict  # noqa: E402
from gan_tui.metrics.fid import GaussianStats, feature_stats, fid_from_stats  # noqa: E402
from gan_tui.profile import load_profile  # noqa: E402


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_extractor(kind: str, profile, generator, device, n: int, runs: int) -> dict:
    extractor, notes = pick_extractor(profile.data.name, kind, device)
    classifier = extractor if extractor.kind == "domain" else None
    start = time.perf_counter()
    ref = image_reference(profile.data, extractor, classifier)
    reference_s = time.perf_counter() - start
    cold = not ref.cached
    stats = GaussianStats(ref.mu, ref.sigma, ref.n)
    fid_times, parts = [], []
    for _ in range(runs):
        sync(device)
        start = time.perf_counter()
        images = generate(generator, n, device, seed=0)
        sync(device)
        t_gen = time.perf_counter()
        feats, _ = extractor(images)
        sync(device)
        t_feat = time.perf_counter()
        fid = fid_from_stats(stats, GaussianStats(*feature_stats(feats), n=n))
        end = time.perf_counter()
        fid_times.append(end - start)
        parts.append({"generate_s": round(t_gen - start, 2), "features_s": round(t_feat - t_gen, 2),
                      "stats_and_fid_s": round(end - t_feat, 2)})
    start = time.perf_counter()
    evaluate_generator(generator, profile.data, n=n, device=device, features=kind)
    full_s = time.perf_counter() - start
    return {"extractor": extractor.description, "label": extractor.fid_label, "reference_images": ref.n,
            "reference_s": round(reference_s, 1), "reference_was_cached": not cold,
            "fid_warm_s": round(min(fid_times), 2), "fid_warm_runs_s": [round(t, 2) for t in fid_times],
            "fid_warm_parts": parts[fid_times.index(min(fid_times))],
            "fid_value": round(fid, 3), "full_eval_s": round(full_s, 1), "notes": notes}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="warm FID repetitions (the fastest is reported)")
    parser.add_argument("--inception", action="store_true", help="also time Inception on the CPU (slow)")
    parser.add_argument("--data", default=None, help="folder of Fashion-MNIST's IDX files")
    args = parser.parse_args()
    device = torch.device(args.device)
    os.environ.setdefault("GAN_TUI_OFFLINE", "1")  # weights come from the local file below, never a download
    if (device.type == "cuda" or args.inception) and not __import__("importlib").util.find_spec("torch_fidelity"):
        sys.exit("Inception timing needs torch-fidelity: pip install torch-fidelity")
    overrides = [f"train.device={args.device}"] + ([f"data.path={args.data}"] if args.data else [])
    profile = load_profile("dcgan-fashion", overrides)
    from gan_tui.models import build_models

    torch.manual_seed(0)
    generator, _ = build_models(profile.model, (1, 32, 32), profile.tricks)
    generator = generator.to(device).eval()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GAN_TUI_CACHE"] = str(Path(tmp) / "cache")  # cold reference, then warm
        results = {"domain": time_extractor("domain", profile, generator, device, args.n, args.runs)}
        if device.type == "cuda" or args.inception:
            weights = Path(tmp) / "random-inception.pth"
            torch.save(random_inception_state_dict(), weights)
            os.environ["GAN_TUI_INCEPTION"] = str(weights)
            results["inception"] = time_extractor("inception", profile, generator, device, args.n, args.runs)
            results["inception"]["weights"] = "random-init, right shape (timing only)"

    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    out = {"device": str(device), "machine": machine, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "n": args.n, "load_average_at_end": os.getloadavg(), "results": results}
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / f"eval_speed-{device.type}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"{machine}, torch {torch.__version__}, {torch.get_num_threads()} threads, n = {args.n}")
    print("| extractor | reference, cold (s) | FID of n samples, warm (s): generate + features + FID | "
          "full evaluation, warm (s) |")
    print("|---|---|---|---|")
    for name, r in results.items():
        p = r["fid_warm_parts"]
        print(f"| {r['label']} ({name}) | {r['reference_s']} ({r['reference_images']} images) | "
              f"{r['fid_warm_s']}: {p['generate_s']} + {p['features_s']} + {p['stats_and_fid_s']} | "
              f"{r['full_eval_s']} |")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
