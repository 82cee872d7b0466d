"""The job queue: one worker thread runs one job at a time from a bounded FIFO queue.

A job's runner gets ``progress(fraction, stage)`` and ``should_cancel()`` callbacks; it raises
``JobCancelled`` to end as cancelled and ``JobFailed`` to end as failed with its message (any other
exception also fails the job, as an internal error, and is logged). Finished jobs are kept for
``keep_s``; within that, a result nobody has read yet is never evicted to make room for others
(up to ``keep_unread`` of them), while read results and cancelled or failed jobs are kept up to
``keep_count``, oldest evicted first. DELETE (``cancel``) says what it did: a queued job is
cancelled, a running one asked to stop, a finished one removed with its result.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.server.schema import FINISHED_STATES, KEEP_FINISHED, KEEP_FINISHED_S, KEEP_UNREAD, MAX_QUEUE

log = logging.getLogger("mesh2cad.server")

Progress = Callable[[float, str], None]
ShouldCancel = Callable[[], bool]
Runner = Callable[[Any, Progress, ShouldCancel], dict[str, Any]]


class QueueFull(RuntimeError):
    """The queue holds ``max_queue`` waiting jobs already."""


class JobCancelled(Exception):
    """Raised by a runner that saw ``should_cancel()``."""


class JobFailed(Exception):
    """Raised by a runner for a failure whose message is meant for the user."""


@dataclass
class Job:
    id: str
    payload: Any
    state: str = "queued"
    progress: float = 0.0
    stage: str = "queued"
    error: str | None = None
    result: dict[str, Any] | None = None
    finished_at: float | None = None
    read: bool = False  # a finished state was returned to a client
    cancel: threading.Event = field(default_factory=threading.Event)

    def snapshot(self, action: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "progress": self.progress,
            "stage": self.stage,
            "error": self.error,
            "result": self.result,
            "action": action,
        }

    @property
    def disposable(self) -> bool:
        """Finished and either read or without a result: evicted before unread results."""
        return self.state in FINISHED_STATES and (self.read or self.state != "done")


class JobManager:
    """Thread-safe job table + a worker thread; ``start``/``stop`` bracket its life."""

    def __init__(
        self,
        runner: Runner,
        max_queue: int = MAX_QUEUE,
        keep_s: float = KEEP_FINISHED_S,
        keep_count: int = KEEP_FINISHED,
        keep_unread: int = KEEP_UNREAD,
    ) -> None:
        self._runner = runner
        self.max_queue, self.keep_s, self.keep_count = max_queue, keep_s, keep_count
        self.keep_unread = keep_unread
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: deque[Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._running: Job | None = None
        self._thread: threading.Thread | None = None

    # --- life -----------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="mesh2cad-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the running job and every queued one; wait up to ``timeout`` s for the worker."""
        with self._cond:
            self._stopping = True
            while self._pending:
                self._finish(self._pending.popleft(), "cancelled", stage="cancelled: server stopping")
            if self._running is not None:
                self._running.cancel.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("worker still busy %.0f s after stop; leaving it", timeout)

    # --- requests ------------------------------------------------------------------------------------

    def submit(self, payload: Any) -> Job:
        with self._cond:
            if self._stopping:
                raise QueueFull("the server is stopping")
            if len(self._pending) >= self.max_queue:
                raise QueueFull(f"the queue is full ({self.max_queue} jobs waiting); try again later")
            self._evict()
            job = Job(id=uuid.uuid4().hex, payload=payload)
            self._jobs[job.id] = job
            self._pending.append(job)
            self._cond.notify_all()
            return job

    def is_full(self) -> bool:
        """True when a submission now would get ``QueueFull`` (asked before a request body is read)."""
        with self._cond:
            return self._stopping or len(self._pending) >= self.max_queue

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._cond:
            self._evict()
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.read = job.read or job.state in FINISHED_STATES
            return job.snapshot()

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Queued: cancelled at once. Running: asked to stop (the runner makes it stop within about a
        second). Finished: removed, result included. The snapshot's ``action`` says which."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.state == "queued":
                self._pending.remove(job)
                self._finish(job, "cancelled", stage="cancelled")
                job.read = True
                return job.snapshot("cancelled before it started")
            if job.state == "running":
                job.cancel.set()
                job.stage = f"cancelling ({job.stage})"
                return job.snapshot("cancel requested: the running job stops within about a second")
            del self._jobs[job.id]
            return job.snapshot(f"removed: the job had already finished ({job.state}); it is gone now")

    def counts(self) -> tuple[int, int]:
        """(jobs waiting, jobs running)."""
        with self._cond:
            return len(self._pending), int(self._running is not None)

    # --- worker ---------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._pending.popleft()
                job.state, job.stage = "running", "starting"
                self._running = job
            state, error, result = self._run(job)
            with self._cond:
                self._running = None
                self._finish(job, state, error=error, result=result)

    def _run(self, job: Job) -> tuple[str, str | None, dict[str, Any] | None]:
        def progress(fraction: float, stage: str) -> None:
            with self._cond:
                if job.state != "running":
                    return
                if isinstance(fraction, int | float) and math.isfinite(fraction):
                    job.progress = min(1.0, max(job.progress, float(fraction)))
                job.stage = f"cancelling ({stage})" if job.cancel.is_set() else str(stage)

        try:
            return "done", None, self._runner(job.payload, progress, job.cancel.is_set)
        except JobCancelled:
            return "cancelled", None, None
        except JobFailed as exc:
            return "failed", str(exc), None
        except Exception as exc:  # a bug or a resource problem: the job fails, the worker lives
            log.exception("job %s crashed", job.id)
            return "failed", f"internal error: {type(exc).__name__}: {exc}", None

    def _finish(self, job: Job, state: str, *, stage: str | None = None, error=None, result=None) -> None:
        job.state, job.error, job.result = state, error, result
        job.stage = stage or state
        if state == "done":
            job.progress = 1.0
        job.finished_at = time.monotonic()
        job.payload = None  # free the mesh

    def _evict(self) -> None:
        """Drop finished jobs past ``keep_s``; then the oldest disposable ones beyond ``keep_count`` and
        the oldest unread results beyond ``keep_unread`` (lock held)."""
        now = time.monotonic()
        finished = sorted(
            (j for j in self._jobs.values() if j.state in FINISHED_STATES), key=lambda j: j.finished_at or 0.0
        )
        for j in finished:
            if now - (j.finished_at or now) > self.keep_s:
                del self._jobs[j.id]
        finished = [j for j in finished if j.id in self._jobs]
        disposable = [j for j in finished if j.disposable]
        unread = [j for j in finished if not j.disposable]
        for group, keep in ((disposable, self.keep_count), (unread, self.keep_unread)):
            for j in group[: max(0, len(group) - keep)]:
                if not j.disposable:
                    log.warning("unread result of job %s dropped: %d unread results are kept", j.id, keep)
                del self._jobs[j.id]
