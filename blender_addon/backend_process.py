"""Start, watch and stop the local inference server (``<venv python> -m backend serve``).

The server prints one JSON line ``{"port", "pid", "token_file"}`` on stdout; its
other output goes to a log file whose tail is quoted when it fails to start.
No bpy here: this runs on a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .actions import OPEN_PREFERENCES
from .client import BackendError, Client

INSTALL_HINT = (
    "run `python install.py` in the mesh2cad repository, or set the backend Python in the add-on preferences"
)
HEALTH_POLL_S = 0.25
STOP_TIMEOUT_S = 5.0
LOG_TAIL_CHARS = 1500


def config_path() -> Path:
    """Where install.py records the backend: $XDG_CONFIG_HOME (or ~/.config, %APPDATA%)/mesh2cad/backend.json."""
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base and os.name == "nt":
        base = os.environ.get("APPDATA")
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "mesh2cad" / "backend.json"


def read_backend_config() -> dict[str, Any]:
    """The settings install.py wrote ({} when missing or unreadable)."""
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resolve_python(preferred: str = "") -> str:
    """The backend's Python: the preference if set, else backend.json's; raises BackendError if neither exists."""
    candidate = preferred.strip() or str(read_backend_config().get("python", ""))
    if not candidate:
        raise BackendError(
            "the backend is not installed (no backend Python configured)", INSTALL_HINT, OPEN_PREFERENCES
        )
    if not os.path.isfile(candidate):
        raise BackendError(f"the backend Python {candidate} does not exist", INSTALL_HINT, OPEN_PREFERENCES)
    return candidate


@dataclass
class BackendProcess:
    """A running server started by this add-on."""

    popen: subprocess.Popen
    port: int
    token: str
    log_path: Path

    @classmethod
    def start(
        cls,
        python: str,
        port: int = 0,
        checkpoint: str = "",
        timeout: float = 120.0,
        request_timeout: float = 10.0,
    ) -> BackendProcess:
        """Start the server, read its JSON line and wait until /v1/health answers; raises BackendError."""
        args = [python, "-m", "backend", "serve", "--port", str(int(port))]
        if checkpoint.strip():
            args += ["--checkpoint", checkpoint.strip()]
        cwd = read_backend_config().get("repo")
        log_fd, log_name = tempfile.mkstemp(prefix="mesh2cad-backend-", suffix=".log")
        os.close(log_fd)
        log = open(log_name, "a", encoding="utf-8", errors="replace")  # append: stdout is pumped in too
        try:
            popen = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=cwd if isinstance(cwd, str) and os.path.isdir(cwd) else None,
            )
        except OSError as exc:
            log.close()
            raise BackendError(
                f"cannot run the backend Python {python}: {exc}", INSTALL_HINT, OPEN_PREFERENCES
            ) from None
        log.close()  # the child holds its own handle
        log_path = Path(log_name)
        deadline = time.monotonic() + timeout
        try:
            info = _read_ready_line(popen, log_path, deadline)
            token = Path(str(info["token_file"])).read_text(encoding="utf-8").strip()
            proc = cls(popen, int(info["port"]), token, log_path)
            proc.wait_healthy(deadline, request_timeout)
        except BaseException:
            _terminate(popen)
            raise
        return proc

    def client(self, timeout: float = 10.0) -> Client:
        return Client(self.port, self.token, timeout)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_healthy(self, deadline: float, request_timeout: float = 10.0) -> dict[str, Any]:
        """Poll /v1/health until it says ok; raises BackendError when the process dies or time runs out."""
        client = self.client(min(request_timeout, 5.0))
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise BackendError(
                    f"the backend exited during start-up:\n{log_tail(self.log_path)}", INSTALL_HINT
                )
            try:
                health = client.health()
                if health.get("status") == "ok":
                    return health
                last = f"health says {health.get('status')!r}"
            except BackendError as exc:
                last = exc.message
            time.sleep(HEALTH_POLL_S)
        raise BackendError(
            f"the backend did not become healthy in time ({last})",
            "see the backend log: " + str(self.log_path),
        )

    def stop(self) -> None:
        """Terminate the server (kill after a grace period) and remove its log."""
        _terminate(self.popen)
        with contextlib.suppress(OSError):  # still open on Windows: leave it
            self.log_path.unlink(missing_ok=True)


def log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:].strip() or "(no output)"
    except OSError:
        return "(no log)"


def _read_ready_line(popen: subprocess.Popen, log_path: Path, deadline: float) -> dict[str, Any]:
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(popen.stdout, lines, log_path), daemon=True).start()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BackendError(
                "the backend did not report its port in time", "see the backend log: " + str(log_path)
            )
        try:
            line = lines.get(timeout=min(left, 0.5))
        except queue.Empty:
            continue
        if line is None:
            popen.wait(timeout=STOP_TIMEOUT_S)
            raise BackendError(
                f"the backend exited ({popen.returncode}) before it was ready:\n{log_tail(log_path)}",
                INSTALL_HINT,
            )
        try:
            info = json.loads(line)
        except ValueError:
            continue
        if isinstance(info, dict) and {"port", "token_file"} <= info.keys():
            return info


def _pump(stream: IO[str] | None, lines: queue.Queue, log_path: Path) -> None:
    """Hand stdout lines to the reader, then keep draining into the log so the server never blocks."""
    if stream is None:
        lines.put(None)
        return
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        for line in stream:
            lines.put(line.strip())
            log.write(line)
            log.flush()
    lines.put(None)


def _terminate(popen: subprocess.Popen) -> None:
    if popen.poll() is not None:
        return
    popen.terminate()
    try:
        popen.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(timeout=STOP_TIMEOUT_S)
