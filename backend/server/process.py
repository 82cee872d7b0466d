"""The local inference server: FastAPI under uvicorn on 127.0.0.1, jobs in one worker process.

``python -m backend serve [--port P|0] [--checkpoint PATH] [--device auto]`` loads the model once,
binds the port (0: the OS picks), writes a fresh bearer token to a 0600 file in the user's state
folder and prints one JSON line on stdout: ``{"port": ..., "pid": ..., "token_file": ...}``.
Every request but ``GET /v1/health`` needs ``Authorization: Bearer <token>``. SIGTERM/SIGINT stop
it cleanly: the running job is cancelled, the port released, the token file removed.

Jobs run in a worker process (``worker.ProcessRunner``, its own copy of the model), so this process
answers health and cancel in milliseconds whatever a job does. Connections are capped and must send
their request head in time (``connections``); log lines are rate-limited; the open-file limit is
raised towards 4096 so a flood of idle sockets meets the cap, not the descriptor limit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import secrets
import signal
import socket
import sys
from pathlib import Path

HOST = "127.0.0.1"
log = logging.getLogger("mesh2cad.server")


# --- process --------------------------------------------------------------------------------------


def state_dir() -> Path:
    """``$XDG_STATE_HOME/mesh2cad`` or ``~/.local/state/mesh2cad``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mesh2cad"


def write_token_file(token: str, port: int) -> Path:
    """Write ``token`` to a new 0600 file named for this process and port."""
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"server-{os.getpid()}-{port}.token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return path


def bind_loopback(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:``port`` (0: a free port the OS picks)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no Nagle delay
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


class _StopRequested(Exception):
    """SIGTERM/SIGINT outside uvicorn's own handling (or re-raised by it after a graceful exit)."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _StopRequested(signal.Signals(signum).name)


def serve(
    port: int = 0, checkpoint: str | None = None, unmask_checkpoint: str | None = None, device: str = "auto"
) -> int:
    """Serve until SIGTERM/SIGINT; 0 on a clean stop (the command: ``backend.cli.serve``)."""
    import uvicorn

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _raise_stop)
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be 0..65535, got {port}")
    sock: socket.socket | None = None
    token_file: Path | None = None
    try:
        from backend.reconstruct import Reconstructor
        from backend.server.app import API, create_app
        from backend.server.connections import (
            KEEP_ALIVE_S,
            MAX_CONNECTIONS,
            guarded_protocol,
            raise_open_file_limit,
            rate_limit_logging,
        )
        from backend.server.worker import ProcessRunner

        rate_limit_logging()
        raise_open_file_limit()

        with contextlib.redirect_stdout(sys.stderr):  # stdout carries exactly one JSON line
            reconstructor = Reconstructor(checkpoint, device=device, unmask_checkpoint=unmask_checkpoint)
        sock = bind_loopback(port)
        port = sock.getsockname()[1]
        token = secrets.token_urlsafe(32)
        token_file = write_token_file(token, port)
        factory = functools.partial(
            Reconstructor, checkpoint, device=device, unmask_checkpoint=unmask_checkpoint
        )
        app = create_app(reconstructor, token, worker=ProcessRunner(factory))
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
            http=guarded_protocol(),
            timeout_keep_alive=KEEP_ALIVE_S,
            limit_concurrency=MAX_CONNECTIONS,
        )
        print(json.dumps({"port": port, "pid": os.getpid(), "token_file": str(token_file)}), flush=True)
        sys.stdout = sys.stderr  # a parent that reads one line must never block us on a full pipe
        log.info("serving on http://%s:%d%s", HOST, port, API)
        uvicorn.Server(config).run(sockets=[sock])
    except _StopRequested as exc:
        log.info("stopped by %s", exc)
    finally:
        if token_file is not None:
            token_file.unlink(missing_ok=True)
        if sock is not None:
            sock.close()
    return 0
