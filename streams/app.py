"""The Faust app: topics, the dedup table, and three thin agents.

Data flow (``P`` = ``settings.partitions``)::

    khabar.articles.raw (P) ──prepare──▶ khabar.internal.dedup (1) ──sequence──┬─▶ khabar.articles.duplicates
      │ bad input ─▶ khabar.deadletter                                          └─▶ khabar.internal.unique (P)
                                                                                       │ enrich (language, events)
                                               khabar.articles.enriched ◀──────────────┤
                                               khabar.events            ◀──────────────┘

* **prepare** (parallel over P partitions): parse, one normalization pass, dedup probe
  (content hash, URL key, shingles, MinHash signature).
* **sequence** (one partition, so one total order and one writer): orders probes by
  ingest time within a grace window, asks the in-memory :class:`DedupIndex` for a
  verdict, persists the index entry in the ``dedup_index`` table (changelog topic,
  so a worker that takes over rebuilds the index), emits duplicate notices and
  forwards unique articles. It handles compact probes only, the cheap part.
* **enrich** (parallel over P partitions, keyed by article id): language, events,
  and the output records.

Every agent is a loop over pure functions from :mod:`khabar.process`; a record
that fails goes to the dead-letter topic with its reason, and the loop goes on.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust
import structlog
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.types import TP

from khabar import __version__
from khabar.config import Settings
from khabar.dedup import Probe, Verdict
from khabar.errors import InvalidArticleError, KhabarError
from khabar.pipeline import Pipeline
from khabar.process import (
    build_deadletter,
    build_duplicate,
    build_enriched,
    enrich,
    guess_article_id,
    parse_raw,
    prepare,
)
from schemas.models import RawArticle
from streams import faust_fixes
from streams.metrics import Metrics
from streams.outbox import KafkaOutbox, Outbox
from streams.sequencer import Sequencer
from streams.topics import DEDUP_TABLE

log = structlog.get_logger("khabar.app")


@dataclass
class KhabarApp:
    """A configured Faust app with handles on what tests and the CLI need."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    outbox: Outbox
    prepare: faust.types.AgentT[Any]
    sequence: faust.types.AgentT[Any]
    enrich: faust.types.AgentT[Any]
    pipeline: Pipeline


def _encode_probe_envelope(article: RawArticle, probe: Probe, source_partition: int) -> bytes:
    return json.dumps({
        "article": article.model_dump(mode="json", exclude_none=True),
        "probe": base64.b64encode(probe.to_bytes()).decode("ascii"),
        "partition": source_partition,
        "sent_at": time.time(),
    }, ensure_ascii=False).encode()


@dataclass
class ProbeEnvelope:
    """What the prepare agent sends the sequencer."""

    article: RawArticle
    probe: Probe
    partition: int
    sent_at: float


def _decode_probe_envelope(value: bytes) -> ProbeEnvelope:
    obj = json.loads(value)
    return ProbeEnvelope(RawArticle.model_validate(obj["article"]), Probe.from_bytes(base64.b64decode(obj["probe"])),
                         int(obj["partition"]), float(obj["sent_at"]))


def _encode_unique(article: RawArticle, verdict: Verdict, content_hash: str) -> bytes:
    return json.dumps({
        "article": article.model_dump(mode="json", exclude_none=True),
        "story_id": verdict.story_id, "content_hash": content_hash,
    }, ensure_ascii=False).encode()


