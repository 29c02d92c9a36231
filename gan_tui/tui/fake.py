"""A scripted stand-in for a training session: a deterministic event stream, no torch.

Tests, snapshots and benchmarks of the dashboard feed it to the app through the
same sink and command queue as a real trainer, so every key can be exercised
without training. `scripted_events` is seeded: the same call gives the same
pictures and numbers every time.
"""

import threading
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gan_tui.train import events as ev
from gan_tui.train.control import Command


def ring_points(n: int, rng: np.random.Generator, spread: float = 0.02) -> np.ndarray:
    angles = 2 * np.pi * rng.integers(0, 8, n) / 8
    return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], 1) + rng.normal(0, spread, (n, 2))


def scripted_events(kind: str = "points", steps: int = 1000, log_every: int = 50, output_kind: str = "probability",
                    run_id: str = "20260101-000000-ring8-abcd", run_dir: str = "/tmp/gan-tui-fake",
                    extra_terms: tuple[str, ...] = (), seed: int = 0, evaluate_every: int = 250) -> list:
    """RunStarted, then per log step Scalars and Progress, histograms every other log step, an evaluation
    every `evaluate_every` steps (0: none; the toy run loses modes and raises one collapse alarm at the
    end), samples at the end."""
    rng = np.random.default_rng(seed)
    out = [ev.RunStarted(run_id, run_dir, "ring8" if kind == "points" else "dcgan-fashion", steps, 0, "cpu",
                         kind, output_kind, 256)]
    for step in range(log_every, steps + 1, log_every):
        t = step / steps
        values = {"d_loss": 1.39 - 0.5 * t + 0.08 * rng.standard_normal(),
                  "g_loss": 0.69 + 0.6 * t + 0.1 * rng.standard_normal(),
                  "d_real": 0.5 + 0.2 * t + 0.03 * rng.standard_normal(),
                  "d_fake": 0.5 - 0.15 * t + 0.03 * rng.standard_normal()}
        for i, name in enumerate(extra_terms):
            values[name] = 0.1 * (i + 1) * (1 + t) + 0.01 * rng.standard_normal()
        out.append(ev.Scalars(step, values, 1_700_000_000.0 + step))
        out.append(ev.Progress(step, steps, 40.0, 10240.0, step / 40.0, (steps - step) / 40.0))
        if (step // log_every) % 2 == 0:
            if output_kind == "probability":
                real, fake = rng.beta(6, 3, 256), rng.beta(3, 5, 256)
            else:
                real, fake = rng.normal(2.0, 1.0, 256), rng.normal(-1.0, 1.5, 256)
            out.append(ev.Histograms(step, output_kind, real.astype(np.float32), fake.astype(np.float32)))
        if evaluate_every and step % evaluate_every == 0:
            out += [ev.EvaluationStarted(step), ev.Evaluated(step, evaluation_metrics(kind, step, steps))]
    if evaluate_every and kind == "points":
        out.append(ev.CollapseAlarm(steps, "modes_lost", TOY_ALARM, int(0.9 * steps)))
    out.append(sample_event(kind, steps, rng))
    return out


TOY_ALARM = "mode collapse: modes captured fell from 8/8 (step 500) to 4/8 since step 900; D(x) = 0.70, D(G(z)) = 0.35"
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]


def _labels(suffix: str) -> dict:
    """The display labels metrics/evaluate.py gives (copied: importing it would import torch)."""
    tag = f" ({suffix})"
    return {"fid": f"FID{tag}", "kid": f"KID{tag}", "is": f"IS{tag}", "precision": f"precision{tag}, k=3",
            "recall": f"recall{tag}, k=3", "density": f"density{tag}, k=5", "coverage": f"coverage{tag}, k=5",
            "diversity": f"diversity{tag}", "near_duplicates": f"near-duplicates{tag}"}


