"""Training throughput with the dashboard attached versus `gan-tui run` headless, same profile.

Runs the real CLI both ways, alternating (headless, dashboard, headless, ...) so
drifts in machine load hit both alike, and compares steps/s over the training
loop (meta.json: steps / elapsed; start-up and imports excluded), and the share of
time the training thread spent on a CPU (ThreadClock), which the shared machine's
speed hardly moves. The dashboard runs in a 120x40 true-colour pseudo-terminal at
its default frame rate.

    python benchmarks/dashboard_overhead.py --profile ring8             # CPU figure
    python benchmarks/dashboard_overhead.py --profile dcgan-fashion     # GPU figure (on a GPU machine)

Without --steps, a short headless run sizes the runs to about --seconds each.
Prints the figures and appends them to the "Dashboard" section of
benchmarks/RESULTS.md (--no-record to skip). Goal: dashboard >= 97% of headless.
"""

import argparse
import functools
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from terminal_bytes import CLOCK_TICKS, REPO, PtyApp, append_to_section, machine, meta_of  # noqa: E402


def rate_of(runs: Path, clock: "ThreadClock") -> tuple[dict, dict]:
    """Steps/s in steady state (the second half of the logged steps, from their wall-clock stamps in
    metrics.sqlite: the dashboard's first layout and the warm-up left out) and over the whole training
    loop (meta.json: steps / elapsed), and the training thread's time on a CPU over the same steady
    window (see ThreadClock)."""
    meta = meta_of(runs)
    run = next(path.parent for path in runs.glob("*/meta.json"))
    with sqlite3.connect(run / "metrics.sqlite") as db:
        rows = db.execute("SELECT step, wall FROM scalars WHERE name = 'd_loss' ORDER BY step").fetchall()
    (s0, w0), (s1, w1) = rows[len(rows) // 2], rows[-1]
    steps = meta["step"] - meta.get("start_step", 0)
    return {"steady": (s1 - s0) / (w1 - w0), "whole": steps / meta["elapsed"], "on_cpu": clock.share(w0, w1)}, meta


class ThreadClock:
    """Samples the CPU time of every thread of a process twice a second. The busiest thread is the
    training thread; `share` is the fraction of a wall-clock window it spent on a CPU. Unlike steps/s
    this hardly moves with the speed of the (shared, virtual) machine, and it falls by the time the
    training thread waits for the GIL while the UI thread holds it, which is the dashboard's cost on
    a CPU-bound run."""

    def __init__(self, pid: int):
        self.pid = pid
        self.samples: list[tuple[float, dict[str, float]]] = []  # (time.time(), {tid: CPU seconds})

    def sample(self) -> None:
        times = {}
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the thread (or the process) has just ended
                continue
            times[task.name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        if times:
            self.samples.append((time.time(), times))

    def share(self, start: float, end: float) -> float:
        inside = [(t, times) for t, times in self.samples if start <= t <= end]
        if len(inside) < 2:
            return float("nan")
        (t0, first), (t1, last) = inside[0], inside[-1]
        busiest = max(last, key=lambda tid: last[tid] - first.get(tid, 0.0))
        return (last[busiest] - first.get(busiest, 0.0)) / (t1 - t0)


def torch_env(threads: int | None) -> dict:
    """OMP/MKL thread count for the training process (None: torch's default, one per core)."""
    if not threads:
        return {}
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def headless(profile: str, steps: int, overrides: list[str], threads: int | None = None) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "gan_tui", "run", profile, "--quiet", "--runs-dir", tmp,
                "--set", f"train.steps={steps}"]
        for override in overrides:
            args += ["--set", override]
        proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **torch_env(threads)})
        clock = ThreadClock(proc.pid)
        while proc.poll() is None:
            clock.sample()
            time.sleep(0.5)
        if proc.returncode != 0:
            raise SystemExit(f"headless run failed ({proc.returncode}): {proc.stderr.read().strip()}")
        return rate_of(Path(tmp), clock)


