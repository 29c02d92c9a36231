"""The training loop. It knows nothing of terminals: it emits events to sinks.

Per step it does no host<->device synchronisation: the statistics it reports
are summed on the device and copied to the host once per log interval.
"""

import copy
import math
import time
from pathlib import Path

import torch

from gan_tui.augment import DInputs
from gan_tui.data import Dataset
from gan_tui.errors import TrainingDiverged
from gan_tui.losses import Loss, build_penalties
from gan_tui.metrics.collapse import Alarm, CollapseDetector
from gan_tui.train import events as ev
from gan_tui.train.checkpoint import latest_good_checkpoint, list_checkpoints, save_checkpoint
from gan_tui.train.control import Command, Commands
from gan_tui.train.device import autocast_for, set_matmul_precision
from gan_tui.train.distributed import SINGLE, World, broadcast_object, sum_across_ranks, wrap
from gan_tui.metrics.evaluate import evaluate_generator, frozen_copy, toy_signals
from gan_tui.train.evaluation import MAX_OUTSTANDING, EvaluationWorker
from gan_tui.train.standing_stats import measure_batch_norm_stats

PROGRESS_PERIOD_S = 0.25  # how often Progress events go out, whatever the step rate
PAUSED_HEARTBEAT_S = 60.0  # how often a paused run says it is alive (store/runs.py reads it)
SURFACE_SIDE = 64  # D's decision surface for 2D toys is sampled on a 64x64 grid
STAT_NAMES = ("d_loss", "g_loss", "d_real", "d_fake")


def _has_spectral_norm(module: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.utils.parametrize.ParametrizationList) for m in module.modules())


def _compiled(module: torch.nn.Module, mode: str) -> torch.nn.Module:
    # Spectral norm's power iteration updates its vectors in place on every forward; compiled,
    # a second forward before the backward (D on real, then on fake) breaks the backward. Such
    # networks stay eager.
    if mode == "off" or _has_spectral_norm(module):
        return module
    return torch.compile(module, mode=None if mode == "default" else mode)


def _make_optimizer(settings, params, device: torch.device):
    if settings.name == "adam":
        # On CUDA the fused kernel updates every tensor in a launch or two instead of one per tensor.
        return torch.optim.Adam(params, lr=settings.lr, betas=tuple(settings.betas), fused=device.type == "cuda")
    if settings.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=settings.lr)
    return torch.optim.SGD(params, lr=settings.lr, momentum=settings.betas[0])


