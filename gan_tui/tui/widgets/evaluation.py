"""Evaluation panes: the FID timeline with the other scores, and diversity / coverage / collapse alarms.

They show only what the evaluator reported (the latest Evaluated event's
metrics), each score under the label the evaluator gave it, so an offline
"FID (domain)" is never read as Inception FID. Until a result arrives they
say so ("not computed yet") rather than show a number.
"""

import math

from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from gan_tui.metrics.best_fid import headline_name
from gan_tui.metrics.classes import MIN_FRACTION, weakest_class
from gan_tui.metrics.readout import mean_and_spread
from gan_tui.metrics.toy_modes import PACGAN_MIN_SHARE
from gan_tui.tui import bars, plot
from gan_tui.tui.model import RunModel
from gan_tui.tui.widgets.base import DIM, Pane

NOTE = Style(italic=True)
BOLD = Style(bold=True)
FID_COLOUR = (230, 145, 56)
BEST_COLOUR = (110, 210, 120)
BAR = Style(color=Color.from_rgb(86, 156, 214))
MARK = Style(color=Color.from_rgb(200, 200, 200), bold=True)
BAD = Style(color=Color.from_rgb(240, 100, 100))
MIN_PLOT_WIDTH = 30  # below this the table goes under the plot
TABLE_KEYS = ("precision", "recall", "density", "coverage")  # after KID and IS, in this order
# Keys drawn by name somewhere in these panes; any other numeric key with a label (a CycleGAN's
# cycle_error, say) goes into the FID pane's table as it is.
SHOWN = {"fid", "kid", "kid_mean", "kid_std", "is", "is_mean", "is_std", *TABLE_KEYS, "diversity", "near_duplicates",
         "modes_captured", "modes_total", "high_quality", "per_mode", "classes_covered", "classes_total", "class_kl",
         "n", "seconds", "step"}


def num(value) -> str:
    """A score as the evaluator gave it, to about four significant figures."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3g}"


def label(metrics: dict, key: str, default: str) -> str:
    return (metrics.get("labels") or {}).get(key, default)


def numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def pending_lines(m: RunModel) -> list[tuple[str, Style]]:
    """What is under way or went wrong: a running or requested evaluation, the last failure."""
    out = []
    if m.evaluating is not None:
        out.append((f"evaluating at step {m.evaluating:,}…", NOTE))
    if m.requested is not None:
        out.append((f"evaluation requested at step {m.requested:,}…", NOTE))
    if m.eval_failure is not None:
        out.append((f"evaluation at step {m.eval_failure.step:,} failed: {m.eval_failure.message}", BAD))
    return out


def not_computed(m: RunModel, what: str) -> list[tuple[str, Style]]:
    """The pane's whole content before the first result."""
    if m.evaluating is not None or m.requested is not None:
        first = f"{what} not computed yet"
    elif m.active:
        first = f"{what} not computed yet — press f to evaluate now"
    else:
        first = f"{what} not computed: no evaluation ran (gan-tui eval RUN evaluates a saved checkpoint)"
    return [(first, NOTE), *pending_lines(m)]


class EvaluationPane(Pane):
    def data_key(self):
        v = self.model.versions
        return v["evaluation"], v["status"]  # status: "press f" only while a trainer can take it

    def styled_rows(self, lines: list[tuple[str, Style]], width: int) -> list[list[Segment]]:
        return [row for text, style in lines for row in self.text_rows([text], width, style)]


