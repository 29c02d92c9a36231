"""Mode-collapse detector: a few explainable rules over the metrics of a run.

Fed, in step order, evaluation results (dicts with any of `diversity`,
`near_duplicates`, `modes_captured`/`modes_total`/`high_quality`,
`classes_covered`/`classes_total`/`class_kl`) and D's mean outputs per log
interval, it returns alarms: the step, the rule, and one sentence saying why
with the numbers. It is deterministic: the same sequence gives the same
alarms, and nothing is random or learned.

Rules (each must hold at `patience` consecutive observations after
`warmup_steps`, so one noisy evaluation never raises an alarm; a rule that
fired stays quiet until its condition clears):

- diversity: generated samples spread less than `min_diversity` (0.5) of
  what real samples do (mean pairwise feature distance ratio);
- near_duplicates: more than `max_near_duplicates` (25%) of samples have a
  near-copy among the others (real data: about 1%);
- modes_lost (toys): the modes captured fell to at most half of their best,
  after at least half the modes had been captured once;
- few_modes (toys): samples are sharp (at least half within 3 std of a
  centre) yet sit on at most a quarter of the modes;
- classes (labelled images): the domain classifier finds fewer than half
  the classes, or KL(generated || real) over classes above 0.5 nats;
- d_separates (probability outputs only): D tells real from fake almost
  perfectly, mean D(x) - D(G(z)) at least 0.9 for `d_patience` log intervals,
  so G gets vanishing gradients and usually collapses or stalls.

Thresholds were set on ring8: the shipped profile (5 seeds, 6000 steps)
never crosses them, and a plain GAN without its tricks crosses the
diversity rule within 1000 steps (benchmarks/collapse_seeds.py).
"""

from dataclasses import asdict, dataclass, field


@dataclass
class Thresholds:
    warmup_steps: int = 500
    patience: int = 3  # consecutive evaluations
    min_diversity: float = 0.5
    max_near_duplicates: float = 0.25
    mode_drop: float = 0.5
    few_modes_quality: float = 0.5
    few_modes_fraction: float = 0.25
    min_class_fraction: float = 0.5
    max_class_kl: float = 0.5
    d_gap: float = 0.9
    d_patience: int = 10  # consecutive log intervals


@dataclass
class Alarm:
    step: int
    rule: str
    reason: str
    since: int  # the first step of the streak that raised it
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"step {self.step:,}: {self.reason}"


class _Streak:
    """Counts consecutive observations where a condition holds; fires once per streak."""

    def __init__(self, needed: int):
        self.needed = needed
        self.count = 0
        self.since = None
        self.fired = False

    def update(self, holds: bool, step: int) -> bool:
        if not holds:
            self.count, self.since, self.fired = 0, None, False
            return False
        if self.count == 0:
            self.since = step
        self.count += 1
        if self.count >= self.needed and not self.fired:
            self.fired = True
            return True
        return False


