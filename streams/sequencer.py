"""The dedup sequencer's state: the dedup index and the reorder window.

Kept free of Faust so that it unit-tests on plain values; the ``khabar.sequence``
agent feeds it and persists what :meth:`Sequencer.ready` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from khabar.config import DedupSettings
from khabar.dedup import DedupIndex, Probe, Verdict
from khabar.ordering import ReorderBuffer
from khabar.process import ArticleMeta
from schemas.models import RawArticle

T = TypeVar("T")


@dataclass
class Decision(Generic[T]):
    """One verdict, with the caller's token (the Faust event to ack) and the entry to persist."""

    token: T
    article: RawArticle | ArticleMeta
    probe: Probe
    verdict: Verdict
    entry: bytes


class Sequencer(Generic[T]):
    """Orders articles by ingest time within a grace window and decides each in turn.

    The order advances with the articles themselves and with the prepare workers' progress
    markers (:meth:`progress`), which say that a partition has nothing older left to send.

    Args:
        settings: Dedup parameters.
        sources: Number of upstream partitions feeding the sequencer.
        blob_dir: Keep the index's shingle sets in RocksDB under this directory
            (``KHABAR_STORE=rocksdb://``); None keeps them in RAM.
    """

    def __init__(self, settings: DedupSettings, sources: int = 1,
                 blob_dir: Path | None = None) -> None:
        self.settings = settings
        self.sources = sources
        self.blob_dir = blob_dir
        self.index = DedupIndex(settings, blob_dir=blob_dir)
        self.buffer: ReorderBuffer[tuple[T, RawArticle | ArticleMeta, Probe]] = ReorderBuffer(
            settings.reorder_grace_seconds, max_wait=settings.reorder_max_wait_seconds,
            sources=range(sources))
        #: Newest article timestamp seen. Retention counts from here, not from the wall
        #: clock, so replaying an archive (SaudiNewsNet is from 2015) still deduplicates.
        self.stream_time = float("-inf")
        # Expiry runs at fixed steps of stream time, never on a wall-clock timer, so the
        # same input gives the same verdicts however fast or slow the workers are.
        self._expire_step = settings.retention_days * 86_400 / 100
        self._expired_at = float("-inf")
        self._expired: list[str] = []

    def push(self, token: T, article: RawArticle | ArticleMeta, probe: Probe, ingest_ts: float, source: int = 0,
             sent_at: float | None = None) -> bool:
        """Queue an article from upstream partition ``source``. Returns True when it arrived late."""
        return self.buffer.push(ingest_ts, article.id, (token, article, probe), source, sent_at)

    def progress(self, source: int, ts: float, sent_at: float | None = None) -> bool:
        """Take a progress marker: upstream partition ``source`` has delivered every article
        ingested before ``ts`` (see :mod:`khabar.ordering`).

        Returns:
            False when ``source`` is not one of the upstream partitions (ignored: a partition
            that does not exist must not start holding the order back).
        """
        if not 0 <= source < self.sources:
            return False
        self.buffer.advance(source, ts, sent_at)
        return True

    def ready(self, flush: bool = False) -> list[Decision[T]]:
        """Decide every article whose turn has come, in order."""
        out = []
        for token, article, probe in self.buffer.pop_ready(flush):
            verdict, entry = self.index.decide(probe)
            out.append(Decision(token, article, probe, verdict, entry))
            self.stream_time = max(self.stream_time, probe.timestamp)
            if self.stream_time - self._expired_at >= self._expire_step:
                self._expired.extend(self.index.expire(self.stream_time))
                self._expired_at = self.stream_time
        return out

    def take_expired(self) -> list[str]:
        """Ids dropped from the index since the last call (to delete from the table)."""
        out, self._expired = self._expired, []
        return out

    def rebuild(self, entries: Iterable[tuple[str, bytes | None]]) -> None:
        """Replace the index with one rebuilt from persisted entries (after recovery)."""
        fresh = DedupIndex(self.settings, blob_dir=self.blob_dir)
        fresh.restore_many((article_id, entry) for article_id, entry in entries if entry is not None)
        old, self.index = self.index, fresh
        old.close()  # frees its blob file now rather than at garbage collection

    def revoke(self) -> int:
        """Forget queued articles (the partition moved; the new owner gets them again)."""
        return len(self.buffer.clear())

    def __len__(self) -> int:
        return len(self.buffer)
