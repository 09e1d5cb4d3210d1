"""Fixes khabar owns for the Faust bugs that lose messages after a rebalance.

**1. Resume before seek.**

faust-streaming 0.15.3, ``faust/tables/recovery.py``: ``Recovery.on_recovery_completed``
resumes the stream partitions *before* seeking them to their committed offsets.
Between the two, the fetcher delivers records from the old position; part of the
buffered stream is then dropped, and since later offsets get acked, the
committed offset moves past records nobody processed. We measured 1-47 lost
messages in 7 of 11 runs with tables (``shared/notes/broker-and-faust.md``).
Same family as faust-streaming issues #216/#221, which fixed the path without
tables only.

The fix changes only the order: while ``on_recovery_completed`` runs, the call
to ``resume_partitions`` is held back and replayed right after
``perform_seek`` has finished (or at the end, when there was nothing to seek).
Everything else is Faust's own code. ``tests/test_faust_fix.py`` pins the
order; the end-to-end failover tests check that nothing is lost.

**1b. A held resume does not outlive its generation** (issue 8). Faust races that seek
against the next rebalance (``Recovery._wait``): when another rebalance begins while it
runs, the seek is cancelled and ``RebalanceAgain`` starts the recovery over. By then the
new generation's ``_on_partitions_assigned`` has paused every partition it was given, and
only its own recovery may resume them, after its own seek. The first version of this fix
released the held resume in a ``finally``, so a cancelled seek resumed the partitions of
the *old* assignment inside the new generation's recovery, which resumes the flow before it
seeks: records were fetched and processed from wherever aiokafka stood, and once the late
seek moved the position back, Faust's read offsets (``_drain_messages`` drops every record
below the last offset it handed out) and the queues it clears on resume threw away the
records read again, the same loss as bug 1. A held resume is now released only while the
generation it was held in is still current (``tests/test_faust_fix.py`` runs Faust's own
``on_recovery_completed``, ``_wait`` and pause bookkeeping through that sequence); when it is
dropped, the worker logs ``held_resume_dropped``. It takes a second rebalance while the
survivor of a failover is still seeking (on a loaded machine its join can come after the 3 s
rebalance timeout, and the group then starts another generation). Found while looking for
issue 8's loss, which was bug 4 below; not seen in a run yet.

**2. Commits past unacked messages.** ``faust/transport/consumer.py``
``Consumer._new_offset`` commits the first run of consecutive acked offsets. Its
check that the run starts where the last commit ended is skipped while nothing has
been committed on the partition since the assignment (``if committed_offset:``, also
false for offset 0), and is off by one otherwise (``min(acked) - committed > 1``
lets a single missing offset through). khabar acks out of offset order (the dedup
sequencer decides in event-time order, and every agent acks only once its output is
delivered), so Faust committed past messages still held unacked; a worker stopped
with SIGTERM then lost them (``tests/test_scale.py -k sigterm`` on a loaded machine:
articles lost in 4 of 21 runs before this fix, 1 of 12 after it: the third bug below).
The fix keeps Faust's computation but hides from it the acked offsets at or past the
lowest offset still delivered and unacked on that partition, so no commit passes a
message a stream holds.

**3. No seek back on a partition that was never committed.** When the flow is stopped
(a rebalance, recovery), ``Consumer.getmany`` throws away the records it has just
fetched and calls ``perform_seek`` to go back to the committed offsets. aiokafka's
``seek_to_committed`` only seeks when the committed offset is above 0
(``if offset and offset > 0``), so on a partition nobody has committed yet the
position stays *after* the discarded records, and they are never read. That is what
a worker taking over a partition sees in its first seconds: ``tests/test_scale.py -k
sigterm`` on a loaded machine lost the first 1, 14 and 136 records of a partition the
stopped worker had not committed yet (the survivor's first fetch started at offsets 2,
14 and 136). The fix seeks every stream partition without a committed offset to where
``consumer_auto_offset_reset`` says a fresh consumer starts (the beginning, for
khabar), and a partition committed at 0 to offset 0. Changelog partitions are left
alone: recovery positions them itself. Loaded SIGTERM runs (three test loops at once on
2 cores): articles lost in 5 of 33 runs before, 1 of 144 after; that one had another
signature (the survivor never fetched the stopped worker's raw partitions), explained by
bug 4 below.

**4. An empty set of active partitions fetches nothing** (issue 8). Faust's fetch runs in
the consumer's thread (``AIOKafkaConsumerThread._fetch_records``) and hands aiokafka's
``fetched_records`` the very set of active partitions the worker keeps changing, while it
waits up to 1 s for records. aiokafka reads an *empty* collection as "every partition"
(``if partitions and tp not in partitions``). Faust checks the set is not empty before it
asks, but not while the fetch waits, and recovery empties it with the flow running: the
survivor of a failover reads the table's changelog with only the changelog partition active,
then "Done reading from changelog topics" pauses it. The next fetch response (the recovery's
own seek to the committed offsets makes one) then handed out the records of the stream
partitions, still paused, and moved their positions to the end; Faust's ``getmany`` throws
away records of partitions that are not active, without a seek back. In a loaded SIGTERM run
(``tests/test_scale.py -k sigterm``, two loops at once) the survivor's seek left the raw
partitions committed at 74, 84 and 67 at 349, 360 and 329 (their ends) and ``internal.dedup``
committed at 96 at 192; 896 articles had no outcome: the "never fetched the stopped worker's
raw partitions and started ``internal.dedup`` past its committed offset" signature of issue 8.
The fix passes aiokafka a view of the same live set that is never empty in aiokafka's sense:
it contains exactly the active partitions, none when there are none.
``tests/test_faust_fix.py`` replays the sequence on the real broker.

**Not a bug, a setting Faust lacks: the fetch wait.** ``faust/transport/drivers/aiokafka.py``
creates the worker's consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
Tansu often holds a fetch that finds no data to that limit even once data arrives, so
every topic hop waited up to 1.5 s (``KHABAR_FETCH_MAX_WAIT_MS``, :mod:`khabar.config`).
The consumer is created as before and then given khabar's wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

import structlog
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams import offset_trace

log = structlog.get_logger("khabar.faust_fixes")

_PATCHED_FLAG = "_khabar_seek_before_resume"
_COMMIT_FLAG = "_khabar_commit_below_unacked"
_RESET_FLAG = "_khabar_seek_uncommitted"
_FETCH_FLAG = "_khabar_fetch_wait"
_ACTIVE_FLAG = "_khabar_active_only"


async def seek_before_resume(consumer: Any, body: Callable[[], Awaitable[None]],
                             generation: Callable[[], int] | None = None) -> None:
    """Run ``body`` with ``consumer.resume_partitions`` held back until ``perform_seek`` is done.

    Args:
        consumer: The Faust consumer (its two methods are shadowed on the instance
            while ``body`` runs, then restored).
        body: Faust's ``on_recovery_completed``, which resumes before it seeks.
        generation: The consumer group generation now (``app.consumer_generation_id``). A
            resume held in one generation is dropped if another has begun by the time it
            would be released: the new generation paused its partitions, and its own
            recovery resumes them after its own seek (see ``1b`` in the module docstring).
    """
    held: list[tuple[int | None, set[Any]]] = []
    real_resume = consumer.resume_partitions
    real_seek = consumer.perform_seek

    def now() -> int | None:
        return generation() if generation is not None else None

    def hold_resume(partitions: Iterable[Any]) -> None:
        held.append((now(), set(partitions)))

    def release_held() -> None:
        current = now()
        while held:
            held_in, partitions = held.pop(0)
            if held_in == current:
                real_resume(partitions)
            else:
                log.info("held_resume_dropped", held_in=held_in, generation=current,
                         partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))

    async def seek_then_resume() -> None:
        try:
            await real_seek()
        finally:
            release_held()

    consumer.resume_partitions = hold_resume
    consumer.perform_seek = seek_then_resume
    try:
        await body()
    finally:
        # the instance attributes shadowed the methods; deleting them restores the originals
        del consumer.resume_partitions
        del consumer.perform_seek
        release_held()


def unacked_floors(consumer: Any) -> dict[Any, int]:
    """Per partition, the lowest offset delivered to a stream and not acked yet (offsets
    below the last commit excluded: those are old redeliveries, not a hold on the commit)."""
    floors: dict[Any, int] = {}
    committed = consumer._committed_offset
    for m in list(consumer._unacked_messages):
        if m.acked:
            continue
        tp, offset = m.tp, m.offset
        done = committed[tp]
        if done is not None and offset < done:
            continue
        if tp not in floors or offset < floors[tp]:
            floors[tp] = offset
    return floors


def new_offset_below(consumer: Any, tp: Any, floor: int | None,
                     new_offset: Callable[[Any, Any], int | None]) -> int | None:
    """Faust's ``_new_offset`` for ``tp``, computed only from the acked offsets below ``floor``.

    The acked offsets at or above ``floor`` are put back afterwards, untouched, for a later
    commit once ``floor`` itself is acked.
    """
    if floor is None:
        return new_offset(consumer, tp)
    acked: list[int] = consumer._acked[tp]
    held = [o for o in acked if o >= floor]
    if held:
        acked[:] = [o for o in acked if o < floor]
    try:
        offset = new_offset(consumer, tp)
    finally:
        if held:
            acked.extend(held)
            acked.sort()
    return None if offset is None else min(offset, floor)


def _apply_commit_fix() -> None:
    if getattr(Consumer._filter_committable_offsets, _COMMIT_FLAG, False):
        return
    original_new_offset: Callable[[Any, Any], int | None] = Consumer._new_offset

    def _filter_committable_offsets(self: Any, tps: Iterable[Any]) -> dict[Any, int]:
        # Faust's loop, with the floor: one pass over the unacked messages per commit
        floors = unacked_floors(self)
        commit_offsets = {}
        for tp in tps:
            offset = new_offset_below(self, tp, floors.get(tp), original_new_offset)
            if offset is not None and self._should_commit(tp, offset):
                commit_offsets[tp] = offset
        return commit_offsets

    setattr(_filter_committable_offsets, _COMMIT_FLAG, True)
    Consumer._filter_committable_offsets = _filter_committable_offsets  # type: ignore[method-assign]


@dataclass(frozen=True)
class ResetPlan:
    """Where ``perform_seek`` must move the stream partitions aiokafka leaves where they are."""

    to_beginning: list[Any]
    to_end: list[Any]
    to_zero: list[Any]

    def __bool__(self) -> bool:
        return bool(self.to_beginning or self.to_end or self.to_zero)


def reset_plan(committed: Mapping[Any, int | None], skip_topics: Set[str], auto_offset_reset: str) -> ResetPlan:
    """The seeks aiokafka's ``seek_to_committed`` leaves out, for the partitions in ``committed``.

    Args:
        committed: Committed offset per partition, as ``seek_to_committed`` returns it
            (None: never committed).
        skip_topics: Topics whose position is not the committed offset's business
            (table changelogs: recovery seeks them).
        auto_offset_reset: Faust's ``consumer_auto_offset_reset`` (``earliest`` or ``latest``).
    """
    fresh = [tp for tp, offset in committed.items() if offset is None and tp.topic not in skip_topics]
    zero = [tp for tp, offset in committed.items() if offset == 0 and tp.topic not in skip_topics]
    if auto_offset_reset == "latest":
        return ResetPlan(to_beginning=[], to_end=fresh, to_zero=zero)
    return ResetPlan(to_beginning=fresh, to_end=[], to_zero=zero)


async def seek_uncommitted(consumer: Any, plan: ResetPlan) -> None:
    """Apply ``plan`` to an aiokafka consumer (run in Faust's consumer thread)."""
    for tp in plan.to_zero:
        consumer.seek(tp, 0)
    if plan.to_beginning:
        await consumer.seek_to_beginning(*plan.to_beginning)
    if plan.to_end:
        await consumer.seek_to_end(*plan.to_end)


def _apply_reset_fix() -> None:
    if getattr(AIOKafkaConsumerThread.seek_to_committed, _RESET_FLAG, False):
        return
    original: Callable[[Any], Awaitable[Mapping[Any, int | None]]] = AIOKafkaConsumerThread.seek_to_committed

    async def seek_to_committed(self: Any) -> Mapping[Any, int | None]:
        committed = await original(self)
        plan = reset_plan(committed, set(self.app.tables.changelog_topics),
                          self.app.conf.consumer_auto_offset_reset)
        if plan:
            await self.call_thread(seek_uncommitted, self._ensure_consumer(), plan)
        await offset_trace.trace_seek(self, committed)
        return committed

    setattr(seek_to_committed, _RESET_FLAG, True)
    AIOKafkaConsumerThread.seek_to_committed = seek_to_committed  # type: ignore[method-assign,assignment]


class ActiveOnly:
    """A live set of partitions as aiokafka's ``fetched_records`` reads it: always true, so
    that an empty set means no partition (aiokafka takes an empty collection for all of them),
    and holding exactly what the set holds at the moment of each look."""

    __slots__ = ("live",)

    def __init__(self, live: Set[Any]) -> None:
        self.live = live

    def __bool__(self) -> bool:
        return True

    def __contains__(self, tp: object) -> bool:
        return tp in self.live  # one lookup: atomic under the GIL while the worker's thread mutates it


def _apply_active_only() -> None:
    if getattr(AIOKafkaConsumerThread._fetch_records, _ACTIVE_FLAG, False):
        return
    original: Callable[..., Awaitable[Any]] = AIOKafkaConsumerThread._fetch_records

    async def _fetch_records(self: Any, consumer: Any, active_partitions: Set[Any] | None,
                             timeout: float | None = None, max_records: int | None = None) -> Any:
        # None (a client-only app) keeps aiokafka's "all assigned partitions"
        partitions = ActiveOnly(active_partitions) if active_partitions is not None else None
        records = await original(self, consumer, partitions, timeout=timeout, max_records=max_records)
        if active_partitions is not None and not active_partitions:
            # the set emptied while this fetch waited: before the fix, every partition's records
            log.info("fetch_outlived_active_partitions", records=sum(len(r) for r in records.values()))
        return records

    setattr(_fetch_records, _ACTIVE_FLAG, True)
    AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]


