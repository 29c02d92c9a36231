"""Faults injected into real runs, and bad input thrown at the profile loader (issue 8).

    python benchmarks/faults.py [--runs 3] [--kills 10] [--profiles 2000] [--overrides 500] [--seed 0]

Faults (each a real `gan-tui` process forked from a warm interpreter, tests/faultlib.py):
- SIGKILL storms: --runs runs of ring8 killed --kills times each at seeded random moments (every
  other kill aimed at a checkpoint write), checked after every kill (meta.json parses, the
  database is sound, every listed checkpoint loads, every log step up to the newest checkpoint has
  its scalars once), then resumed to the end;
- SIGINT, SIGTERM, SIGHUP: exit 130/143/129, a checkpoint at the step the run stopped, interrupted;
- a full disk (a file size limit) under the database and under a checkpoint: exit 1, marked failed,
  earlier files intact, and a resume once there is room again;
- NaN/Inf put into G, D and G_ema weights, caught at the next log step; one rolled back and finished;
- CUDA out of memory (raised in the step, in-process): one sentence, failed, nothing lost;
- two runs writing one runs directory while it is read: lock errors and gaps;
- damaged checkpoints, database and meta.json on resume, eval and compare: named, passed over.
Bad input: --profiles random profile files and --overrides random --set lists (tests/badinput.py),
each loaded in-process: valid, refused in one sentence, or a traceback (the goal: none).

Writes benchmarks/results/faults.json and prints the Markdown table for RESULTS.md.
"""

import argparse
import json
import math
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))


def storms(root: Path, runs: int, kills: int, seed: int) -> dict:
    from faultlib import kill_storm

    r = kill_storm(root / "storm", runs=runs, kills_per_run=kills, seed=seed)
    return {"injected": r.faults, "inside_a_checkpoint_write": r.torn_checkpoints, "runs": r.runs,
            "runs_survived": r.survived, "logged_steps_lost": r.lost_steps, "duplicated_rows": r.duplicated_rows,
            "problems": r.problems, "seconds": round(r.seconds, 1)}


def stop_signals(root: Path) -> dict:
    from faultlib import STORM, Child, check_run, run_dirs, wait_for
    from gan_tui.train.checkpoint import list_checkpoints

    out = {"injected": 0, "survived": 0, "exit_codes": {}, "problems": []}
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        runs = root / f"signal-{signum}"
        child = Child(["run", "ring8", *STORM, "--set", "train.steps=1000000", "--quiet", "--runs-dir", runs],
                      root / f"signal-{signum}.txt")
        wait_for(lambda: any(list_checkpoints(p / "checkpoints") for p in run_dirs(runs)) or not child.alive())
        child.signal(signum)
        got = child.wait(60)
        out["injected"] += 1
        out["exit_codes"][signal.Signals(signum).name] = got
        (run,) = run_dirs(runs)
        meta = json.loads((run / "meta.json").read_text())
        check = check_run(run, 5)
        ok = (got == code and meta["status"] == "interrupted" and meta["step"] == check.checkpoint
              and not check.lost and not check.problems)
        out["survived"] += ok
        if not ok:
            out["problems"].append(f"{signal.Signals(signum).name}: exit {got}, {meta['status']}, {check}")
    return out


def full_disk(root: Path) -> dict:
    from faultlib import check_run, cli, run_dirs, scalar_rows

    tiny = ["--set", "train.device=cpu", "--set", "log.samples=64", "--set", "eval.every=0", "--set", "train.steps=2000"]
    cases = {"database": (["--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "log.every=1",
                           "--set", "log.histograms_every=1", "--set", "checkpoint.every=5"], 200_000, 1),
             "checkpoint": (["--set", "log.every=10", "--set", "checkpoint.every=20"], 150_000, 10)}
    out = {"injected": 0, "one_sentence": 0, "marked_failed": 0, "earlier_files_intact": 0, "resumed_after": 0,
           "problems": []}
    for name, (extra, limit, log_every) in cases.items():
        runs = root / f"full-{name}"
        code, text = cli(["run", "ring8", *tiny, *extra, "--quiet", "--runs-dir", runs], root / f"full-{name}.txt",
                         fsize=limit)
        out["injected"] += 1
        (run,) = run_dirs(runs)
        lines = text.strip().splitlines()
        out["one_sentence"] += code == 1 and len(lines) == 1 and "cannot write" in text and "Traceback" not in text
        out["marked_failed"] += json.loads((run / "meta.json").read_text())["status"] == "failed"
        check = check_run(run, log_every)
        out["earlier_files_intact"] += not check.problems and not check.lost
        total = check.checkpoint + 2 * log_every
        code, text = cli(["run", "--resume", run.name, "--quiet", "--runs-dir", runs, "--set", f"train.steps={total}"],
                         root / f"full-{name}-resume.txt")
        steps = sorted({s for s, _ in scalar_rows(run)})
        resumed = code == 0 and steps == list(range(log_every, total + 1, log_every))
        out["resumed_after"] += resumed
        if not resumed:
            out["problems"].append(f"{name}: resume exit {code}: {text[-300:]}")
    return out


