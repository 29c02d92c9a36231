"""Errors that end a command with one readable sentence instead of a traceback."""


class BadInput(Exception):
    """The user's input (a profile, an option, a dataset path) is wrong.

    The message is one sentence naming the file, the key and the fix; the CLI
    prints it and exits with code 2.
    """

    exit_code = 2


class TrainingDiverged(Exception):
    """A loss or a weight became NaN or Inf."""

    exit_code = 3

    def __init__(self, step: int, what: str):
        super().__init__(f"training diverged at step {step}: {what} is not finite")
        self.step = step