class Trainer:
    def __init__(self, profile, dataset: Dataset, generator: torch.nn.Module, discriminator: torch.nn.Module,
                 loss: Loss, device: torch.device, run_id: str, run_dir: Path, sinks=(), commands: Commands | None = None,
                 data_path: str | None = None, world: World = SINGLE):
        self.profile = profile
        self.data = dataset
        self.G = generator.to(device)
        self.D = discriminator.to(device)
        self.loss = loss
        self.device = device
        self.run_id = run_id
        self.run_dir = Path(run_dir)
        self.sinks = list(sinks)
        self.commands = commands or Commands()
        self.world = world
        self.channels_last = profile.train.channels_last and dataset.kind == "images"
        if self.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        # What the steps train: DDP wrappers under torchrun, compiled when asked; G and D otherwise.
        # G_fast / D_fast are the passes whose gradients are not averaged (G in D's step, D in G's).
        mode = profile.train.compile
        self.cuda_graphs = mode == "reduce-overhead" and device.type == "cuda"
        self.G_train = _compiled(wrap(self.G, world, device), mode)
        self.D_train = _compiled(wrap(self.D, world, device), mode)
        self.G_fast = _compiled(self.G, mode) if world.active else self.G_train
        self.D_fast = _compiled(self.D, mode) if world.active else self.D_train
        self.opt_g = _make_optimizer(profile.optim.g, self.G.parameters(), device)
        self.opt_d = _make_optimizer(profile.optim.d, self.D.parameters(), device)
        self.rng = torch.Generator(device=device).manual_seed(world.seed(profile.train.seed))
        # The fixed noise and the real points shown with samples have their own seed.
        fixed = torch.Generator(device=device).manual_seed(profile.train.seed + 1)
        self.fixed_noise = torch.randn(profile.log.samples, profile.model.latent_dim, generator=fixed, device=device)
        # Conditional models: G draws labels uniformly; the fixed batch cycles through the classes.
        self.num_classes = dataset.num_classes if profile.model.conditioning != "none" else 0
        self.fixed_labels = (torch.arange(profile.log.samples, device=device) % self.num_classes
                             if self.num_classes else None)
        self.fixed_real = dataset.sample(profile.log.samples, fixed)[0] if dataset.kind == "points" else None
        smoothing = profile.tricks.get("label_smoothing")
        self.real_target = smoothing.real if smoothing else 1.0
        noisy = profile.tricks.get("noisy_labels")
        self.flip = noisy.flip if noisy else 0.0
        unrolled = profile.tricks.get("unrolled")
        self.unroll_steps = unrolled.steps if unrolled else 0
        self.d_inputs = DInputs(profile.tricks, self.rng)
        self.autocast = autocast_for(profile.train.precision, device)
        set_matmul_precision(profile.train.precision)
        ema = profile.tricks.get("ema")
        self.ema_decay = ema.decay if ema else None
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False) if ema else None
        # Networks that change with training time (progressive growing) get the step first.
        self._step_hooks = [net.set_step for net in (self.G, self.G_ema, self.D) if hasattr(net, "set_step")]
        self.penalties = build_penalties(profile.loss, profile.tricks, self.rng)
        self.stat_names = STAT_NAMES + tuple(p.name for p in self.penalties)
        self.step = 0
        self.stats = torch.zeros(len(self.stat_names) + 1, device=device)  # sums, then the count
        self._last_logits = None
        self.data_path = data_path  # --data, for the evaluation's real images
        self.evaluations = EvaluationWorker(device)
        self.scheduled_evaluations = bool(profile.eval.every)  # off after one that cannot work (said once)
        self.paused_s = 0.0  # time spent paused this session: left out of the elapsed time, rates and ETA
        self.detector = CollapseDetector(output_kind=loss.output_kind) if profile.eval.collapse else None
        self.lr_scale = 1.0  # the learning rates' factor after divergence rollbacks (train.on_divergence)
        self.rollbacks = 0
        self.notes: list[str] = []  # for the user: newer checkpoints that could not be read on resume

    # -- events ------------------------------------------------------------

    def emit(self, event) -> None:
        for sink in self.sinks:
            sink.handle(event)

    # -- state -------------------------------------------------------------

    def checkpoint(self) -> Path | None:
        if not self.world.is_main:  # rank 0 alone writes the run directory
            return None
        # Never save non-finite weights: the last checkpoint is what a rollback or a resume loads.
        self._check_weights(self._weight_norms().tolist())
        self.ready_sampler()  # `gan-tui eval` and `sample` draw from the saved EMA copy as it is
        weights = {f"{prefix}.{k}": v for prefix, net in self._networks().items() for k, v in net.state_dict().items()}
        state = {
            "step": self.step,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
            "stats": self.stats.clone(),
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        keep = self.profile.checkpoint.keep
        path = save_checkpoint(self.run_dir / "checkpoints", self.step, weights, state, keep)
        self.emit(ev.CheckpointSaved(self.step, str(path)))
        return path

    def restore_latest(self) -> int:
        """Load the newest readable checkpoint; returns its step (0 when there is none)."""
        found = latest_good_checkpoint(self.run_dir / "checkpoints", self.device, on_bad=self.notes.append)
        if found is None:
            return 0
        _, weights, state = found
        for prefix, net in self._networks().items():
            net.load_state_dict({k[len(prefix) + 1:]: v for k, v in weights.items() if k.startswith(prefix + ".")})
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
        self.stats.copy_(state["stats"])
        self.step = int(state["step"])
        self.lr_scale, self.rollbacks = float(state.get("lr_scale", 1.0)), int(state.get("rollbacks", 0))
        self._apply_learning_rates()  # the profile's, --set on resume included, not the saved ones
        if not self.world.is_main:  # the checkpoint holds rank 0's random state; the others derive theirs
            self.rng.manual_seed(self.world.seed(self.profile.train.seed) + self.step)
        for hook in self._step_hooks:  # growing networks resume at their size
            hook(self.step)
        return self.step

    def _apply_learning_rates(self) -> None:
        for opt, settings in ((self.opt_g, self.profile.optim.g), (self.opt_d, self.profile.optim.d)):
            for group in opt.param_groups:
                group["lr"] = settings.lr * self.lr_scale

    @torch.no_grad()
    def _weight_norms(self) -> torch.Tensor:
        """On the device, per network (G, D, G_ema): the sum of its tensors' norms, finite exactly
        when every weight and float buffer is."""
        out = []
        for net in (self.G, self.D, self.G_ema):
            tensors = ([t for t in (*net.parameters(), *net.buffers()) if t.is_floating_point()]
                       if net is not None else [])
            out.append(torch.stack([n.float() for n in torch._foreach_norm(tensors)]).sum() if tensors
                       else torch.zeros((), device=self.device))
        return torch.stack(out)

    def _check_weights(self, norms: list[float]) -> None:
        broken = [name for name, norm in zip(("G", "D", "G_ema"), norms) if not math.isfinite(norm)]
        if len(broken) == 1:
            raise TrainingDiverged(self.step, f"a weight of {broken[0]}")
        if broken:  # all of them: a NaN in one network spreads to the others within a step or two
            raise TrainingDiverged(self.step, f"weights of {', '.join(broken[:-1])} and {broken[-1]}", "are")

    def _roll_back(self, exc: TrainingDiverged) -> bool:
        """train.on_divergence = "rollback": back to the last good checkpoint with lower learning
        rates. False when the profile says stop, the rollbacks are used up or there is no checkpoint."""
        t = self.profile.train
        if t.on_divergence != "rollback" or self.rollbacks >= t.max_rollbacks:
            return False
        if not list_checkpoints(self.run_dir / "checkpoints"):
            return False
        self._collect_evaluations(self.evaluations.wait())  # results of the abandoned steps first
        count = self.rollbacks + 1
        step = self.restore_latest()
        self.rollbacks, self.lr_scale = count, t.rollback_lr_factor ** count
        self._apply_learning_rates()
        message = (f"{exc}; rolled back to the checkpoint at step {step:,} with the learning rates "
                   f"x{self.lr_scale:g} (rollback {count} of {t.max_rollbacks})")
        self.emit(ev.StatusChanged("running", step, message, {"rollback": {
            "count": count, "from_step": exc.step, "to_step": step, "lr_scale": self.lr_scale}}))
        return True

    def _networks(self) -> dict[str, torch.nn.Module]:
        nets = {"G": self.G, "D": self.D}
        if self.G_ema is not None:
            nets["G_ema"] = self.G_ema
        return nets

    @property
    def sampler(self) -> torch.nn.Module:
        """The generator that samples and evaluations use: the EMA copy where enabled."""
        return self.G_ema if self.G_ema is not None else self.G

    def ready_sampler(self) -> torch.nn.Module:
        """The sampler, about to draw samples (or be saved): an EMA copy's batch norms first get
        statistics of their own (standing_stats.py), since the raw G's do not fit averaged weights."""
        if self.G_ema is not None:
            measure_batch_norm_stats(self.G_ema, self.profile.model.latent_dim, self.num_classes,
                                     self.profile.data.batch_size, self.device, seed=self.profile.train.seed + 2)
        return self.sampler

    # -- one step ----------------------------------------------------------

    @torch.no_grad()
    def _update_ema(self) -> None:
        ema, live = list(self.G_ema.parameters()), list(self.G.parameters())
        torch._foreach_lerp_(ema, live, 1.0 - self.ema_decay)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    @torch.no_grad()
    def _clip_d(self, bound: float) -> None:
        params = list(self.D.parameters())
        torch._foreach_clamp_min_(params, -bound)
        torch._foreach_clamp_max_(params, bound)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.profile.model.latent_dim, generator=self.rng, device=self.device)

    def _fake_labels(self, n: int) -> torch.Tensor | None:
        if not self.num_classes:
            return None
        return torch.randint(self.num_classes, (n,), generator=self.rng, device=self.device)

    def _d_output(self, logits: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        return torch.sigmoid(logits) if self.loss.output_kind == "probability" else logits

    def _see(self, x: torch.Tensor) -> torch.Tensor:
        """The batch as D sees it (after DiffAugment / instance noise, if any)."""
        return self.d_inputs(x, self.step) if self.d_inputs.active else x

    def _targets(self, n: int):
        """D's real and fake targets: smoothed, and with a fraction flipped (noisy labels)."""
        if not self.flip:
            return self.real_target, 0.0
        flipped = torch.rand(n, device=self.device, generator=self.rng) < self.flip
        real = torch.where(flipped, 0.0, self.real_target)
        fake = flipped.float()
        return real, fake

    def _d_step(self, batch: int):
        real, labels = self.data.sample(batch, self.rng)
        if self.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        labels = labels if self.num_classes else None
        z, fake_labels = self._noise(batch), self._fake_labels(batch)
        real_target, fake_target = self._targets(batch)
        with self.autocast:
            with torch.no_grad():
                fake = self.G_fast(z, fake_labels)
            real_logits = self.D_train(self._see(real), labels)
            fake_logits = self.D_train(self._see(fake), fake_labels)
            d_loss = self.loss.d_loss(real_logits.float(), fake_logits.float(), real_target, fake_target)
        terms = [penalty(self.D_train, real, fake, labels) for penalty in self.penalties]
        self.opt_d.zero_grad(set_to_none=True)
        sum(terms, d_loss).backward()
        self.opt_d.step()
        if self.loss.clip:
            self._clip_d(self.loss.clip)
        return d_loss, terms, real_logits, fake_logits

    def _g_step(self, batch: int) -> torch.Tensor:
        z, fake_labels = self._noise(batch), self._fake_labels(batch)
        with self.autocast:
            # D itself, not its DDP wrapper: D's gradients from this pass are thrown away, so
            # averaging them across ranks would be wasted traffic.
            g_logits = self.D_fast(self._see(self.G_train(z, fake_labels)), fake_labels)
            g_loss = self.loss.g_loss(g_logits.float())
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.G_ema is not None:
            self._update_ema()
        return g_loss

    def train_step(self) -> None:
        batch = self.profile.data.batch_size
        if self.cuda_graphs:  # a new step: the graphs may reuse the last step's output memory
            torch.compiler.cudagraph_mark_step_begin()
        for hook in self._step_hooks:
            hook(self.step)
        for _ in range(self.profile.train.n_critic):
            d_loss, terms, real_logits, fake_logits = self._d_step(batch)
        if self.unroll_steps:
            # Look ahead: G is updated against D after k more steps, then D goes back.
            saved_d = copy.deepcopy(self.D.state_dict())
            saved_opt = copy.deepcopy(self.opt_d.state_dict())
            for _ in range(self.unroll_steps):
                self._d_step(batch)
            g_loss = self._g_step(batch)
            self.D.load_state_dict(saved_d)
            self.opt_d.load_state_dict(saved_opt)
        else:
            g_loss = self._g_step(batch)

        p = self.profile
        if self._due(self.step + 1, p.log.histograms_every):
            # Copies: with CUDA graphs the next step writes over these outputs.
            self._last_logits = (real_logits.detach().clone(), fake_logits.detach().clone())
        with torch.no_grad():
            self.stats += torch.stack([d_loss.detach().float(), g_loss.detach().float(),
                                       self._d_output(real_logits).mean(), self._d_output(fake_logits).mean(),
                                       *(t.detach().float() for t in terms), torch.ones((), device=self.device)])
        self.step += 1

    # -- reporting ---------------------------------------------------------

    def _log_scalars(self) -> None:
        # The one sync per log interval: the interval's sums, and whether every weight is finite
        # (a NaN in G that shows in no loss yet is caught here, within one log interval).
        sums = sum_across_ranks(self.stats, self.world)
        fetched = torch.cat([sums, self._weight_norms().to(sums.dtype)]).tolist()
        sums, norms = fetched[:len(self.stats)], fetched[len(self.stats):]
        self.stats.zero_()
        count = max(sums[-1], 1.0)
        values = {name: float(sums[i] / count) for i, name in enumerate(self.stat_names)}
        bad = [name for name, v in values.items() if not math.isfinite(v)]
        self._check_weights(norms)  # a broken weight first: it is the cause of a broken loss
        if bad:
            raise TrainingDiverged(self.step, bad[0])
        self.emit(ev.Scalars(self.step, values, time.time()))
        if self.detector is not None and "d_real" in values:
            self._raise_alarms(self.detector.observe_d(self.step, values["d_real"], values["d_fake"]))

    def _log_histograms(self) -> None:
        if self._last_logits is None or not self.world.is_main:
            return
        real, fake = (self._d_output(t).cpu().numpy() for t in self._last_logits)
        self.emit(ev.Histograms(self.step, self.loss.output_kind, real, fake))

    @torch.no_grad()
    def sample_event(self) -> ev.Samples:
        generator = self.ready_sampler()
        was_training = generator.training
        generator.eval()
        try:
            out = generator(self.fixed_noise, self.fixed_labels).float()
        finally:
            generator.train(was_training)
        if self.data.kind == "images":
            images = ((out + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
            labels = self.fixed_labels.cpu().numpy() if self.fixed_labels is not None else None
            return ev.Samples(self.step, images=images, labels=labels)
        extent = float(self.data.extent)
        axis = torch.linspace(-extent, extent, SURFACE_SIDE, device=self.device)
        ys, xs = torch.meshgrid(axis.flip(0), axis, indexing="ij")  # row 0 is the top (+y)
        grid = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
        was_training = self.D.training
        self.D.eval()
        try:
            surface = self._d_output(self.D(grid)).view(SURFACE_SIDE, SURFACE_SIDE)
        finally:
            self.D.train(was_training)
        if self.loss.output_kind == "score":  # scale critic scores to [0, 1] for shading
            surface = (surface - surface.min()) / (surface.max() - surface.min() + 1e-12)
        return ev.Samples(self.step, points=out.cpu().numpy(), real_points=self.fixed_real.cpu().numpy(),
                          surface=surface.cpu().numpy(), extent=extent)

    # -- evaluations and collapse alarms ----------------------------------

    def _evaluation_job(self):
        """On the training thread: snapshot G (the EMA copy where enabled) at this step and
        return the function the evaluation thread runs on the snapshot."""
        snapshot = frozen_copy(self.ready_sampler(), self.device)
        p, step, device, data_path = self.profile, self.step, self.device, self.data_path

        def job() -> dict:
            return evaluate_generator(snapshot, p.data, n=p.eval.n, device=device, features=p.eval.features,
                                      seed=p.train.seed, inception_weights=p.eval.inception_weights or None,
                                      data_path=data_path, step=step, frozen=True)
        return job

    def request_evaluation(self, on_demand: bool = False) -> None:
        if self.evaluations.outstanding >= MAX_OUTSTANDING:
            self.emit(ev.EvaluationFailed(self.step, f"skipped: {MAX_OUTSTANDING} evaluations are still "
                                                     "running or waiting; raise eval.every or lower eval.n"))
            return
        self.evaluations.submit(self.step, self._evaluation_job(), on_demand)

    def _collect_evaluations(self, outcomes=None) -> None:
        for o in self.evaluations.collect() if outcomes is None else outcomes:
            if o.started:
                self.emit(ev.EvaluationStarted(o.step, o.on_demand))
            elif o.error:
                if o.bad_input and self.scheduled_evaluations:
                    self.scheduled_evaluations = False
                    o.error += " (no more scheduled evaluations in this run)"
                self.emit(ev.EvaluationFailed(o.step, o.error))
            else:
                self.emit(ev.Evaluated(o.step, o.metrics, o.on_demand))
                # Toys feed the detector from every sample batch instead (_emit_samples).
                if self.detector is not None and self.data.kind != "points":
                    self._raise_alarms(self.detector.observe_metrics(o.step, o.metrics))

    def _raise_alarms(self, alarms: list[Alarm]) -> None:
        for alarm in alarms:
            self.emit(ev.CollapseAlarm(alarm.step, alarm.rule, alarm.reason, alarm.since))

    def _emit_samples(self) -> None:
        if not self.world.is_main:
            return
        event = self.sample_event()
        self.emit(event)
        if self.detector is not None and event.points is not None:
            # The toys' collapse signals (modes, diversity) take milliseconds on ~1k points.
            signals = toy_signals(event.points, self.data, event.real_points, seed=self.profile.train.seed)
            self._raise_alarms(self.detector.observe_metrics(self.step, signals))

    # -- the loop ----------------------------------------------------------

    def _handle(self, command: Command | None) -> bool:
        """Apply one command; False means stop now."""
        if command is None:
            return True
        if command is Command.CHECKPOINT:
            self.checkpoint()
        elif command is Command.EVALUATE:
            if self.world.is_main:
                self.request_evaluation(on_demand=True)
        elif command is Command.PAUSE:
            self.emit(ev.StatusChanged("paused", self.step))
            beat = paused_at = time.monotonic()
            try:
                while True:
                    nxt = self.commands.wait(timeout=PROGRESS_PERIOD_S)
                    if nxt is None:  # evaluations asked for while paused still report
                        self._collect_evaluations()
                        if time.monotonic() - beat >= PAUSED_HEARTBEAT_S:
                            beat = time.monotonic()
                            self.emit(ev.Heartbeat(self.step))
                        continue
                    if nxt is Command.RESUME:
                        self.emit(ev.StatusChanged("running", self.step))
                        return True
                    if nxt is Command.STOP:
                        return False
                    if nxt is not Command.PAUSE and not self._handle(nxt):  # already paused: PAUSE is a no-op
                        return False
            finally:
                self.paused_s += time.monotonic() - paused_at
        elif command is Command.STOP:
            return False
        return True

    def _due(self, step: int, every: int) -> bool:
        """Whether something logged every `every` steps happens at `step` (the last step always)."""
        return step % every == 0 or step == self.profile.train.steps

    def _next_command(self) -> Command | None:
        """This step's command. Under torchrun, rank 0's, shared with every rank once per log
        interval (they must all stop at the same step); pausing is for the dashboard only."""
        if not self.world.active:
            return self.commands.poll()
        if self.step % self.profile.log.every:
            return None
        command = self.commands.poll() if self.world.is_main else None
        if command in (Command.PAUSE, Command.RESUME):
            command = None
        return broadcast_object(command, self.world)

    def run(self) -> str:
        """Train to the last step. Returns "finished" or "interrupted"; raises TrainingDiverged on
        NaN/Inf (after marking the run) unless train.on_divergence = "rollback" can roll back."""
        p = self.profile
        total = p.train.steps
        images_per_step = p.data.batch_size * self.world.size
        self.emit(ev.RunStarted(self.run_id, str(self.run_dir), p.name, total, self.step, str(self.device),
                                self.data.kind, self.loss.output_kind, p.data.batch_size, self.world.size,
                                tuple(self.data.shape), self.num_classes))
        if self.step == 0:
            self._emit_samples()
        start = last_report = time.monotonic()
        start_step = report_step = self.step
        paused_then = self.paused_s  # pauses before the last report
        rate = 0.0
        while True:  # once, and again after each rollback of a divergence
            try:
                while self.step < total:
                    self._collect_evaluations()
                    if not self._handle(self._next_command()):
                        self.checkpoint()
                        self.emit(ev.StatusChanged("interrupted", self.step, "stopped by request"))
                        return "interrupted"
                    self.train_step()
                    s = self.step
                    if self._due(s, p.log.every):
                        self._log_scalars()
                    if self._due(s, p.log.histograms_every):
                        self._log_histograms()
                    if self._due(s, p.log.samples_every):
                        self._emit_samples()
                    if self._due(s, p.checkpoint.every):
                        self.checkpoint()
                    if self.scheduled_evaluations and self.world.is_main and self._due(s, p.eval.every):
                        self.request_evaluation()
                    now = time.monotonic()
                    if now - last_report >= PROGRESS_PERIOD_S or s == total:
                        elapsed = now - start - self.paused_s
                        if s == total:  # the last window can be a few steps and a checkpoint: give the mean
                            rate = (s - start_step) / max(elapsed, 1e-9)
                        else:
                            rate = (s - report_step) / max(now - last_report - (self.paused_s - paused_then), 1e-9)
                        last_report, report_step, paused_then = now, s, self.paused_s
                        self.emit(self._progress(s, total, rate, images_per_step, elapsed, start_step))
                break
            except TrainingDiverged as exc:
                if not self._roll_back(exc):
                    self.emit(ev.StatusChanged("diverged", exc.step, str(exc)))
                    raise
                last_report, report_step, paused_then = time.monotonic(), self.step, self.paused_s
        self._check_ranks_agree()
        self._collect_evaluations(self.evaluations.wait())  # the last evaluation belongs to the run
        self.emit(ev.StatusChanged("finished", self.step))
        return "finished"

    @torch.no_grad()
    def _check_ranks_agree(self) -> None:
        """Under torchrun, every rank must end with the same weights; if not, DDP was bypassed."""
        if not self.world.active:
            return
        mine = torch.stack([torch.stack([p.double().sum() for p in net.parameters()]).sum()
                            for net in (self.G, self.D)])
        lowest, highest = mine.clone(), mine.clone()
        torch.distributed.all_reduce(lowest, torch.distributed.ReduceOp.MIN)
        torch.distributed.all_reduce(highest, torch.distributed.ReduceOp.MAX)
        if not torch.allclose(lowest, highest, rtol=1e-6, atol=1e-8):
            raise RuntimeError(f"the {self.world.size} ranks ended with different weights: "
                               "their gradients were not averaged")

    def _progress(self, step, total, rate, images_per_step, elapsed, start_step) -> ev.Progress:
        mean_rate = (step - start_step) / max(elapsed, 1e-9)
        mem = peak = 0
        if self.device.type == "cuda":
            mem = torch.cuda.memory_allocated(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        eta = (total - step) / mean_rate if mean_rate > 0 else float("inf")
        return ev.Progress(step, total, rate, rate * images_per_step, elapsed, eta, mem, peak)
