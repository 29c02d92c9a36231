"""GPU training speed: pytorch/examples' DCGAN loop against gan-tui's, same networks, same GPU.

    python benchmarks/gpu_throughput.py [--data DIR] [--seconds 20]
    python benchmarks/gpu_throughput.py --device cpu --seconds 2   # a smoke run of the script itself: no figures

One unattended command on a CUDA machine (Fashion-MNIST's IDX files found by the
usual search, or --data DIR). In one process, one after the other:

1. reference: pytorch/examples dcgan/main.py's training loop, rewritten here with
   its networks (nz 100, ngf = ndf = 64, nc 1), its data path (PIL images resized
   to 64 by torchvision transforms in a DataLoader with 2 workers, batch 64,
   shuffled), BCELoss on sigmoid outputs, Adam 2e-4/(0.5, 0.999), and its three
   `.item()` calls per iteration (it prints them every iteration);
2. gan-tui eager fp32 at batch 64 (`dcgan64-fashion` with compile off, fp32);
3. gan-tui fast path at batch 64 (`dcgan64-fashion` as shipped: compiled with
   CUDA graphs, bf16, channels_last);
4. gan-tui fast path at batch 1024.

Each is warmed up (compilation included in the warm-up, not in the timing), then
timed for --seconds. Before timing, the fast path's first steps are checked
against eager fp32 (gan_tui/train/equivalence.py). Writes
benchmarks/results/gpu_throughput.json after every row ("complete" once all ran) and
prints a Markdown table with the ratios to the reference (goals: 4x at batch 64,
100,000 images/s at batch 1024). A row that fails is recorded with its error; should
the fast path fail, it is measured again compiled without CUDA graphs.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from gan_tui.data.idx import load_idx_split  # noqa: E402
from gan_tui.profile import load_profile  # noqa: E402
from gan_tui.train.equivalence import compare_fast_path  # noqa: E402
from gan_tui.train.session import new_session  # noqa: E402

NZ, NGF, NDF, NC = 100, 64, 64, 1


# -- pytorch/examples dcgan/main.py, as published (networks, init, loop) -------------------

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(NGF * 8), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF), nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, x):
        return self.main(x)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


class FashionPIL(torch.utils.data.Dataset):
    """Fashion-MNIST as PIL images, like torchvision.datasets.FashionMNIST hands them out."""

    def __init__(self, images: np.ndarray, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i, 0], mode="L")), 0


def reference(images: np.ndarray, device, seconds: float) -> dict:
    import torchvision.transforms as transforms

    transform = transforms.Compose([transforms.Resize(64), transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
    loader = torch.utils.data.DataLoader(FashionPIL(images, transform), batch_size=64, shuffle=True,
                                         num_workers=2, persistent_workers=True)
    netG, netD = Generator().to(device), Discriminator().to(device)
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_label, fake_label = 1, 0

    def iterations():
        while True:
            yield from loader

    it = iterations()

    def step():
        data = next(it)
        netD.zero_grad()
        real_cpu = data[0].to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(batch_size, NZ, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        return f"Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}"

    return timed(step, 64, device, seconds, warmup=30 if device.type == "cuda" else 2)


# -- timing -------------------------------------------------------------------------

def timed(step, batch: int, device, seconds: float, warmup: int) -> dict:
    cuda = device.type == "cuda"
    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start, n = time.perf_counter(), 0
    every = 20 if cuda else 1
    while True:
        for _ in range(every):  # check the clock every 20 steps, syncing only then
            step()
        n += every
        if cuda:
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda else 0.0
    return {"it_per_s": round(n / elapsed, 1), "images_per_s": round(n * batch / elapsed), "steps": n,
            "peak_gib": round(peak, 2)}


# The CPU smoke run: small batches in fp32 (bf16 convolutions crawl on most CPUs); the code paths are the same.
CPU_SMOKE = ["data.batch_size=8", "train.precision=fp32"]


def dcgan64(device, overrides: list[str]):
    """dcgan64-fashion on `device` without evaluations; on the CPU, with the smoke run's settings last."""
    smoke = CPU_SMOKE if device.type == "cpu" else []
    return load_profile("dcgan64-fashion", [f"train.device={device}", "eval.every=0", *overrides, *smoke])


