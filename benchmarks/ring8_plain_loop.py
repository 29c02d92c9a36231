"""How fast this machine runs ring8's networks with no gan-tui code at all: a calibration for
ring8_modes.py's wall times, which vary from day to day on a shared machine.

Same networks as profiles/ring8.toml (MLP 16-128-128-2 G, spectrally normalised 2-128-128-1 D,
LeakyReLU 0.2, Adam with TTUR, batch 256, non-saturating loss), one D and one G update a step.

    python benchmarks/ring8_plain_loop.py [--threads 1] [--steps 1000]
"""

import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def networks():
    sn = nn.utils.parametrizations.spectral_norm
    act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    G = nn.Sequential(nn.Linear(16, 128), act(), nn.Linear(128, 128), act(), nn.Linear(128, 2))
    D = nn.Sequential(sn(nn.Linear(2, 128)), act(), sn(nn.Linear(128, 128)), act(), sn(nn.Linear(128, 1)))
    return G, D


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G, D = networks()
    opt_g = torch.optim.Adam(G.parameters(), 5e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-3, betas=(0.5, 0.999))
    angles = torch.randint(0, 8, (100_000,)) * (torch.pi / 4)
    data = 2 * torch.stack([angles.cos(), angles.sin()], 1) + 0.02 * torch.randn(100_000, 2)

    def step():
        real = data[torch.randint(0, len(data), (256,))]
        logits_real, logits_fake = D(real), D(G(torch.randn(256, 16)).detach())
        d_loss = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
                  + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        logits = D(G(torch.randn(256, 16)))
        g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for _ in range(100):  # warm-up
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(f"{args.threads} thread(s): {1000 * seconds / args.steps:.1f} ms a step, {args.steps / seconds:.0f} steps/s")


if __name__ == "__main__":
    main()
