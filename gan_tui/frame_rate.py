"""The dashboard's frame rate: its default and the range --fps accepts (`gan-tui` and `gan-tui watch`).
Outside gan_tui.tui so that the command line can name it without importing the UI.

Two frames a second by default: keys are answered at once whatever the rate, and
every frame with news costs the UI thread Textual's layout-free repaint, which
on a CPU-bound run holds the GIL the training thread needs (RESULTS.md,
"Dashboard": 28-29 ms of UI CPU a second at 4 frames, 17 ms at 2 with panes
redrawn at most once a second).
"""

DEFAULT_FPS = 2.0
MIN_FPS, MAX_FPS = 0.5, 30.0