def divergence(root: Path) -> dict:
    from gan_tui.errors import TrainingDiverged
    from test_faults import poisoned_session

    out = {"injected": 0, "caught_within_one_log_interval": 0, "rolled_back_and_finished": 0, "problems": []}
    for i, (network, value) in enumerate((("G", math.nan), ("D", math.inf), ("G_ema", math.nan))):
        session, _ = poisoned_session(root / f"nan-{i}", network=network, value=value)
        out["injected"] += 1
        try:
            session.trainer.run()
            out["problems"].append(f"{network}: not caught")
        except TrainingDiverged as exc:
            out["caught_within_one_log_interval"] += exc.step == 30 and network in str(exc)
        session.close()
    session, rec = poisoned_session(root / "rollback", ["train.on_divergence=rollback"])
    out["injected"] += 1
    finished = session.trainer.run() == "finished"
    session.close()
    out["caught_within_one_log_interval"] += finished
    out["rolled_back_and_finished"] += finished and session.trainer.rollbacks == 1
    return out


def out_of_memory(root: Path) -> dict:
    import contextlib
    import io

    import torch
    import typer

    from faultlib import check_run
    from gan_tui.cli import _record_failure
    from gan_tui.profile import load_profile
    from gan_tui.train.session import new_session
    from test_faults import OOM_TEXT
    from test_trainer import FAST

    session = new_session(load_profile("ring8", FAST), root / "oom")
    trainer, step = session.trainer, session.trainer.train_step

    def step_or_oom():
        if trainer.step == 25:
            raise torch.OutOfMemoryError(OOM_TEXT)
        step()

    trainer.train_step = step_or_oom
    err = io.StringIO()
    code = None
    with contextlib.redirect_stderr(err):
        try:
            try:
                trainer.run()
            except Exception as exc:  # noqa: BLE001 - the CLI's own failure path
                _record_failure(session, exc)
        except typer.Exit as exit_:
            code = exit_.exit_code
    session.close()
    text = err.getvalue().strip()
    meta = json.loads((session.run_dir / "meta.json").read_text())
    check = check_run(session.run_dir, 10)
    return {"injected": 1, "one_sentence": int(code == 1 and len(text.splitlines()) == 1 and "batch_size = 64" in text
                                               and "GiB" in text),
            "marked_failed": int(meta["status"] == "failed"),
            "nothing_corrupted": int(not check.problems and not check.lost and check.checkpoint == 20),
            "message": text}


def concurrent(root: Path) -> dict:
    from faultlib import STORM, Child, run_dirs
    from gan_tui.store import RunReader
    from gan_tui.store.runs import list_runs

    runs = root / "concurrent"
    argv = ["run", "ring8", *STORM, "--set", "train.steps=300", "--quiet", "--runs-dir", runs]
    children = [Child([*argv, "--set", f"train.seed={s}"], root / f"writer-{s}.txt") for s in (1, 2)]
    errors, gaps, reads = [], 0, 0
    while any(c.alive() for c in children):
        for summary in list_runs(runs, on_bad=errors.append):
            try:
                reader = RunReader(summary.dir)
                try:
                    steps, _ = reader.scalars("d_loss")
                    reader.histogram()
                    reader.samples()
                finally:
                    reader.close()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            reads += 1
            gaps += steps.tolist() != list(range(5, 5 * len(steps) + 1, 5))
    codes = [c.wait() for c in children]
    return {"writers": 2, "writers_finished": sum(c == 0 for c in codes), "reads": reads,
            "lock_or_read_errors": len(errors), "gaps_seen": gaps, "errors": errors[:5],
            "runs": len(run_dirs(runs))}


