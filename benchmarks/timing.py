"""Wall-clock timings for the command benchmarks (runs_listing.py, compare_speed.py): median and
worst of a few runs after a warm-up, written to benchmarks/results/NAME.txt with the machine they ran on."""

import os
import platform
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up (page cache, .pyc)
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def write_report(name: str, title: str, results: dict[str, list[float]], show_runs: bool = False) -> None:
    """Print and write `title`, the machine, and one `median / worst` line per timing."""
    load = os.getloadavg()
    lines = [title,
             f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (a shared machine: other work ran)",
             f"date: {time.strftime('%Y-%m-%d %H:%M')}", ""]
    width = max(len(k) for k in results)
    for label, times in results.items():
        runs = f"   ({len(times)} runs)" if show_runs else ""
        lines.append(f"{label:<{width}}  median {statistics.median(times):6.3f} s   worst {max(times):6.3f} s{runs}")
    text = "\n".join(lines) + "\n"
    out = HERE / "results" / f"{name}.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text, end="")
    print(f"(written to {out.relative_to(REPO)})")
