"""The dashboard's evaluation side: `f`, the FID and diversity panes, collapse alarms, failures.

Pilot tests feed the app the scripted trainer (gan_tui.tui.fake) or push engine
events through its sink, then assert on the text the terminal shows.
"""

import math
import re
from pathlib import Path

from rich.segment import Segment

from gan_tui.train import events as ev
from gan_tui.train.control import Command
from gan_tui.tui import bars
from gan_tui.tui.fake import evaluation_metrics, screen_text, scripted_app, scripted_events, started, wait_until
from gan_tui.tui.model import RunModel
from gan_tui.tui.screens.training import PANES
from gan_tui.tui.widgets.evaluation import DiversityPane, FidPane, num


def make_app(tmp_path: Path, kind: str = "points", evaluate_every: int = 0, hold: bool = True):
    run_dir = tmp_path / "run"
    return scripted_app(run_dir, scripted_events(kind, run_dir=str(run_dir), evaluate_every=evaluate_every), hold)


async def shown(pilot, pane_id: str) -> str:
    """Bring `pane_id` up (one pane at a time at 80x24), draw everything now, return the screen text."""
    app = pilot.app
    ids = [pane_id for pane_id, _ in PANES]
    app.screen.show_pane(ids.index(pane_id))
    await pilot.pause()
    app.screen.redraw(force=True)
    await pilot.pause()
    return screen_text(app)


def pane_text(app, pane_id: str) -> str:
    """What the pane drew inside its border, one line per row."""
    return "\n".join(strip.text for strip in app.screen.query_one(f"#{pane_id}")._strips)


async def feed(pilot, *events) -> None:
    """Events as the trainer would send them, applied before returning (the app drains and
    applies everything queued in one handler, so an empty queue means all were applied)."""
    app = pilot.app
    for event in events:
        app.sink.handle(event)
    await wait_until(pilot, lambda: not app.sink._queue)
    await pilot.pause()


def image_metrics(step: int, fid: float) -> dict:
    return {**evaluation_metrics("images", step, 1000), "fid": fid}


# -- before any evaluation --------------------------------------------------------

