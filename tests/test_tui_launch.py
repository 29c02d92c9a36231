"""`gan-tui [PROFILE] [options]`: bad input is one sentence on stderr and exit code 2, before any screen."""

import pytest

from gan_tui.tui.launch import dashboard_app, parse


@pytest.mark.parametrize("argv, words", [
    (["no-such-profile"], ['profile "no-such-profile" not found']),
    (["ring8", "--set", "train.stepz=5"], ['unknown key "train.stepz"']),
    (["--set", "train.steps=oops"], ["train.steps"]),  # checked even without a profile
    (["ring8", "--color", "rainbow"], ['--color is "rainbow"', "truecolor, 256, 16, none"]),
    (["ring8", "--fps", "fast"], ['--fps is "fast"']),
    (["ring8", "--fps", "500"], ["--fps is 500"]),
    (["ring8", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
    (["--resume", "no-such-run-xyz"], ['run "no-such-run-xyz" not found', "gan-tui runs"]),
])
def test_bad_input_is_one_sentence_and_exit_2(capsys, argv, words):
    with pytest.raises(SystemExit) as exit_info:
        dashboard_app(argv=argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err


def test_options_are_parsed():
    args = parse(["ring8", "--set", "a=1", "--set", "b=2", "--runs-dir", "/tmp/r", "--color", "256", "--fps", "2.5"])
    assert (args.profile, args.overrides, args.runs_dir, args.depth, args.fps) == \
        ("ring8", ["a=1", "b=2"], "/tmp/r", "256", 2.5)
    assert parse([]).profile is None



def test_the_top_level_help_says_how_to_open_the_dashboard(monkeypatch, capsys):
    """`gan-tui --help` lists the commands; the dashboard is no command, so the help must name it."""
    from gan_tui.cli import main

    monkeypatch.setattr("sys.argv", ["gan-tui", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "`gan-tui` alone lists the profiles" in text and "`gan-tui PROFILE --help`" in text
