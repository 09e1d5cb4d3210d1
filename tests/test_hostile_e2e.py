"""The whole hostile corpus (``tests/hostile/``) through a real worker on the real broker.

Each record must get its expected outcome, every input must be accounted for exactly
once (inputs = enriched + duplicates + dead letters, by id, or by topic/partition/offset
for records without a readable id), and the worker must still be alive and serving
``/metrics`` afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from streams.replay import Collected
from streams.security import aiokafka_kwargs
from streams.topics import bootstrap_servers
from tests.hostile import HostileRecord, corpus
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


async def _produce(stack: Stack, records: Sequence[HostileRecord]) -> dict[tuple[int, int], HostileRecord]:
    """Send ``records`` to the raw topic; returns them by the (partition, offset) they got."""
    settings = stack.settings
    assert settings.broker_url
    # the 10 MB record is bigger than a default producer request
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(settings.broker_url), acks="all",
                                max_request_size=16 * 1024 * 1024, **aiokafka_kwargs(settings.kafka))
    await producer.start()
    try:
        futures = [await producer.send(settings.topics.raw, value=r.value, key=r.key.encode()) for r in records]
        placed = {}
        for r, fut in zip(records, futures, strict=True):
            meta = await fut
            placed[(meta.partition, meta.offset)] = r
        return placed
    finally:
        await producer.stop()


def _outcomes(c: Collected, stack: Stack, placed: dict[tuple[int, int], HostileRecord]) -> Counter[tuple[str, str]]:
    """(record key, outcome) for every output record that accounts for an input."""
    t = stack.settings.topics
    out: Counter[tuple[str, str]] = Counter()
    for r in c.of(t.enriched):
        out[(r["id"], "enriched")] += 1
    for r in c.of(t.duplicates):
        out[(r["id"], "duplicate")] += 1
    for r in c.of(t.deadletter):
        if r["article_id"] is not None:
            out[(r["article_id"], r["reason"])] += 1
        elif r["topic"] == t.raw and (r["partition"], r["offset"]) in placed:
            out[(placed[(r["partition"], r["offset"])].key, r["reason"])] += 1
        else:
            out[(f"unmatched {r['topic']}/{r['partition']}/{r['offset']}", r["reason"])] += 1
    return out


def _all_seen(keys: set[str], stack: Stack, placed: dict[tuple[int, int], HostileRecord]) -> Callable[[Collected], bool]:
    return lambda c: keys <= {key for key, _ in _outcomes(c, stack, placed)}


def test_hostile_corpus_on_a_real_worker(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(partitions=2)
    worker = stack.start_worker()
    records = corpus()
    # the copy goes once its original is decided, so "first seen" is not a race
    first = [r for r in records if r.expect != "duplicate"]
    later = [r for r in records if r.expect == "duplicate"]
    t0 = time.monotonic()
    placed = asyncio.run(_produce(stack, first))
    try:
        stack.collect(_all_seen({r.key for r in first}, stack, placed), timeout=120)
        placed |= asyncio.run(_produce(stack, later))
        collected = stack.collect(_all_seen({r.key for r in records}, stack, placed), timeout=60)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{stack.logs()}") from exc
    elapsed = time.monotonic() - t0

    got = _outcomes(collected, stack, placed)
    expected = Counter((r.key, r.expect) for r in records)
    # the accounting invariant: each input exactly once, as enriched, duplicate or dead letter
    assert got == expected, {"missing": expected - got, "unexpected": got - expected}
    assert len(placed) == len(records) == sum(got.values())

    t = stack.settings.topics
    enriched = {r["id"]: r for r in collected.of(t.enriched)}
    for r in records:
        if r.expect == "enriched" and r.language is not None:
            assert enriched[r.key]["language"]["code"] == r.language, r.name
    dead = {d["article_id"]: d for d in collected.of(t.deadletter) if d["article_id"]}
    assert dead["h-slow-events"]["reason"] == "stage_timeout:events"
    (copy,) = collected.of(t.duplicates)
    assert (copy["id"], copy["duplicate_of"]) == ("h-copy", "h-plain")

    # the worker is still up and serving its metrics, which saw the same failures
    assert worker.proc.poll() is None, stack.logs()
    metrics = httpx.get(worker.metrics_url, timeout=5).text
    assert 'khabar_deadletters_total{reason="stage_timeout:events"} 1.0' in metrics
    assert 'khabar_deadletters_total{reason="too_large"} 3.0' in metrics
    assert 'khabar_deadletters_total{reason="too_deep"} 3.0' in metrics
    # 10 MB, a million lines and a 1 s stage timeout among them: the partition never stalls for long
    assert elapsed < 90, elapsed
