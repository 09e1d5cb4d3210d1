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

**Progress markers (idle sources).** Waiting for a later article from every partition
costs about ``H_P / rate`` when articles spread over ``P`` partitions (42 ms at 200
articles/s over 4), and seconds at a real feed's pace. So a prepare instance that has
caught up with a raw partition says so: a *marker* "partition ``p`` has delivered every
record stamped before ``T``", which :meth:`ReorderBuffer.advance` takes as progress of
``p`` without an item (as Flink's idle sources). :class:`ProgressTracker` decides ``T``.
It must be safe: no record the instance has not delivered yet may carry a stamp below
``T``. The argument, from what the consumer shows in its own thread
(:class:`FetchState`):

1. Two observations of ``p``, at the same fetch position ``X`` and with nothing processed
   in between, the later one with a newer fetch response (handled at ``R2``) than the
   earlier (``R1``), and nothing buffered: the response at ``R2`` was a fetch at ``X`` (the
   client discards responses for any other position) that returned nothing (records would
   be buffered, or handed out, which moves the position). A seek in between would have
   to be followed by processing to come back to ``X``, which the unchanged counter rules
   out; records Faust drops in a rebalance (and seeks back over) are covered by starting
   the observations afresh after every rebalance and skipping them while the flow is
   stopped.
2. The client sends one fetch at a time to a broker, and the next only after it handled
   the previous response, so the fetch answered at ``R2`` left after ``R1``. The broker
   read the partition after receiving it: every record at offset ``X`` or later was
   appended after ``R1``. (When a partition's leader moves, fetches to the old and the
   new leader may overlap for a moment; the margin covers that too, or a late arrival is
   counted.)
3. Every record below ``X`` was delivered to the sequencer's topic before the marker: the
   agent processed it (its envelope was handed to the producer, whose order on the one
   dedup partition is kept), or the offset was committed (acks follow delivery), or ``X``
   is 0.
4. A record appended after ``R1`` was stamped by its producer at most a producer's delay
   (linger, request time, a retry) before it was appended, by a clock that may differ from
   the worker's. ``T = R1 - margin`` is safe while that delay plus the clock skew stays
   under ``margin`` (``KHABAR_DEDUP__PROGRESS_MARGIN_MS``). A record stamped earlier still
   comes, as a late arrival: counted, decided at once, never lost.

Markers speak only for partitions the instance reads (each worker observes its own
assignment) and only from observations made since its last rebalance, so a partition that
moves speaks through its new owner; a marker sent before a move stays true, since it is a
statement about the log, not about who reads it. Items redelivered after a move were
delivered before the marker already (same ids, same verdicts).
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
        self._heard(source, ts, now if sent_at is None else sent_at)
        self._last_push = now
        return late

    def advance(self, source: Hashable, ts: float, sent_at: float | None = None) -> None:
        """Progress of ``source`` without an item: it has delivered everything stamped before ``ts``.

        Only items hold the idle clock back: a stream of markers alone is silence as far as
        the idle release goes, so a source that stalls (its worker busy, not caught up) is
        let go after ``idle`` as before markers existed.

        Args:
            sent_at: When the source sent the marker, by the source's clock (defaults to now).
        """
        self._heard(source, ts, self._clock() if sent_at is None else sent_at)

    def _heard(self, source: Hashable, ts: float, sent: float) -> None:
        previous = self._sources.get(source, (float("-inf"), float("-inf")))
        self._sources[source] = (max(previous[0], ts), max(previous[1], sent))
        if self._latest_sent == float("-inf"):
            for expected in self._expected:  # not heard from yet: "sent nothing since now"
                self._sources.setdefault(expected, (float("-inf"), sent))
        self._latest_sent = max(self._latest_sent, sent)

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


@dataclass(frozen=True)
class FetchState:
    """One raw partition as a prepare instance sees it at one instant.

    The consumer fields are read in the consumer's own thread, between two of its steps, so
    they agree with each other; the agent's fields are read at the same time.
    """

    position: int | None
    """Next offset the consumer fetches; None while it has none (resetting, unassigned)."""
    fetched_at: float | None
    """Wall-clock seconds at which the consumer handled its last fetch response for this
    partition at ``position`` (aiokafka's ``last_poll_timestamp``); None before the first."""
    buffered: bool
    """Records fetched and not yet handed to the stream."""
    processed: int
    """Events of this partition the agent has finished so far (a counter: equal in two
    observations means nothing was processed in between)."""
    processed_offset: int | None
    """Offset of the last event the agent finished (its records handed to the producer)."""
    committed: int | None = None
    """Committed offset (the next to read) as the consumer knows it; None when unknown."""

    def delivered_below_position(self) -> bool:
        """Every record below ``position`` has reached the sequencer's topic (point 3 above)."""
        if self.position is None:
            return False
        return (self.position == 0 or self.committed == self.position
                or self.processed_offset == self.position - 1)


class ProgressTracker:
    """A prepare instance's knowledge of its raw partitions, and the markers it owes.

    The agent reports what it finishes (:meth:`processed`, :meth:`sent`); a timer reports
    :class:`FetchState` observations (:meth:`observe`) and sends what :meth:`due` returns.
    The proof is in the module docstring.

    Args:
        margin: Seconds subtracted from the proven time (producers' delay and clock skew).
        interval: Least seconds between two markers.
        heartbeat: Seconds after which a marker is sent even though this instance sent no
            article since the last one (for the other instances' articles); 0: never.
    """

    def __init__(self, margin: float, interval: float, heartbeat: float) -> None:
        self.margin = margin
        self.interval = interval
        self.heartbeat = heartbeat
        #: partition → (events finished, offset of the last). Read from the consumer's thread:
        #: replaced whole, never mutated, so a reader sees one consistent pair.
        self.done: dict[int, tuple[int, int]] = {}
        self._anchor: dict[int, FetchState] = {}
        self._proven: dict[int, float] = {}
        self._reported: dict[int, float] = {}
        self._owed = float("-inf")  # newest ingest time sent since the markers last covered all
        self._last_marker = float("-inf")
        #: Counts rebalances (:meth:`forget`): an observation read across one is dropped.
        self.epoch = 0
        #: Called when articles become owed (wakes a caller waiting on :meth:`next_check`).
        self.on_owed: Callable[[], None] | None = None

    @property
    def owed(self) -> float | None:
        """Newest ingest time of an article sent that markers have not covered yet."""
        return None if self._owed == float("-inf") else self._owed

    def processed(self, partition: int, offset: int) -> None:
        """The agent finished the event at ``offset`` (its records, if any, are with the producer)."""
        count = self.done.get(partition, (0, -1))[0]
        self.done[partition] = (count + 1, offset)

    def sent(self, ts: float) -> None:
        """An article stamped ``ts`` went to the sequencer: markers are owed until they pass it."""
        newly = self._owed == float("-inf")
        self._owed = max(self._owed, ts)
        if newly and self.on_owed is not None:
            self.on_owed()  # once per debt, not per article: a wake-up costs the agent's loop

    def observe(self, partition: int, state: FetchState) -> None:
        """Take one observation of ``partition``; proves progress when it allows (docstring)."""
        anchor = self._anchor.get(partition)
        self._anchor[partition] = state
        if (anchor is None or state.position is None or state.buffered or state.fetched_at is None
                or anchor.fetched_at is None):
            return
        if (anchor.position == state.position and anchor.processed == state.processed
                and state.fetched_at > anchor.fetched_at and state.delivered_below_position()):
            proven = anchor.fetched_at - self.margin
            if proven > self._proven.get(partition, float("-inf")):
                self._proven[partition] = proven

    def forget(self) -> None:
        """Stop speaking for every partition (a rebalance): observations made before it
        prove nothing about what comes after, and a partition may come back from a worker
        whose proof this one never saw."""
        self.epoch += 1
        self._anchor.clear()
        self._proven.clear()
        self._reported.clear()

    def next_check(self, now: float) -> float | None:
        """Seconds until an observation may be wanted (0: now), None: only once an article
        is sent (no heartbeat)."""
        since = now - self._last_marker
        if since < self.interval:
            return self.interval - since
        if self._owed_now():
            return 0.0
        if self.heartbeat > 0:
            return max(0.0, self.heartbeat - since)
        return None

    def wants_observation(self, now: float) -> bool:
        """Whether a marker may be due soon: articles sent and not covered yet, or a heartbeat."""
        if now - self._last_marker < self.interval:
            return False
        return self._owed_now() or (self.heartbeat > 0 and now - self._last_marker >= self.heartbeat)

    def due(self, now: float) -> dict[int, float]:
        """The marker to send now (partition → time before which it delivered everything), or
        an empty dict."""
        advanced = {p: t for p, t in self._proven.items() if t > self._reported.get(p, float("-inf"))}
        if not advanced or not self.wants_observation(now):
            return {}
        if not self._owed_now():
            # a heartbeat: only from fetches answered since the last marker, not from an
            # anchor left over from then (the next fresh proof comes one fetch later)
            advanced = {p: t for p, t in advanced.items() if t + self.margin > self._last_marker}
            if not advanced:
                return {}
        self._reported.update(advanced)
        self._last_marker = now
        return advanced

    def _owed_now(self) -> bool:
        if self._owed == float("-inf"):
            return False
        if self._anchor and all(self._reported.get(p, float("-inf")) > self._owed for p in self._anchor):
            self._owed = float("-inf")  # every partition read has reported past the articles sent
            return False
        return True
