"""Snapshot tests of the training screen (pytest-textual-snapshot), fed a deterministic event stream.

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the SVGs in tests/snapshots/ before committing them.
"""

import types
from pathlib import Path

import pytest

# The plugin comes with the `test` extra; without it these tests skip instead of erroring.
pytest_textual_snapshot = pytest.importorskip("pytest_textual_snapshot")

from gan_tui.tui.app import DashboardApp
from gan_tui.tui.fake import FakeFactory, scripted_events, wait_until

SNAPSHOTS = Path(__file__).parent / "snapshots"


class TuiSnapshots(pytest_textual_snapshot.SVGImageExtension):
    """Keep the SVGs in tests/snapshots/ (syrupy's default is tests/__snapshots__/<file>/)."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOTS)


@pytest.fixture(autouse=True)
def snapshots_folder(monkeypatch):
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", TuiSnapshots)


def dashboard(tmp_path, kind="points", output_kind="probability", extra_terms=()):
    script = scripted_events(kind, output_kind=output_kind, extra_terms=extra_terms,
                             run_dir="/runs/20260101-000000-ring8-abcd")
    return DashboardApp(profile=types.SimpleNamespace(name="ring8" if kind == "points" else "dcgan-fashion"),
                        session_factory=FakeFactory(script, tmp_path), depth="truecolor")


async def settled(pilot):
    """Every scripted event applied and drawn."""
    app = pilot.app
    await wait_until(pilot, lambda: app.model is not None and app.model.samples is not None)
    app.screen.redraw(force=True)
    await pilot.pause()


def test_training_80x24_losses(snap_compare, tmp_path):
    assert snap_compare(dashboard(tmp_path), terminal_size=(80, 24), run_before=settled)


def test_training_80x24_samples_scatter(snap_compare, tmp_path):
    assert snap_compare(dashboard(tmp_path), terminal_size=(80, 24), run_before=settled, press=["tab", "tab"])


def test_training_160x50_toy(snap_compare, tmp_path):
    assert snap_compare(dashboard(tmp_path), terminal_size=(160, 50), run_before=settled)


def test_training_160x50_images_with_critic_scores(snap_compare, tmp_path):
    app = dashboard(tmp_path, kind="images", output_kind="score", extra_terms=("gp",))
    assert snap_compare(app, terminal_size=(160, 50), run_before=settled)


def test_training_80x24_fid_toy(snap_compare, tmp_path):
    """The FID pane after four scheduled evaluations, under the collapse alarm banner."""
    assert snap_compare(dashboard(tmp_path), terminal_size=(80, 24), run_before=settled, press=["tab"] * 4)


def test_training_80x24_diversity_images(snap_compare, tmp_path):
    """Class coverage bars against the real class mix, one class missing."""
    app = dashboard(tmp_path, kind="images", output_kind="score")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled, press=["tab"] * 3)
