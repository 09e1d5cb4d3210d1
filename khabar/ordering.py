"""Event-time ordering for the dedup sequencer.

Articles reach the single-partition sequencer from several upstream partitions,
interleaved by whichever worker fetched or processed faster (one fetch can hold
seconds' worth of one partition). "The first copy seen is the original" would
then depend on scheduling, and one worker would disagree with three.

The sequencer therefore decides in ingest-time order (ties by article id), using
a per-source watermark, as Flink and Kafka Streams do for merged streams: each
upstream partition delivers in order, so once every *active* partition has
delivered something at or after time ``w``, nothing earlier than ``w`` can still
come. A partition stops holding the watermark back when it is *quiet*: the
others have sent items stamped ``max_wait`` seconds later (by the sender's clock,
so a pause of the sequencer itself makes nobody quiet) while it sent nothing.
When nothing at all arrives for ``idle`` seconds, everything held is released (a
caller whose event loop was busy says so with :meth:`ReorderBuffer.touch`, so a
stall of the sequencer itself is never mistaken for silence of the sources). An
article that still arrives behind an already-released one is *late*: released
at once, counted, and its verdict then follows arrival order.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Hashable, Iterable
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
    """Holds items until every active source has moved past their event time.

    Args:
        idle: Seconds without any input after which everything is released.
        max_wait: Seconds (by the senders' clock) a source may lag the others before it
            stops holding the watermark; defaults to ``idle``.
        clock: Monotonic clock, injectable for tests.
        sources: Sources expected from the start (the upstream partitions). One not heard
            from yet holds the watermark back like any other, so the first items of a
            stream are not released before the other partitions had their say.
    """

    def __init__(self, idle: float, clock: Callable[[], float] = time.monotonic, max_wait: float | None = None,
                 sources: Iterable[Hashable] = ()) -> None:
        self.idle = idle
        self.max_wait = idle if max_wait is None else max_wait
        self._expected = tuple(sources)
        self._clock = clock
        self._heap: list[_Entry[T]] = []
        self._seq = itertools.count()
        self._sources: dict[Hashable, tuple[float, float]] = {}  # source → (latest ts, latest sent_at)
        self._latest_sent = float("-inf")
        self._released: tuple[float, str] = (float("-inf"), "")
        self._last_push = clock()
        self.late = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, ts: float, key: str, item: T, source: Hashable = 0, sent_at: float | None = None) -> bool:
        """Add an item with event time ``ts`` from ``source``.

        Args:
            sent_at: When the source sent it, by the source's clock (defaults to now).

        Returns:
            True when it arrived late.
        """
        late = (ts, key) < self._released
        if late:
            self.late += 1
        heapq.heappush(self._heap, _Entry(ts, key, next(self._seq), item))
        now = self._clock()
        sent = now if sent_at is None else sent_at
        previous = self._sources.get(source, (float("-inf"), float("-inf")))
        self._sources[source] = (max(previous[0], ts), max(previous[1], sent))
        if self._latest_sent == float("-inf"):
            for expected in self._expected:  # not heard from yet: "sent nothing since now"
                self._sources.setdefault(expected, (float("-inf"), sent))
        self._latest_sent = max(self._latest_sent, sent)
        self._last_push = now
        return late

    def touch(self) -> None:
        """Restart the idle clock: the caller knows it was not listening (its event loop was
        busy), so the time since the last item is not silence of the sources."""
        self._last_push = self._clock()

    def watermark(self) -> float:
        """Event time up to which every active source has delivered."""
        if self._clock() - self._last_push >= self.idle:
            return float("inf")  # nothing arrives any more: release everything
        active = [ts for ts, sent in self._sources.values() if self._latest_sent - sent < self.max_wait]
        return min(active) if active else float("inf")

    def pop_ready(self, flush: bool = False) -> list[T]:
        """Items whose turn has come, in (event time, key) order.

        Args:
            flush: Release everything (shutdown).
        """
        watermark = float("inf") if flush else self.watermark()
        out: list[T] = []
        # strictly before the watermark: another item stamped the same millisecond may
        # still come from a source whose latest item carries that very stamp
        while self._heap and (self._heap[0].ts < watermark
                              or (self._heap[0].ts, self._heap[0].key) < self._released):
            entry = heapq.heappop(self._heap)
            self._released = max(self._released, (entry.ts, entry.key))
            out.append(entry.item)
        return out

    def clear(self) -> list[T]:
        """Drop everything held (the partition moved to another worker)."""
        items = [e.item for e in self._heap]
        self._heap.clear()
        self._sources.clear()
        self._latest_sent = float("-inf")
        return items
