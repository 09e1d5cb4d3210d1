"""A fix khabar owns for a Faust bug that loses messages after a rebalance.

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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faust.tables.recovery import Recovery

_PATCHED_FLAG = "_khabar_seek_before_resume"


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


def apply() -> None:
    """Install the fix on faust's ``Recovery`` (idempotent)."""
    if getattr(Recovery.on_recovery_completed, _PATCHED_FLAG, False):
        return
    original: Callable[..., Awaitable[None]] = Recovery.on_recovery_completed

    async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
        await seek_before_resume(self.app.consumer, lambda: original(self, generation_id))

    setattr(on_recovery_completed, _PATCHED_FLAG, True)
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