def damaged_files(root: Path) -> dict:
    from typer.testing import CliRunner

    from faultlib import STORM, cli, run_dirs
    from gan_tui.cli import app

    runs = root / "damaged"
    code, _ = cli(["run", "ring8", *STORM, "--set", "train.steps=40", "--set", "checkpoint.every=10",
                   "--set", "checkpoint.keep=4", "--quiet", "--runs-dir", runs], root / "damaged.txt")
    (run,) = run_dirs(runs)
    out = {"injected": 0, "named": 0, "went_on": 0}

    def cut(path, keep=0.5):
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    # eval passes over a truncated newest checkpoint
    cut(run / "checkpoints" / "step-0000040" / "model.safetensors")
    result = CliRunner().invoke(app, ["eval", str(run), "--n", "200", "--device", "cpu", "--format", "json"])
    out["injected"] += 1
    out["named"] += "step-0000040" in result.stderr
    out["went_on"] += result.exit_code == 0 and json.loads(result.stdout)["step"] == 30
    # resume passes over it and a damaged state.pt, and sets a truncated database aside
    (run / "checkpoints" / "step-0000030" / "state.pt").write_bytes(b"not a torch file")
    cut(run / "metrics.sqlite", 0.3)
    code, text = cli(["run", "--resume", run.name, "--quiet", "--runs-dir", runs, "--set", "train.steps=50"],
                     root / "damaged-resume.txt")
    out["injected"] += 2
    out["named"] += ("step-0000030" in text) + ("metrics.sqlite" in text)
    out["went_on"] += 2 * (code == 0)
    # compare names a truncated database and goes on with the others
    cut(run / "metrics.sqlite", 0.4)
    code2, _ = cli(["run", "ring8", *STORM, "--set", "train.steps=10", "--quiet", "--runs-dir", runs],
                   root / "damaged-2.txt")
    other = next(p for p in run_dirs(runs) if p != run)
    result = CliRunner().invoke(app, ["compare", str(run), str(other), "--format", "json"])
    out["injected"] += 1
    out["named"] += "metrics.sqlite: cannot be read" in result.stderr
    out["went_on"] += result.exit_code == 0
    # meta.json unreadable: resume refuses, naming it
    (run / "meta.json").write_text('{"id": "x", "sta')
    code, text = cli(["run", "--resume", str(run), "--quiet"], root / "damaged-meta.txt")
    out["injected"] += 1
    out["named"] += code == 2 and "meta.json: cannot be read" in text
    out["went_on"] += code == 2  # a clear refusal: nothing to go on with
    return out


