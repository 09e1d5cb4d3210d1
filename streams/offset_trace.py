"""Where each stream partition starts, stops and skips: the traces issue 8 asks for.

A SIGTERM failover under heavy load once lost 950 articles with a signature nobody could
explain afterwards (the survivor never fetched the stopped worker's raw partitions, and it
started ``internal.dedup`` past its committed offset): the worker logs did not say where
the consumer stood. These log lines do, at a few lines per rebalance:

* ``stream_seek`` (info): after every seek to the committed offsets (Faust's
  ``perform_seek``), per stream partition the committed offset the broker returned and the
  position the fetcher now starts from; ``seek_past_committed`` (warning) when a position is
  already past its committed offset (issue 8's loss: records handed out while the partition
  was paused, then thrown away).
* ``first_delivery`` (info): the first record an agent receives from a partition after a
  seek, with the offset the seek promised.
* ``offsets_skipped`` (warning): an agent received a record past the next offset it was
  owed (the last one it saw plus one, or the seek position): records were thrown away
  without a seek back, and unless the partition is read again they are lost.
* ``stream_partitions_ready`` (info): at the end of each recovery, which stream partitions
  Faust fetches (active), holds back (paused) or has stopped for a full buffer.
* ``partition_not_fetched`` (warning): a stream partition assigned, flow running, no
  rebalance, yet in neither of Faust's fetch sets on two checks in a row.
* ``partitions_revoked`` / ``consumer_stopped`` (info): per stream partition Faust's last
  committed offset (and, at revocation, its read offset and pending acks) when it gives the
  partition up.

Stream partitions are those of khabar's own topics; table changelogs and Faust's assignor
topic are left out (recovery positions them itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import structlog
from faust.transport.consumer import Consumer

log = structlog.get_logger("khabar.offsets")

_FLAG = "_khabar_offset_trace"
#: Attribute of a Faust app holding its :class:`OffsetWatch` (set by ``streams.app``).
WATCH_ATTR = "khabar_offset_watch"


def is_stream_tp(tp: Any) -> bool:
    """A partition of one of khabar's topics (not a changelog nor Faust's assignor topic)."""
    topic: str = tp.topic
    return not topic.endswith("-changelog") and "__assignor-__leader" not in topic


def tp_name(tp: Any) -> str:
    """``raw:3``, ``dedup:0``: the last part of the topic name and the partition."""
    return f"{tp.topic.rsplit('.', 1)[-1]}:{tp.partition}"


def _names(tps: Iterable[Any]) -> list[str]:
    return sorted(tp_name(tp) for tp in tps if is_stream_tp(tp))


def aiokafka_assignment(consumer: Any) -> Any:
    """aiokafka 0.14's current partition assignment of ``consumer`` (its per-partition fetch
    state), None while it has none."""
    subscription = consumer._subscription.subscription
    return subscription.assignment if subscription is not None else None


def read_positions(consumer: Any, tps: Iterable[Any]) -> dict[Any, int | None]:
    """aiokafka 0.14's fetch position of each of ``tps`` (None: no valid position yet, the
    fetcher will look it up or reset it). Run in the consumer's thread."""
    assignment = aiokafka_assignment(consumer)
    out: dict[Any, int | None] = {}
    for tp in tps:
        state = assignment.state_value(tp) if assignment is not None else None
        out[tp] = state.position if state is not None and state.has_valid_position else None
    return out


class OffsetWatch:
    """Checks, per stream partition, that each record an agent receives is the one it is owed.

    Runs on the worker's event loop (the agents' and the seeks' thread), so it needs no lock.
    """

    def __init__(self) -> None:
        #: Next offset owed per partition; None until the first record or seek.
        self.expected: dict[Any, int | None] = {}
        #: Partitions whose next record is the first since a seek (logged).
        self.after_seek: set[Any] = set()
        self.generation: Callable[[], int] = lambda: -1

    def seeked(self, positions: Mapping[Any, int | None]) -> None:
        """The consumer was moved: ``positions`` are where the fetcher now stands."""
        for tp, position in positions.items():
            self.expected[tp] = position
            self.after_seek.add(tp)

    def delivered(self, tp: Any, offset: int) -> None:
        """An agent received the record at ``offset`` of ``tp``."""
        expected = self.expected.get(tp)
        if tp in self.after_seek:
            self.after_seek.discard(tp)
            log.info("first_delivery", partition=tp_name(tp), offset=offset, expected=expected,
                     generation=self.generation())
        if expected is not None and offset > expected:
            log.warning("offsets_skipped", partition=tp_name(tp), expected=expected, got=offset,
                        skipped=offset - expected, generation=self.generation())
        self.expected[tp] = offset + 1


def watch_of(app: Any) -> OffsetWatch | None:
    watch = getattr(app, WATCH_ATTR, None)
    return watch if isinstance(watch, OffsetWatch) else None


