"""Where the agents' output goes: topics and the dedup table, or memory in agent tests.

The agents never call ``topic.send`` themselves; they hand records to an
:class:`Outbox`. In a worker that is :class:`KafkaOutbox`; in the
``test_context()`` agent tests, where no broker runs, :class:`MemoryOutbox`
keeps what was sent so the tests can read it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

import faust


class Outbox(Protocol):
    async def send(self, topic: str, key: str, value: bytes) -> None:
        """Send one record to ``topic``."""

    async def remember(self, article_id: str, entry: bytes) -> None:
        """Persist one dedup index entry."""

    async def forget(self, article_id: str) -> None:
        """Drop one dedup index entry (retention)."""


class KafkaOutbox:
    """Sends to Faust topics and persists entries in the ``dedup_index`` table."""

    def __init__(self, topics: dict[str, faust.TopicT], table: MutableMapping[bytes, Any]) -> None:
        self.topics = topics
        self.table = table

    async def send(self, topic: str, key: str, value: bytes) -> None:
        await self.topics[topic].send(key=key.encode(), value=value)

    async def remember(self, article_id: str, entry: bytes) -> None:
        self.table[article_id.encode()] = entry

    async def forget(self, article_id: str) -> None:
        self.table.pop(article_id.encode(), None)


class MemoryOutbox:
    """Keeps records and entries in lists and a dict (agent tests)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []
        self.entries: dict[str, bytes] = {}

    async def send(self, topic: str, key: str, value: bytes) -> None:
        self.sent.append((topic, key, value))

    async def remember(self, article_id: str, entry: bytes) -> None:
        self.entries[article_id] = entry

    async def forget(self, article_id: str) -> None:
        self.entries.pop(article_id, None)

    def to(self, topic: str) -> list[tuple[str, bytes]]:
        """``(key, value)`` pairs sent to ``topic``, in order."""
        return [(k, v) for t, k, v in self.sent if t == topic]
