"""Fixes khabar owns for two Faust bugs that lose messages after a rebalance.

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

**2. Commits past unacked messages.** ``faust/transport/consumer.py``
``Consumer._new_offset`` commits the first run of consecutive acked offsets. Its
check that the run starts where the last commit ended is skipped while nothing has
been committed on the partition since the assignment (``if committed_offset:``, also
false for offset 0), and is off by one otherwise (``min(acked) - committed > 1``
lets a single missing offset through). khabar acks out of offset order (the dedup
sequencer decides in event-time order, and every agent acks only once its output is
delivered), so Faust committed past messages still held unacked; a worker stopped
with SIGTERM then lost them (``tests/test_scale.py -k sigterm`` on a loaded machine:
articles lost in 4 of 21 runs before this fix, 1 of 12 after it, where another path is
still to be found).
The fix keeps Faust's computation but hides from it the acked offsets at or past the
lowest offset still delivered and unacked on that partition, so no commit passes a
message a stream holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer

_PATCHED_FLAG = "_khabar_seek_before_resume"
_COMMIT_FLAG = "_khabar_commit_below_unacked"


async def seek_before_resume(consumer: Any, body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body`` with ``consumer.resume_partitions`` held back until ``perform_seek`` is done.

    Args:
        consumer: The Faust consumer (its two methods are shadowed on the instance
            while ``body`` runs, then restored).
        body: Faust's ``on_recovery_completed``, which resumes before it seeks.
    """
    held: list[set[Any]] = []
    real_resume = consumer.resume_partitions
    real_seek = consumer.perform_seek

    def hold_resume(partitions: Iterable[Any]) -> None:
        held.append(set(partitions))

    def release_held() -> None:
        while held:
            real_resume(held.pop(0))

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


def apply() -> None:
    """Install both fixes on Faust's ``Recovery`` and ``Consumer`` (idempotent)."""
    _apply_commit_fix()
    if getattr(Recovery.on_recovery_completed, _PATCHED_FLAG, False):
        return
    original: Callable[..., Awaitable[None]] = Recovery.on_recovery_completed

    async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
        await seek_before_resume(self.app.consumer, lambda: original(self, generation_id))

    setattr(on_recovery_completed, _PATCHED_FLAG, True)
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