class FidPane(EvaluationPane):
    TITLE = "FID"

    def draw(self, width, height):
        m = self.model
        metrics = m.metrics
        self.border_title = self.headline_name(metrics) if metrics else self.TITLE
        if metrics is None:
            return self.styled_rows(not_computed(m, "FID"), width)
        head = [*self.summary(metrics, width), *self.styled_rows(pending_lines(m), width)]
        table = self.table(metrics)
        # Why this extractor (e.g. no Inception weights here, so the domain evaluator): the whole
        # width, wrapped, under the rest.
        notes = self.text_rows([f"note: {note}" for note in metrics.get("notes") or []], width, DIM)
        room = max(height - len(head) - len(notes), 0)
        table_width = max((_length(row) for row in table), default=0) + 1
        if width - table_width - 1 >= MIN_PLOT_WIDTH:  # the table beside the plot, never cut
            graph = self.timeline(width - table_width - 1, room)
            table = [Segment.adjust_line_length(row, table_width) for row in table]
            return head + [[*Segment.adjust_line_length(g, width - table_width - 1), Segment(" "), *t]
                           for g, t in zip(graph, table + [[]] * (room - len(table)))] + notes
        graph_height = max(room - len(table), min(room, 5))  # the timeline keeps a few rows; the table is cut
        return head + self.timeline(width, graph_height) + table + notes

    def headline_name(self, metrics: dict) -> str:
        """"FID", "FID (domain)", ... or, for a translation run, "cycle error A→B→A"."""
        return headline_name(metrics, self.model.headline or "fid")

    def summary(self, metrics: dict, width: int) -> list[list[Segment]]:
        """The latest FID (or cycle error) and the best so far, each with its step: one row, or two when narrow."""
        m = self.model
        value = metrics.get(m.headline) if m.headline else None
        if value is None:
            return self.text_rows([f"no FID in the evaluation at step {m.metrics_step:,}"], width, NOTE)
        latest = [Segment("━ ", Style(color=Color.from_rgb(*FID_COLOUR))),
                  Segment(f"{self.headline_name(metrics)} {num(value)}", BOLD), Segment(f" @ {m.metrics_step:,}")]
        if m.best_fid is None:
            return [latest]
        value, step = m.best_fid
        best = [Segment("┄ ", Style(color=Color.from_rgb(*BEST_COLOUR))), Segment(f"best {num(value)} @ {step:,}")]
        if _length(latest) + 2 + _length(best) <= width:
            return [[*latest, Segment("  "), *best]]
        return [latest, best]

    def timeline(self, width: int, height: int) -> list[list[Segment]]:
        m = self.model
        steps, values = m.fid_steps.view(), m.fid_values.view()
        if height <= 0:
            return []
        if len(steps) == 0:
            return [[] for _ in range(height)]
        lines = [plot.Line(*plot.downsample(steps, values, 2 * width), FID_COLOUR)]
        if m.best_fid is not None and len(steps) > 1:
            lines.insert(0, plot.hline(m.best_fid[0], float(steps.min()), float(steps.max()), BEST_COLOUR))
        # One evaluation so far: the axis from step 0 to it, not "400───400" around a lone dot.
        xlim = (0.0, float(steps[0])) if len(steps) == 1 and steps[0] > 0 else None
        return plot.render(width, height, lines, xlim=xlim)

    def table(self, metrics: dict) -> list[list[Segment]]:
        rows = []
        if "kid_mean" in metrics:
            rows.append((label(metrics, "kid", "KID"), mean_and_spread(metrics["kid_mean"], metrics.get("kid_std"))))
        if "is_mean" in metrics:
            rows.append((label(metrics, "is", "IS"), mean_and_spread(metrics["is_mean"], metrics.get("is_std"))))
        rows += [(label(metrics, key, key), num(metrics[key])) for key in TABLE_KEYS if key in metrics]
        rows += [(text, _percent(metrics[key]) if "accuracy" in key else num(metrics[key]))  # as `gan-tui eval` has them
                 for key, text in (metrics.get("labels") or {}).items() if key not in SHOWN and numeric(metrics.get(key))]
        weakest = weakest_class(metrics)  # a conditional G: its worst class, which the mean hides
        if weakest:
            rows.append(("lowest class", f"{weakest[0]} {_percent(weakest[1])}"))
        width = max((len(text) for text, _ in rows), default=0)
        out = [[Segment(text.ljust(width) + "  ", DIM), Segment(value)] for text, value in rows]
        if "n" in metrics:
            took = f" in {metrics['seconds']:.1f} s" if numeric(metrics.get("seconds")) else ""
            out.append([Segment(f"{num(metrics['n'])} samples{took}", DIM)])
        return out


TRANSLATION_NOTE = ("diversity and mode coverage are not measured for a translation run (CycleGAN): each output "
                    "follows its input image; the FID pane has the cycle errors and the domain classifier's accuracy")