async def test_before_any_evaluation_the_panes_say_not_computed(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        text = await shown(pilot, "fid")
        assert "FID not computed yet — press f to evaluate now" in text
        assert not any(ch.isdigit() for ch in pane_text(app, "fid"))  # no number at all
        await shown(pilot, "diversity")
        text = pane_text(app, "diversity")
        assert "diversity not computed yet — press f to evaluate now" in text and "no collapse alarm" in text
        assert not any(ch.isdigit() for ch in text)


# -- the f key ------------------------------------------------------------------

async def test_f_sends_evaluate_and_the_result_fills_the_fid_pane(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await pilot.press("f")
        assert any("evaluation requested at step 1,000" in note for note in app.notes)
        await wait_until(pilot, lambda: app.model.metrics is not None)
        assert trainer.received == [Command.EVALUATE]
        assert any("evaluation at step 1,000 done: FID (points) 0.95" in note for note in app.notes)
        text = await shown(pilot, "fid")
        assert "FID (points) 0.95 @ 1,000" in text and "best 0.95 @ 1,000" in text
        assert "KID (points)" in text and "0.01210 ± 0.00090" in text


async def test_an_on_demand_translation_evaluation_names_its_cycle_error(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await feed(pilot, ev.Evaluated(1000, {"cycle_error_a": 0.1178, "cycle_error_b": 0.149}, on_demand=True))
        assert any("evaluation at step 1,000 done: cycle error A→B→A 0.1178" in note for note in app.notes)


async def test_f_while_evaluating_queues_and_the_pane_says_so(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await feed(pilot, ev.EvaluationStarted(1000))
        text = await shown(pilot, "fid")
        assert "FID not computed yet" in text and "evaluating at step 1,000…" in text
        sent = []
        app.training.evaluate = lambda: sent.append(1)  # the scripted trainer would answer at once
        await pilot.press("f")
        assert sent == [1] and any("after the one at step 1,000 still running" in note for note in app.notes)
        text = await shown(pilot, "fid")
        assert "evaluating at step 1,000…" in text and "evaluation requested at step 1,000…" in text


async def test_f_after_the_run_ended_sends_nothing(tmp_path):
    app, factory = make_app(tmp_path, hold=False)
    async with app.run_test(size=(80, 24)) as pilot:
        trainer = await started(pilot, factory)
        await wait_until(pilot, lambda: app.training.done.is_set() and app.model.status == "finished")
        await pilot.press("f")
        assert any("nothing to evaluate" in note for note in app.notes)
        assert trainer.received == []
        text = await shown(pilot, "fid")
        assert "FID not computed: no evaluation ran" in text and "press f" not in text


# -- results -----------------------------------------------------------------------

async def test_evaluated_events_show_the_labelled_value_and_the_best_so_far(tmp_path):
    app, factory = make_app(tmp_path, kind="images")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await feed(pilot, ev.EvaluationStarted(250), ev.Evaluated(250, image_metrics(250, 61.2)),
                   ev.Evaluated(500, image_metrics(500, 30.5)), ev.Evaluated(750, image_metrics(750, 33.75)))
        text = await shown(pilot, "fid")
        assert "─ FID (domain) ─" in text  # the evaluator's label is the pane's title
        assert "FID (domain) 33.75 @ 750" in text and "best 30.5 @ 500" in text
        for shown_label in ("KID (domain)", "IS (domain)", "precision (domain), k=3", "recall (domain), k=3",
                            "density (domain), k=5", "coverage (domain), k=5"):
            assert shown_label in text
        assert "evaluating" not in text  # the one started at 250 has reported
        assert "Inception" not in text and "FID 33" not in text  # never an unlabelled FID


async def test_unknown_labelled_scores_are_listed_too(tmp_path):
    app, factory = make_app(tmp_path, kind="images")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        metrics = {**image_metrics(500, 40.0), "cycle_error": 0.0734, "unlabelled": 1.0}
        metrics["labels"] = {**metrics["labels"], "cycle_error": "cycle error (L1)"}
        await feed(pilot, ev.Evaluated(500, metrics))
        text = await shown(pilot, "fid")
        assert "cycle error (L1)" in text and "0.0734" in text
        assert "unlabelled" not in text


async def test_a_conditional_evaluation_names_its_weakest_class_beside_the_mean(tmp_path):
    app, factory = make_app(tmp_path, kind="images")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        per_class = [0.9, 0.95, 0.7, 0.9, 0.66, 0.95, 0.69, 0.9, 0.9, 0.98]
        metrics = {**image_metrics(500, 40.0), "asked_class_accuracy": sum(per_class) / 10,
                   "asked_class_accuracies": per_class, "class_names": ["T-shirt/top", "Trouser", "Pullover",
                   "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]}
        metrics["labels"] = {**metrics["labels"], "asked_class_accuracy": "asked-class accuracy (domain)"}
        await feed(pilot, ev.Evaluated(500, metrics))
        text = await shown(pilot, "fid")
        assert "asked-class accuracy (domain)" in text and "85.3%" in text
        assert "lowest class" in text and "Coat 66.0%" in text


async def test_diversity_pane_shows_modes_per_bar_and_the_alarm_list(tmp_path):
    app, factory = make_app(tmp_path, evaluate_every=250)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        text = await shown(pilot, "diversity")
        assert "diversity (points)" in text and "0.61" in text
        assert "near-duplicates (points)" in text and "9.4%" in text
        assert "modes captured 4/8" in text and "95.0%" in text
        assert "mode 1" in text and "mode 8" in text and "2,410" in text
        assert "collapse alarms (1)" in text and "step 1,000 (modes_lost)" in text


async def test_diversity_pane_shows_class_coverage(tmp_path):
    app, factory = make_app(tmp_path, kind="images", evaluate_every=250)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        text = await shown(pilot, "diversity")
        assert "classes covered (domain classifier) 9/10" in text and "missing: Sandal" in text
        assert "Sandal" in text and "0.4%" in text and "real share" in text


async def test_class_coverage_keeps_each_label_on_the_row_of_its_value(tmp_path):
    app, factory = make_app(tmp_path, kind="images")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        metrics = {**image_metrics(500, 40.0), "classes_covered": 5,
                   "missing_classes": ["Coat", "Pullover", "Sandal", "Sneaker", "Trouser"]}
        await feed(pilot, ev.Evaluated(500, metrics))
        rows = (await shown(pilot, "diversity")).splitlines()
    assert any("class KL(generated || real), nats 0.071" in row for row in rows)
    assert any("missing: Coat, Pullover, Sandal, Sneaker, Trouser" in row for row in rows)


async def test_evaluation_failure_is_shown_and_cleared_by_a_later_result(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        await feed(pilot, ev.EvaluationStarted(1000), ev.EvaluationFailed(1000, "no Inception weights and no "
                                                                                "domain evaluator for cifar10"))
        text = await shown(pilot, "fid")
        assert "evaluation at step 1,000 failed: no Inception weights" in text
        assert "evaluating" not in text
        assert any("evaluation at step 1,000 failed" in note for note in app.notes)
        await feed(pilot, ev.Evaluated(1100, evaluation_metrics("points", 1100, 1000)))
        await shown(pilot, "fid")
        assert "failed" not in pane_text(app, "fid") and "@ 1,100" in pane_text(app, "fid")


# -- collapse alarms -----------------------------------------------------------------

async def test_collapse_alarm_shows_a_banner_on_every_pane_and_layout(tmp_path):
    app, factory = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, factory)
        assert "collapse alarm" not in await shown(pilot, "losses")
        await feed(pilot, ev.CollapseAlarm(1200, "diversity", "mode collapse: diversity 0.31 of real", 900))
        for pane_id, _ in PANES:
            text = await shown(pilot, pane_id)
            assert "⚠ collapse alarm at step 1,200: mode collapse: diversity 0.31 of real" in text, pane_id
            assert "q Quit" in text  # the footer is still there
        await shown(pilot, "diversity")
        assert "step 1,200 (diversity): mode collapse: diversity 0.31 of real" in pane_text(app, "diversity")
        await pilot.press("question_mark")  # help still opens over it
        await pilot.pause()
        assert "evaluate now" in screen_text(app)
        await pilot.press("escape")
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        text = await shown(pilot, "losses")
        assert app.screen.wide and "⚠ collapse alarm at step 1,200" in text
        await feed(pilot, ev.CollapseAlarm(1500, "near_duplicates", "40% near-duplicates", 1300))
        text = await shown(pilot, "losses")
        assert "collapse alarm at step 1,500: 40% near-duplicates (+1 earlier" in text


# -- pieces --------------------------------------------------------------------------

def test_model_keeps_the_fid_timeline_and_best_so_far():
    m = RunModel()
    before = dict(m.versions)
    m.apply(ev.EvaluationStarted(100))
    assert m.evaluating == 100 and m.versions["evaluation"] == before["evaluation"] + 1
    for step, fid in ((100, 5.0), (200, 3.0), (300, float("nan")), (400, 4.0)):
        m.apply(ev.Evaluated(step, {"fid": fid}))
    assert m.evaluating is None
    assert m.fid_steps.view().tolist() == [100, 200, 300, 400]
    assert math.isnan(m.fid_values.view()[2]) and m.best_fid == (3.0, 200)  # NaN is never the best
    assert m.metrics == {"fid": 4.0} and m.metrics_step == 400
    m.apply(ev.Evaluated(500, {"kid_mean": 0.1}))  # no FID in this one: the timeline does not move
    assert m.fid_steps.size == 4
    assert m.versions["alarms"] == before["alarms"] and m.versions["scalars"] == before["scalars"]
    m.apply(ev.CollapseAlarm(600, "diversity", "why", 500))
    assert [a.step for a in m.alarms] == [600] and m.versions["alarms"] == before["alarms"] + 1


def test_a_skipped_request_does_not_end_the_running_evaluation():
    m = RunModel()
    m.step = 1000
    m.apply(ev.EvaluationStarted(800))
    m.request_evaluation()
    m.apply(ev.EvaluationFailed(1000, "skipped: 2 evaluations are still running or waiting"))
    assert m.evaluating == 800 and m.requested is None and m.eval_failure.step == 1000


def test_panes_redraw_only_when_their_data_moves():
    m = RunModel()
    fid, diversity = FidPane(m), DiversityPane(m)
    keys = fid.data_key(), diversity.data_key()
    m.apply(ev.Progress(10, 100, 1.0, 1.0, 0.0, 0.0))
    assert (fid.data_key(), diversity.data_key()) == keys
    m.apply(ev.CollapseAlarm(10, "diversity", "why", 5))
    assert fid.data_key() == keys[0] and diversity.data_key() != keys[1]
    m.apply(ev.Evaluated(10, {"fid": 1.0}))
    assert fid.data_key() != keys[0]


def test_numbers_are_shown_as_given():
    assert [num(v) for v in (0.95, 22.0, 0.0009, 1234.5, 7, float("nan"), None)] == \
        ["0.95", "22", "0.0009", "1,234", "7", "nan", "n/a"]


def test_bars_fill_in_eighths_and_draw_the_marker():
    (seg,) = bars.bar(0.5, 1.0, 10)
    assert seg.text == "█████     "
    row = bars.bar(0.25, 1.0, 8, marker=0.5)
    assert "".join(s.text for s in row) == "██  ┊   "
    assert "".join(s.text for s in bars.bar(1 / 16, 1.0, 2)) == "▏ "
    assert "".join(s.text for s in bars.sparkline([0, 1, 100])) == "·▁█"
    assert all(isinstance(s, Segment) for s in row)


def test_fid_notes_wrap_at_the_pane_width_and_leave_the_table_beside_the_timeline():
    m = RunModel()
    note = ("Inception-v3 weights are not available (no $GAN_TUI_INCEPTION, no file named in the profile); "
            "FID is computed on the domain evaluator's features instead")
    for step, fid in ((100, 20.0), (200, 19.0)):
        m.apply(ev.Evaluated(step, {"fid": fid, "kid_mean": 0.2, "kid_std": 0.01, "precision": 0.43,
                                    "recall": 0.23, "notes": [note], "labels": {"fid": "FID (domain)"}}))
    rows = ["".join(s.text for s in row) for row in FidPane(m).draw(64, 20)]
    assert all(len(row) <= 64 for row in rows)
    assert " ".join(r.strip() for r in rows if r.strip()).endswith(f"note: {note}")  # every word, in order
    assert any(("┤" in row or "│" in row) and "precision" in row for row in rows)  # plot and table share rows


def test_a_single_fid_is_drawn_on_an_axis_from_step_0():
    m = RunModel()
    m.apply(ev.Evaluated(400, {"fid": 19.07}))
    rows = ["".join(s.text for s in row) for row in FidPane(m).draw(50, 8)]
    assert rows[-1].strip().startswith("└0") and rows[-1].rstrip().endswith("400"), rows[-1]


def test_a_translation_run_plots_its_cycle_error_and_says_why_diversity_is_missing():
    from gan_tui.metrics.translation import LABELS

    m = RunModel()
    for step, error in ((200, 0.15), (400, 0.1178)):
        metrics = {"cycle_error_a": error, "cycle_error_b": 0.149, "translation_accuracy_ab": 0.96,
                   "translation_accuracy_ba": 0.942, "real_accuracy_a": 0.975, "real_accuracy_b": 0.967,
                   "labels": dict(LABELS), "n": 1000, "seconds": 1.4, "features": "domain"}
        m.apply(ev.Evaluated(step, metrics))
    pane = FidPane(m)
    rows = ["".join(s.text for s in row) for row in pane.draw(98, 24)]
    assert pane.border_title == "cycle error A→B→A"
    assert rows[0].startswith("━ cycle error A→B→A 0.1178 @ 400  ┄ best 0.1178 @ 400"), rows[0]
    assert "no FID" not in "\n".join(rows)
    assert any(("┤" in row or "│" in row) and "A→B classified as B" in row for row in rows)  # timeline beside
    assert any(re.search(r"A→B classified as B \(domain classifier\) +96\.0%", row) for row in rows)  # as eval says
    assert m.fid_steps.view().tolist() == [200, 400]
    text = " ".join(r.strip() for r in ("".join(s.text for s in row) for row in DiversityPane(m).draw(80, 20)))
    assert "not measured for a translation run (CycleGAN)" in text and "no collapse alarm" in text