def create_app(settings: Settings, metrics: Metrics | None = None, outbox: Outbox | None = None) -> KhabarApp:
    """Build the Faust app for ``settings``. No connection is made until the worker starts.

    Args:
        settings: Validated settings; ``broker_url`` must be set.
        metrics: The registry to fill (a fresh one by default).
        outbox: Where the agents' records and index entries go; Kafka topics and the
            ``dedup_index`` table by default, a :class:`MemoryOutbox` in agent tests.

    Raises:
        ValueError: ``settings.broker_url`` is unset (start the embedded broker first).
    """
    if not settings.broker_url:
        raise ValueError("settings.broker_url is unset: start a broker (khabar broker) or set KHABAR_BROKER_URL")
    faust_fixes.apply()
    metrics = metrics or Metrics()
    t = settings.topics
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=(
            faust.SASLCredentials(
                username=settings.broker_username,
                password=settings.broker_password.get_secret_value() if settings.broker_password else None,
            )
            if settings.broker_username else None
        ),
        store=settings.store,
        datadir=str(settings.data_dir),
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=False,  # topics are created explicitly (streams.topics)
        broker_rebalance_timeout=settings.rebalance_timeout_seconds,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        producer_max_batch_size=262_144,
        producer_linger=0.01,
        stream_buffer_maxsize=16_384,
        broker_max_poll_records=2_000,
        broker_commit_every=5_000,
        broker_commit_interval=1.0,
        table_standby_replicas=1,
        consumer_auto_offset_reset="earliest",
        # The sequencer holds events unacked until their turn comes (that is how a crash
        # redelivers them). Faust's default waits for every unacked event before a
        # rebalance or shutdown goes on, which would wait on the sequencer forever.
        # Not waiting is safe: unacked offsets are never committed, so whoever owns the
        # partition next receives those events again.
        stream_wait_empty=False,
    )
    setup_prometheus_sensors(app, registry=metrics.registry, name_prefix="faust")
    metrics.info.info({"version": __version__, "settings_hash": settings.fingerprint(), "app_id": settings.app_id})
    for name in (t.enriched, t.events, t.duplicates, t.deadletter, t.unique, t.dedup):
        metrics.records_out.labels(topic=name)
    for name in (t.enriched, t.duplicates):
        metrics.end_to_end.labels(topic=name)
    for name in (t.raw, t.dedup, t.unique):
        metrics.assigned_partitions.labels(topic=name)

    def raw_topic(name: str, partitions: int) -> faust.TopicT:
        return app.topic(name, partitions=partitions, key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw")

    raw_in = raw_topic(t.raw, settings.partitions)
    dedup_topic = raw_topic(t.dedup, 1)
    unique_topic = raw_topic(t.unique, settings.partitions)
    # Keys and values are bytes; the table only persists what the DedupIndex hands out.
    table = app.Table(DEDUP_TABLE, default=None, partitions=1, use_partitioner=True,
                      key_type=bytes, value_type=bytes, schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw",
                                          value_serializer="raw"))

    if outbox is None:
        outputs = {name: raw_topic(name, settings.partitions) for name in (t.enriched, t.events, t.duplicates,
                                                                           t.deadletter)}
        outbox = KafkaOutbox({**outputs, t.dedup: dedup_topic, t.unique: unique_topic}, table)

    async def send(topic_name: str, key: str, value: bytes) -> None:
        await outbox.send(topic_name, key, value)
        metrics.records_out.labels(topic=topic_name).inc()

    async def dead_letter(value: bytes | None, exc: Exception, event: faust.types.EventT | None,
                          article_id: str | None = None) -> None:
        msg = event.message if event is not None else None
        record = build_deadletter(
            value, exc, article_id=article_id or guess_article_id(value),
            topic=msg.topic if msg else None, partition=msg.partition if msg else None,
            offset=msg.offset if msg else None,
        )
        metrics.deadletters.labels(reason=record.reason).inc()
        log.warning("dead_letter", reason=record.reason, error=record.error, article_id=record.article_id,
                    topic=record.topic, partition=record.partition, offset=record.offset)
        await send(t.deadletter, record.article_id or f"{record.topic}/{record.partition}/{record.offset}",
                   record.model_dump_json().encode())

    def observe_latency(topic_name: str, article: RawArticle) -> None:
        if article.ingested_at is not None:
            metrics.end_to_end.labels(topic=topic_name).observe(max(0.0, time.time() - article.ingested_at.timestamp()))

    # ---------------------------------------------------------------- prepare
    @app.agent(raw_in, name="khabar.prepare")
    async def prepare_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            value = event.value
            ingested = datetime.fromtimestamp(event.message.timestamp, UTC) if event.message.timestamp else None
            t0 = time.perf_counter()
            try:
                article = parse_raw(value, ingested)
            except InvalidArticleError as exc:
                metrics.articles_in.labels(source="invalid").inc()
                await dead_letter(value, exc, event)
                continue
            metrics.articles_in.labels(source=article.source or "unknown").inc()
            t1 = time.perf_counter()
            metrics.observe_stage("parse", t1 - t0)
            try:
                prepared = prepare(article, settings)
            except Exception as exc:  # one article's failure must not stop the partition
                await dead_letter(value, exc, event, article.id)
                continue
            metrics.observe_stage("prepare", time.perf_counter() - t1)
            await send(t.dedup, article.id, _encode_probe_envelope(article, prepared.probe, event.message.partition))

    # --------------------------------------------------------------- sequence
    sequencer: Sequencer[tuple[faust.types.EventT, faust.StreamT[bytes]]] = Sequencer(settings.dedup, sources=settings.partitions)
    dedup_tp = TP(t.dedup, 0)

    def observe_state() -> None:
        metrics.dedup_pending.set(len(sequencer))
        metrics.state_entries.labels(store="dedup_index").set(len(sequencer.index))
        metrics.state_bytes.labels(store="dedup_index").set(sequencer.index.nbytes())

    async def decide_ready(flush: bool = False) -> None:
        t0 = time.perf_counter()
        decisions = sequencer.ready(flush)
        if decisions:
            metrics.observe_stage("dedup", (time.perf_counter() - t0) / len(decisions))
        for d in decisions:
            await outbox.remember(d.article.id, d.entry)
            if d.verdict.kind == "unique":
                metrics.unique.inc()
                await send(t.unique, d.article.id, _encode_unique(d.article, d.verdict, d.probe.content_hash))
            else:
                metrics.duplicates.labels(kind=d.verdict.kind).inc()
                await send(t.duplicates, d.article.id, build_duplicate(d.article, d.verdict).model_dump_json().encode())
                observe_latency(t.duplicates, d.article)
            event, stream = d.token
            await stream.ack(event)
        for article_id in sequencer.take_expired():
            await outbox.forget(article_id)
        observe_state()

    @app.agent(dedup_topic, name="khabar.sequence")
    async def sequence_agent(stream: faust.StreamT[bytes]) -> None:
        # acked only once decided: a crash redelivers what was queued
        manual = stream.noack()  # type: ignore[attr-defined]
        async for event in manual.events():
            try:
                env = _decode_probe_envelope(event.value)
            except (ValueError, KeyError, KhabarError) as exc:
                await dead_letter(event.value, exc, event)
                await manual.ack(event)
                continue
            article = env.article
            ingest_ts = article.ingested_at.timestamp() if article.ingested_at else env.sent_at
            if sequencer.push((event, manual), article, env.probe, ingest_ts, env.partition, env.sent_at):
                metrics.dedup_late.inc()
            await decide_ready()

    @app.timer(interval=max(0.05, settings.dedup.reorder_grace_seconds / 4))
    async def flush_idle() -> None:
        if len(sequencer):
            await decide_ready()

    @table.on_recover
    async def rebuild_index() -> None:
        # The changelog holds one entry per article; the LSH index is rebuilt in memory.
        sequencer.rebuild((bytes(k).decode(), v) for k, v in table.items())
        observe_state()
        log.info("dedup_index_recovered", entries=len(sequencer.index))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def drop_pending(app_: Any, revoked: set[TP], **_: Any) -> None:
        if dedup_tp in revoked:
            log.info("sequencer_revoked", dropped=sequencer.revoke())

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def count_assigned(app_: Any, assigned: set[TP], **_: Any) -> None:
        for name in (t.raw, t.dedup, t.unique):
            metrics.assigned_partitions.labels(topic=name).set(sum(1 for tp in assigned if tp.topic == name))

    # ----------------------------------------------------------------- enrich
    pipeline = Pipeline(settings, on_stage=metrics.observe_stage)

    @app.agent(unique_topic, name="khabar.enrich")
    async def enrich_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                obj = json.loads(event.value)
                article = RawArticle.model_validate(obj["article"])
                ctx = enrich(article, pipeline)
                t0 = time.perf_counter()
                record = build_enriched(ctx, Verdict("unique", None, 1.0, obj["story_id"]), obj["content_hash"])
                for ev in record.events:
                    metrics.events.labels(type=ev.type.value).inc()
                    await send(t.events, ev.event_id, ev.model_dump_json().encode())
                await send(t.enriched, article.id, record.model_dump_json().encode())
                if record.language is not None:
                    metrics.count_language(record.language.code)
                metrics.observe_stage("emit", time.perf_counter() - t0)
                observe_latency(t.enriched, article)
            except Exception as exc:  # dead-letter the article, keep the partition going
                await dead_letter(event.value, exc, event)

    @app.timer(interval=5.0)
    async def report_lag() -> None:
        consumer = app.consumer
        for tp in consumer.assignment():
            if tp.topic.endswith("-changelog") or "__assignor-__leader" in tp.topic:
                continue  # Faust internals, not khabar's data topics
            position = await consumer.position(tp)
            highwater = consumer.highwater(tp)
            if position is not None and highwater is not None:
                metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, highwater - position))

    return KhabarApp(app=app, settings=settings, metrics=metrics, outbox=outbox,
                     prepare=prepare_agent, sequence=sequence_agent, enrich=enrich_agent,
                     pipeline=pipeline)
