"""Fault injection shared by tests/test_faults.py and benchmarks/faults.py.

Each `gan-tui` here is a real process running the real command line (`gan_tui.cli.main`),
forked from a warm interpreter (multiprocessing's forkserver with gan_tui and torch preloaded),
so that killing it 30 times costs seconds rather than 30 imports of torch. The children get
real signals: SIGKILL leaves whatever was half-written, exactly as the OOM killer would.
"""

import json
import multiprocessing
import os
import random
import resource
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

import gan_tui.cli  # noqa: F401  (preloaded into the fork server: children start warm)
import gan_tui.train.session  # noqa: F401
from gan_tui.train.checkpoint import checkpoint_step, latest_good_checkpoint, list_checkpoints, load_checkpoint

torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the optimiser's lazy imports, before any fork

STAT_NAMES = ("d_loss", "g_loss", "d_real", "d_fake")
_CONTEXT = []


def context():
    if not _CONTEXT:
        ctx = multiprocessing.get_context("forkserver")
        # Each child re-runs the parent's __main__ module (pytest's, under pytest): preloaded, it costs
        # nothing; not preloaded, pytest's import in every child would cost seconds.
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        ctx.set_forkserver_preload(["faultlib", *([spec.name] if spec and spec.name else [])])
        # Python 3.11's fork server ignores the parent's sys.path: it finds this module through
        # PYTHONPATH, set while it starts.
        here = str(Path(__file__).resolve().parent)
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *([saved] if saved else [])])
        try:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        _CONTEXT.append(ctx)
    return _CONTEXT[0]


def _child(argv: list[str], env: dict, out: str, fsize: int | None) -> None:
    os.environ.update(env)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    torch.set_num_threads(1)  # two shared cores: OpenMP's spinning threads would make it crawl
    if fsize is not None:  # a "full disk": every file of the process stops growing at `fsize` bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so writes fail with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))
    sys.argv = ["gan-tui", *argv]
    gan_tui.cli.main()


