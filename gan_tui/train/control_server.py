"""The control channel: other processes (`gan-tui watch`) steer a running trainer.

The training process (rank 0) serves a Unix socket, RUN/control.sock (mode 0600,
so only the run's owner can steer it), on a daemon thread. A client connects,
writes one JSON line, {"command": "pause"} (pause, resume, stop, checkpoint or
evaluate), and reads one JSON line back: {"ok": true, "step": N} once the
command is on the trainer's `Commands` queue (the trainer applies it at its next
step; the run directory shows the effect), or {"ok": false, "error": "..."}.

meta.json records {"control": {"socket": PATH, "protocol": 1}} while the server
runs; PATH is relative to the run directory unless the run directory's path is
too long for a Unix socket address (~107 bytes), in which case the socket lives
in a short private temp dir and PATH is absolute. The socket (and the key) go
away when the run ends.

Nothing here imports torch: `gan-tui watch` uses the client half.
"""

import json
import os
import socket
import tempfile
import threading
from pathlib import Path

from gan_tui.train.control import Command, Commands

PROTOCOL = 1
SOCKET_NAME = "control.sock"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux (104 on macOS), with its NUL
MAX_LINE = 4096


class ControlError(Exception):
    """The run cannot be steered (no channel, or the trainer did not answer); one sentence."""


class ControlServer:
    """Serves RUN/control.sock until `close()`; commands land on `commands`."""

    def __init__(self, run_dir: Path, commands: Commands, step=lambda: None, on_meta=None):
        self.run_dir = Path(run_dir)
        self.commands = commands
        self.step = step  # callable: the trainer's current step, for the reply
        self.on_meta = on_meta  # callable(dict | None): record (or clear) meta["control"]
        self._temp_dir: str | None = None
        path = self.run_dir / SOCKET_NAME
        if len(os.fsencode(str(path.resolve()))) > MAX_SOCKET_PATH:
            self._temp_dir = tempfile.mkdtemp(prefix="gan-tui-")  # mode 0700
            path = Path(self._temp_dir) / SOCKET_NAME
        self.path = path
        self.recorded = SOCKET_NAME if self._temp_dir is None else str(path)
        path.unlink(missing_ok=True)  # left over by a killed process of this run (resume)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is created 0600: no window where others could connect
        try:
            self._sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self._sock.listen(8)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="gan-tui control", daemon=True)
        self._thread.start()
        if self.on_meta is not None:
            self.on_meta({"socket": self.recorded, "protocol": PROTOCOL, "pid": os.getpid()})

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(2.0)
                try:
                    reply = self._answer(_read_line(conn))
                except (OSError, ValueError) as exc:
                    reply = {"ok": False, "error": f"bad request: {exc}"}
                try:
                    conn.sendall((json.dumps(reply) + "\n").encode())
                except OSError:
                    pass

    def _answer(self, line: bytes) -> dict:
        request = json.loads(line)
        name = request.get("command") if isinstance(request, dict) else None
        if name == "ping":
            return {"ok": True, "step": self.step(), "protocol": PROTOCOL}
        try:
            command = Command(name)
        except ValueError:
            known = ", ".join(c.value for c in Command)
            return {"ok": False, "error": f'unknown command "{name}"; use one of {known}'}
        self.commands.send(command)
        return {"ok": True, "step": self.step()}

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        # The thread leaves accept() now; waiting for it leaves the interpreter nothing to tear
        # down at exit (a reply being written has its own 2 s timeout).
        self._thread.join(timeout=5)
        self.path.unlink(missing_ok=True)
        if self._temp_dir is not None:
            try:
                os.rmdir(self._temp_dir)
            except OSError:
                pass
        if self.on_meta is not None:
            try:
                self.on_meta(None)
            except Exception:  # noqa: BLE001 - a full disk must not hide how the run ended
                pass


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(1024)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_LINE:
            raise ValueError("line too long")
    return data.split(b"\n", 1)[0]


def serve_session(session, commands: Commands) -> ControlServer | None:
    """Start the control server for a session (rank 0 only, which alone has a store); None if it cannot.

    meta["control"] is kept in the store's meta dict, so every later meta.json write keeps it."""
    store = getattr(session, "store", None)
    if not isinstance(getattr(store, "meta", None), dict) or not hasattr(store, "save_meta"):
        return None  # torchrun ranks other than 0 (no store), or a test's stand-in

    def on_meta(control: dict | None) -> None:
        if control is None:
            store.meta.pop("control", None)
        else:
            store.meta["control"] = control
        store.save_meta()

    try:
        return ControlServer(session.run_dir, commands, lambda: session.trainer.step, on_meta)
    except OSError:  # no Unix sockets here (or the run dir is read-only): training goes on without
        return None


# -- the client half -------------------------------------------------------


def socket_path(run_dir: Path, meta: dict) -> Path | None:
    """Where the run's control socket is, from meta.json; None when the run has no channel."""
    control = meta.get("control")
    if not isinstance(control, dict) or not isinstance(control.get("socket"), str):
        return None
    path = Path(control["socket"])
    return path if path.is_absolute() else Path(run_dir) / path


def send_command(run_dir: Path, command: str, meta: dict | None = None, timeout: float = 3.0) -> dict:
    """Send one command to the run's trainer; its reply ({"ok": true, "step": N}) or ControlError."""
    if meta is None:
        from gan_tui.store.meta import read_meta

        meta = read_meta(run_dir)
    path = socket_path(run_dir, meta)
    if path is None:
        raise ControlError("this run has no control channel (it was started by an older gan-tui, "
                           "or it is not training)")
    address = str(path)
    relative = None
    if len(os.fsencode(address)) > MAX_SOCKET_PATH:  # a long run dir path: connect through its folder
        relative = path.name
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if relative is None:
            sock.connect(address)
        else:
            _connect_relative(sock, path)
        sock.sendall((json.dumps({"command": command}) + "\n").encode())
        reply = _read_line(sock)
    except (OSError, ValueError) as exc:
        raise ControlError(f"the trainer did not answer on {path} ({type(exc).__name__}: {exc}); "
                           "it may have ended") from None
    finally:
        sock.close()
    try:
        out = json.loads(reply)
    except ValueError:
        raise ControlError(f"the trainer answered {reply[:80]!r} on {path}, not JSON") from None
    if not out.get("ok"):
        raise ControlError(str(out.get("error", "the trainer refused the command")))
    return out


_CHDIR_LOCK = threading.Lock()


def _connect_relative(sock: socket.socket, path: Path) -> None:
    """connect() to a socket whose absolute path is too long, by its name relative to its folder
    (the working directory is process-wide, so under a lock and restored at once)."""
    with _CHDIR_LOCK:
        here = os.getcwd()
        os.chdir(path.parent)
        try:
            sock.connect(path.name)
        finally:
            os.chdir(here)