def evaluation_metrics(kind: str, step: int, total: int) -> dict:
    """Plausible evaluate_generator results at `step`: the toy run is best at 3/4 of the way and then
    drops half its modes; the image run improves throughout and under-produces one class."""
    t = step / total
    if kind == "points":
        late = t > 0.8
        per_mode = [2410, 0, 2630, 0, 0, 2980, 0, 1480] if late else [1190 + 13 * i for i in range(8)]
        return {"dataset": "ring8", "n": 10000, "step": step, "features": "points",
                "extractor": "the 2D points themselves", "fid": round(0.95 if late else 2.6 * (1 - t) ** 2 + 0.41, 4),
                "kid_mean": 0.0121 if late else 0.0042, "kid_std": 0.0009, "precision": 0.91,
                "recall": 0.52 if late else 0.88,
                "density": 1.04, "coverage": 0.49 if late else 0.86, "diversity": 0.61 if late else 0.97,
                "near_duplicates": 0.094 if late else 0.011, "modes_captured": 4 if late else 8, "modes_total": 8,
                "high_quality": sum(per_mode) / 10000, "per_mode": per_mode, "seconds": 1.4,
                "labels": {**_labels("points"), "modes_captured": "modes captured",
                           "high_quality": "high-quality samples (within 3 std)"}}
    hist = [0.108, 0.101, 0.117, 0.093, 0.108, 0.004, 0.099, 0.131, 0.103, 0.136]
    return {"dataset": "fashion-mnist", "n": 10000, "step": step, "features": "domain",
            "extractor": "the domain evaluator (a small CNN trained on fashion-mnist)",
            "fid": round(22.0 + 80.0 * (1 - t) ** 2, 3), "kid_mean": round(0.02 + 0.06 * (1 - t), 4), "kid_std": 0.0011,
            "is_mean": round(5.2 + 2.0 * t, 3), "is_std": 0.09, "precision": 0.71, "recall": round(0.3 + 0.3 * t, 3),
            "density": 0.83, "coverage": round(0.45 + 0.35 * t, 3), "diversity": 0.93, "near_duplicates": 0.012,
            "classes_covered": 9, "classes_total": 10, "class_kl": 0.071, "class_histogram": hist,
            "real_class_histogram": [0.1] * 10, "missing_classes": ["Sandal"], "class_names": FASHION_CLASSES,
            "seconds": 6.8, "labels": {**_labels("domain"), "classes_covered": "classes covered (domain classifier)",
                                       "class_kl": "class KL(generated || real), nats"}}


def sample_event(kind: str, step: int, rng: np.random.Generator) -> ev.Samples:
    if kind == "images":  # 16 soft blobs of varying size and brightness, 1x28x28
        yy, xx = np.mgrid[:28, :28]
        images = []
        for i in range(16):
            r = 5 + (i % 4) * 2
            blob = np.exp(-(((xx - 14) ** 2 + (yy - 14) ** 2) / (2 * r * r)))
            images.append((255 * blob * (0.5 + 0.5 * ((i * 7) % 5) / 4)).astype(np.uint8)[None])
        return ev.Samples(step, images=np.stack(images))
    extent = 3.0
    axis = np.linspace(-extent, extent, 64)
    xs, ys = np.meshgrid(axis, axis[::-1])
    surface = 1 / (1 + np.exp(-(2.0 - np.hypot(xs, ys)) * (np.hypot(xs, ys) - 1.0) * 4))
    return ev.Samples(step, points=ring_points(512, rng, 0.15), real_points=ring_points(512, rng),
                      surface=surface.astype(np.float32), extent=extent)