async def trace_seek(thread: Any, committed: Mapping[Any, int | None]) -> None:
    """Log ``stream_seek`` after ``seek_to_committed`` (``thread``: Faust's aiokafka consumer
    thread) and tell the app's :class:`OffsetWatch` where the fetcher now stands."""
    stream = [tp for tp in committed if is_stream_tp(tp)]
    if not stream:
        return
    try:
        positions = await thread.call_thread(read_positions, thread._ensure_consumer(), stream)
        app = thread.app
        watch = watch_of(app)
        if watch is not None:
            watch.seeked(positions)
        log.info("stream_seek", generation=app.consumer_generation_id, flow_active=app.consumer.flow_active,
                 partitions={tp_name(tp): [committed[tp], positions.get(tp)] for tp in sorted(stream)})
        ahead = {tp_name(tp): [committed[tp], positions[tp]] for tp in sorted(stream)
                 if committed[tp] is not None and positions.get(tp) is not None
                 and positions[tp] > committed[tp]}
        if ahead:  # records were handed out between the seek and now, and not to a stream
            log.warning("seek_past_committed", generation=app.consumer_generation_id, partitions=ahead)
    except Exception as exc:  # a trace must never break the seek it follows
        log.warning("offset_trace_failed", step="stream_seek", error=repr(exc))


def log_ready(app: Any) -> None:
    """``stream_partitions_ready``: what Faust fetches once a recovery is over."""
    try:
        consumer = app.consumer
        assigned = [tp for tp in consumer.assignment() if is_stream_tp(tp)]
        active = consumer._active_partitions or set()
        log.info("stream_partitions_ready", generation=app.consumer_generation_id,
                 flow_active=consumer.flow_active, assigned=_names(assigned),
                 not_active=_names(tp for tp in assigned if tp not in active),
                 paused=_names(consumer._paused_partitions), buffered=_names(consumer._buffered_partitions))
    except Exception as exc:  # the consumer is stopping; a trace must never break a recovery
        log.warning("offset_trace_failed", step="stream_partitions_ready", error=repr(exc))


class FetchCheck:
    """``partition_not_fetched``: an assigned stream partition Faust never asks the fetcher for."""

    def __init__(self) -> None:
        self._suspects: set[Any] = set()
        self._reported: set[tuple[int, Any]] = set()

    def check(self, app: Any) -> None:
        consumer = app.consumer
        if not consumer.flow_active or app.rebalancing:
            self._suspects.clear()
            return
        active = consumer._active_partitions or set()
        try:
            assigned = consumer.assignment()
        except Exception:  # the consumer is (re)starting
            return
        idle = {tp for tp in assigned
                if is_stream_tp(tp) and tp not in active and tp not in consumer._buffered_partitions}
        generation = app.consumer_generation_id
        for tp in idle & self._suspects:
            if (generation, tp) not in self._reported:
                self._reported.add((generation, tp))
                log.warning("partition_not_fetched", partition=tp_name(tp), generation=generation,
                            paused=tp in consumer._paused_partitions)
        self._suspects = idle


def _committed_view(consumer: Any, tps: Iterable[Any]) -> dict[str, Any]:
    return {tp_name(tp): consumer._committed_offset.get(tp) for tp in sorted(tps) if is_stream_tp(tp)}


def install() -> None:
    """Wrap Faust's ``Consumer.on_partitions_revoked`` and ``on_stop`` with their log lines
    (idempotent)."""
    if getattr(Consumer.on_partitions_revoked, _FLAG, False):
        return
    revoked_original: Callable[[Any, Any], Awaitable[None]] = Consumer.on_partitions_revoked
    stop_original: Callable[[Any], Awaitable[None]] = Consumer.on_stop

    async def on_partitions_revoked(self: Any, revoked: Any) -> None:
        stream = sorted(tp for tp in revoked if is_stream_tp(tp))
        if stream:
            unacked: dict[Any, int] = {}
            for m in list(self._unacked_messages):
                if not m.acked and m.tp in revoked and (m.tp not in unacked or m.offset < unacked[m.tp]):
                    unacked[m.tp] = m.offset
            log.info("partitions_revoked", generation=self.app.consumer_generation_id,
                     partitions={tp_name(tp): {"committed": self._committed_offset.get(tp),
                                               "read": self._read_offset.get(tp),
                                               "acked_pending": len(self._acked.get(tp) or ()),
                                               "lowest_unacked": unacked.get(tp)} for tp in stream})
        await revoked_original(self, revoked)

    async def on_stop(self: Any) -> None:
        await stop_original(self)
        log.info("consumer_stopped", committed=_committed_view(self, list(self._committed_offset)))

    setattr(on_partitions_revoked, _FLAG, True)
    Consumer.on_partitions_revoked = on_partitions_revoked  # type: ignore[method-assign]
    Consumer.on_stop = on_stop  # type: ignore[method-assign]
