"""The Faust app: topics, the dedup table, and two thin agents.

Data flow (``P`` = ``settings.partitions``)::

    khabar.articles.raw (P) ──prepare──▶ khabar.internal.dedup (1) ──sequence──┬─▶ khabar.articles.duplicates
      │ bad input, failed enrichment ─▶ khabar.deadletter                       ├─▶ khabar.articles.enriched
                                                                                └─▶ khabar.events

* **prepare** (parallel over P partitions): parse, one normalization pass, dedup probe
  (content hash, URL key, shingles, MinHash signature), then enrichment (language,
  events) and the output records, serialized but for the fields the verdict decides.
  Duplicates are enriched too and their records dropped by the sequencer (11% of
  SaudiNewsNet): that costs less CPU than another topic hop per unique article. While
  more raw records wait, envelopes go out several to a record (``KHABAR_ENVELOPE_BATCH_MAX``,
  :class:`streams.envelope.EnvelopeBatch`); alone otherwise.
* **sequence** (one partition, so one total order and one writer): orders probes by
  ingest time within a grace window, asks the in-memory :class:`DedupIndex` for a
  verdict, persists the index entry in the ``dedup_index`` table (changelog topic,
  so a worker that takes over rebuilds the index), and writes either a duplicate
  notice or the enriched article and its events, joining ``story_id`` and
  ``processed_at`` into bytes made upstream (:func:`khabar.process.assemble_enriched`).
  It parses compact headers and probes only, never article text: the cheap part.
* **progress markers**: a worker caught up with raw partitions it reads tells the
  sequencer up to when they delivered everything (:mod:`khabar.ordering`), so an article
  does not wait for a later one from every partition.

Every agent is a loop over pure functions from :mod:`khabar.process`; a record
that fails goes to the dead-letter topic with its reason, and the loop goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import structlog
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.streams import _current_event
from faust.types import TP

from khabar import __version__
from khabar.config import Settings
from khabar.ordering import FetchState, ProgressTracker
from khabar.pipeline import Pipeline
from khabar.process import (
    ArticleMeta,
    assemble_enriched,
    build_deadletter,
    build_duplicate,
    check_output_size,
    enrich,
    guess_article_id,
    now_utc,
    parse_raw,
    prepare,
    serialize_checked,
)
from schemas.models import PloverType, RawArticle
from streams import faust_fixes, offset_trace
from streams.envelope import (
    MARKER_KEY,
    EnvelopeBatch,
    ProbeEnvelope,
    decode_batch,
    decode_envelope,
    decode_marker,
    encode_envelope,
    encode_marker,
    is_batch,
    is_marker,
)
from streams.health import BrokerWatch, fold_repeated_client_errors
from streams.metrics import Metrics
from streams.outbox import AckAfterDelivery, Delivery, KafkaOutbox, Outbox, SharedAck
from streams.security import faust_credentials
from streams.sequencer import Sequencer
from streams.topics import DEDUP_TABLE

log = structlog.get_logger("khabar.app")

#: RocksDB options of the ``dedup_index`` table with ``KHABAR_STORE=rocksdb://``. The table
#: is written once per article and read back only to rebuild the index (one sequential
#: scan), so a small block cache loses nothing; two 8 MB memtables hold ~8,000 entries
#: between flushes. Up to 64 MB of a worker's RSS went to these buffers (issue 9).
ROCKSDB_TABLE_OPTIONS = {"block_cache_size": 8 << 20, "block_cache_compressed_size": 0,
                         "write_buffer_size": 8 << 20, "max_write_buffer_number": 2}

#: A batch of envelopes older than this is sent by a timer (see ``drain_acks``). The agent sends
#: its batch once nothing else is queued; a batch of 32 articles fills in about 0.1 s.
HELD_MAX_SECONDS = 0.5


def read_fetch_states(consumer: Any, tps: list[TP], done: Mapping[int, tuple[int, int]],
                      committed: Mapping[Any, int | None]) -> dict[int, FetchState]:
    """The :class:`FetchState` of each of ``tps`` (raw partitions), read in the consumer's thread.

    Runs between two steps of that thread's event loop, so position, last fetch response
    and buffered records agree with each other (aiokafka sets a response's timestamp and
    buffers its records in one step). The fields are aiokafka 0.14's fetcher state, which
    its public API gives only one at a time and across threads.

    Args:
        consumer: The worker's aiokafka consumer.
        tps: Partitions to read.
        done: The prepare agent's ``(events finished, last offset)`` per partition.
        committed: Faust's committed offsets (``Consumer._committed_offset``).
    """
    assignment = offset_trace.aiokafka_assignment(consumer)
    if assignment is None or not assignment.active:
        return {}
    buffered = consumer._fetcher._records
    out: dict[int, FetchState] = {}
    for tp in tps:
        state = assignment.state_value(tp)
        if state is None:
            continue
        count, offset = done.get(tp.partition, (0, None))
        out[tp.partition] = FetchState(
            position=state.position if state.has_valid_position else None,
            fetched_at=state.timestamp / 1000 if state.timestamp is not None else None,
            buffered=tp in buffered, processed=count, processed_offset=offset, committed=committed.get(tp))
    return out


#: Acks one input event (or its share of a batch, :class:`SharedAck`).
Ack = Callable[[], Awaitable[object]]


@dataclass
class Held:
    """An article the sequencer holds until its verdict: the input record it came in, how to
    ack it, the envelope, and the envelope's bytes (what a dead letter carries)."""

    event: faust.types.EventT
    ack: Ack
    envelope: ProbeEnvelope
    value: bytes


