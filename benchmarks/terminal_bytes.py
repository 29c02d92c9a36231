"""How much the dashboard writes to the terminal, and how much CPU its UI thread uses, in steady state.

Runs the real `gan-tui PROFILE` inside a pseudo-terminal of 120x40 (true colour:
the most bytes per cell), drains everything it writes, skips the start-up, then
counts bytes and the UI (main) thread's CPU time over a window. Two scenarios:
the profile as shipped, and a worst case that logs scalars, histograms and samples
every step (every pane has news at every frame), which shows the output is bounded
by the frame rate and the per-pane redraw caps, not by the step rate.

    python benchmarks/terminal_bytes.py [--profile ring8] [--warmup 15] [--window 30]

Prints the figures and appends them to the "Dashboard" section of benchmarks/RESULTS.md
(--no-record to skip). Goal: under 50 KB/s.
"""

import argparse
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from gan_tui.frame_rate import DEFAULT_FPS  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STRESS = ["log.every=1", "log.histograms_every=1", "log.samples_every=1"]  # every pane has news every step


class PtyApp:
    """`gan-tui ARGS` in a pseudo-terminal of a given size; a thread drains and counts its output."""

    def __init__(self, args: list[str], columns: int = 120, rows: int = 40, env: dict | None = None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", **(env or {})}
        full_env.pop("NO_COLOR", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "gan_tui", *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=full_env, cwd=REPO, start_new_session=True)
        os.close(slave)
        self.master = master
        self.bytes = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if ready:
                    data = os.read(self.master, 65536)
                    if not data:
                        return
                    with self._lock:
                        self.bytes += len(data)
            except OSError:  # the app closed the terminal
                return
            if self.proc.poll() is not None and not ready:
                return

    def count(self) -> int:
        with self._lock:
            return self.bytes

    def ui_cpu_seconds(self) -> float:
        """CPU time (user + system) of the app's main thread, where Textual runs."""
        pid = self.proc.pid
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def press(self, keys: str) -> None:
        try:
            os.write(self.master, keys.encode())
        except OSError:  # the app has already closed its terminal
            pass

    def quit(self, timeout: float = 120.0) -> int:
        """q, and y to the confirmation when training still runs; waits for the exit code."""
        self.press("q")
        time.sleep(1.0)
        if self.proc.poll() is None:
            self.press("y")
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return -9
        finally:
            self._reader.join(timeout=5)
            os.close(self.master)


def meta_of(runs: Path) -> dict:
    for path in runs.glob("*/meta.json"):
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):  # caught mid-rename: try again later
            return {}
    return {}


def measure(profile: str, overrides: list[str], warmup: float, window: float, fps: float,
            env: dict | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        args = [profile, "--runs-dir", str(runs), "--fps", f"{fps:g}", "--set", "train.steps=10000000"]
        for override in overrides:
            args += ["--set", override]
        app = PtyApp(args, env=env)
        deadline = time.monotonic() + 180
        while meta_of(runs).get("status") != "running":  # start-up (imports, data) is not steady state
            if time.monotonic() > deadline or app.proc.poll() is not None:
                raise SystemExit(f"the dashboard did not start training: exit {app.proc.poll()}")
            time.sleep(0.2)
        time.sleep(warmup)
        b0, c0, t0, s0 = app.count(), app.ui_cpu_seconds(), time.monotonic(), meta_of(runs).get("step", 0)
        time.sleep(window)
        b1, c1, t1, s1 = app.count(), app.ui_cpu_seconds(), time.monotonic(), meta_of(runs).get("step", 0)
        code = app.quit()
        final = meta_of(runs)
    seconds = t1 - t0
    return {"profile": profile, "overrides": overrides, "fps": fps, "window_s": round(seconds, 1),
            "bytes_per_s": (b1 - b0) / seconds, "ui_cpu_per_s": (c1 - c0) / seconds,
            "steps_per_s": (s1 - s0) / seconds, "exit_code": code, "final_status": final.get("status")}


def append_to_section(results: Path, section: str, text: str) -> None:
    """Add `text` at the end of the `## {section}` section of RESULTS.md (created when missing)."""
    lines = results.read_text().splitlines(keepends=True) if results.exists() else ["# Measured results\n"]
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {section}"), None)
    if start is None:
        lines += ["\n", f"## {section}\n"]
        start = len(lines) - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    block = text if text.endswith("\n") else text + "\n"
    if end < len(lines):
        block += "\n"
    lines[end:end] = ["\n", block] if lines[end - 1].strip() else [block]
    results.write_text("".join(lines))


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} CPUs, load average {load:.1f} at start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ring8")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of training before counting")
    parser.add_argument("--window", type=float, default=30.0, help="seconds counted")
    parser.add_argument("--fps", type=float, default=DEFAULT_FPS, help=f"frames a second (default {DEFAULT_FPS:g}, the app's)")
    parser.add_argument("--torch-threads", type=int, help="OMP_NUM_THREADS for the training (default: torch's own)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not touch RESULTS.md")
    args = parser.parse_args()

    where = machine()
    env = {"OMP_NUM_THREADS": str(args.torch_threads)} if args.torch_threads else None
    threads = f"{args.torch_threads} torch thread(s)" if args.torch_threads else "torch's default threads"
    rows = []
    for name, overrides in (("as shipped", []), ("worst case: everything logged every step", STRESS)):
        r = measure(args.profile, overrides, args.warmup, args.window, args.fps, env)
        rows.append((name, r))
        print(f"{args.profile} {name}: {r['bytes_per_s'] / 1000:.1f} KB/s to the terminal, "
              f"UI thread {r['ui_cpu_per_s'] * 1000:.0f} ms CPU per s, {r['steps_per_s']:.1f} steps/s "
              f"(exit {r['exit_code']}, run {r['final_status']})", flush=True)

    if args.no_record:
        return
    stamp = time.strftime("%Y-%m-%d %H:%M")
    table = [f"Terminal output and UI cost, `{args.profile}`, {threads}, 120x40 pty, true colour, --fps {args.fps:g}, "
             f"{args.window:g} s window after {args.warmup:g} s of training ({stamp}, {where}):", "",
             "| scenario | bytes to the terminal | UI thread CPU | training steps/s |", "|---|---|---|---|"]
    for name, r in rows:
        table.append(f"| {name} | {r['bytes_per_s'] / 1000:.1f} KB/s | {r['ui_cpu_per_s'] * 1000:.0f} ms/s "
                     f"({100 * r['ui_cpu_per_s']:.1f}% of a core) | {r['steps_per_s']:.1f} |")
    extra = f" --torch-threads {args.torch_threads}" if args.torch_threads else ""
    extra += f" --fps {args.fps:g}" if args.fps != DEFAULT_FPS else ""
    table += ["", f"Command: `python benchmarks/terminal_bytes.py --profile {args.profile}{extra}`"]
    append_to_section(REPO / "benchmarks" / "RESULTS.md", "Dashboard", "\n".join(table))
    print("appended to benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()