def dashboard(profile: str, steps: int, overrides: list[str], threads: int | None = None,
              fps: float | None = None) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        args = [profile, "--runs-dir", tmp, "--set", f"train.steps={steps}", *(["--fps", f"{fps:g}"] if fps else [])]
        for override in overrides:
            args += ["--set", override]
        app = PtyApp(args, env=torch_env(threads))
        clock = ThreadClock(app.proc.pid)
        while meta_of(runs).get("status") not in ("finished", "failed", "diverged", "interrupted"):
            if app.proc.poll() is not None:
                raise SystemExit(f"the dashboard exited early with code {app.proc.returncode}")
            clock.sample()
            time.sleep(0.5)
        app.quit()
        return rate_of(runs, clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ring8")
    parser.add_argument("--steps", type=int, help="steps per run (default: sized to --seconds)")
    parser.add_argument("--seconds", type=float, default=20.0, help="target length of each run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each kind, alternating")
    parser.add_argument("--torch-threads", type=int, help="OMP_NUM_THREADS for both kinds (default: torch's own)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--fps", type=float, help="the dashboard's frame rate (default: its own)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not touch RESULTS.md")
    args = parser.parse_args()

    where = machine()
    steps = args.steps
    if steps is None:
        rate = headless(args.profile, 300, args.overrides, args.torch_threads)[0]["whole"]
        steps = int(min(max(round(rate * args.seconds, -2), 500), 100_000))
        print(f"calibration: {rate:.1f} steps/s headless; {steps} steps per run", flush=True)

    results = {"headless": [], "dashboard": []}
    meta = {}
    for i in range(args.repeats):
        for kind, run in (("headless", headless), ("dashboard", functools.partial(dashboard, fps=args.fps))):
            rates, meta = run(args.profile, steps, args.overrides, args.torch_threads)
            results[kind].append(rates)
            print(f"run {i + 1} {kind}: {rates['steady']:.1f} steps/s steady, {rates['whole']:.1f} whole run, training "
                  f"thread on a CPU {100 * rates['on_cpu']:.1f}% of the steady window", flush=True)

    def medians(key):
        head = statistics.median(r[key] for r in results["headless"])
        dash = statistics.median(r[key] for r in results["dashboard"])
        pairs = [d[key] / h[key] for h, d in zip(results["headless"], results["dashboard"])]
        return head, dash, pairs

    head, dash, pairs = medians("steady")
    whole_head, whole_dash, _ = medians("whole")
    cpu_head, cpu_dash, _ = medians("on_cpu")
    device = meta.get("device", "?")
    name = meta.get("device_name", "")
    batch = meta.get("batch_size", "?")
    threads = f"{args.torch_threads} torch thread(s)" if args.torch_threads else "the profile's torch threads"
    summary = (f"{args.profile} on {device} ({name}), {threads}, steady state: headless {head:.1f} steps/s, dashboard "
               f"{dash:.1f} steps/s -> {100 * dash / head:.1f}% (pairs: {', '.join(f'{100 * p:.1f}%' for p in pairs)}); "
               f"whole runs: {100 * whole_dash / whole_head:.1f}%; training thread on a CPU: headless {100 * cpu_head:.1f}%, "
               f"dashboard {100 * cpu_dash:.1f}% -> {100 * cpu_dash / cpu_head:.1f}%")
    print(summary)
    if args.no_record:
        return
    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = [f"Throughput with the dashboard attached, `{args.profile}` on {device} {name}, batch {batch}, {threads}, "
             f"{steps} steps per run, {args.repeats} runs of each kind alternating ({stamp}, {where}); steady state is "
             "the second half of each run's logged steps:", "",
             "| run | headless steps/s | dashboard steps/s | dashboard / headless | whole runs | training thread on a CPU, "
             "headless / dashboard |", "|---|---|---|---|---|---|"]
    for i, (h, d) in enumerate(zip(results["headless"], results["dashboard"]), 1):
        lines.append(f"| {i} | {h['steady']:.1f} | {d['steady']:.1f} | {100 * d['steady'] / h['steady']:.1f}% | "
                     f"{100 * d['whole'] / h['whole']:.1f}% | {100 * h['on_cpu']:.1f}% / {100 * d['on_cpu']:.1f}% |")
    lines.append(f"| median | {head:.1f} | {dash:.1f} | **{100 * dash / head:.1f}%** | {100 * whole_dash / whole_head:.1f}% | "
                 f"{100 * cpu_head:.1f}% / {100 * cpu_dash:.1f}% ({100 * cpu_dash / cpu_head:.1f}%) |")
    extra = "".join(f" --set {o}" for o in args.overrides)
    extra += f" --torch-threads {args.torch_threads}" if args.torch_threads else ""
    extra += f" --steps {args.steps}" if args.steps else ""
    extra += f" --repeats {args.repeats}" if args.repeats != 3 else ""
    extra += f" --fps {args.fps:g}" if args.fps else ""
    lines += ["", f"Command: `python benchmarks/dashboard_overhead.py --profile {args.profile}{extra}`"]
    append_to_section(REPO / "benchmarks" / "RESULTS.md", "Dashboard", "\n".join(lines))
    print("appended to benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
