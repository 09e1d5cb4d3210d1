"""The dedup sequencer's state: the in-memory index and the reorder window.

Kept free of Faust so that it unit-tests on plain values; the ``khabar.sequence``
agent feeds it and persists what :meth:`Sequencer.ready` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from khabar.config import DedupSettings
from khabar.dedup import DedupIndex, Probe, Verdict
from khabar.ordering import ReorderBuffer
from schemas.models import RawArticle

T = TypeVar("T")


@dataclass
class Decision(Generic[T]):
    """One verdict, with the caller's token (the Faust event to ack) and the entry to persist."""

    token: T
    article: RawArticle
    probe: Probe
    verdict: Verdict
    entry: bytes


class Sequencer(Generic[T]):
    """Orders articles by ingest time within a grace window and decides each in turn."""

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self.index = DedupIndex(settings)
        self.buffer: ReorderBuffer[tuple[T, RawArticle, Probe]] = ReorderBuffer(settings.reorder_grace_seconds)
        #: Newest article timestamp seen. Retention counts from here, not from the wall
        #: clock, so replaying an archive (SaudiNewsNet is from 2015) still deduplicates.
        self.stream_time = float("-inf")

    def push(self, token: T, article: RawArticle, probe: Probe, ingest_ts: float) -> bool:
        """Queue an article. Returns True when it arrived after its turn (late)."""
        self.stream_time = max(self.stream_time, probe.timestamp)
        return self.buffer.push(ingest_ts, article.id, (token, article, probe))

    def ready(self, flush: bool = False) -> list[Decision[T]]:
        """Decide every article whose turn has come, in order."""
        out = []
        for token, article, probe in self.buffer.pop_ready(flush):
            verdict, entry = self.index.decide(probe)
            out.append(Decision(token, article, probe, verdict, entry))
        return out

    def rebuild(self, entries: Iterable[tuple[str, bytes | None]]) -> None:
        """Replace the index with one rebuilt from persisted entries (after recovery)."""
        fresh = DedupIndex(self.settings)
        for article_id, entry in entries:
            if entry is not None:
                fresh.restore(article_id, entry)
        self.index = fresh

    def expire(self) -> list[str]:
        """Drop index entries older than the retention window; returns their ids."""
        if self.stream_time == float("-inf"):
            return []
        return self.index.expire(self.stream_time)

    def revoke(self) -> int:
        """Forget queued articles (the partition moved; the new owner gets them again)."""
        return len(self.buffer.clear())

    def __len__(self) -> int:
        return len(self.buffer)
