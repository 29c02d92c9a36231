"""The shipped domain evaluators' accuracy on each class of the real t10k test split: the ceiling for the
zoo's "accuracy on the asked class" of a conditional G (a class the classifier confuses on real images,
Fashion-MNIST's Shirt say, cannot score higher on generated ones that look real).

    python benchmarks/evaluator_ceiling.py [--data DIR]   # DIR holds NAME/ folders (.data after gpu_session.sh prepare)

Writes benchmarks/results/evaluator_ceiling.json and prints a markdown table for RESULTS.md.
"""

import argparse
import json
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from gan_tui.data.idx import load_idx_split  # noqa: E402
from gan_tui.evaluator import SHIPPED_DIR, load_evaluator  # noqa: E402
from gan_tui.evaluator.train import accuracy  # noqa: E402
from gan_tui.evaluator.model import to_evaluator_input  # noqa: E402


def per_class(dataset: str, data: str | None) -> dict:
    images, labels = load_idx_split(dataset, data, "--data", "t10k")  # finds DATA/NAME/ itself
    model, info = load_evaluator(SHIPPED_DIR / f"{dataset}.safetensors")
    x, y = to_evaluator_input(torch.from_numpy(images.copy())), torch.from_numpy(labels)
    return {"dataset": dataset, "overall": accuracy(model, x, y), "classes": info["classes"],
            "per_class": [accuracy(model, x[y == k], y[y == k]) for k in range(len(info["classes"]))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder holding fashion-mnist/ and mnist/ (default: the usual search)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [per_class(name, args.data) for name in ("fashion-mnist", "mnist")]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "evaluator_ceiling.json").write_text(json.dumps(results, indent=2))
    for r in results:
        print(f"\n{r['dataset']}: {r['overall']:.2%} overall on t10k\n")
        print("| " + " | ".join(r["classes"]) + " |")
        print("|" + "---|" * len(r["classes"]))
        print("| " + " | ".join(f"{a:.1%}" for a in r["per_class"]) + " |")


if __name__ == "__main__":
    main()