class CollapseDetector:
    """Feed it `observe_metrics(step, metrics)` and `observe_d(step, d_real, d_fake)`; read `alarms`."""

    RULES = ("diversity", "near_duplicates", "modes_lost", "few_modes", "classes", "d_separates")

    def __init__(self, thresholds: Thresholds | None = None, output_kind: str = "probability"):
        self.t = thresholds or Thresholds()
        self.output_kind = output_kind
        self.alarms: list[Alarm] = []
        self._streaks = {rule: _Streak(self.t.d_patience if rule == "d_separates" else self.t.patience)
                         for rule in self.RULES}
        self._peak_modes = 0
        self._peak_step = 0
        self._d: tuple[float, float] | None = None  # the latest D(x), D(G(z))

    # -- helpers ----------------------------------------------------------

    def _d_context(self) -> str:
        if self._d is None:
            return ""
        real, fake = self._d
        if self.output_kind == "probability":
            return f"; D(x) = {real:.2f}, D(G(z)) = {fake:.2f}"
        return f"; critic scores real {real:.3g}, fake {fake:.3g}"

    def _check(self, rule: str, holds: bool, step: int, reason, values: dict) -> list[Alarm]:
        streak = self._streaks[rule]
        if streak.update(holds, step):
            alarm = Alarm(step, rule, reason(streak.since), streak.since, values)
            self.alarms.append(alarm)
            return [alarm]
        return []

    # -- inputs -----------------------------------------------------------

    def observe_metrics(self, step: int, metrics: dict) -> list[Alarm]:
        """One evaluation's results at `step`; returns the alarms it raised (often none)."""
        t = self.t
        new: list[Alarm] = []
        if "modes_captured" in metrics and metrics["modes_captured"] > self._peak_modes:
            self._peak_modes, self._peak_step = metrics["modes_captured"], step
        if step < t.warmup_steps:
            return new
        n_obs = t.patience
        ctx = self._d_context()

        div = metrics.get("diversity")
        if div is not None:
            new += self._check("diversity", div < t.min_diversity, step, lambda since: (
                f"mode collapse: generated samples spread only {div:.2f} of what real samples do "
                f"(below {t.min_diversity}) at {n_obs} evaluations in a row since step {since:,}{ctx}"),
                {"diversity": div})

        dup = metrics.get("near_duplicates")
        if dup is not None:
            new += self._check("near_duplicates", dup > t.max_near_duplicates, step, lambda since: (
                f"mode collapse: {dup:.0%} of generated samples are near-duplicates of one another "
                f"(above {t.max_near_duplicates:.0%}; real data about 1%) since step {since:,}{ctx}"),
                {"near_duplicates": dup})

        if "modes_captured" in metrics:
            modes, total = metrics["modes_captured"], metrics.get("modes_total", 0)
            peak, peak_step = self._peak_modes, self._peak_step
            lost = total and peak >= total / 2 and modes <= peak * t.mode_drop
            new += self._check("modes_lost", bool(lost), step, lambda since: (
                f"mode collapse: modes captured fell from {peak}/{total} (step {peak_step:,}) to {modes}/{total} "
                f"since step {since:,}{ctx}"), {"modes_captured": modes, "peak": peak})
            quality = metrics.get("high_quality", 0.0)
            few = total and quality >= t.few_modes_quality and modes <= total * t.few_modes_fraction
            new += self._check("few_modes", bool(few), step, lambda since: (
                f"mode collapse: {quality:.0%} of samples are sharp but sit on only {modes} of {total} modes "
                f"since step {since:,}{ctx}"), {"modes_captured": modes, "high_quality": quality})

        if "classes_covered" in metrics:
            covered, total = metrics["classes_covered"], metrics.get("classes_total", 0)
            kl = metrics.get("class_kl", 0.0)
            bad = (total and covered < total * t.min_class_fraction) or kl > t.max_class_kl
            missing = metrics.get("missing_classes") or []
            new += self._check("classes", bool(bad), step, lambda since: (
                f"mode collapse: the domain classifier finds {covered} of {total} classes in the samples "
                f"(KL to the real class mix {kl:.2f} nats)"
                + (f", missing {', '.join(map(str, missing[:5]))}" if missing else "")
                + f" since step {since:,}{ctx}"), {"classes_covered": covered, "class_kl": kl})
        return new

    def observe_d(self, step: int, d_real: float, d_fake: float) -> list[Alarm]:
        """D's mean outputs over the log interval ending at `step` (Scalars d_real, d_fake)."""
        self._d = (d_real, d_fake)
        if self.output_kind != "probability" or step < self.t.warmup_steps:
            return []
        gap = d_real - d_fake
        return self._check("d_separates", gap >= self.t.d_gap, step, lambda since: (
            f"D separates real from fake almost perfectly (D(x) = {d_real:.2f}, D(G(z)) = {d_fake:.2f}) "
            f"for {self.t.d_patience} log intervals since step {since:,}: G's gradients vanish and it "
            f"usually collapses or stalls"), {"d_real": d_real, "d_fake": d_fake})


def detect_collapse(metrics: list[tuple[int, dict]], d_outputs: list[tuple[int, float, float]] = (),
                    thresholds: Thresholds | None = None, output_kind: str = "probability") -> list[Alarm]:
    """Alarms for a whole run at once: evaluations (step, metrics) and D outputs (step, D(x), D(G(z))),
    merged in step order (D outputs first at equal steps, so reasons quote the latest D)."""
    detector = CollapseDetector(thresholds, output_kind)
    events = [(step, 0, (d_real, d_fake)) for step, d_real, d_fake in d_outputs]
    events += [(step, 1, values) for step, values in metrics]
    for step, kind, payload in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            detector.observe_d(step, *payload)
        else:
            detector.observe_metrics(step, payload)
    return detector.alarms
