"""Does a fast path (compiled, CUDA graphs, bf16, tf32, channels_last) train like the plain
eager fp32 path? Both train from the same seed on the same batches for a few steps; we compare
the first step's losses, the first step's gradients, and the losses of the later steps.

Gradients and losses, not weights: with Adam the first updates are about lr times the sign of
each gradient, so a gradient component near zero that rounding flips moves its weight the
other way by a full step; the weights after a few steps then differ by far more than the
precision does, without anything being wrong. For the same reason the later steps' losses
drift apart a little even between two fp32 paths, so they get one loose bound that only a path
training on other data or weights exceeds, while the first step (same weights, same batch)
gets the precision's own tolerance.
"""

from dataclasses import dataclass
from pathlib import Path

import torch

# Relative differences each precision should stay within:
# (first-step losses, later-step losses, first-step gradients). Measured on the CPU with
# dcgan64-fashion's networks at batch 64 (BatchNorm, width 64) against eager fp32 NCHW:
# - fp32 channels_last: first-step losses within 3e-5; later steps drift to 1.7% by step 5;
#   first-step gradients differ by 0.8% (D) and 1.1% (G). That is the network's conditioning,
#   not the layout: plain fp32 is itself 0.17% off an fp64 computation of G's gradient, because
#   BatchNorm's backward subtracts nearly equal numbers.
# - bf16 (8 significant bits): first-step losses within 0.2%, later steps 2.6%; G's gradient,
#   which flows back through both networks, 5-15% (dcgan-fashion).
# tf32 keeps 10 bits, between the two.
TOLERANCE = {"fp32": (1e-4, 5e-2, 3e-2), "tf32": (5e-3, 5e-2, 5e-2), "bf16": (2e-2, 5e-2, 2.5e-1)}


@dataclass
class Comparison:
    steps: int
    gradients: dict[str, float]  # per network, first step: |fast - eager| / |eager|
    first_losses: float  # the larger |fast - eager| / |eager| of the first step's d_loss and g_loss
    losses: float  # the same, largest over the later steps (0 when there are none)
    tolerance: tuple[float, float, float]  # first-step losses, later-step losses, gradients

    @property
    def ok(self) -> bool:
        return (self.first_losses <= self.tolerance[0] and self.losses <= self.tolerance[1]
                and max(self.gradients.values()) <= self.tolerance[2])


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
    loss_diff = (losses - ref_losses).abs() / ref_losses.abs().clamp_min(1e-6)  # (steps, 2)
    later = float(loss_diff[1:].max()) if steps > 1 else 0.0
    return Comparison(steps, grad_diff, float(loss_diff[0].max()), later, TOLERANCE[fast.train.precision])
