"""The job queue on its own: outcomes, retention (unread results outlive cancelled and failed jobs),
a bounded queue and a clean stop."""

from __future__ import annotations

import threading
import time

import pytest

from backend.server.jobs import JobCancelled, JobFailed, JobManager, QueueFull


def test_job_manager_eviction_and_outcomes() -> None:
    def runner(payload, progress, should_cancel):
        progress(0.5, "half")
        if payload == "fail":
            raise JobFailed("bad input")
        if payload == "cancel":
            raise JobCancelled
        if payload == "crash":
            raise RuntimeError("boom")
        return {"payload": payload}

    jobs = JobManager(runner, max_queue=8, keep_s=60, keep_count=2)
    jobs.start()
    try:
        ids = [jobs.submit(p).id for p in ("ok", "fail", "cancel", "crash")]
        deadline = time.monotonic() + 5
        while jobs.counts() != (0, 0) or jobs._jobs[ids[-1]].state != "failed":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert jobs.get(ids[1]) is None  # evicted: the oldest of 3 jobs without a result (2 are kept)
        assert jobs.get(ids[0])["result"] == {"payload": "ok"}  # an unread result is never evicted for them
        assert [jobs.get(i)["state"] for i in ids[2:]] == ["cancelled", "failed"]
        assert "RuntimeError: boom" in jobs.get(ids[3])["error"]
        jobs.keep_s = 0.0
        time.sleep(0.01)
        assert all(jobs.get(i) is None for i in ids)  # evicted by age
    finally:
        jobs.stop()


def test_job_manager_bounded_queue_and_stop() -> None:
    gate = threading.Event()

    def runner(payload, progress, should_cancel):
        while not should_cancel():
            gate.wait(0.01)
        raise JobCancelled

    jobs = JobManager(runner, max_queue=2)
    jobs.start()
    first = jobs.submit(1)
    while jobs.counts() != (0, 1):
        time.sleep(0.01)
    waiting = [jobs.submit(i) for i in (2, 3)]
    with pytest.raises(QueueFull):
        jobs.submit(4)
    jobs.stop(timeout=5)
    assert [jobs.get(j.id)["state"] for j in (first, *waiting)] == ["cancelled"] * 3
    with pytest.raises(QueueFull):
        jobs.submit(5)
