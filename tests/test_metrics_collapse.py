"""The collapse detector: rules on synthetic sequences, then real ring8 runs.

A plain GAN on ring8 (no spectral norm, no EMA, equal slow learning rates) is
built to collapse and must raise an alarm; the shipped ring8 profile must
raise none on 5 seeds (1000 steps each here; the full-length version is
benchmarks/collapse_seeds.py, results in benchmarks/results/collapse_seeds.json).
The alarms checked are the ones the trainer raises itself during training.
"""

import numpy as np
import pytest
import torch

from gan_tui.data.toy import ring8
from gan_tui.metrics.collapse import CollapseDetector, Thresholds, detect_collapse
from gan_tui.metrics.evaluate import toy_signals
from gan_tui.profile import load_profile
from gan_tui.store.reader import RunReader
from gan_tui.train import events as ev
from gan_tui.train.session import new_session

HEALTHY = {"diversity": 1.0, "near_duplicates": 0.01, "modes_captured": 8, "modes_total": 8, "high_quality": 0.6}

# ring8's networks and data, without any of its tricks (a file without `extends`, since tricks tables merge).
PLAIN_RING8 = """description = "plain GAN on ring8, built to collapse: no spectral norm, no EMA, no TTUR"
[data]
name = "ring8"
batch_size = 256
[model]
architecture = "mlp"
latent_dim = 16
g_width = 128
d_width = 128
depth = 2
[loss]
name = "nonsat"
[optim.g]
lr = 1e-4
[optim.d]
lr = 1e-4
[train]
steps = {steps}
seed = {seed}
device = "cpu"
[log]
every = 50
histograms_every = 500
samples_every = 100
samples = 1024
[checkpoint]
every = 100000
keep = 1
"""


def seq(*values, start=100, every=100):
    return [(start + i * every, v) for i, v in enumerate(values)]


def test_healthy_sequence_raises_nothing():
    assert detect_collapse(seq(*[HEALTHY] * 30)) == []


def test_low_diversity_needs_patience_and_warmup():
    low = {**HEALTHY, "diversity": 0.2}
    # Before warm-up (steps 100..400) nothing counts; then 3 low evaluations in a row fire once.
    alarms = detect_collapse(seq(low, low, low, low, low, low, low, low))
    assert [(a.step, a.rule, a.since) for a in alarms] == [(700, "diversity", 500)]
    assert "0.20" in alarms[0].reason and "step 500" in alarms[0].reason
    # Two low evaluations, a good one, two low again: no alarm.
    assert detect_collapse(seq(*[HEALTHY] * 5, low, low, HEALTHY, low, low)) == []


def test_a_rule_fires_once_per_streak_and_again_after_recovery():
    low = {**HEALTHY, "diversity": 0.2}
    alarms = detect_collapse(seq(*[HEALTHY] * 5, low, low, low, low, low, HEALTHY, low, low, low))
    assert [a.step for a in alarms] == [800, 1400]


def test_modes_lost_and_few_modes():
    climbing = [{**HEALTHY, "modes_captured": m} for m in (0, 2, 5, 8, 8, 8)]
    dropped = [{**HEALTHY, "modes_captured": 3}] * 3
    alarms = detect_collapse(seq(*climbing, *dropped))
    assert [a.rule for a in alarms] == ["modes_lost"]
    assert "from 8/8" in alarms[0].reason and "to 3/8" in alarms[0].reason
    sharp_two = {**HEALTHY, "modes_captured": 2, "high_quality": 0.9}
    alarms = detect_collapse(seq(*[sharp_two] * 8))
    assert {a.rule for a in alarms} == {"few_modes"}
    # A healthy run still climbing (few modes, blurry samples) is not collapse.
    assert detect_collapse(seq(*[{**HEALTHY, "modes_captured": m, "high_quality": 0.05} for m in
                                 (0, 0, 0, 0, 0, 1, 1, 2, 4, 6, 8)])) == []


