"""The mean ± spread readout shared by the dashboard's FID pane and `gan-tui eval`."""

import math

import pytest

from gan_tui.metrics.readout import mean_and_spread


@pytest.mark.parametrize("mean, spread, shown", [
    (0.02, 0.0011, "0.0200 ± 0.0011"),   # once "0.02 ± 0.0011": the mean looked less precise than its spread
    (1.77, 0.03901, "1.770 ± 0.039"),
    (7.2, 0.09, "7.200 ± 0.090"),
    (0.0121, 0.0009, "0.01210 ± 0.00090"),
    (1234.5, 12.3, "1234 ± 12"),
    (5.0, 0.0996, "5.000 ± 0.100"),
])
def test_the_spread_has_two_figures_and_the_mean_its_decimals(mean, spread, shown):
    assert mean_and_spread(mean, spread) == shown


@pytest.mark.parametrize("spread", [None, 0.0, math.nan, -1.0])
def test_without_a_usable_spread_the_mean_alone(spread):
    assert mean_and_spread(1.2345678, spread) == "1.235"


def test_a_missing_or_broken_mean_says_so():
    assert mean_and_spread(None, 0.1) == "n/a"
    assert mean_and_spread(math.inf, 0.1) == "inf"
