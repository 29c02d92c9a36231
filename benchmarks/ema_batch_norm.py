"""How a conditional run's checkpoints score on "accuracy on the asked class" with each choice of batch-norm
statistics: the raw G's own, and the EMA copy's with the raw G's statistics copied into it (what gan-tui
did before 2026-12-07) or measured on its own output (gan_tui/train/standing_stats.py).

    gan-tui run cgan-fashion --set tricks.ema.decay=0.999 --set checkpoint.every=1000 --set train.steps=3000
    python benchmarks/ema_batch_norm.py RUN_DIR [--steps 1000 2000 3000] [--n 2000]

Prints a markdown table for RESULTS.md.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gan_tui.metrics.classes import asked_class_accuracy, asked_labels  # noqa: E402
from gan_tui.metrics.evaluate import generate  # noqa: E402
from gan_tui.metrics.features import DomainFeatures  # noqa: E402
from gan_tui.models import build_models  # noqa: E402
from gan_tui.profile import load_profile  # noqa: E402
from gan_tui.store.runs import load_meta  # noqa: E402
from gan_tui.train.checkpoint import load_checkpoint  # noqa: E402
from gan_tui.train.standing_stats import measure_batch_norm_stats  # noqa: E402

CPU = torch.device("cpu")


def generator(run_dir: Path, weights: dict, prefix: str) -> torch.nn.Module:
    profile = load_profile(str(run_dir / "profile.toml"))
    meta, _ = load_meta(run_dir)
    g, _ = build_models(profile.model, tuple(meta["data_shape"]), profile.tricks, source=str(run_dir),
                        num_classes=meta["num_classes"])
    g.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
    return g


def asked_accuracy(g: torch.nn.Module, classifier: DomainFeatures, latent_dim: int, n: int) -> float:
    """As an evaluation scores it: G asked for each class in turn, its samples quantized, then classified."""
    _, probs = classifier(generate(g.eval(), n, CPU, latent_dim=latent_dim))
    k = classifier.num_classes
    return asked_class_accuracy(probs.argmax(1), asked_labels(n, k), k)["asked_class_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 2000, 3000])
    parser.add_argument("--n", type=int, default=2000, help="samples, spread evenly over the classes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    profile = load_profile(str(args.run_dir / "profile.toml"))
    latent, batch = profile.model.latent_dim, profile.data.batch_size
    classifier = DomainFeatures(profile.data.name)
    print("| step | raw G | EMA copy, raw G's statistics (before) | EMA copy, its own statistics (now) |")
    print("|---|---|---|---|")
    for step in args.steps:
        weights, _ = load_checkpoint(args.run_dir / "checkpoints" / f"step-{step:07d}", CPU)
        raw = asked_accuracy(generator(args.run_dir, weights, "G."), classifier, latent, args.n)
        ema = generator(args.run_dir, weights, "G_ema.")
        with torch.no_grad():  # the raw G's statistics in the averaged copy, as every step copied them
            for name, buffer in ema.named_buffers():
                if "running_" in name:
                    buffer.copy_(weights[f"G.{name}"])
        copied = asked_accuracy(ema, classifier, latent, args.n)
        measure_batch_norm_stats(ema, latent, classifier.num_classes, batch, CPU, seed=profile.train.seed + 2)
        own = asked_accuracy(ema, classifier, latent, args.n)
        print(f"| {step:,} | {raw:.1%} | {copied:.1%} | {own:.1%} |")


if __name__ == "__main__":
    main()