def test_classes_and_near_duplicates():
    few_classes = {"diversity": 0.9, "near_duplicates": 0.01, "classes_covered": 3, "classes_total": 10,
                   "class_kl": 1.2, "missing_classes": ["Bag", "Coat"]}
    alarms = detect_collapse(seq(*[few_classes] * 8))
    assert [a.rule for a in alarms] == ["classes"] and "3 of 10" in alarms[0].reason and "Bag" in alarms[0].reason
    dups = {"diversity": 0.9, "near_duplicates": 0.6}
    assert [a.rule for a in detect_collapse(seq(*[dups] * 8))] == ["near_duplicates"]


def test_d_outputs_rule_and_context():
    d = [(s, 0.99, 0.01) for s in range(50, 1500, 50)]
    alarms = detect_collapse([], d)
    assert [a.rule for a in alarms] == ["d_separates"] and alarms[0].step == 950  # 10 logs from step 500
    # Score outputs (WGAN critics) are not probabilities: no D rule.
    assert detect_collapse([], d, output_kind="score") == []
    # D's latest outputs are quoted in other alarms' reasons.
    low = {**HEALTHY, "diversity": 0.2}
    alarms = detect_collapse(seq(*[low] * 8), [(s, 0.62, 0.35) for s in range(50, 900, 50)])
    assert "D(x) = 0.62, D(G(z)) = 0.35" in alarms[0].reason


def test_thresholds_are_settable_and_the_detector_is_incremental():
    det = CollapseDetector(Thresholds(warmup_steps=0, patience=1, min_diversity=0.9))
    assert det.observe_metrics(10, {"diversity": 0.95}) == []
    (alarm,) = det.observe_metrics(20, {"diversity": 0.5})
    assert alarm.step == 20 and det.alarms == [alarm] and alarm.as_dict()["rule"] == "diversity"


class Recorder:
    def __init__(self):
        self.samples, self.d, self.alarms = [], [], []

    def handle(self, event):
        if isinstance(event, ev.Samples):
            self.samples.append((event.step, event.points, event.real_points))
        elif isinstance(event, ev.Scalars):
            self.d.append((event.step, event.values["d_real"], event.values["d_fake"]))
        elif isinstance(event, ev.CollapseAlarm):
            self.alarms.append(event)


def run_and_detect(profile, runs_dir):
    """Train; the alarms are the CollapseAlarm events the trainer raised itself, checked against
    the offline detector over the same samples, and kept in the run directory."""
    rec = Recorder()
    session = new_session(profile, runs_dir, [rec])
    session.trainer.run()
    session.close()
    data = ring8(None, torch.device("cpu"))
    metrics = [(step, toy_signals(points, data, real, seed=profile.train.seed))
               for step, points, real in rec.samples]
    offline = detect_collapse(metrics, rec.d)
    assert [(a.step, a.rule) for a in rec.alarms] == [(a.step, a.rule) for a in offline]
    reader = RunReader(session.run_dir)
    assert [(a["step"], a["rule"], a["reason"]) for a in reader.alarms()] == [
        (a.step, a.rule, a.reason) for a in rec.alarms]
    reader.close()
    return rec.alarms, metrics


@pytest.mark.slow
def test_plain_gan_on_ring8_is_flagged(tmp_path, runs_dir, one_thread):
    path = tmp_path / "plain-ring8.toml"
    path.write_text(PLAIN_RING8.format(steps=1000, seed=0))
    alarms, metrics = run_and_detect(load_profile(str(path)), runs_dir)
    assert alarms, f"no alarm; diversity per step: {[(s, round(m['diversity'], 2)) for s, m in metrics]}"
    first = alarms[0]
    assert first.rule == "diversity" and 500 <= first.step <= 1000
    assert f"since step {first.since}" in first.reason and "D(x)" in first.reason


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_shipped_ring8_is_never_flagged(seed, runs_dir, one_thread):
    profile = load_profile("ring8", [f"train.seed={seed}", "train.steps=1000", "train.device=cpu",
                                     "log.samples_every=100", "checkpoint.every=100000", "eval.every=0"])
    alarms, metrics = run_and_detect(profile, runs_dir)
    assert alarms == []
    assert np.mean([m["diversity"] for s, m in metrics if s >= 500]) > 0.9