class FakeTrainer:
    """Emits its script, then obeys commands like the real trainer until told to stop (or finishes)."""

    def __init__(self, script, sinks, commands, run_dir: Path, hold: bool = True, fail_with: Exception | None = None):
        self.script, self.sinks, self.commands = list(script), list(sinks), commands
        self.run_dir = Path(run_dir)
        self.hold = hold
        self.fail_with = fail_with
        self.step = 0
        info = next((e for e in self.script if isinstance(e, ev.RunStarted)), None)
        self.kind, self.total = (info.data_kind, info.total_steps) if info else ("points", 1)
        self.received: list[Command] = []
        self.emitted = threading.Event()  # set once the script has gone out

    def emit(self, event) -> None:
        for sink in self.sinks:
            sink.handle(event)

    def _checkpoint(self) -> None:
        path = self.run_dir / "checkpoints" / f"step-{self.step:07d}"
        path.mkdir(parents=True, exist_ok=True)
        self.emit(ev.CheckpointSaved(self.step, str(path)))

    def run(self) -> str:
        for event in self.script:
            self.step = max(self.step, getattr(event, "step", 0))
            self.emit(event)
        self.emitted.set()
        if self.fail_with is not None:
            raise self.fail_with
        if not self.hold:
            self._checkpoint()
            self.emit(ev.StatusChanged("finished", self.step))
            return "finished"
        while True:
            command = self.commands.wait(timeout=0.05)
            if command is None:
                continue
            self.received.append(command)
            if command is Command.PAUSE:
                self.emit(ev.StatusChanged("paused", self.step))
            elif command is Command.RESUME:
                self.emit(ev.StatusChanged("running", self.step))
            elif command is Command.CHECKPOINT:
                self._checkpoint()
            elif command is Command.EVALUATE:
                self.emit(ev.EvaluationStarted(self.step, on_demand=True))
                self.emit(ev.Evaluated(self.step, evaluation_metrics(self.kind, self.step, self.total), on_demand=True))
            elif command is Command.STOP:
                self._checkpoint()
                self.emit(ev.StatusChanged("interrupted", self.step, "stopped by request"))
                return "interrupted"


class RecordingStore:
    """Stands in for RunStore: keeps what it was told."""

    def __init__(self):
        self.events = []

    def handle(self, event) -> None:
        self.events.append(event)


@dataclass
class FakeSession:
    trainer: FakeTrainer
    store: RecordingStore
    run_dir: Path
    closed: bool = False

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeFactory:
    """A `new_session` replacement; keeps the sessions it made for the test to inspect."""

    script: list
    run_dir: Path
    hold: bool = True
    fail_with: Exception | None = None
    sessions: list = field(default_factory=list)

    def __call__(self, profile, runs_dir, sinks=(), commands=None, data_path=None) -> FakeSession:
        store = RecordingStore()
        trainer = FakeTrainer(self.script, [store, *sinks], commands, self.run_dir, self.hold, self.fail_with)
        session = FakeSession(trainer, store, self.run_dir)
        self.sessions.append(session)
        return session


def scripted_app(run_dir: Path, script: list, hold: bool = True, **app_options):
    """For pilot tests: (the dashboard on `script`, its FakeFactory); every notification the app
    shows is also kept in app.notes as "title: message"."""
    from gan_tui.tui.app import DashboardApp

    run_dir.mkdir(exist_ok=True)
    factory = FakeFactory(script, run_dir, hold=hold)
    app = DashboardApp(profile=types.SimpleNamespace(name="ring8"), session_factory=factory, **app_options)
    app.notes = []
    notify = app.notify

    def record(message, **kw):
        app.notes.append(f"{kw.get('title', '')}: {message}")
        notify(message, **kw)

    app.notify = record
    return app, factory


async def started(pilot, factory):
    """For pilot tests: wait until the scripted run has sent its first events and the samples show;
    returns its FakeTrainer."""
    await wait_until(pilot, lambda: factory.sessions and factory.sessions[0].trainer.emitted.is_set())
    await wait_until(pilot, lambda: pilot.app.model.samples is not None)
    return factory.sessions[0].trainer


async def wait_until(pilot, predicate, timeout: float = 20.0, step: float = 0.02) -> None:
    """For pilot tests: let the app run until `predicate()` holds (AssertionError after `timeout` s)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {getattr(predicate, '__name__', predicate)}")
        await pilot.pause(step)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (one line per row). Reads Textual's compositor:
    a private attribute, acceptable in a test helper, and the one way to see modal screens too."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())
