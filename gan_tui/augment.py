"""Transforms of D's inputs: DiffAugment and instance noise.

Both are applied to real and fake batches alike, in D's and in G's update,
and are differentiable so G learns through them. Randomness comes from the
trainer's generator, so runs stay reproducible.
"""

import torch


def _rand(x: torch.Tensor, gen: torch.Generator, *shape) -> torch.Tensor:
    return torch.rand(x.shape[0], *shape, device=x.device, generator=gen, dtype=x.dtype)


def color(x, gen):
    """Random brightness, saturation and contrast (DiffAugment's 'color')."""
    x = x + (_rand(x, gen, 1, 1, 1) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, gen, 1, 1, 1) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, gen, 1, 1, 1) + 0.5) + mean


def translation(x, gen, ratio: float = 0.125):
    """Shift each image by up to ratio * size pixels, zero-padded."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device, generator=gen)
    dx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device, generator=gen)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    src_y = (rows - dy).expand(b, h, w)
    src_x = (cols - dx).expand(b, h, w)
    inside = (src_y >= 0) & (src_y < h) & (src_x >= 0) & (src_x < w)
    flat = (src_y.clamp(0, h - 1) * w + src_x.clamp(0, w - 1)).view(b, 1, h * w).expand(-1, x.shape[1], -1)
    moved = x.flatten(2).gather(2, flat).view_as(x)
    return moved * inside.unsqueeze(1).to(x.dtype)


def cutout(x, gen, ratio: float = 0.5):
    """Zero a random square of ratio * size per image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device, generator=gen)
    cx = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device, generator=gen)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    keep = ~((rows >= cy - ch // 2) & (rows < cy - ch // 2 + ch) & (cols >= cx - cw // 2) & (cols < cx - cw // 2 + cw))
    return x * keep.unsqueeze(1).to(x.dtype)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


class DInputs:
    """What D sees: the batch after DiffAugment and instance noise, as the profile asks."""

    def __init__(self, tricks: dict, generator: torch.Generator):
        self.gen = generator
        diff = tricks.get("diffaugment")
        self.policies = [POLICIES[name] for name in diff.policy] if diff else []
        noise = tricks.get("instance_noise")
        self.noise_std = noise.std if noise else 0.0
        self.noise_steps = noise.anneal_steps if noise else 0
        self.active = bool(self.policies or self.noise_std)

    def noise_at(self, step: int) -> float:
        """Instance noise decays linearly to zero over anneal_steps (0 = never decays)."""
        if not self.noise_std:
            return 0.0
        if not self.noise_steps:
            return self.noise_std
        return self.noise_std * max(0.0, 1.0 - step / self.noise_steps)

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor:
        if x.dim() == 4:
            for policy in self.policies:
                x = policy(x, self.gen)
        std = self.noise_at(step)
        if std:
            x = x + std * torch.randn(x.shape, device=x.device, generator=self.gen, dtype=x.dtype)
        return x
