"""Jobs run in a worker process, so the server's own process stays responsive whatever a job does.

``ProcessRunner`` is a ``JobManager`` runner: it hands each job (mesh arrays + options) to a child
process that holds its own ``Reconstructor`` (built once by a picklable factory) and relays the
child's progress. Cancelling sets a shared event the pipeline polls; a child that has not stopped
``cancel_grace_s`` later (a long C call holding its GIL) is killed, as is one past ``time_limit_s``,
and a fresh child is started for the next job. A child that dies fails its job with the exit code.
``run_job`` is the same work in the calling thread (the in-process app the tests use).

Workers are forked from multiprocessing's fork server with the pipeline's modules preloaded
(``PRELOAD``; spawn where there is no fork server), so a restarted worker only loads the model.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.server.jobs import JobCancelled, JobFailed

CANCEL_GRACE_S = 0.5  # a job still running this long after cancel: its worker is killed
TIME_LIMIT_S = 300.0  # a job running longer fails and its worker is killed
START_TIMEOUT_S = 300.0  # loading the model in a fresh worker
PROGRESS_EVERY_S = 0.05
PRELOAD = ("backend.server.worker", "backend.server.app", "backend.reconstruct")  # fork server imports
log = logging.getLogger("mesh2cad.server")


def run_job(reconstructor: Any, payload: Any, progress: Callable, should_cancel: Callable) -> dict[str, Any]:
    """One reconstruction as a ``JobResult`` dict; raises ``JobCancelled`` / ``JobFailed``."""
    from backend import reconstruct as rc
    from backend.server.results import result_to_dict

    mesh, options = payload
    try:
        res = reconstructor.reconstruct(mesh, options, progress=progress, should_cancel=should_cancel)
    except rc.Cancelled:
        raise JobCancelled from None
    except rc.InputMeshError as exc:
        raise JobFailed(str(exc)) from None
    return result_to_dict(res)


def release_memory() -> None:
    """Give freed heap pages back to the OS (glibc ``malloc_trim``; a no-op elsewhere)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _context() -> Any:
    """The fork server (modules in ``PRELOAD`` imported once) where the platform has one, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def _child(conn: Any, cancel: Any, factory: Callable[[], Any]) -> None:
    """The worker process: build the reconstructor, then run jobs until the pipe closes."""
    import trimesh

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s[worker]: %(message)s")
    reconstructor = factory()
    try:
        conn.send(("ready",))
    except OSError:  # the server closed the pipe while this worker loaded: it stopped or moved on
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        vertices, faces, options = message
        if faces is None:  # a point cloud
            mesh = trimesh.PointCloud(vertices)
        else:
            mesh = trimesh.Trimesh(vertices, faces, process=False)

        def progress(fraction: float, stage: str, sent: list = [0.0, ""]) -> None:  # noqa: B006
            now = time.monotonic()
            if stage != sent[1] or now - sent[0] >= PROGRESS_EVERY_S:  # at most 20 a second
                sent[0], sent[1] = now, stage
                conn.send(("progress", fraction, stage))

        try:
            conn.send(_outcome(reconstructor, mesh, options, progress, cancel.is_set))
        except OSError:  # the server closed the pipe: it stopped or replaced this worker
            return
        del mesh, message
        release_memory()


def _outcome(
    reconstructor: Any, mesh: Any, options: Any, progress: Callable, should_cancel: Callable
) -> tuple:
    """The message that ends a job in the worker: done, cancelled, failed or crashed."""
    try:
        return ("done", run_job(reconstructor, (mesh, options), progress, should_cancel))
    except JobCancelled:
        return ("cancelled",)
    except JobFailed as exc:
        return ("failed", str(exc))
    except OSError:
        raise
    except Exception as exc:  # the job fails as an internal error; the worker lives on
        logging.getLogger("mesh2cad.server").exception("job crashed in the worker")
        return ("crashed", f"{type(exc).__name__}: {exc}")


class ProcessRunner:
    """A ``JobManager`` runner backed by one worker process (see the module docstring)."""

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        cancel_grace_s: float = CANCEL_GRACE_S,
        time_limit_s: float = TIME_LIMIT_S,
        start_timeout_s: float = START_TIMEOUT_S,
    ) -> None:
        self.factory = factory
        self.cancel_grace_s, self.time_limit_s, self.start_timeout_s = (
            cancel_grace_s,
            time_limit_s,
            start_timeout_s,
        )
        self._ctx = _context()
        self._cancel = self._ctx.Event()
        self._proc: Any = None
        self._conn: Any = None
        self._ready = False
        self._stopped = False
        self._lock = threading.Lock()
        self.restarts = 0

    # --- the worker's life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker now (it loads the model while the server comes up)."""
        with self._lock:
            self._stopped = False
            if self._proc is None or not self._proc.is_alive():
                parent, child = self._ctx.Pipe()
                self._proc = self._ctx.Process(
                    target=_child,
                    args=(child, self._cancel, self.factory),
                    name="mesh2cad-worker",
                    daemon=True,
                )
                self._proc.start()
                child.close()
                self._conn, self._ready = parent, False

    def shutdown(self) -> None:
        """Stop the worker for good (no restart until ``start``)."""
        self._stopped = True
        self.close()

    def close(self, wait_s: float = 0.5) -> None:
        """Stop the worker: it exits when its pipe closes, or is killed after ``wait_s``."""
        with self._lock:
            proc, conn, self._proc, self._conn = self._proc, self._conn, None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            proc.join(wait_s)
            if proc.is_alive():
                proc.kill()
                proc.join(5)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _kill(self, why: str) -> None:
        log.warning("stopping the worker process (pid %s): %s", self.pid, why)
        self.close(wait_s=0.0)  # it is busy in its job: no use waiting for it to notice the pipe
        self._restart()

    def _restart(self) -> None:
        """A fresh worker starts loading at once, so the next job does not wait for it from scratch."""
        self.restarts += 1
        if not self._stopped:
            self.start()

    def _wait_ready(self, progress: Callable, should_cancel: Callable) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        progress(0.0, "starting worker")
        while not self._ready:
            if should_cancel():
                raise JobCancelled
            if time.monotonic() > deadline:
                self._kill("it did not start in time")
                raise JobFailed(f"the worker process did not start within {self.start_timeout_s:g} s")
            if self._conn.poll(0.05):
                message = self._recv()
                self._ready = message[0] == "ready"

    def _recv(self) -> tuple:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            if self._proc is not None:
                self._proc.join(1.0)  # reap it, for its exit code
            code = self._proc.exitcode if self._proc is not None else None
            self.close()
            self._restart()
            raise JobFailed(
                f"the worker process died (exit code {code}); it is restarted for the next job"
            ) from None

    # --- one job ----------------------------------------------------------------------------------------

    def __call__(self, payload: Any, progress: Callable, should_cancel: Callable) -> dict[str, Any]:
        mesh, options = payload
        self.start()
        self._wait_ready(progress, should_cancel)
        self._cancel.clear()
        faces = getattr(mesh, "faces", None)  # None: a trimesh.PointCloud
        self._conn.send((np.asarray(mesh.vertices), None if faces is None else np.asarray(faces), options))
        deadline = time.monotonic() + self.time_limit_s
        cancelled_at: float | None = None
        while True:
            if self._conn.poll(0.02):
                message = self._recv()
                kind = message[0]
                if kind == "progress":
                    progress(message[1], message[2])
                    continue
                if kind == "done":
                    return message[1]
                if kind == "cancelled":
                    raise JobCancelled
                if kind == "failed":
                    raise JobFailed(message[1])
                raise RuntimeError(message[1])  # "crashed": an internal error
            now = time.monotonic()
            if should_cancel():
                if cancelled_at is None:
                    cancelled_at = now
                    self._cancel.set()
                elif now - cancelled_at > self.cancel_grace_s:
                    self._kill(f"its job did not stop within {self.cancel_grace_s:g} s of cancel")
                    raise JobCancelled
            if now > deadline:
                self._kill(f"its job ran past the time limit ({self.time_limit_s:g} s)")
                raise JobFailed(
                    f"the job was stopped after {self.time_limit_s:g} s (the time limit); try fewer candidates"
                    " or a smaller mesh"
                )
