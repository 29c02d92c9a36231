"""Does a fast path (compiled, CUDA graphs, bf16, tf32, channels_last) train like the plain
eager fp32 path? Both train from the same seed on the same batches for a few steps; we compare
the gradients of the first step and the D and G losses of every step.

Gradients and losses, not weights: with Adam the first updates are about lr times the sign of
each gradient, so a gradient component near zero that rounding flips moves its weight the
other way by a full step; the weights after a few steps then differ by far more than the
precision does, without anything being wrong.
"""

from dataclasses import dataclass
from pathlib import Path

import torch

# Relative differences each precision should stay within: (losses, first-step gradients).
# bf16 keeps 8 significant bits, about 0.2% rounding per operation: the losses stay within
# about 0.5% (measured on dcgan-fashion, CPU), while G's gradient, which flows back through
# both networks, compounds to about 5-15%. tf32 keeps 10 bits; fp32 paths only reorder sums.
TOLERANCE = {"fp32": (1e-3, 1e-3), "tf32": (1e-2, 5e-2), "bf16": (2e-2, 2.5e-1)}


@dataclass
class Comparison:
    steps: int
    gradients: dict[str, float]  # per network, first step: |fast - eager| / |eager|
    losses: float  # the largest |fast - eager| / |eager| of d_loss and g_loss over the steps
    tolerance: tuple[float, float]  # losses, gradients

    @property
    def ok(self) -> bool:
        return self.losses <= self.tolerance[0] and max(self.gradients.values()) <= self.tolerance[1]


def _trace(profile, steps: int, runs_dir: Path) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    from gan_tui.train.session import new_session

    session = new_session(profile, runs_dir)
    trainer = session.trainer
    losses, grads = [], {}
    for step in range(steps):
        before = trainer.stats[:2].clone()
        trainer.train_step()
        losses.append((trainer.stats[:2] - before).float().cpu())  # this step's d_loss, g_loss
        if step == 0:
            grads = {name: torch.cat([p.grad.float().flatten().cpu() for p in net.parameters() if p.grad is not None])
                     for name, net in (("G", trainer.G), ("D", trainer.D))}
    session.close()
    return grads, torch.stack(losses)


def compare_fast_path(load, fast_overrides: list[str], steps: int, runs_dir: Path) -> Comparison:
    """`load(overrides)` gives the profile; the eager reference gets precision fp32, compile off
    and channels_last off, with the same seed and data."""
    eager = load(["train.precision=fp32", "train.compile=off", "train.channels_last=false"])
    fast = load(fast_overrides)
    ref_grads, ref_losses = _trace(eager, steps, runs_dir)
    grads, losses = _trace(fast, steps, runs_dir)
    grad_diff = {name: float((grads[name] - ref_grads[name]).norm() / ref_grads[name].norm().clamp_min(1e-12))
                 for name in ref_grads}
    loss_diff = float(((losses - ref_losses).abs() / ref_losses.abs().clamp_min(1e-6)).max())
    return Comparison(steps, grad_diff, loss_diff, TOLERANCE[fast.train.precision])
