"""Errors that end a command with one readable sentence instead of a traceback."""


class BadInput(Exception):
    """The user's input (a profile, an option, a dataset path) is wrong.

    The message is one sentence naming the file, the key and the fix; the CLI
    prints it and exits with code 2.
    """

    exit_code = 2

    def __init__(self, message: str = ""):
        super().__init__(one_line(message))


def one_line(text: str) -> str:
    """Control characters (a newline in a key or a value quoted from a file) escaped, so that a
    message stays one line on the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class TrainingDiverged(Exception):
    """A loss or a weight became NaN or Inf."""

    exit_code = 3

    def __init__(self, step: int, what: str, verb: str = "is"):
        super().__init__(f"training diverged at step {step:,}: {what} {verb} not finite")
        self.step = step


class RunWriteError(Exception):
    """A file of the run directory could not be written (a full disk, a file size limit, an I/O error).

    `path` names the file; `cause` is what the write raised. Files written before stay intact.
    """

    def __init__(self, path, cause: BaseException):
        self.path = path
        self.cause = cause
        reason = write_failure_reason(cause)
        if reason not in _DISK_FULL.values():  # SQLite says only "disk I/O error": look at the disk
            found = _diagnose(path)
            reason = f"{reason}: {found}" if found else reason
        super().__init__(f"cannot write {path} ({reason})")


def _diagnose(path) -> str:
    """Why writes to `path` may fail: a nearly full file system, or a file at the size limit."""
    import os
    import resource
    import shutil
    from pathlib import Path

    path = Path(path)
    try:
        folder = next(p for p in (path.parent, *path.parents) if p.is_dir())
        if shutil.disk_usage(folder).free < 16 * 1024 * 1024:
            return "no space left on the device"
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            sizes = [os.path.getsize(f) for f in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if f.exists()]
            if sizes and max(sizes) + 64 * 1024 >= limit:
                return "the file size limit was reached"
    except (OSError, StopIteration, ValueError):
        pass
    return ""


_DISK_FULL = {28: "no space left on the device", 27: "the file size limit was reached",
              122: "the disk quota is used up"}  # ENOSPC, EFBIG, EDQUOT


def write_failure_reason(exc: BaseException) -> str:
    """Why a write failed, in a few words: the disk-full errno if one is anywhere in the exception's
    chain (torch.save and safetensors wrap the OSError), else the error's own text."""
    import re

    seen = exc
    for _ in range(8):  # __cause__ / __context__ chain, bounded
        if seen is None:
            break
        errno = getattr(seen, "errno", None)
        if errno in _DISK_FULL:
            return _DISK_FULL[errno]
        found = re.search(r"os error (\d+)|\[Errno (\d+)\]", str(seen))
        if found and int(found.group(1) or found.group(2)) in _DISK_FULL:
            return _DISK_FULL[int(found.group(1) or found.group(2))]
        if getattr(seen, "sqlite_errorname", "") == "SQLITE_FULL" or "database or disk is full" in str(seen):
            return _DISK_FULL[28]
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
