"""Event-time ordering for the dedup sequencer.

Articles reach the single-partition sequencer from several upstream partitions,
interleaved by whichever worker happened to be faster. "The first copy seen is
the original" would then depend on scheduling. The sequencer instead decides in
the order of ingest time (ties broken by article id), waiting a bounded grace
period for stragglers, like a bounded-out-of-orderness watermark:

* an article is released once the newest ingest time seen is ``grace`` seconds
  past it, or once nothing has arrived for ``grace`` seconds of wall-clock time;
* an article that arrives after a later one was already released is *late*: it
  is released at once and counted, and the verdict then follows arrival order.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(order=True)
class _Entry(Generic[T]):
    ts: float
    key: str
    seq: int
    item: T = field(compare=False)


class ReorderBuffer(Generic[T]):
    """Holds items until their event time is safely behind the watermark.

    Args:
        grace: Seconds of event time (and of idle wall-clock time) to wait.
        clock: Monotonic clock, injectable for tests.
    """

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace = grace
        self._clock = clock
        self._heap: list[_Entry[T]] = []
        self._seq = itertools.count()
        self._max_ts = float("-inf")
        self._released: tuple[float, str] = (float("-inf"), "")
        self._last_push = clock()
        self.late = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, ts: float, key: str, item: T) -> bool:
        """Add an item with event time ``ts``. Returns True when it arrived late."""
        late = (ts, key) < self._released
        if late:
            self.late += 1
        heapq.heappush(self._heap, _Entry(ts, key, next(self._seq), item))
        self._max_ts = max(self._max_ts, ts)
        self._last_push = self._clock()
        return late

    def pop_ready(self, flush: bool = False) -> list[T]:
        """Items whose turn has come, in (event time, key) order.

        Args:
            flush: Release everything (shutdown, or revocation hand-over).
        """
        idle = self._clock() - self._last_push >= self.grace
        watermark = float("inf") if (flush or idle) else self._max_ts - self.grace
        out: list[T] = []
        while self._heap and (self._heap[0].ts <= watermark or (self._heap[0].ts, self._heap[0].key) < self._released):
            entry = heapq.heappop(self._heap)
            self._released = max(self._released, (entry.ts, entry.key))
            out.append(entry.item)
        return out

    def clear(self) -> list[T]:
        """Drop everything held (the partition moved to another worker)."""
        items = [e.item for e in self._heap]
        self._heap.clear()
        return items
