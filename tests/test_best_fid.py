"""The one rule for "best FID" that the console, meta.json, the dashboard and compare share."""

import math

from gan_tui.metrics.best_fid import BestFid, finite_fid


def test_only_finite_numbers_count():
    assert finite_fid({"fid": 3}) == 3.0
    for bad in (math.nan, math.inf, None, "2.0", True):
        assert finite_fid({"fid": bad}) is None
    assert finite_fid({}) is None


def test_lowest_wins_ties_keep_the_earlier_step_and_the_label_follows():
    best = BestFid()
    assert best.pair is None
    assert best.update(100, {"fid": 9.0, "labels": {"fid": "FID (domain)"}})
    assert not best.update(200, {"fid": math.nan})
    assert not best.update(300, {"fid": 9.0})
    assert best.update(400, {"fid": 4.5})  # no labels: plain "FID"
    assert not best.update(500, {"fid": 7.0})
    assert best.pair == (4.5, 400) and best.label == "FID"


def test_from_meta_ignores_a_damaged_value():
    assert BestFid.from_meta({"best_fid": 2.5, "best_fid_step": 10}) == BestFid(2.5, 10, "FID")
    assert BestFid.from_meta({"best_fid": "oops", "best_fid_step": 10}).pair is None
    assert BestFid.from_meta({}).pair is None


def test_a_translation_runs_headline_is_its_cycle_error():
    """CycleGAN has no FID: the best is the lowest A→B→A cycle error, labelled as such."""
    best = BestFid()
    assert best.update(100, {"cycle_error_a": 0.3, "cycle_error_b": 0.1, "labels": {"cycle_error_a": "long label"}})
    assert not best.update(200, {"cycle_error_a": 0.4})
    assert best.update(300, {"cycle_error_a": 0.2})
    assert best.pair == (0.2, 300) and best.label == "cycle error A→B→A"


def test_a_nan_fid_is_not_replaced_by_another_score():
    best = BestFid()
    assert not best.update(100, {"fid": math.nan, "cycle_error_a": 0.1})
    assert best.pair is None