def bad_inputs(root: Path, n_profiles: int, n_overrides: int, seed: int) -> dict:
    from hypothesis import given, seed as hseed, settings
    from hypothesis import strategies as st

    from badinput import classify, profile_texts, sentence_problem

    counts = {"profile_files": {"tried": 0, "valid": 0, "refused_in_one_sentence": 0, "refused_otherwise": 0,
                                "tracebacks": 0},
              "set_overrides": {"tried": 0, "valid": 0, "refused_in_one_sentence": 0, "refused_otherwise": 0,
                                "tracebacks": 0}}
    examples = []
    folder = root / "profiles"
    folder.mkdir()

    def record(kind, outcome, detail, path, example):
        c = counts[kind]
        c["tried"] += 1
        if outcome == "traceback":
            c["tracebacks"] += 1
            examples.append({"input": repr(example)[:300], "traceback": detail[-600:]})
        elif outcome == "valid":
            c["valid"] += 1
        elif sentence_problem(detail, path) if kind == "profile_files" else "\n" in detail:
            c["refused_otherwise"] += 1
            examples.append({"input": repr(example)[:300], "message": detail})
        else:
            c["refused_in_one_sentence"] += 1

    @hseed(seed)
    @settings(max_examples=n_profiles, database=None, deadline=None)
    @given(profile_texts())
    def profiles(text):
        path = folder / "fuzz.toml"
        path.write_bytes(text)
        outcome, detail = classify(path)
        record("profile_files", outcome, detail, path, text)

    from test_profile_fuzz import override_keys, override_values

    @hseed(seed)
    @settings(max_examples=n_overrides, database=None, deadline=None)
    @given(st.lists(st.tuples(override_keys, override_values), min_size=1, max_size=3))
    def overrides(pairs):
        given_ = [f"{k}={v}" for k, v in pairs]
        outcome, detail = classify("ring8", given_)
        record("set_overrides", outcome, detail, Path("ring8"), given_)

    start = time.monotonic()
    profiles()
    overrides()
    counts["seconds"] = round(time.monotonic() - start, 1)
    counts["examples_of_problems"] = examples[:10]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--overrides", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    os.environ.setdefault("GAN_TUI_OFFLINE", "1")
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["GAN_TUI_RUNS_DIR"] = str(root / "runs")
        os.environ["GAN_TUI_PROFILES"] = str(root / "user-profiles")
        os.environ["GAN_TUI_CACHE"] = str(root / "cache")
        faults = {"sigkill": storms(root, args.runs, args.kills, args.seed), "stop_signals": stop_signals(root),
                  "full_disk": full_disk(root), "nan_inf": divergence(root), "cuda_oom": out_of_memory(root),
                  "concurrent_writers_and_reader": concurrent(root), "damaged_files": damaged_files(root)}
        inputs = bad_inputs(root, args.profiles, args.overrides, args.seed)
    survived = {"sigkill": faults["sigkill"]["runs_survived"], "stop_signals": faults["stop_signals"]["survived"],
                "full_disk": faults["full_disk"]["resumed_after"],
                "nan_inf": faults["nan_inf"]["caught_within_one_log_interval"],
                "cuda_oom": faults["cuda_oom"]["nothing_corrupted"],
                "concurrent_writers_and_reader": faults["concurrent_writers_and_reader"]["writers_finished"],
                "damaged_files": faults["damaged_files"]["went_on"]}
    injected = {"sigkill": faults["sigkill"]["injected"], "stop_signals": faults["stop_signals"]["injected"],
                "full_disk": faults["full_disk"]["injected"], "nan_inf": faults["nan_inf"]["injected"],
                "cuda_oom": 1, "concurrent_writers_and_reader": 2, "damaged_files": faults["damaged_files"]["injected"]}
    runs_total = {**injected, "sigkill": faults["sigkill"]["runs"]}
    tried = sum(inputs[k]["tried"] for k in ("profile_files", "set_overrides"))
    tracebacks = sum(inputs[k]["tracebacks"] for k in ("profile_files", "set_overrides"))
    summary = {"faults_injected": sum(injected.values()), "runs": sum(runs_total.values()),
               "runs_survived": sum(survived.values()), "logged_steps_lost": faults["sigkill"]["logged_steps_lost"],
               "bad_inputs_tried": tried, "bad_input_tracebacks": tracebacks,
               "bad_inputs_refused_not_in_one_sentence": sum(inputs[k]["refused_otherwise"]
                                                             for k in ("profile_files", "set_overrides"))}
    result = {"summary": summary, "faults": faults, "bad_inputs": inputs, "seconds": round(time.monotonic() - start, 1),
              "args": vars(args), "machine": {"python": platform.python_version(), "torch": torch.__version__,
                                              "cpus": os.cpu_count(), "platform": platform.platform()}}
    out = HERE / "results" / "faults.json"
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print("| fault | injected | survived | notes |\n|---|---|---|---|")
    notes = {"sigkill": f"{faults['sigkill']['inside_a_checkpoint_write']} inside a checkpoint write; "
                        f"{faults['sigkill']['runs']} runs, logged steps lost {faults['sigkill']['logged_steps_lost']}",
             "stop_signals": ", ".join(f"{k} exit {v}" for k, v in faults["stop_signals"]["exit_codes"].items()),
             "full_disk": "database and checkpoint; marked failed, earlier files intact, resumed once there was room",
             "nan_inf": "G, D, G_ema weights; caught at the next log step; one rolled back and finished",
             "cuda_oom": "one sentence with batch size and memory; marked failed; nothing lost",
             "concurrent_writers_and_reader": f"{faults['concurrent_writers_and_reader']['reads']} reads, "
                                              f"{faults['concurrent_writers_and_reader']['lock_or_read_errors']} "
                                              "lock/read errors",
             "damaged_files": "checkpoints, database, meta.json via resume, eval, compare"}
    for key in injected:
        print(f"| {key.replace('_', ' ')} | {injected[key]} | {survived[key]} of {runs_total[key]} | {notes[key]} |")
    print(f"\nbad inputs: {tried} tried ({inputs['profile_files']['tried']} profile files, "
          f"{inputs['set_overrides']['tried']} --set lists), {tracebacks} tracebacks, "
          f"{summary['bad_inputs_refused_not_in_one_sentence']} refusals not in one sentence naming the file")
    print(f"\nsummary: {json.dumps(summary)}\nwrote {out} in {result['seconds']} s")


if __name__ == "__main__":
    main()
