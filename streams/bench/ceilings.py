"""The ceilings khabar is compared with, measured on the same broker in the same run.

* **aiokafka**: one process consumes a topic (``getmany``) and produces each message to
  another, as fast as it can; from the first fetch to the last acknowledgement.
* **Faust**: the passthrough agent of :mod:`streams.bench.passthrough` in a child worker;
  the rate comes from the timestamps of its output records, so the worker's start-up and
  group join are not counted.

Both move the benchmark's own articles (``RawArticle`` JSON, about 2-3 KB each).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.bench import BenchError
from streams.bench.timing import read_timed, steady_rate
from streams.broker import free_port
from streams.replay import produce
from streams.topics import TopicSpec, bootstrap_servers, create_topics
from streams.worker import stop_process


@dataclass
class Ceiling:
    """Messages per second of one passthrough, and how many it moved."""

    msgs_per_s: float
    messages: int
    seconds: float


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(parts)]


async def aiokafka_passthrough(broker_url: str, source: str, sink: str, n: int, timeout: float = 120.0) -> Ceiling:
    """Consume ``n`` messages from ``source`` and produce each one to ``sink``.

    Producer settings are the ones Faust runs with in khabar (256 KB batches, 10 ms
    linger, acks from every replica).

    Raises:
        BenchError: Fewer than ``n`` messages arrived within ``timeout``.
    """
    servers = bootstrap_servers(broker_url)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 << 20)
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=10, max_batch_size=262_144, acks="all",
                                max_request_size=8_388_608)
    await consumer.start()
    await producer.start()
    try:
        tps = await _partitions(consumer, source)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        futures = []
        moved = 0
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        while moved < n:
            if time.monotonic() > deadline:
                raise BenchError(f"aiokafka passthrough: {moved} of {n} messages after {timeout:.0f}s")
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for messages in batch.values():
                for m in messages:
                    futures.append(await producer.send(sink, value=m.value, key=m.key))
                    moved += 1
        await asyncio.gather(*futures)
        seconds = time.perf_counter() - t0
    finally:
        await producer.stop()
        await consumer.stop()
    return Ceiling(moved / seconds, moved, seconds)


def faust_passthrough(broker_url: str, records: Sequence[tuple[str | None, bytes]], tmp: Path,
                      partitions: int = 4, timeout: float = 180.0, event_loop: str | None = None) -> Ceiling:
    """Pre-produce ``records``, start the Faust passthrough worker, time its output.

    ``event_loop`` should be the workers' (``Settings.event_loop``), so both run on the same
    loop; unset, the passthrough reads ``KHABAR_EVENT_LOOP`` as a worker does.

    Raises:
        BenchError: The worker died or did not forward everything within ``timeout``.
    """
    tag = uuid.uuid4().hex[:8]
    app_id, source, sink = f"bench-{tag}", f"b{tag}.passthrough.in", f"b{tag}.passthrough.out"
    specs = [TopicSpec(source, partitions), TopicSpec(sink, partitions),
             TopicSpec(f"{app_id}-__assignor-__leader", 1, compacted=True)]
    asyncio.run(create_topics(broker_url, specs))
    asyncio.run(produce(broker_url, source, records))
    log = tmp / f"passthrough-{tag}.log"
    cmd = [sys.executable, "-m", "streams.bench.passthrough", "--broker", broker_url, "--app-id", app_id,
           "--source", source, "--sink", sink, "--partitions", str(partitions),
           "--web-port", str(free_port()), "--data-dir", str(tmp / f"passthrough-{tag}"),
           *(["--event-loop", event_loop] if event_loop else [])]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        got = asyncio.run(read_timed(broker_url, [sink], lambda rs: len(rs) >= len(records), timeout,
                                     alive=lambda: proc.poll() is None))
    except BenchError as exc:
        raise BenchError(f"Faust passthrough: {exc}\n{log.read_text(errors='replace')[-2000:]}") from exc
    finally:
        stop_process(proc)
    stamps = [r.timestamp_ms for r in got]
    return Ceiling(steady_rate(stamps), len(got), (max(stamps) - min(stamps)) / 1000)


def ceiling_topics(broker_url: str, partitions: int) -> tuple[str, str]:
    """Create a fresh source and sink topic for :func:`aiokafka_passthrough`; their names."""
    tag = uuid.uuid4().hex[:8]
    source, sink = f"b{tag}.aiokafka.in", f"b{tag}.aiokafka.out"
    asyncio.run(create_topics(broker_url, [TopicSpec(source, partitions), TopicSpec(sink, partitions)]))
    return source, sink