def ours(overrides: list[str], data: str | None, runs_dir: Path, seconds: float, device) -> dict:
    profile = dcgan64(device, overrides)
    session = new_session(profile, runs_dir, data_path=data)
    trainer = session.trainer
    warm = time.perf_counter()
    result = timed(trainer.train_step, profile.data.batch_size, trainer.device, seconds,
                   warmup=50 if device.type == "cuda" else 3)
    result["warmup_and_timing_s"] = round(time.perf_counter() - warm, 1)
    session.close()
    return result


def attempt(rows: dict, name: str, measure, fallback=None) -> None:
    """rows[name] = measure(); a failure is recorded as the row's error (and the run goes on), then
    `fallback` (name, measure), if given, is tried: one GPU session must bring back what it can."""
    try:
        rows[name] = measure()
    except Exception as exc:  # noqa: BLE001 - a benchmark row, not the product
        first_line = (str(exc).strip().splitlines() or [""])[0]
        rows[name] = {"error": f"{type(exc).__name__}: {first_line}"}
    print(f"{name}: {rows[name]}", flush=True)
    if "error" in rows[name] and fallback is not None:
        attempt(rows, *fallback)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=None, help="folder of Fashion-MNIST's IDX files")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-check", action="store_true")
    parser.add_argument("--device", default="cuda", help="cuda; cpu only checks that the script runs (batch 1024 left out)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("this benchmark needs a CUDA GPU (or --device cpu for a smoke run without figures)")
    images, _ = load_idx_split("fashion-mnist", args.data, "--data")
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (smoke run, not a figure)"
    out = {"gpu": gpu, "torch": torch.__version__, "seconds": args.seconds, "complete": False,
           "equivalence_check": None, "rows": {}}
    rows = out["rows"]
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / ("gpu_throughput.json" if device.type == "cuda" else "gpu_throughput-cpu-smoke.json")
    save = lambda: path.write_text(json.dumps(out, indent=2))  # noqa: E731 - after every row: a time limit keeps what was done
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        if not args.skip_check:
            data = [f"data.path={args.data}"] if args.data else []
            load = lambda extra: dcgan64(device, [*data, *extra])  # noqa: E731
            try:
                c = compare_fast_path(load, [], 5, runs)
                out["equivalence_check"] = {"ok": c.ok, "gradients": c.gradients, "first_losses": c.first_losses,
                                            "losses": c.losses, "tolerance": c.tolerance}
            except Exception as exc:  # noqa: BLE001 - the timing rows below still say what they can
                out["equivalence_check"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            print(f"fast path vs eager fp32, 5 steps: {out['equivalence_check']}", flush=True)
            save()
        timing = lambda overrides: lambda: ours(overrides, args.data, runs, args.seconds, device)  # noqa: E731
        # Should CUDA graphs fail on this GPU, the fast path is measured again compiled without them.
        without_graphs = ["train.compile=default"]
        attempt(rows, "reference (pytorch/examples loop), batch 64", lambda: reference(images, device, args.seconds))
        save()
        attempt(rows, "gan-tui eager fp32, batch 64",
                timing(["train.compile=off", "train.precision=fp32", "train.channels_last=false"]))
        save()
        attempt(rows, "gan-tui fast path, batch 64", timing([]),
                ("gan-tui fast path without CUDA graphs, batch 64", timing(without_graphs)))
        save()
        if device.type == "cuda":
            attempt(rows, "gan-tui fast path, batch 1024", timing(["data.batch_size=1024"]),
                    ("gan-tui fast path without CUDA graphs, batch 1024",
                     timing(["data.batch_size=1024", *without_graphs])))
    base = rows["reference (pytorch/examples loop), batch 64"].get("images_per_s")
    for r in rows.values():
        if base and "images_per_s" in r:
            r["x_reference"] = round(r["images_per_s"] / base, 2)
    out["complete"] = True
    save()
    print(f"{out['gpu']}, torch {torch.__version__}")
    print("| loop | it/s | images/s | x reference | peak GiB |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        if "error" in r:
            print(f"| {name} | failed: {r['error']} | | | |")
        else:
            print(f"| {name} | {r['it_per_s']} | {r['images_per_s']} | {r.get('x_reference', '')} | {r['peak_gib']} |")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
