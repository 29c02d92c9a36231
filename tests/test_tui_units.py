"""Unit tests of the dashboard's building blocks: colour depth, pictures, plots, model, sink, arguments."""

import types

import numpy as np
import pytest

from gan_tui.train import events as ev
from gan_tui.tui import color, halfblocks, plot, scatter
from gan_tui.tui.model import SMOOTHING_STEPS, RunModel, Series
from gan_tui.tui.sink import DashboardSink, EventsReady


# -- colour depth -------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({"COLORTERM": "truecolor", "TERM": "xterm-256color"}, "truecolor"),
    ({"COLORTERM": "24bit", "TERM": "xterm"}, "truecolor"),
    ({"TERM": "xterm-256color"}, "256"),  # over SSH: COLORTERM is usually not forwarded
    ({"TERM": "screen-256color"}, "256"),
    ({"TERM": "xterm"}, "16"),
    ({"TERM": "dumb"}, "none"),
    ({}, "none"),
    ({"TERM": "xterm-256color", "COLORTERM": "truecolor", "NO_COLOR": ""}, "none"),
    ({"TERM": "xterm", "TEXTUAL_COLOR_SYSTEM": "truecolor"}, "truecolor"),
    ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, "16"),
])
def test_depth_from_environment(env, expected):
    assert color.detect_depth(env) == expected


def test_flag_wins_and_bad_flag_is_refused():
    assert color.detect_depth({"NO_COLOR": "1"}, flag="truecolor") == "truecolor"
    with pytest.raises(ValueError, match="--color"):
        color.detect_depth({}, flag="rainbow")


def test_depth_reaches_textual_through_the_environment():
    env = {}
    color.apply_to_environment("256", env)
    assert env == {"TEXTUAL_COLOR_SYSTEM": "256"}
    env = {}
    color.apply_to_environment("none", env)
    assert env["NO_COLOR"] == "1"


# -- pictures -------------------------------------------------------------------

def test_quantize_256_hits_exact_palette_entries():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [128, 128, 128], [95, 135, 175]]], np.uint8)
    assert halfblocks.quantize_256(rgb).tolist() == [[16, 231, 196, 244, 16 + 36 * 1 + 6 * 2 + 3]]


def test_half_blocks_put_two_pixel_rows_in_one_text_row():
    rgb = np.zeros((5, 4, 3), np.uint8)
    rgb[0] = 255  # top row white, the rest black
    rows = halfblocks.BlockPainter("truecolor").rows(rgb)
    assert len(rows) == 3  # ceil(5 / 2)
    assert all(sum(len(s.text) for s in row) == 4 for row in rows)
    first = rows[0][0]
    assert first.text == "▀▀▀▀" and first.style.color.triplet == (255, 255, 255)
    assert first.style.bgcolor.triplet == (0, 0, 0)
    assert rows[1][0].text == "    "  # equal halves: background only
    assert rows[2][0].style.bgcolor is None  # odd height: nothing under the last row


def test_256_colour_rows_use_palette_numbers():
    rgb = np.full((2, 3, 3), 200, np.uint8)
    (row,) = halfblocks.BlockPainter("256").rows(rgb)
    assert row[0].style.bgcolor.number is not None


def test_ascii_ramp_and_fitting_keep_the_box():
    gray = np.linspace(0, 255, 64 * 64).reshape(64, 64).astype(np.uint8)
    rgb = halfblocks.to_rgb(gray)
    rows = halfblocks.image_rows(rgb, 20, 5, "none")
    assert len(rows) <= 5 and all(len(r[0].text) <= 20 for r in rows)
    assert rows[0][0].text[0] in " ." and rows[-1][0].text[-1] in "%@"  # dark top left, bright bottom right
    blocks = halfblocks.image_rows(rgb, 20, 5, "truecolor")
    assert len(blocks) <= 5 and all(sum(len(s.text) for s in r) <= 20 for r in blocks)


def test_small_images_are_upscaled_by_whole_factors():
    assert halfblocks.fit_scale(28, 28, 80, 40) == 2.0
    assert halfblocks.fit_scale(100, 100, 10, 10) == pytest.approx(0.1)


def test_scatter_draws_real_points_over_generated_ones():
    real = np.array([[0.0, 0.0]])
    fake = np.array([[0.0, 0.0], [1.9, 1.9]])
    rgb = scatter.scatter_rgb(fake, real, np.zeros((8, 8)), 2.0, 20, 20)
    assert tuple(rgb[10, 10]) == scatter.REAL_POINT
    assert tuple(rgb[0, 19]) == scatter.FAKE_POINT  # top right is +x, +y
    text = scatter.scatter_ascii(fake, real, None, 2.0, 20, 10)
    assert text[5][10] == "#" and text[0][19] == "x"


