"""Evaluations during training: scheduled and on demand, off the training thread,
on a frozen copy of G, stored in the run, and never changing the training itself."""

import json
import threading
import time

import pytest
import torch

from conftest import MNIST, needs_fashion, needs_mnist
from gan_tui.profile import load_profile
from gan_tui.store.reader import RunReader
from gan_tui.train import events as ev
from gan_tui.train.control import Command, Commands
from gan_tui.train.evaluation import EvaluationWorker
from gan_tui.train.session import new_session
from test_trainer import Recorder

TINY_RING8 = ["train.device=cpu", "train.steps=60", "log.every=10", "log.samples_every=30",
              "log.samples=256", "checkpoint.every=1000", "eval.n=500", "data.batch_size=64", "eval.every=0"]


def train(profile, runs_dir, commands=None):
    rec = Recorder()
    session = new_session(profile, runs_dir, [rec], commands=commands)
    session.trainer.run()
    session.close()
    return rec, session


def test_scheduled_evaluations_reach_the_sinks_and_the_store(runs_dir):
    rec, session = train(load_profile("ring8", [*TINY_RING8, "eval.every=25"]), runs_dir)
    done = rec.of(ev.Evaluated)
    # every 25 steps, plus the last step; each announced before its result
    assert [e.step for e in done] == [25, 50, 60]
    assert [e.step for e in rec.of(ev.EvaluationStarted)] == [25, 50, 60]
    assert rec.events.index(rec.of(ev.EvaluationStarted)[0]) < rec.events.index(done[0])
    for e in done:
        m = e.metrics
        assert m["step"] == e.step and m["n"] == 500 and m["features"] == "points"
        assert m["fid"] >= 0 and m["modes_total"] == 8 and len(m["per_mode"]) == 8
        assert m["labels"]["fid"] == "FID (points)"
    # the final status comes after the last evaluation
    assert isinstance(rec.events[-1], ev.StatusChanged) and rec.events[-1].status == "finished"

    reader = RunReader(session.run_dir)
    stored = reader.evaluations()
    assert [s for s, _ in stored] == [25, 50, 60]
    assert stored[0][1]["fid"] == pytest.approx(done[0].metrics["fid"])
    meta = reader.meta()
    best = min(done, key=lambda e: e.metrics["fid"])
    assert meta["best_fid"] == pytest.approx(best.metrics["fid"]) and meta["best_fid_step"] == best.step
    assert meta["best_fid_label"] == "FID (points)"
    reader.close()


def test_evaluate_command_runs_one_on_demand(runs_dir):
    commands = Commands()
    commands.send(Command.EVALUATE)
    rec, _ = train(load_profile("ring8", TINY_RING8), runs_dir, commands)  # eval.every = 0: only on demand
    done = rec.of(ev.Evaluated)
    assert [(e.step, e.on_demand) for e in done] == [(0, True)]


def test_evaluation_leaves_training_unchanged(runs_dir, one_thread):
    """Same seed with and without evaluations: the same weights at the end, bit for bit."""
    _, plain = train(load_profile("ring8", TINY_RING8), runs_dir)
    _, evaluated = train(load_profile("ring8", [*TINY_RING8, "eval.every=10"]), runs_dir)
    a, b = plain.trainer.G.state_dict(), evaluated.trainer.G.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_snapshot_is_frozen_at_its_step(runs_dir):
    """The job evaluates G as it was when asked, even though training goes on meanwhile."""
    profile = load_profile("ring8", TINY_RING8)
    session = new_session(profile, runs_dir)
    trainer = session.trainer
    job = trainer._evaluation_job()
    before = job()
    for _ in range(30):
        trainer.train_step()
    assert job()["fid"] == pytest.approx(before["fid"])  # the snapshot did not move
    session.close()


def test_worker_runs_jobs_off_the_calling_thread_and_reports_errors():
    worker = EvaluationWorker(torch.device("cpu"))
    caller = threading.get_ident()
    assert worker.submit(1, lambda: {"thread": threading.get_ident()})
    assert worker.submit(2, lambda: 1 / 0)
    assert not worker.submit(3, lambda: {})  # two outstanding: the third is refused
    outcomes = worker.wait(timeout=30)
    results = [o for o in outcomes if not o.started]
    assert results[0].metrics["thread"] != caller
    assert results[1].step == 2 and "division by zero" in results[1].error
    assert worker.outstanding == 0
    worker.close()


def test_worker_thread_lives_only_while_there_is_work_and_close_drops_waiting_jobs():
    worker = EvaluationWorker(torch.device("cpu"))
    release = threading.Event()
    assert worker.submit(1, lambda: {"ok": release.wait(30)})
    assert worker.submit(2, lambda: {"never": True})
    thread = worker._thread
    assert thread is not None and not thread.daemon  # the process waits for it instead of aborting in torch
    deadline = time.monotonic() + 30
    while worker.running_step != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.close() == 1  # step 1 runs on; step 2 had not started and is dropped
    release.set()
    thread.join(30)
    assert not thread.is_alive() and worker.running_step is None
    results = [o for o in worker.collect() if not o.started]
    assert [o.step for o in results] == [1] and worker.outstanding == 0
    assert worker.submit(3, lambda: {"again": True})  # a new thread for new work
    assert [o.metrics for o in worker.wait(timeout=30) if not o.started] == [{"again": True}]


@needs_fashion
def test_an_evaluation_that_cannot_work_fails_once_and_training_finishes(runs_dir, monkeypatch):
    monkeypatch.delenv("GAN_TUI_INCEPTION", raising=False)
    profile = load_profile("dcgan-fashion", ["train.device=cpu", "train.steps=6", "data.batch_size=8",
                                             "model.g_width=8", "model.d_width=8", "log.samples=8",
                                             "eval.every=2", "eval.features=inception", "eval.n=20"])
    rec, session = train(profile, runs_dir)
    failed = rec.of(ev.EvaluationFailed)
    assert len(failed) == 1 and "Inception" in failed[0].message and "no more scheduled" in failed[0].message
    assert rec.of(ev.Evaluated) == []
    assert rec.events[-1].status == "finished"
    meta = json.loads((session.run_dir / "meta.json").read_text())
    assert meta["status"] == "finished" and "best_fid" not in meta


@pytest.mark.parametrize("name, data", [pytest.param("dcgan-fashion", [], marks=needs_fashion),
                                        pytest.param("mnist-dcgan", [f"data.path={MNIST}"], marks=needs_mnist)])
def test_image_evaluation_labels_domain_fid_and_feeds_class_coverage(name, data, runs_dir):
    profile = load_profile(name, ["train.device=cpu", "train.steps=4", "data.batch_size=8",
                                  "model.g_width=8", "model.d_width=8", "log.samples=8",
                                  "eval.every=4", "eval.n=200", "data.limit=2000", *data])
    rec, _ = train(profile, runs_dir)
    (done,) = rec.of(ev.Evaluated)
    m = done.metrics
    assert m["labels"]["fid"] == "FID (domain)" and m["features"] == "domain"
    assert m["classes_total"] == 10 and len(m["class_histogram"]) == 10
    accuracy = {"dcgan-fashion": "92.26%", "mnist-dcgan": "99.48%"}[name]  # each dataset its own evaluator
    assert m["extractor"] == f"domain CNN for {profile.data.name} (128 features, test accuracy {accuracy})"
