"""khabar end to end on the broker: articles per second with N workers, and latency at a
fixed offered rate.

Workers start first and the clock waits until every one of them is assigned its
partitions (the group joins take about 5 s on Tansu); only then is the input
produced, as fast as the broker takes it (about 20,000 messages/s, far above what
the workers do, so the replay is not the bottleneck). The rate comes from the
broker timestamps of the output records: the moment each article is accounted
for (enriched, duplicate or dead letter).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from schemas.models import RawArticle
from streams.bench import BenchError
from streams.bench.timing import (
    Timed,
    keys_cover,
    latency_summary,
    read_timed,
    served_rate,
    span_rate,
    steady_rate,
)
from streams.cluster import Stack, output_id_fields, unique_settings
from streams.envelope import article_ids
from streams.replay import produce, replay_records
from streams.worker import wait_for_metrics


@dataclass
class EndToEnd:
    """One end-to-end run."""

    workers: int
    articles: int
    #: From the first input produced until 95% of the articles are out (see
    #: :func:`~streams.bench.timing.served_rate`).
    articles_per_s: float
    #: Everything: from the first input produced to the last article accounted for.
    articles_per_s_span: float
    seconds: float
    #: Between the 5th and 95th percentile of the output times: inflated when the outputs
    #: come in bursts, as the sequencer's do (kept to compare with earlier runs).
    articles_per_s_steady: float = 0.0
    #: CPU the workers used per article (all workers together, user + system): the cost
    #: of an article, which a busy machine inflates much less than the rates.
    worker_cpu_ms_per_article: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class Latency:
    """Replay-to-enriched latency at a fixed offered rate."""

    offered_per_s: float
    achieved_per_s: float
    ms: dict[str, float]
    #: The same articles' latency by hop: ``prepare`` from the raw record to its envelope on
    #: the internal dedup topic (fetch, enrichment, the producer's linger), ``sequence`` from
    #: the envelope to the enriched record (fetch, the wait for the order, the verdict, linger).
    by_hop: dict[str, dict[str, float]] = field(default_factory=dict)


def start_stack(broker_url: str, tmp: Path, workers: int, partitions: int = 4,
                timeout: float = 120.0) -> Stack:
    """Fresh topics and ``workers`` khabar workers, returned once all are assigned.

    The workers start together, so their models load in parallel and they join
    the group in one rebalance.

    Raises:
        BenchError: A worker died, or the assignment did not settle within ``timeout``.
    """
    stack = Stack(unique_settings(broker_url, tmp, partitions), tmp)
    stack.create_topics()
    try:
        for _ in range(workers):
            stack.start_worker(wait=False)
        for w in stack.workers:
            wait_for_metrics(w.metrics_url, w.proc, timeout=timeout)
        wait_assigned(stack, timeout)
    except Exception as exc:
        stack.stop()
        raise BenchError(f"workers did not start: {exc}\n{stack.logs()}") from exc
    return stack


def wait_assigned(stack: Stack, timeout: float) -> None:
    """Wait until the workers hold every partition between them, each some raw partitions,
    for two polls in a row (a rebalance in progress shows other counts).

    Raises:
        BenchError: Not settled within ``timeout``.
    """
    t, p = stack.settings.topics, stack.settings.partitions
    need = {t.raw: p, t.dedup: 1}
    deadline = time.monotonic() + timeout
    settled = 0
    last: list[dict[str, int]] = []
    while time.monotonic() < deadline:
        try:
            last = [w.assigned() for w in stack.workers]
        except httpx.HTTPError:
            last = []
        totals = {topic: sum(a.get(topic, 0) for a in last) for topic in need}
        everyone = len(stack.workers) > p or all(a.get(t.raw, 0) > 0 for a in last)
        settled = settled + 1 if last and totals == need and everyone else 0
        if settled >= 2:
            return
        if any(w.proc.poll() is not None for w in stack.workers):
            raise BenchError("a worker exited while joining the group")
        time.sleep(0.5)
    raise BenchError(f"partition assignment did not settle within {timeout:.0f}s: {last}")


def _alive(stack: Stack) -> bool:
    return all(w.proc.poll() is None for w in stack.workers)


def _first_output(records: Sequence[Timed], topics: dict[str, str], ids: set[str]) -> dict[str, Timed]:
    first: dict[str, Timed] = {}
    for r in records:
        if r.topic in topics and r.key in ids:
            old = first.get(r.key)
            if old is None or r.timestamp_ms < old.timestamp_ms:
                first[r.key] = r
    return first


def run_end_to_end(stack: Stack, articles: Sequence[RawArticle], timeout: float | None = None) -> EndToEnd:
    """Produce ``articles`` at once into a ready stack; time until each is accounted for.

    Raises:
        BenchError: A worker died, or not every article came out within ``timeout``
            (default: 60 s plus 20 ms per article).
    """
    assert stack.settings.broker_url
    records = list(replay_records(articles))
    ids = {k for k, _ in records}
    topics = output_id_fields(stack.settings)
    cpu0 = sum(w.cpu_seconds() for w in stack.workers)
    t0_ms = int(time.time() * 1000)
    asyncio.run(produce(stack.settings.broker_url, stack.settings.topics.raw, records))
    try:
        got = asyncio.run(read_timed(stack.settings.broker_url, list(topics), keys_cover(ids, set(topics)),
                                     timeout or 60 + 0.02 * len(ids), alive=lambda: _alive(stack)))
    except BenchError as exc:
        raise BenchError(f"end to end with {len(stack.workers)} worker(s): {exc}\n{stack.logs()}") from exc
    cpu = sum(w.cpu_seconds() for w in stack.workers) - cpu0
    first = _first_output(got, topics, ids)
    stamps = [r.timestamp_ms for r in first.values()]
    t = stack.settings.topics
    kinds = {t.enriched: "enriched", t.duplicates: "duplicate", t.deadletter: "deadletter"}
    return EndToEnd(
        workers=len(stack.workers), articles=len(first), articles_per_s=served_rate(stamps, t0_ms),
        articles_per_s_steady=steady_rate(stamps),
        articles_per_s_span=span_rate(len(first), t0_ms, max(stamps)), seconds=(max(stamps) - t0_ms) / 1000,
        worker_cpu_ms_per_article=cpu * 1000 / max(1, len(first)),
        outcomes=dict(Counter(kinds[r.topic] for r in first.values())),
    )


def _epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


def run_latency(stack: Stack, articles: Sequence[RawArticle], rate: float, timeout: float | None = None) -> Latency:
    """Produce ``articles`` at ``rate`` per second; latency of each enriched record.

    Latency is the enriched record's broker timestamp minus its ``ingested_at`` (the
    raw record's timestamp, set when it was produced): replay to enriched output.

    Raises:
        BenchError: A worker died, or not every article came out in time.
    """
    assert stack.settings.broker_url
    records = list(replay_records(articles))
    ids = {k for k, _ in records}
    topics = output_id_fields(stack.settings)
    internal = stack.settings.topics.dedup
    t0 = time.perf_counter()
    sent = asyncio.run(produce(stack.settings.broker_url, stack.settings.topics.raw, records, rate=rate,
                               linger_ms=stack.settings.producer_linger_ms))
    achieved = sent / max(time.perf_counter() - t0, 1e-9)
    try:
        got = asyncio.run(read_timed(stack.settings.broker_url, [*topics, internal],
                                     _outputs_and_envelopes(ids, set(topics), internal,
                                                            {stack.settings.topics.enriched,
                                                             stack.settings.topics.duplicates}),
                                     timeout or 60 + 0.02 * len(ids), alive=lambda: _alive(stack)))
    except BenchError as exc:
        raise BenchError(f"latency run: {exc}\n{stack.logs()}") from exc
    # when each article's envelope reached the dedup topic (alone or in a batch)
    enveloped: dict[str, int] = {}
    for r in got:
        if r.topic == internal:
            for article_id in article_ids(r.value):
                enveloped.setdefault(article_id, r.timestamp_ms)
    latencies: list[float] = []
    prepare_hop: list[float] = []
    sequence_hop: list[float] = []
    for r in got:
        if r.topic == stack.settings.topics.enriched and r.key in ids:
            ingested = json.loads(r.value).get("ingested_at")
            if ingested:
                start = _epoch_ms(ingested)
                latencies.append(r.timestamp_ms - start)
                envelope = enveloped.get(r.key)
                if envelope is not None:
                    prepare_hop.append(envelope - start)
                    sequence_hop.append(r.timestamp_ms - envelope)
    if not latencies:
        raise BenchError("latency run: no enriched record carried ingested_at")
    return Latency(rate, achieved, latency_summary(latencies),
                   {"prepare": latency_summary(prepare_hop), "sequence": latency_summary(sequence_hop)})


def _outputs_and_envelopes(ids: set[str], outputs: set[str], internal: str,
                           decided_topics: set[str]) -> Callable[[list[Timed]], bool]:
    """A ``done`` for :func:`read_timed`: every id accounted for on ``outputs``, and the envelope
    of every article with a verdict (a record on ``decided_topics``) read from ``internal``,
    which is read alongside the outputs and may lag behind them."""
    covered = keys_cover(ids, outputs)
    decided: set[str] = set()
    enveloped: set[str] = set()
    upto = 0

    def done(records: list[Timed]) -> bool:
        nonlocal upto
        for r in records[upto:]:
            if r.key is None:
                continue
            if r.topic == internal:
                enveloped.update(article_ids(r.value))
            elif r.topic in decided_topics:
                decided.add(r.key)
        upto = len(records)
        return covered(records) and decided <= enveloped

    return done