# -- plots ----------------------------------------------------------------------

def test_plot_fills_exactly_the_box():
    x = np.arange(100.0)
    rows = plot.render(60, 12, [plot.Line(x, np.sin(x / 10), (255, 0, 0)), plot.hline(0, 0, 99, (90, 90, 90))])
    assert len(rows) == 12
    assert all(sum(len(s.text) for s in row) == 60 for row in rows)
    assert any("⠀" < ch <= "⣿" for row in rows for s in row for ch in s.text)


def test_log_scale_hides_non_positive_values_without_crashing():
    rows = plot.render(40, 8, [plot.Line(np.arange(5.0), np.array([-1, 0, 1, 10, 100.0]), (0, 255, 0))], logy=True)
    assert len(rows) == 8
    assert "".join(s.text for s in rows[-1]).strip().startswith("└2")  # x from the first positive point


def test_downsample_keeps_spikes():
    x = np.arange(10_000.0)
    y = np.zeros(10_000)
    y[5_003] = 50.0
    xs, ys = plot.downsample(x, y, 100)
    assert len(xs) <= 100 and ys.max() == 50.0


def test_nice_numbers():
    assert [plot.nice_number(v) for v in (0, 0.6931, 1500, 25000, 3e6, 1.2e-5)] == \
        ["0", "0.693", "1500", "25k", "3M", "1.2e-05"]


# -- model ----------------------------------------------------------------------

def test_ema_is_debiased_and_resmoothing_recomputes():
    s = Series(0.9)
    for step, value in enumerate([1.0, 1.0, 1.0]):
        s.append(step, value)
    assert np.allclose(s.ema.view(), 1.0)  # debiased: a constant stays constant from the first point
    s.resmooth(0.0)
    assert np.allclose(s.ema.view(), s.raw.view())


def test_model_orders_losses_and_keeps_means_apart():
    m = RunModel()
    m.apply(ev.Scalars(10, {"gp": 0.1, "g_loss": 1.0, "d_real": 0.6, "d_loss": 1.2, "d_fake": 0.4}, 0.0))
    assert m.loss_names() == ["d_loss", "g_loss", "gp"]
    assert m.versions["scalars"] == 1 and m.step == 10


def test_smoothing_steps_move_one_notch_and_stop_at_the_ends():
    m = RunModel()
    start = SMOOTHING_STEPS.index(m.smoothing)
    assert m.smoothing_step(+1) == SMOOTHING_STEPS[start + 1]
    for _ in range(20):
        m.smoothing_step(-1)
    assert m.smoothing == 0.0
    for _ in range(20):
        m.smoothing_step(+1)
    assert m.smoothing == SMOOTHING_STEPS[-1]


def test_run_started_means_running():
    m = RunModel()
    m.apply(ev.RunStarted("id", "/tmp/x", "ring8", 100, 0, "cpu", "points", "probability", 8))
    assert m.status == "running" and m.active
    m.apply(ev.StatusChanged("finished", 100))
    assert not m.active


# -- sink -----------------------------------------------------------------------

def test_sink_posts_one_wake_up_per_drain():
    posted = []
    sink = DashboardSink(types.SimpleNamespace(post_message=posted.append))
    for step in range(1000):
        sink.handle(ev.Progress(step, 1000, 1.0, 1.0, 0.0, 0.0))
    assert len(posted) == 1 and isinstance(posted[0], EventsReady)
    events = sink.drain()
    assert [e.step for e in events] == list(range(1000))
    sink.handle(ev.Progress(1000, 1000, 1.0, 1.0, 0.0, 0.0))
    assert len(posted) == 2


def test_sink_never_blocks_the_trainer():
    import time

    sink = DashboardSink(types.SimpleNamespace(post_message=lambda m: time.sleep(0)))
    start = time.perf_counter()
    for step in range(10_000):
        sink.handle(ev.Progress(step, 1, 1.0, 1.0, 0.0, 0.0))
    assert time.perf_counter() - start < 5  # generous: a correctness guard, not a timing goal


# -- the engine stays UI-free ------------------------------------------------

def test_engine_does_not_import_textual():
    import subprocess
    import sys

    code = ("import sys; import gan_tui.train.session, gan_tui.train.trainer, gan_tui.store; "
            "bad = [m for m in ('textual', 'gan_tui.tui') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("status, said", [("finished", "training has finished"), ("failed", "training has failed"),
                                          ("diverged", "training has diverged"),
                                          ("interrupted", "training was interrupted"),
                                          ("interrupted*", "training was interrupted")])
def test_a_key_on_an_ended_run_says_how_it_ended_in_english(status, said):
    from gan_tui.tui.screens.training import ended

    assert ended(status) == said  # "training has interrupted" once