class Child:
    """One `gan-tui ARGV` process; stdout and stderr together in `out`."""

    def __init__(self, argv, out: Path, env: dict | None = None, fsize: int | None = None):
        self.out = Path(out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        env = {"GAN_TUI_OFFLINE": "1", **{k: v for k, v in os.environ.items() if k.startswith("GAN_TUI_")},
               **(env or {})}
        self.process = context().Process(target=_child, args=([str(a) for a in argv], env, str(out), fsize))
        self.process.start()
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def signal(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 120) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
            raise AssertionError(f"gan-tui {self.out} did not end within {timeout}s:\n{self.output()}")
        return self.process.exitcode

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""


def cli(argv, out: Path, env: dict | None = None, fsize: int | None = None, timeout: float = 120):
    """Run `gan-tui ARGV` to its end: (exit code, stdout and stderr)."""
    child = Child(argv, out, env, fsize)
    code = child.wait(timeout)
    return code, child.output()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s")
        time.sleep(interval)


def run_dirs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if runs_dir.is_dir() else []


def scalar_rows(run_dir: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(run_dir / "metrics.sqlite") as db:
        return db.execute("SELECT step, name FROM scalars ORDER BY step, name").fetchall()


# ---------------------------------------------------------------------------
# What a killed run must still hold


@dataclass
class Check:
    checkpoint: int  # step of the newest checkpoint that loads (0: none)
    lost: list[int]  # log steps up to it without all their scalars
    duplicated: int  # scalar rows logged twice
    problems: list[str] = field(default_factory=list)
    torn_checkpoint: bool = False  # the kill landed inside a checkpoint write


def check_run(run_dir: Path, log_every: int) -> Check:
    """After a kill: meta.json parses, the database is sound, every listed checkpoint loads, and
    every log step up to the newest checkpoint has its scalars, once."""
    problems = []
    try:
        json.loads((run_dir / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        problems.append(f"meta.json: {exc}")
    folder = run_dir / "checkpoints"
    cpu = torch.device("cpu")
    for path in list_checkpoints(folder):
        try:
            load_checkpoint(path, cpu)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{path.name}: {exc}")
    found = latest_good_checkpoint(folder, cpu)
    step = checkpoint_step(found[0]) if found else 0
    if found and int(found[2]["step"]) != step:
        problems.append(f"{found[0].name} holds step {found[2]['step']}")
    with sqlite3.connect(run_dir / "metrics.sqlite") as db:
        verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"metrics.sqlite: {verdict}")
        rows = db.execute("SELECT step, name FROM scalars WHERE step <= ?", (step,)).fetchall()
    per_step: dict[int, list[str]] = {}
    for s, name in rows:
        per_step.setdefault(s, []).append(name)
    lost = [s for s in range(log_every, step + 1, log_every) if sorted(per_step.get(s, [])) != sorted(STAT_NAMES)]
    duplicated = len(rows) - len(set(rows))
    torn = folder.is_dir() and any(p.name.startswith(".tmp-") for p in folder.iterdir())
    return Check(step, lost, duplicated, problems, torn)


# ---------------------------------------------------------------------------
# SIGKILL storms

STORM = ["--set", "train.device=cpu", "--set", "data.batch_size=32", "--set", "log.every=5",
         "--set", "log.histograms_every=10", "--set", "log.samples_every=50", "--set", "log.samples=64",
         "--set", "checkpoint.every=5", "--set", "checkpoint.keep=2", "--set", "eval.every=0",
         "--set", "model.g_width=32", "--set", "model.d_width=32"]
LOG_EVERY = 5


def aim_at_checkpoint_write(runs_dir: Path, child: Child, timeout: float = 3.0) -> bool:
    """Spin until a checkpoint is being written (its `.tmp-step-*` folder exists); True if seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.alive():
        for run in run_dirs(runs_dir):
            try:
                with os.scandir(run / "checkpoints") as entries:
                    if any(e.name.startswith(".tmp-") and e.name.endswith(f"-{child.pid}") for e in entries):
                        return True
            except FileNotFoundError:
                pass
    return False


@dataclass
class StormResult:
    faults: int = 0  # SIGKILLs sent
    torn_checkpoints: int = 0  # of which inside a checkpoint write
    runs: int = 0
    survived: int = 0  # runs that finished after their kills with every logged step there
    lost_steps: int = 0  # log steps up to the last good checkpoint missing after a kill
    duplicated_rows: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def kill_storm(root: Path, runs: int, kills_per_run: int, seed: int = 0, delay=(0.05, 0.6),
               extra_steps: int = 20) -> StormResult:
    """`runs` runs of ring8, each SIGKILLed `kills_per_run` times at seeded random moments (the
    first after it starts training, the others while resuming or training), checked after every
    kill, then resumed to the end and checked once more."""
    rng = random.Random(seed)
    result = StormResult()
    start = time.monotonic()
    for r in range(runs):
        runs_dir = root / f"storm-{r}"
        run_dir = None
        for k in range(kills_per_run):
            argv = (["run", "--resume", run_dir.name] if run_dir else
                    ["run", "ring8", *STORM, "--set", "train.steps=1000000", "--set", f"train.seed={seed + r}"])
            child = Child([*argv, "--quiet", "--runs-dir", runs_dir], root / f"storm-{r}-{k}.out")
            if run_dir is None:  # the first kill only once there is a run to damage
                wait_for(lambda: any((p / "checkpoints").is_dir() for p in run_dirs(runs_dir)) or not child.alive())
            time.sleep(rng.uniform(*delay))
            if k % 2:  # every other kill aims at a checkpoint write: the moment a temp folder shows
                aim_at_checkpoint_write(runs_dir, child)
            if not child.alive():
                result.problems.append(f"run {r} ended before its kill {k}: {child.output()[-500:]}")
                break
            child.signal(signal.SIGKILL)
            child.wait()
            result.faults += 1
            (run_dir,) = run_dirs(runs_dir)
            check = check_run(run_dir, LOG_EVERY)
            result.torn_checkpoints += check.torn_checkpoint
            result.lost_steps += len(check.lost)
            result.duplicated_rows += check.duplicated
            result.problems += [f"run {r} kill {k}: {p}" for p in check.problems]
            if check.lost:
                result.problems.append(f"run {r} kill {k}: log steps {check.lost[:5]} lost "
                                       f"(checkpoint {check.checkpoint})")
        if run_dir is None:
            continue
        result.runs += 1
        last = check_run(run_dir, LOG_EVERY).checkpoint
        total = last + extra_steps
        code, out = cli(["run", "--resume", run_dir.name, "--quiet", "--runs-dir", runs_dir,
                         "--set", f"train.steps={total}"], root / f"storm-{r}-end.out")
        meta = json.loads((run_dir / "meta.json").read_text())
        rows = scalar_rows(run_dir)
        steps = sorted({s for s, _ in rows})
        complete = (code == 0 and meta["status"] == "finished" and meta["step"] == total
                    and steps == list(range(LOG_EVERY, total + 1, LOG_EVERY)) and len(rows) == 4 * len(steps)
                    and len(set(rows)) == len(rows))
        if complete:
            result.survived += 1
        else:
            result.problems.append(f"run {r} did not finish whole after its kills (exit {code}, "
                                   f"{meta['status']} at {meta['step']}): {out[-800:]}")
    result.seconds = time.monotonic() - start
    return result
