"""Setting up a run: profile -> run directory, dataset, networks, loss -> Trainer.

The headless command and the dashboard both start training through here, so
a run is the same run whichever started it.
"""

from dataclasses import dataclass, field
from pathlib import Path

import torch

from gan_tui.data import load_dataset
from gan_tui.losses import build_loss
from gan_tui.models import build_models
from gan_tui.store import RunStore
from gan_tui.errors import BadInput
from gan_tui.paths import made_runs_dir
from gan_tui.store.runs import LIVE, BadRun, find_run, summarize
from gan_tui.train.control import Commands
from gan_tui.train.device import pick_device, set_cpu_threads
from gan_tui.train.distributed import SINGLE, World, broadcast_object
from gan_tui.train.cycle import CycleTrainer
from gan_tui.train.trainer import Trainer


@dataclass
class Session:
    trainer: Trainer
    store: RunStore | None  # None on torchrun ranks other than 0: rank 0 alone writes the run
    notes: list[str] = field(default_factory=list)  # warnings for the user, each naming a damaged file

    @property
    def run_dir(self) -> Path:
        return self.trainer.run_dir

    def close(self) -> None:
        self.trainer.evaluations.close()
        if self.store is not None:
            self.store.close()

    def exit_notice(self) -> str | None:
        """After close(): what to tell the user on the way out while an evaluation still runs (the
        process waits for it; see gan_tui/train/evaluation.py), or None."""
        step = self.trainer.evaluations.running_step
        if step is None:
            return None
        return f"waiting for the evaluation of step {step:,} to finish; Ctrl-C stops it at once (the checkpoint is saved)."


def build_parts(profile, data_path: str | None = None, world: World = SINGLE):
    """Device, dataset, networks and loss for a profile; bad input raises before any run dir exists."""
    if world.active:
        from gan_tui.train.distributed import start

        device = start(world, profile.train.device)
    else:
        device = pick_device(profile.train.device, profile.where("train.device"))
    set_cpu_threads(profile.train.threads)
    torch.manual_seed(profile.train.seed)  # network initialisation: the same on every rank
    # The data's errors are about its name or its folder: blame --data or the --set that gave them, if one did.
    data_source = f"--data {data_path}" if data_path else profile.where("data.path" if profile.data.path else "data.name")
    dataset = load_dataset(profile.data, device, source=data_source, data_path=data_path)
    if world.active:  # each rank draws its batches from its own part of the data
        dataset = dataset.shard(world.rank, world.size)
    if profile.model.architecture == "cyclegan":  # two classes of the set become domains A and B
        from gan_tui.data.unpaired import unpaired_domains

        dataset = unpaired_domains(dataset, profile.data, profile.where("data"))
    generator, discriminator = build_models(profile.model, dataset.shape, profile.tricks, source=profile.where("model"),
                                            num_classes=dataset.num_classes)
    return device, dataset, generator, discriminator, build_loss(profile.loss)


def _trainer(profile, parts, store: RunStore | None, sinks, commands, data_path, world: World) -> Trainer:
    device, dataset, generator, discriminator, loss = parts
    run_id, run_dir = broadcast_object((store.meta["id"], store.run_dir) if store else None, world)
    sinks = [store, *sinks] if store else []
    cls = CycleTrainer if profile.model.architecture == "cyclegan" else Trainer
    return cls(profile, dataset, generator, discriminator, loss, device, run_id, run_dir,
               sinks=sinks, commands=commands, data_path=data_path, world=world)


def new_session(profile, runs_dir: Path, sinks=(), commands: Commands | None = None,
                data_path: str | None = None, world: World = SINGLE) -> Session:
    """A fresh run directory and a trainer that writes to it (and to `sinks`)."""
    if world.is_main:
        made_runs_dir(runs_dir)
    parts = build_parts(profile, data_path, world)
    store = RunStore.create(runs_dir, profile) if world.is_main else None
    return Session(_trainer(profile, parts, store, sinks, commands, data_path, world), store)


def resume_session(profile_loader, runs_dir: Path, run_id: str, sinks=(), commands: Commands | None = None,
                   data_path: str | None = None, world: World = SINGLE) -> Session:
    """Reopen a run and continue from its last good checkpoint.

    `profile_loader(path)` loads the run's own resolved profile.toml.
    """
    run_dir = find_run(runs_dir, run_id)
    try:
        run = summarize(run_dir)  # the status with its liveness: a dead "running" run reads interrupted
    except BadRun as exc:
        raise BadInput(f"{exc}; the run cannot be resumed without it.") from None
    if run.status in LIVE:  # its process still trains it: a second writer would interleave steps and checkpoints
        stop = f"`kill -INT {run.pid}`" if run.pid else "ctrl+c where it runs"
        raise BadInput(f"run {run.id} is still {run.status} ({run.where}) and one run cannot train in two processes; "
                       f"watch it with `gan-tui watch {run.id}`, or stop it first ({stop}) and then resume it.")
    meta = run.meta
    profile = profile_loader(run_dir / "profile.toml")
    profile.name = meta["profile"]
    reached = meta.get("last_checkpoint")
    if isinstance(reached, int) and profile.train.steps < reached:  # before anything is written
        raise BadInput(f'key "train.steps" is {profile.train.steps}, below step {reached:,} that run {run.id} has '
                       f"already reached; to train it longer give more (e.g. --set train.steps={2 * reached}).")
    parts = build_parts(profile, data_path, world)
    store = RunStore.reopen(run_dir, profile) if world.is_main else None
    trainer = _trainer(profile, parts, store, sinks, commands, data_path, world)
    step = trainer.restore_latest()  # every rank loads the same checkpoint, whatever their number
    notes = [*(store.notes if store else []), *trainer.notes]
    if trainer.notes:
        notes.append(f"resuming from the checkpoint at step {step:,}" if step else "no checkpoint could be read; "
                     "training starts again from step 0")
    if store is not None:
        store.truncate_after(step)
        for note in notes:
            store.note(step, note)
    return Session(trainer, store, notes)
