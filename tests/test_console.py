"""The headless progress output of `gan-tui run` where stderr is no terminal (a log file, nohup, --detach)."""

import io
import re

from rich.console import Console

from gan_tui.console import LINE_PERIOD_S, ConsoleProgress
from gan_tui.train import events as ev


def test_without_a_terminal_a_plain_progress_line_goes_out_every_period_and_at_the_end():
    now = [0.0]
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=80), clock=lambda: now[0])
    progress.handle(ev.RunStarted("r", "/tmp/r", "ring8", 6000, 0, "cpu", "points", "probability", 256))
    progress.handle(ev.Scalars(50, {"d_loss": 1.3796, "g_loss": 0.7, "d_real": 0.5, "d_fake": 0.49}, 0.0))
    for i, step in enumerate(range(100, 6001, 100)):  # a Progress event every 0.625 s, 36.9 s in all
        now[0] = i * 0.625  # exact in binary: the one at step 4,900 comes at 30.0 s
        progress.handle(ev.Progress(step, 6000, 200.0, 51200.0, step / 200, (6000 - step) / 200))
    progress.handle(ev.StatusChanged("finished", 6000))
    progress.close()
    lines = out.getvalue().splitlines()
    steps = [line for line in lines if line.startswith("ring8 step")]
    # the first line at once, one LINE_PERIOD_S (30 s) later, one where it ended
    assert LINE_PERIOD_S == 30 and len(steps) == 3, lines
    assert steps[1].startswith("ring8 step 4,900/6,000 (82%)")  # the event at 30.0 s
    assert steps[0] == "ring8 step 100/6,000 (2%)  200.0 it/s  D 1.380 G 0.700 D(x) 0.500 D(G(z)) 0.490  ETA 30s"
    assert steps[-1].startswith("ring8 step 6,000/6,000 (100%)")
    assert lines[-1] == "finished at step 6,000" and "" not in lines  # no stray empty line from a bar never drawn
    assert all(len(line) > 80 for line in steps)  # not wrapped at the console's 80 columns


def test_on_a_terminal_the_live_bar_draws_and_no_plain_lines_go_out():
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=100, force_terminal=True))
    progress.handle(ev.RunStarted("r", "/tmp/r", "ring8", 100, 0, "cpu", "points", "probability", 64))
    progress.handle(ev.Progress(10, 100, 5.0, 320.0, 2.0, 18.0))
    progress.close()
    assert "ring8 step" not in out.getvalue() and "10/100" in out.getvalue()


def _live_line(width: int) -> str:
    """The last frame of the live bar at `width` columns, as plain text."""
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=width, force_terminal=True))
    progress.handle(ev.RunStarted("r", "/tmp/r", "dcgan-fashion", 3000, 0, "cpu", "images", "probability", 64))
    progress.handle(ev.Scalars(1500, {"d_loss": 1.3796, "g_loss": 0.7, "d_real": 0.5, "d_fake": 0.49}, 0.0))
    progress.handle(ev.Progress(1527, 3000, 104.5, 6688.0, 14.6, 14.1))
    progress.progress.refresh()
    progress.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).replace("\r", "\n")
    return [line for line in text.splitlines() if line.strip()][-1]


def test_the_live_bar_leaves_out_whole_parts_where_the_terminal_is_narrow():
    wide = _live_line(120)
    assert wide.startswith("dcgan-fashion ━") and wide.endswith(
        " 1,527/3,000 104.5 it/s D 1.380 G 0.700 D(x) 0.500 D(G(z)) 0.490 ETA 14s"), wide
    assert _live_line(80).endswith(" 1,527/3,000 104.5 it/s D 1.380 G 0.700 ETA 14s")  # D(x), D(G(z)) left out
    assert _live_line(50) == "dcgan-fashion 1,527/3,000 104.5 it/s ETA 14s"  # no room for the bar
    assert _live_line(30) == "1,527/3,000 104.5 it/s ETA 14s"
    assert all(len(_live_line(w)) <= w for w in (120, 100, 80, 60, 50, 40, 30))


def test_a_torchrun_run_says_how_many_processes_train_it():
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=120))
    progress.handle(ev.RunStarted("r", "/tmp/r", "ring8", 100, 0, "cuda:0", "points", "probability", 64, world_size=4))
    progress.handle(ev.StatusChanged("finished", 1200))
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "run r on cuda:0 ×4 processes: /tmp/r"
    assert lines[-1] == "finished at step 1,200"
    alone = ev.RunStarted("r", "/tmp/r", "ring8", 100, 0, "cpu", "points", "probability", 64)
    assert alone.where == "cpu"


def test_a_translation_evaluation_line_gives_its_cycle_error_best_and_accuracies_as_percentages():
    from gan_tui.console import evaluation_line
    from gan_tui.metrics.translation import LABELS

    metrics = {"cycle_error_a": 0.1178, "cycle_error_b": 0.149, "translation_accuracy_ab": 0.96,
               "labels": {k: LABELS[k] for k in ("cycle_error_a", "cycle_error_b", "translation_accuracy_ab")},
               "seconds": 1.4}
    line = evaluation_line(4000, metrics, (0.1178, 4000))
    assert line.startswith("evaluation at step 4,000: cycle error A→B→A 0.118, best 0.118 at step 4,000"), line
    assert f"{LABELS['cycle_error_b']} 0.149" in line and f"{LABELS['translation_accuracy_ab']} 96.0%" in line
    assert line.endswith("(1.4 s)")


def test_a_conditional_evaluation_line_names_its_weakest_class():
    from gan_tui.console import evaluation_line

    metrics = {"fid": 1.77, "asked_class_accuracy": 0.861, "asked_class_accuracies": [0.93, 0.65, 0.97],
               "class_names": ["T-shirt/top", "Shirt", "Bag"],
               "labels": {"fid": "FID (domain)", "asked_class_accuracy": "asked-class accuracy (domain)"}}
    line = evaluation_line(4000, metrics, (1.77, 4000))
    assert "asked-class accuracy (domain) 86.1%, lowest class Shirt 65.0%" in line, line


def test_a_stopped_run_ends_with_how_to_continue_it():
    out = io.StringIO()
    progress = ConsoleProgress(Console(file=out, width=200), clock=lambda: 0.0)
    progress.handle(ev.RunStarted("20261207-1-ring8-ab12", "/tmp/r", "ring8", 6000, 0, "cpu", "points",
                                  "probability", 256))
    progress.handle(ev.StatusChanged("interrupted", 495, "stopped by request [ctrl+c]"))
    progress.close()
    assert out.getvalue().splitlines()[-1] == ("interrupted at step 495: stopped by request [ctrl+c]; "
                                               "continue it with `gan-tui run --resume 20261207-1-ring8-ab12`")
