"""ReplayFeed: fresh batches first, replay only while none is ready, errors surface in the trainer."""

import threading

import pytest

from backend.data.replay import ReplayFeed


def test_hands_out_every_fresh_batch_in_order_then_stops():
    feed = ReplayFeed(iter(range(5)), capacity=3)
    got = []
    for b in feed:
        if feed.last_fresh:
            got.append(b)
    assert got == [0, 1, 2, 3, 4]
    assert feed.fresh == 5


def test_replays_recent_batches_while_the_source_is_slow():
    gate = threading.Event()

    def slow():
        yield "a"
        yield "b"
        gate.wait(timeout=10)
        yield "c"

    feed = ReplayFeed(slow(), capacity=2, seed=1)
    fresh = []
    while len(fresh) < 2:
        b = next(feed)
        if feed.last_fresh:
            fresh.append(b)
    assert fresh == ["a", "b"]
    before = feed.replayed
    replays = [next(feed) for _ in range(20)]
    assert set(replays) <= {"a", "b"} and feed.replayed == before + 20 and not feed.last_fresh
    gate.set()
    rest = list(feed)
    assert "c" in rest and feed.fresh == 3


def test_a_failing_source_raises_a_clear_error():
    def broken():
        yield 1
        raise OSError("disk full")

    feed = ReplayFeed(broken(), capacity=4)
    with pytest.raises(RuntimeError, match="training data failed: disk full"):
        for _ in range(10_000):
            next(feed)


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity"):
        ReplayFeed(iter([]), capacity=0)


def test_close_ends_the_reading_thread_of_an_endless_source():
    def endless():
        k = 0
        while True:
            yield k
            k += 1

    feed = ReplayFeed(endless(), capacity=2)
    next(feed)
    feed.close()
    for _ in range(50):
        if not any(t.name == "replay-feed" and t.is_alive() for t in threading.enumerate()):
            break
        threading.Event().wait(0.05)
    assert not any(t.name == "replay-feed" and t.is_alive() for t in threading.enumerate())