@dataclass
class KhabarApp:
    """A configured Faust app with handles on what tests and the CLI need."""

    app: faust.App
    settings: Settings
    metrics: Metrics
    outbox: Outbox
    prepare: faust.types.AgentT[Any]
    sequence: faust.types.AgentT[Any]
    pipeline: Pipeline
    #: What the prepare agent knows of its raw partitions (progress markers).
    progress: ProgressTracker


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
        broker_credentials=faust_credentials(settings.kafka),
        store=settings.store,
        datadir=str(settings.data_dir),
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        # Read-only surface: /metrics (added below) and Faust's {"status": "OK"} index. The
        # other built-in views expose table data (/table), cluster topology (/router) and
        # internals (/stats, /graph); khabar routes nothing between nodes, so they stay off.
        web_tables_enabled=False,
        web_router_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_metrics_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=False,  # topics are created explicitly (streams.topics)
        broker_rebalance_timeout=settings.rebalance_timeout_seconds,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        producer_max_batch_size=262_144,
        producer_linger=settings.producer_linger_ms / 1000,
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
        # With the memory store, the offsets Faust checks against the changelog's highwater
        # are this process's own counters. They outlive a broker that lost its data (Tansu's
        # memory storage after a restart): the check then raises ConsistencyError and the
        # worker dies, although the table in memory is intact. On-disk stores keep the check.
        recovery_consistency_check=(not settings.store.startswith("memory://")
                                    if settings.recovery_consistency_check is None
                                    else settings.recovery_consistency_check),
    )
    setattr(app, faust_fixes.FETCH_WAIT_ATTR, settings.fetch_max_wait_ms)
    # where each partition starts and whether records were skipped (streams.offset_trace)
    offsets_watch = offset_trace.OffsetWatch()
    offsets_watch.generation = lambda: app.consumer_generation_id
    setattr(app, offset_trace.WATCH_ATTR, offsets_watch)
    fetch_check = offset_trace.FetchCheck()
    setup_prometheus_sensors(app, registry=metrics.registry, name_prefix="faust")
    metrics.info.info({"version": __version__, "settings_hash": settings.fingerprint(), "app_id": settings.app_id})
    # label children resolved once: a labels() lookup per record is a measurable cost
    records_out = {name: metrics.records_out.labels(topic=name)
                   for name in (t.enriched, t.events, t.duplicates, t.deadletter, t.dedup)}
    end_to_end = {name: metrics.end_to_end.labels(topic=name) for name in (t.enriched, t.duplicates)}
    for name in (t.raw, t.dedup):
        metrics.assigned_partitions.labels(topic=name)
    async def restart_after_outage(down_seconds: float) -> None:
        from streams.worker import restart_in_place

        log.warning("worker_restarting", reason="every broker was unreachable: the client's group state is stale",
                    down_seconds=round(down_seconds, 1))
        restart_in_place()

    watch = BrokerWatch(settings, metrics,
                        on_reconnected=restart_after_outage if settings.restart_after_outage else None)

    @app.task
    async def watch_brokers() -> None:
        # Faust has configured logging by now; fold aiokafka's per-retry errors
        fold_repeated_client_errors()
        await watch.run()

    def raw_topic(name: str, partitions: int) -> faust.TopicT:
        return app.topic(name, partitions=partitions, key_type=bytes, value_type=bytes,
                         key_serializer="raw", value_serializer="raw")

    raw_in = raw_topic(t.raw, settings.partitions)
    dedup_topic = raw_topic(t.dedup, 1)
    # Keys and values are bytes; the table only persists what the DedupIndex hands out.
    rocksdb = settings.store.startswith("rocksdb")
    table = app.Table(DEDUP_TABLE, default=None, partitions=1, use_partitioner=True,
                      key_type=bytes, value_type=bytes, schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw",
                                          value_serializer="raw"),
                      # Faust's RocksDB defaults (2 GB block cache, 3 x 64 MB write buffers)
                      # would let the table alone outgrow the worker's memory target.
                      options=ROCKSDB_TABLE_OPTIONS if rocksdb else None)

    if outbox is None:
        outputs = {name: raw_topic(name, settings.partitions) for name in (t.enriched, t.events, t.duplicates,
                                                                           t.deadletter)}
        outbox = KafkaOutbox({**outputs, t.dedup: dedup_topic}, table)

    async def send(topic_name: str, key: str, value: bytes) -> Delivery:
        delivery = await outbox.send(topic_name, key, value)
        records_out[topic_name].inc()
        return delivery

    async def delivery_failed(exc: BaseException) -> None:
        # Faust's own reaction to a failed send before a commit: crash the worker. The
        # input stays unacked, so the committed offset stops before it and it is read again.
        log.error("delivery_failed", error=repr(exc))
        await app.crash(exc)

    async def dead_letter(value: bytes | None, exc: Exception, event: faust.types.EventT | None,
                          article_id: str | None = None) -> Delivery:
        msg = event.message if event is not None else None
        record = build_deadletter(
            value, exc, article_id=article_id or guess_article_id(value, settings.limits),
            topic=msg.topic if msg else None, partition=msg.partition if msg else None,
            offset=msg.offset if msg else None, limits=settings.limits,
        )
        metrics.deadletters.labels(reason=record.reason).inc()
        log.warning("dead_letter", reason=record.reason, error=record.error, article_id=record.article_id,
                    topic=record.topic, partition=record.partition, offset=record.offset)
        return await send(t.deadletter, record.article_id or f"{record.topic}/{record.partition}/{record.offset}",
                          record.model_dump_json().encode())

    def observe_latency(topic_name: str, article: RawArticle | ArticleMeta) -> None:
        if article.ingested_at is not None:
            end_to_end[topic_name].observe(max(0.0, time.time() - article.ingested_at.timestamp()))

    # Each agent acks an input only once the records made from it are delivered (the
    # streams are noack; see AckAfterDelivery), and drains its queue after every event.
    prepare_acks, sequence_acks = (AckAfterDelivery(delivery_failed) for _ in range(2))

    @app.timer(interval=0.05)
    async def drain_acks() -> None:
        # acks of the last events before the input pauses (the agents drain only per event)
        for acks in (prepare_acks, sequence_acks):
            await acks.drain()
        # Envelopes wait in the batch only while more raw records are queued for the agent;
        # records Faust then skips (fetched before a rebalance) never reach it.
        if held and time.monotonic() - held_since[0] > HELD_MAX_SECONDS:
            await send_held()

    # ---------------------------------------------------------------- prepare
    pipeline = Pipeline(settings, on_stage=metrics.observe_stage)  # observes "language" and "events"
    ordering = settings.dedup
    tracker = ProgressTracker(margin=ordering.progress_margin_ms / 1000,
                              interval=ordering.progress_interval_ms / 1000,
                              heartbeat=ordering.progress_heartbeat_ms / 1000)

    batch = EnvelopeBatch(settings.envelope_batch_max, settings.limits.max_output_bytes)
    #: raw events handled since the last send: (event, how to ack it, its dead letter's
    #: delivery or None when its envelope is in the batch, its ingest time)
    held: list[tuple[faust.types.EventT, Ack, Delivery | None, float]] = []
    held_since = [0.0]

    async def prepare_one(event: faust.types.EventT) -> tuple[Delivery | None, tuple[str, bytes] | None]:
        """Prepare one raw record: its key and envelope, or the delivery of its dead letter."""
        value = event.value
        ingested = datetime.fromtimestamp(event.message.timestamp, UTC) if event.message.timestamp else None
        t0 = time.perf_counter()
        try:
            article = parse_raw(value, ingested, settings.limits)
        except Exception as exc:  # InvalidArticleError; anything else is a bug, same treatment
            metrics.count_article_in("invalid")
            return await dead_letter(value, exc, event), None
        metrics.count_article_in(article.source or "unknown")
        t1 = time.perf_counter()
        metrics.observe_stage("parse", t1 - t0)
        try:
            prepared = prepare(article, settings)  # within limits.stage_budget_ms
            metrics.observe_stage("prepare", time.perf_counter() - t1)
            # Enrichment runs here, in parallel over the raw partitions, before the verdict:
            # the sequencer then only joins bytes. Copies are enriched for nothing.
            ctx = enrich(article, pipeline, prepared.doc)
            t2 = time.perf_counter()
            # every record is size-checked here, before the sequencer sends the first:
            # all of them or a dead letter
            parts = serialize_checked(ctx, prepared.probe.content_hash, settings.limits)
            envelope = check_output_size(
                encode_envelope(ctx, prepared.probe, parts, event.message.partition, time.time()),
                "dedup envelope", settings.limits)
            metrics.observe_stage("emit", time.perf_counter() - t2)
        except Exception as exc:  # one article's failure must not stop the partition
            return await dead_letter(value, exc, event, article.id), None
        return None, (article.id, envelope)

    #: raw partition → offset of the last event the prepare agent took
    taken: dict[TP, int] = {}

    def more_raw_waiting() -> bool:
        """Whether a raw partition this worker reads holds records past the last one taken.

        Faust hands the agent one event per step of the event loop, so its queue is always
        empty; the client's high-water mark tells instead. On Kafka it is the log's end; on
        Tansu, the end of what the client fetched so far: both mean more records are coming.
        """
        consumer = app.consumer
        for tp, offset in taken.items():
            try:
                end = consumer.highwater(tp)
            except Exception:  # not assigned any more, or no consumer (agent tests): nothing waits
                continue
            if end is not None and offset + 1 < end:
                return True
        return False

    # One send at a time (the agent's and the timer's): a partition's envelopes reach the producer,
    # and the tracker hears of them, in offset order, even when the producer makes a send wait.
    sending = asyncio.Lock()

    async def send_held() -> None:
        """Send the batch; queue the acks of the events held, and tell the tracker of them."""
        async with sending:
            record, events = batch.take(), held.copy()
            held.clear()
            delivery = await send(t.dedup, *record) if record is not None else None
            for event, ack, own, ingested in events:
                done = own if own is not None else delivery  # no dead letter: its envelope was in the batch
                if done is None:
                    raise RuntimeError("an event held without a dead letter nor an envelope")
                prepare_acks.add((done,), ack)
                # its envelope or dead letter is with the producer: what markers may now cover
                tracker.processed(event.message.partition, event.message.offset)
                if own is None:
                    tracker.sent(ingested)

    @app.agent(raw_in, name="khabar.prepare")
    async def prepare_agent(stream: faust.StreamT[bytes]) -> None:
        manual = stream.noack()  # type: ignore[attr-defined]
        async for event in manual.events():
            offsets_watch.delivered(event.message.tp, event.message.offset)
            taken[event.message.tp] = event.message.offset
            own, keyed = await prepare_one(event)
            if keyed is not None:
                if not batch.fits(keyed[1]):
                    await send_held()
                batch.add(*keyed)
            if not held:
                held_since[0] = time.monotonic()
            held.append((event, partial(manual.ack, event), own, event.message.timestamp or time.time()))
            # Send when the batch is full or nothing else is waiting: a flood fills batches,
            # a trickle sends each envelope at once.
            if batch.full or not more_raw_waiting():
                await send_held()
            await prepare_acks.drain()
            await asyncio.sleep(0)  # let the sequencer and timers run between CPU-bound events

    # --------------------------------------------------------------- sequence
    sequencer: Sequencer[Held] = Sequencer(
        settings.dedup, sources=settings.partitions,
        # with rocksdb://, shingle sets live on disk next to the table, not in RAM
        blob_dir=settings.data_dir / "dedup-index" if rocksdb else None)
    dedup_tp = TP(t.dedup, 0)

    state_entries = metrics.state_entries.labels(store="dedup_index")
    state_bytes = metrics.state_bytes.labels(store="dedup_index")
    bytes_observed_at = [-1.0]

    def observe_state(force: bool = False) -> None:
        metrics.dedup_pending.set(len(sequencer))
        state_entries.set(len(sequencer.index))
        # nbytes() walks every entry: once per decision made the sequencer quadratic in
        # the index size, and a gauge scraped every few seconds needs it once a second
        now = time.monotonic()
        if force or now - bytes_observed_at[0] >= 1.0:
            bytes_observed_at[0] = now
            state_bytes.set(sequencer.index.nbytes())

    events_by_type = {ty: metrics.events.labels(type=ty.value) for ty in PloverType}

    async def emit_unique(held: Held, story_id: str) -> list[Delivery]:
        # The records were serialized and size-checked by prepare; only story_id and
        # processed_at are joined in here. A longer story id can still push the enriched
        # record over the limit: checked before the first send, all or a dead letter.
        env = held.envelope
        try:
            enriched = check_output_size(assemble_enriched(env.enriched, story_id, now_utc()), "enriched",
                                         settings.limits)
        except Exception as exc:
            return [await dead_letter(held.value, exc, held.event, env.article.id)]
        deliveries = []
        for event_id, ty, ev_value in env.event_records():
            events_by_type[ty].inc()
            deliveries.append(await send(t.events, event_id, ev_value))
        deliveries.append(await send(t.enriched, env.article.id, enriched))
        if env.header.language is not None:
            metrics.count_language(env.header.language)
        observe_latency(t.enriched, env.article)
        return deliveries

    async def decide_ready(flush: bool = False) -> None:
        t0 = time.perf_counter()
        decisions = sequencer.ready(flush)
        if decisions:
            metrics.observe_stage("dedup", (time.perf_counter() - t0) / len(decisions))
        for d in decisions:
            # Faust's RocksDB store writes to the database of the *current event's*
            # partition (stores/rocksdb.py `_set`); a timer flush has no current event.
            # The entry belongs to the event being decided, so make it the current one.
            held = d.token
            remembered = _current_event.set(weakref.ref(held.event))
            try:
                await outbox.remember(d.article.id, d.entry)
            finally:
                _current_event.reset(remembered)
            if d.verdict.kind == "unique":
                metrics.unique.inc()
                deliveries = await emit_unique(held, d.verdict.story_id)
            else:
                metrics.duplicates.labels(kind=d.verdict.kind).inc()
                deliveries = [await send(t.duplicates, d.article.id,
                                         build_duplicate(d.article, d.verdict).model_dump_json().encode())]
                observe_latency(t.duplicates, d.article)
            sequence_acks.add(deliveries, held.ack)
        await sequence_acks.drain()
        for article_id in sequencer.take_expired():
            await outbox.forget(article_id)
        observe_state()

    markers_sent, markers_taken = (metrics.progress_markers.labels(direction=d) for d in ("sent", "taken"))

    async def take_marker(event: faust.types.EventT, stream: faust.StreamT[bytes]) -> None:
        # A marker is progress, not an article: no output, no counter; acked at once (a
        # redelivered marker says nothing new, and one lost with a crash is re-sent as
        # time goes on).
        try:
            marker = decode_marker(event.value)
        except Exception as exc:  # ValueError: garbage with a marker's lead is bad input like any
            sequence_acks.add((await dead_letter(event.value, exc, event),), partial(stream.ack, event))
            return
        for partition, ts in marker.progress:
            sequencer.progress(partition, ts, marker.sent_at)
        markers_taken.inc()
        sequence_acks.add((), partial(stream.ack, event))
        await decide_ready()

    async def take_envelope(event: faust.types.EventT, value: bytes, ack: Ack) -> None:
        """Queue one article envelope for its verdict (dead-letter it when unreadable)."""
        try:
            env = decode_envelope(value)
        except Exception as exc:  # ValueError; anything else is a bug, same treatment
            sequence_acks.add((await dead_letter(value, exc, event),), ack)
            return
        article, header = env.article, env.header
        ingest_ts = article.ingested_at.timestamp() if article.ingested_at else header.sent_at
        if sequencer.push(Held(event, ack, env, value), article, env.probe, ingest_ts, header.partition,
                          header.sent_at):
            metrics.dedup_late.inc()

    @app.agent(dedup_topic, name="khabar.sequence")
    async def sequence_agent(stream: faust.StreamT[bytes]) -> None:
        # acked only once decided: a crash redelivers what was queued
        manual = stream.noack()  # type: ignore[attr-defined]
        async for event in manual.events():
            offsets_watch.delivered(event.message.tp, event.message.offset)
            value = event.value
            ack: Ack = partial(manual.ack, event)
            if is_batch(value):
                try:
                    envelopes = decode_batch(value)
                except Exception as exc:  # ValueError: a truncated or empty batch is bad input
                    sequence_acks.add((await dead_letter(value, exc, event),), ack)
                    continue
                shared = SharedAck(ack, len(envelopes))
                for envelope in envelopes:
                    await take_envelope(event, envelope, shared)
            elif is_marker(value):
                await take_marker(event, manual)
                continue
            else:
                await take_envelope(event, value, ack)
            await decide_ready()

    flush_interval = max(0.05, settings.dedup.reorder_grace_seconds / 4)
    last_flush_tick = [time.monotonic()]

    @app.timer(interval=flush_interval)
    async def flush_idle() -> None:
        now = time.monotonic()
        stalled = now - last_flush_tick[0] > 2 * flush_interval
        last_flush_tick[0] = now
        if stalled:
            # The loop was busy (other agents' CPU work), so this timer and the sequence
            # agent could not run: records may be waiting in the fetch buffer. A stall is
            # not silence; releasing now would decide out of order (measured: a third of a
            # full-speed soak arrived late, and 831 verdicts differed from one process).
            sequencer.buffer.touch()
            return
        if len(sequencer):
            await decide_ready()
        else:
            observe_state()  # the throttled byte gauge catches up once the stream is idle

    # ------------------------------------------------------- progress markers
    last_glance: list[tuple[tuple[int | None, bool], ...]] = [()]

    async def observe_raw() -> dict[int, FetchState]:
        consumer: Any = app.consumer  # Faust's threaded aiokafka consumer (not in ConsumerT)
        thread = getattr(consumer, "_thread", None)
        if thread is None or not consumer.flow_active:  # rebalancing: positions are about to move
            return {}
        owned = [tp for tp in consumer.assignment() if tp.topic == t.raw]
        if not owned:
            return {}
        aio = thread._ensure_consumer()
        # A glance from this thread first (single attributes, no consistency needed): an
        # observation tells something new only after a fetch response, or once the agent
        # has caught up with what was handed out; otherwise the round trip to the consumer's
        # thread (two GIL hand-offs, which a CPU-bound agent pays for) is skipped.
        committed = consumer._committed_offset
        glance = tuple(glance_at(aio, tp, committed) for tp in owned)
        if glance == last_glance[0] or not any(caught_up for _, caught_up in glance):
            return {}  # nothing new, or behind on every partition (a flood): nothing to prove
        last_glance[0] = glance
        return await thread.call_thread(read_fetch_states, aio, owned, tracker.done, committed)

    def glance_at(aio: Any, tp: TP, committed: Mapping[Any, int | None]) -> tuple[int | None, bool]:
        assignment = offset_trace.aiokafka_assignment(aio)
        state = assignment.state_value(tp) if assignment is not None else None
        if state is None or not state.has_valid_position:
            return None, False
        count, offset = tracker.done.get(tp.partition, (0, None))
        looks = FetchState(state.position, None, False, count, offset, committed.get(tp))
        return state.timestamp, looks.delivered_below_position()

    def retrieve(delivery: Delivery) -> None:
        # a lost marker costs nothing (the next one says more), and the failure of the
        # producer shows in the envelopes' deliveries, which crash the worker
        if not delivery.cancelled() and delivery.exception() is not None:
            log.debug("progress_marker_not_delivered", error=repr(delivery.exception()))

    @app.task
    async def send_progress() -> None:
        if not ordering.progress_interval_ms:
            return
        interval = ordering.progress_interval_ms / 1000
        owed = asyncio.Event()
        tracker.on_owed = owed.set
        while True:
            # Sleep until a marker may be due: at once when articles were sent, else at the
            # heartbeat, and an article sent meanwhile wakes it (an idle worker does not
            # poll at the interval).
            delay = tracker.next_check(time.time())
            if delay is None or delay > 0:
                owed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(owed.wait(), delay)
                continue
            epoch = tracker.epoch
            try:
                states = await observe_raw()
            except Exception as exc:  # the consumer is (re)starting: markers wait for the next tick
                log.debug("progress_observation_failed", error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            if tracker.epoch != epoch:
                continue  # a rebalance began while the consumer's thread read them
            for partition, state in states.items():
                tracker.observe(partition, state)
            progress = tracker.due(time.time())
            if progress:
                delivery = await outbox.send(t.dedup, MARKER_KEY, encode_marker(progress, time.time()))
                delivery.add_done_callback(retrieve)
                markers_sent.inc()
            await asyncio.sleep(interval)  # while a marker is owed, look at the fetches once an interval

    @table.on_recover
    async def rebuild_index() -> None:
        # The table (changelog, or local RocksDB + changelog tail) holds one entry per
        # article; the index is rebuilt from them (its blob file too, when on disk).
        sequencer.rebuild((bytes(k).decode(), v) for k, v in table.items())
        observe_state(force=True)
        log.info("dedup_index_recovered", entries=len(sequencer.index))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def drop_pending(app_: Any, revoked: set[TP], **_: Any) -> None:
        if dedup_tp in revoked:
            log.info("sequencer_revoked", dropped=sequencer.revoke())
        tracker.forget()  # speak again only from observations made after the rebalance
        taken.clear()

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def count_assigned(app_: Any, assigned: set[TP], **_: Any) -> None:
        tracker.forget()  # again: a rebalance that failed half-way may skip the revocation
        for name in (t.raw, t.dedup):
            metrics.assigned_partitions.labels(topic=name).set(sum(1 for tp in assigned if tp.topic == name))

    @app.timer(interval=5.0)
    async def report_lag() -> None:
        consumer = app.consumer
        fetch_check.check(app)
        for tp in consumer.assignment():
            if tp.topic.endswith("-changelog") or "__assignor-__leader" in tp.topic:
                continue  # Faust internals, not khabar's data topics
            position = await consumer.position(tp)
            highwater = consumer.highwater(tp)
            if position is not None and highwater is not None:
                metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(max(0, highwater - position))

    return KhabarApp(app=app, settings=settings, metrics=metrics, outbox=outbox,
                     prepare=prepare_agent, sequence=sequence_agent, pipeline=pipeline, progress=tracker)