#: Attribute of a Faust app holding khabar's ``fetch_max_wait_ms`` (set by ``streams.app``).
FETCH_WAIT_ATTR = "khabar_fetch_max_wait_ms"


def _apply_fetch_wait() -> None:
    if getattr(AIOKafkaConsumerThread._create_worker_consumer, _FETCH_FLAG, False):
        return
    original: Callable[[Any, Any], Any] = AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        wait = getattr(self.app, FETCH_WAIT_ATTR, None)
        if wait is not None:
            # read by AIOKafkaConsumer.start(), which builds the Fetcher with it
            consumer._fetch_max_wait_ms = int(wait)
        return consumer

    setattr(_create_worker_consumer, _FETCH_FLAG, True)
    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def apply() -> None:
    """Install the fixes, the fetch wait and the offset traces on Faust's ``Recovery`` and
    consumers (idempotent)."""
    _apply_commit_fix()
    _apply_reset_fix()
    _apply_fetch_wait()
    _apply_active_only()
    offset_trace.install()
    if getattr(Recovery.on_recovery_completed, _PATCHED_FLAG, False):
        return
    original: Callable[..., Awaitable[None]] = Recovery.on_recovery_completed

    async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
        app = self.app
        await seek_before_resume(app.consumer, lambda: original(self, generation_id),
                                 generation=lambda: app.consumer_generation_id)
        offset_trace.log_ready(self.app)

    setattr(on_recovery_completed, _PATCHED_FLAG, True)
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
