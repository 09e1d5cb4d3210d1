"""Where the agents' output goes: topics and the dedup table, or memory in agent tests.

The agents never call ``topic.send`` themselves; they hand records to an
:class:`Outbox`. In a worker that is :class:`KafkaOutbox`; in the
``test_context()`` agent tests, where no broker runs, :class:`MemoryOutbox`
keeps what was sent so the tests can read it.

Sends return the record's delivery future instead of waiting for it, and
:class:`AckAfterDelivery` acks an input event only once every record made from
it is delivered: Faust commits acked offsets, so an input whose outputs were
not delivered (a crash, a failed send) is read again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Protocol

import faust

#: What a send hands back: completes (or fails) once the broker has the record.
Delivery = asyncio.Future[Any]


class Outbox(Protocol):
    async def send(self, topic: str, key: str, value: bytes) -> Delivery:
        """Hand one record for ``topic`` to the producer; returns its delivery future."""

    async def remember(self, article_id: str, entry: bytes) -> None:
        """Persist one dedup index entry."""

    async def forget(self, article_id: str) -> None:
        """Drop one dedup index entry (retention)."""


class KafkaOutbox:
    """Sends to Faust topics and persists entries in the ``dedup_index`` table.

    Records go straight to Faust's producer (aiokafka ``send``, which batches them),
    not through ``topic.send``: that path builds a ``FutureMessage``, runs the send
    sensors and a debug log line and a callback per record, which cost more than the
    produce itself at khabar's several records per article. The topics are raw bytes
    in and out, so nothing of Faust's serialization is skipped.
    """

    def __init__(self, topics: dict[str, faust.TopicT], table: MutableMapping[bytes, Any]) -> None:
        self.topics = topics
        self.table = table

    async def send(self, topic: str, key: str, value: bytes) -> Delivery:
        channel = self.topics[topic]
        fut = await channel.app.producer.send(channel.get_topic_name(), key.encode(), value,
                                              partition=None, timestamp=None, headers=None)
        return fut  # type: ignore[return-value]

    async def remember(self, article_id: str, entry: bytes) -> None:
        self.table[article_id.encode()] = entry

    async def forget(self, article_id: str) -> None:
        self.table.pop(article_id.encode(), None)


def delivered() -> Delivery:
    """A delivery future that is already complete (a record kept in memory)."""
    fut: Delivery = asyncio.get_running_loop().create_future()
    fut.set_result(None)
    return fut


class MemoryOutbox:
    """Keeps records and entries in lists and a dict (agent tests)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes]] = []
        self.entries: dict[str, bytes] = {}

    async def send(self, topic: str, key: str, value: bytes) -> Delivery:
        self.sent.append((topic, key, value))
        return delivered()

    async def remember(self, article_id: str, entry: bytes) -> None:
        self.entries[article_id] = entry

    async def forget(self, article_id: str) -> None:
        self.entries.pop(article_id, None)

    def to(self, topic: str) -> list[tuple[str, bytes]]:
        """``(key, value)`` pairs sent to ``topic``, in order."""
        return [(k, v) for t, k, v in self.sent if t == topic]


def _failure(delivery: Delivery) -> BaseException | None:
    """The error of a completed delivery (a cancelled one counts as failed), else None."""
    if delivery.cancelled():
        return asyncio.CancelledError("delivery cancelled")
    return delivery.exception()


class AckAfterDelivery:
    """Acks input events once the records made from them are delivered, in input order.

    An agent adds each event with the delivery futures of its records and goes on
    with the next event; :meth:`drain` (called by the agent after each event and by a
    timer) acks the events at the head whose records are all delivered. Delivery
    takes about one producer linger, so waiting for it per event would cap an agent
    at ~100 events/s; here the wait overlaps the next events' work.

    A failed delivery leaves its event unacked for good (the committed offset stops
    before it) and calls ``on_failure``, which stops the worker: whoever takes the
    partition over reads the event again.

    Args:
        on_failure: Called once with the first delivery error.
    """

    def __init__(self, on_failure: Callable[[BaseException], Awaitable[None]]) -> None:
        self.on_failure = on_failure
        self.failed: BaseException | None = None
        self._queue: deque[tuple[Sequence[Delivery], Callable[[], Awaitable[object]]]] = deque()

    def add(self, deliveries: Sequence[Delivery], ack: Callable[[], Awaitable[object]]) -> None:
        """Ack with ``ack()`` once every one of ``deliveries`` has completed."""
        self._queue.append((deliveries, ack))

    async def drain(self) -> int:
        """Ack every event at the head of the queue whose records are delivered; returns how many."""
        queue, acked = self._queue, 0
        while queue and self.failed is None:
            deliveries, ack = queue[0]
            if not all(d.done() for d in deliveries):
                break
            error = next((_failure(d) for d in deliveries if _failure(d) is not None), None)
            if error is not None:
                self.failed = error
                await self.on_failure(error)
                break
            queue.popleft()
            await ack()
            acked += 1
        return acked

    def __len__(self) -> int:
        return len(self._queue)


class SharedAck:
    """Acks one input record that carried several articles, once every one of them is done.

    A batch of envelopes is one Kafka record, and an offset is committed whole: the record
    is acked when its last article is (each article's ack is a call of this object). Until
    then a crash or a rebalance redelivers all of it, and the articles already decided get
    their first verdict again (:meth:`khabar.dedup.DedupIndex.decide`).

    Args:
        ack: Acks the record.
        parts: Number of articles it carried.
    """

    def __init__(self, ack: Callable[[], Awaitable[object]], parts: int) -> None:
        if parts < 1:
            raise ValueError("a shared ack needs at least one part")
        self.ack = ack
        self.left = parts

    async def __call__(self) -> None:
        self.left -= 1
        if self.left == 0:
            await self.ack()
