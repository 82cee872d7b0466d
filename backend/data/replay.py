"""Reuse of training batches when the accelerator is faster than the data workers.

On a GPU a step of the small decoder takes milliseconds while a procedural part takes ~50 ms of one CPU
core to make; ``ReplayFeed`` keeps the accelerator busy by handing out the next fresh batch when one is
ready and, while none is, a random one of the last ``capacity`` batches.
"""

from __future__ import annotations

import collections
import queue
import random
import threading
from collections.abc import Iterator
from typing import Any

_END = object()


class ReplayFeed:
    """Iterator over ``source``'s batches (read by a background thread) with replay of recent ones.

    ``last_fresh`` says whether the batch just returned is new (so callers can count fresh samples, e.g.
    to offset the data seeds on resume); ``fresh`` and ``replayed`` count batches of each kind.
    """

    def __init__(self, source: Iterator[Any], capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError("replay capacity must be at least 1 batch")
        self._source = source
        self._ready: queue.Queue = queue.Queue(maxsize=capacity)
        self._pool: collections.deque = collections.deque(maxlen=capacity)
        self._rng = random.Random(seed)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.last_fresh = False
        self.fresh = 0
        self.replayed = 0
        threading.Thread(target=self._fill, name="replay-feed", daemon=True).start()

    def _fill(self) -> None:
        try:
            for batch in self._source:
                if not self._offer(batch):
                    return  # closed: the source (and its worker processes) is left to be freed
        except BaseException as exc:  # handed to the training thread, which re-raises it
            self._error = exc
        self._offer(_END)

    def _offer(self, item: Any) -> bool:
        """Queue ``item``, waiting for room unless the feed is closed; False once it is."""
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop reading the source (the background thread ends within ~0.1 s)."""
        self._stop.set()
        while True:
            try:
                self._ready.get_nowait()
            except queue.Empty:
                return

    def __iter__(self) -> ReplayFeed:
        return self

    def __next__(self) -> Any:
        try:
            batch = self._ready.get(block=not self._pool)
        except queue.Empty:
            self.last_fresh = False
            self.replayed += 1
            return self._pool[self._rng.randrange(len(self._pool))]
        if batch is _END:
            self._ready.put(_END)  # stay ended for later calls
            if self._error is not None:
                raise RuntimeError(f"training data failed: {self._error}") from self._error
            raise StopIteration
        self._pool.append(batch)
        self.last_fresh = True
        self.fresh += 1
        return batch
