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


def apply() -> None:
    """Install the fix (idempotent)."""
    if getattr(Recovery.on_recovery_completed, _PATCHED_FLAG, False):
        return
    original: Callable[..., Awaitable[None]] = Recovery.on_recovery_completed

    async def on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
        consumer: Any = self.app.consumer
        held: list[Iterable[Any]] = []
        real_resume = consumer.resume_partitions
        real_seek = consumer.perform_seek

        def hold_resume(partitions: Iterable[Any]) -> None:
            held.append(set(partitions))

        def release_held() -> None:
            for partitions in held:
                real_resume(partitions)
            held.clear()

        async def seek_then_resume() -> None:
            try:
                await real_seek()
            finally:
                release_held()

        consumer.resume_partitions = hold_resume
        consumer.perform_seek = seek_then_resume
        try:
            await original(self, generation_id)
        finally:
            # instance attributes shadowed the methods; deleting restores them
            del consumer.resume_partitions
            del consumer.perform_seek
            release_held()

    setattr(on_recovery_completed, _PATCHED_FLAG, True)
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