class DiversityPane(EvaluationPane):
    TITLE = "Diversity and collapse"

    def data_key(self):
        return *super().data_key(), self.model.versions["alarms"]

    def draw(self, width, height):
        m = self.model
        alarms = self.alarm_rows(width, max(height // 2, 2))
        if m.metrics is None:
            return self.styled_rows(not_computed(m, "diversity"), width) + alarms
        head = self.summary(m.metrics, width)
        coverage = self.coverage(m.metrics, width, height - len(head) - len(alarms))
        if "cycle_error_a" in m.metrics and "diversity" not in m.metrics:
            head = self.text_rows([TRANSLATION_NOTE], width, NOTE) + head
        return head + coverage + alarms

    def summary(self, metrics: dict, width: int) -> list[list[Segment]]:
        rows = []
        for key, default, hint, show in (("diversity", "diversity", "real data ≈ 1", num),
                                         ("near_duplicates", "near-duplicates", "real data ≈ 1%", _percent)):
            if numeric(metrics.get(key)):
                rows.append((label(metrics, key, default), show(metrics[key]), hint))
        lw = max((len(text) for text, _, _ in rows), default=0)
        vw = max((len(value) for _, value, _ in rows), default=0)
        out = [[Segment(text.ljust(lw) + "  ", DIM), Segment(value.ljust(vw), BOLD),
                Segment(f"  ({hint})" if lw + vw + len(hint) + 4 <= width else "", DIM)]  # hints only if they fit
               for text, value, hint in rows]
        return out + self.styled_rows(pending_lines(self.model), width)

    def coverage(self, metrics: dict, width: int, room: int) -> list[list[Segment]]:
        if "per_mode" in metrics:
            return self.mode_rows(metrics, width, room)
        if "class_histogram" in metrics:
            return self.class_rows(metrics, width, room)
        return []

    def mode_rows(self, metrics: dict, width: int, room: int) -> list[list[Segment]]:
        counts = [int(c) for c in metrics["per_mode"]]
        n = metrics.get("n") or sum(counts)
        # A mode counts as captured from PacGAN's share of the samples (metrics/toy_modes.py).
        needed = max(1, math.ceil(PACGAN_MIN_SHARE * n))
        captured = metrics.get("modes_captured", sum(c >= needed for c in counts))
        head = [Segment(f"{label(metrics, 'modes_captured', 'modes captured')} "),
                Segment(f"{captured}/{metrics.get('modes_total', len(counts))}", BOLD)]
        if numeric(metrics.get("high_quality")):
            head += [Segment(f" · {label(metrics, 'high_quality', 'high-quality')} "),
                     Segment(_percent(metrics["high_quality"]), BOLD)]
        rows = self.text_rows(["".join(s.text for s in head)], width) if _length(head) > width else [head]
        even = sum(counts) / max(len(counts), 1)
        names = [f"mode {i + 1}" for i in range(len(counts))]
        return rows + self.bar_rows("mode", names, counts, even, [c < needed for c in counts], num, "┊ even share",
                                    width, room - len(rows))

    def class_rows(self, metrics: dict, width: int, room: int) -> list[list[Segment]]:
        fake, real = metrics["class_histogram"], metrics.get("real_class_histogram") or []
        names = metrics.get("class_names") or [str(i) for i in range(len(fake))]
        missing = set(metrics.get("missing_classes") or [])
        parts = [f"{label(metrics, 'classes_covered', 'classes covered')} "
                 f"{metrics.get('classes_covered', '?')}/{metrics.get('classes_total', len(fake))}"]
        if numeric(metrics.get("class_kl")):
            parts.append(f"{label(metrics, 'class_kl', 'class KL')} {num(metrics['class_kl'])}")
        if missing:
            parts.append(f"missing: {', '.join(sorted(missing, key=str))}")
        rows = self.part_rows(parts, width)
        marks = real if len(real) == len(fake) else [None] * len(fake)
        # Missing by name where the evaluator sent class names, else by the rule metrics/classes.py uses.
        bad = [name in missing or (mark is not None and share < MIN_FRACTION * mark)
               for name, share, mark in zip(names, fake, marks)]
        return rows + self.bar_rows("class", names, fake, marks, bad, _percent, "┊ real share" if real else "",
                                    width, room - len(rows))

    def bar_rows(self, what, names, values, marks, bad, show, legend, width, room) -> list[list[Segment]]:
        """One bar per mode or class when they fit, else one sparkline row; marks: one value or one per bar."""
        if room <= 0 or not values:
            return []
        marks = marks if isinstance(marks, list) else [marks] * len(values)
        if room < len(values) + 1:
            return [[Segment(f"per {what} ", DIM), *bars.sparkline(values, BAR, BAD)]]
        scale = max([*values, *(x for x in marks if x is not None)]) or 1
        name_w = min(max(len(str(n)) for n in names), 14)
        value_w = max(len(show(v)) for v in values)
        bar_w = max(width - name_w - value_w - 3, 4)
        out = []
        for name, value, mark, missed in zip(names, values, marks, bad):
            out.append([Segment(str(name)[:name_w].rjust(name_w) + " ", BAD if missed else DIM),
                        *bars.bar(value, scale, bar_w, BAD if missed else BAR, mark, MARK),
                        Segment(" " + show(value).rjust(value_w), BAD if missed else None)])
        return out + ([[Segment(" " * (name_w + 1)), Segment(legend, DIM)]] if legend else [])

    def alarm_rows(self, width: int, room: int) -> list[list[Segment]]:
        """The collapse alarms, newest first, as many as fit in `room` rows."""
        alarms = self.model.alarms
        if not alarms:
            return [[Segment("no collapse alarm", DIM)]]
        out = [[Segment(f"collapse alarms ({len(alarms)})", BAD + BOLD)]]
        for alarm in reversed(alarms):
            rows = self.text_rows([f"step {alarm.step:,} ({alarm.rule}): {alarm.reason}"], width, BAD)
            if len(out) + len(rows) > room and len(out) > 1:
                break
            out += rows
        return out


def _percent(value) -> str:
    return f"{100 * value:.1f}%" if numeric(value) and math.isfinite(value) else num(value)


def _length(row: list[Segment]) -> int:
    return sum(len(s.text) for s in row)
