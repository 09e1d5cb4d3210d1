"""Replay articles into the raw topic, and read the output topics back.

``--loop N`` sends the input N times; pass ``n > 1`` gives every article the id
``<id>#r<n>`` so the copies are new articles (which dedup must flag) rather than
redeliveries of the same id (which dedup answers idempotently).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from khabar.config import KafkaSecurity
from schemas.models import RawArticle
from streams.errors import BrokerError
from streams.security import aiokafka_kwargs
from streams.topics import bootstrap_servers


def loop_id(article_id: str, pass_no: int) -> str:
    """Id of an article in replay pass ``pass_no`` (1-based)."""
    return article_id if pass_no == 1 else f"{article_id}#r{pass_no}"


def replay_records(articles: Sequence[RawArticle], loops: int = 1, limit: int | None = None) -> Iterator[tuple[str, bytes]]:
    """``(key, value)`` pairs to produce, in order."""
    n = 0
    for pass_no in range(1, loops + 1):
        for article in articles:
            if limit is not None and n >= limit:
                return
            copy = article.model_copy(update={"id": loop_id(article.id, pass_no)})
            yield copy.id, copy.model_dump_json(exclude_none=True).encode()
            n += 1


async def produce(broker_url: str, topic: str, records: Iterable[tuple[str | None, bytes]],
                  rate: float | None = None, on_sent: Callable[[], None] | None = None,
                  security: KafkaSecurity | None = None, linger_ms: float = 10.0) -> int:
    """Send records to ``topic``; returns how many were sent.

    Args:
        rate: Messages per second at most; ``None`` sends as fast as the broker takes them.
        security: Protocol, TLS and SASL of the connection (``settings.kafka``); PLAINTEXT when unset.
        linger_ms: How long the producer holds a record to batch it (``settings.producer_linger_ms``).

    Raises:
        BrokerError: The broker cannot be reached or refuses a record.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(broker_url), linger_ms=linger_ms,
                                max_batch_size=262_144, acks="all", max_request_size=8_388_608,
                                **aiokafka_kwargs(security))
    try:
        await asyncio.wait_for(producer.start(), 30)
    except (TimeoutError, KafkaError, OSError) as exc:
        with contextlib.suppress(Exception):  # a failed start (refused login) leaves connections open
            await producer.stop()
        raise BrokerError(f"cannot reach the broker at {broker_url}: {exc!r}") from exc
    sent = 0
    start = time.monotonic()
    try:
        futures = []
        for key, value in records:
            if rate:
                delay = start + sent / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            futures.append(await producer.send(topic, value=value, key=key.encode() if key else None,
                                               timestamp_ms=int(time.time() * 1000)))
            sent += 1
            if on_sent:
                on_sent()
        for fut in futures:
            await fut
    except KafkaError as exc:
        raise BrokerError(f"sending to {topic} failed: {exc!r}") from exc
    finally:
        await producer.stop()
    return sent


@dataclass
class Collected:
    """Records read back from the output topics, by topic."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, topic: str) -> list[dict[str, Any]]:
        return self.records.get(topic, [])

    def ids(self, topic: str, key: str = "id") -> set[str]:
        return {r[key] for r in self.of(topic) if r.get(key) is not None}


async def start_reader(broker_url: str, topics: Sequence[str], security: KafkaSecurity | None = None,
                       **options: Any) -> AIOKafkaConsumer:
    """A started consumer assigned to every partition of ``topics``, at the beginning (no group).

    Args:
        options: More ``AIOKafkaConsumer`` options (``max_partition_fetch_bytes``, ...).

    The caller stops it.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers(broker_url), enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest", **aiokafka_kwargs(security),
                                **options)
    await consumer.start()
    try:
        tps: list[TopicPartition] = []
        for topic in topics:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps.extend(TopicPartition(topic, p) for p in sorted(parts))
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
    except BaseException:
        await consumer.stop()
        raise
    return consumer


class CollectTimeoutError(TimeoutError):
    """:func:`collect` gave up; ``collected`` is what it had read (to name what is missing)."""

    def __init__(self, message: str, collected: Collected) -> None:
        super().__init__(message)
        self.collected = collected


async def collect(broker_url: str, topics: Sequence[str], done: Callable[[Collected], bool],
                  timeout: float = 120.0, security: KafkaSecurity | None = None) -> Collected:
    """Read ``topics`` from the beginning (no consumer group) until ``done`` says so.

    Args:
        security: Protocol, TLS and SASL of the connection (``settings.kafka``); PLAINTEXT when unset.

    Raises:
        CollectTimeoutError: ``done`` was still false after ``timeout`` seconds; the
            message says what had been read, ``.collected`` holds it.
    """
    consumer = await start_reader(broker_url, topics, security)
    out = Collected({t: [] for t in topics})
    try:
        deadline = time.monotonic() + timeout
        while not done(out):
            if time.monotonic() > deadline:
                counts = {t: len(v) for t, v in out.records.items()}
                raise CollectTimeoutError(f"output incomplete after {timeout:.0f}s: {counts}", out)
            batch = await consumer.getmany(timeout_ms=500)
            for tp, messages in batch.items():
                for m in messages:
                    out.records[tp.topic].append(json.loads(m.value) if m.value else {})
    finally:
        await consumer.stop()
    return out
