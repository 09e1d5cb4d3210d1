"""khabar's Prometheus metrics, in one registry shared with Faust's own sensors.

Conventions: base units (seconds, bytes), counters end in ``_total``, and every
known label value is initialized at start so series exist before the first
article (a dashboard or alert over a missing series shows nothing, not zero).
Faust's sensors are attached by :func:`attach_faust_sensors` with the prefix
``faust_``; they are not re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from schemas.models import PloverType

STAGES = ("parse", "prepare", "dedup", "language", "events", "emit")
DUPLICATE_KINDS = ("exact", "url", "near")
DEADLETTER_REASONS = (
    "invalid_utf8",
    "invalid_json",
    "schema_violation",
    "empty_text",
    "stage_failed:language",
    "stage_failed:events",
    "internal_error",
)
LANGUAGE_CODES = ("ar", "en", "fr", "fa", "ur", "tr", "he", "und", "other")
STATE_STORES = ("dedup_index",)

# Latency of a streaming pipeline spans milliseconds (one hop) to minutes (a backlog).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 30, 60, 120, 300, 600)
_STAGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1)


@dataclass
class Metrics:
    """khabar's own metrics. One instance per worker, created with its registry."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.articles_in = Counter(
            "khabar_articles_in_total", "Articles read from the raw topic, by source", ["source"], registry=r
        )
        self.records_out = Counter(
            "khabar_records_out_total", "Records written, by topic", ["topic"], registry=r
        )
        self.unique = Counter("khabar_unique_articles_total", "Articles judged unique", registry=r)
        self.duplicates = Counter(
            "khabar_duplicates_total", "Articles judged copies, by how they matched", ["kind"], registry=r
        )
        self.events = Counter("khabar_events_total", "Events extracted, by PLOVER type", ["type"], registry=r)
        self.deadletters = Counter(
            "khabar_deadletters_total", "Records sent to the dead-letter topic, by reason", ["reason"], registry=r
        )
        self.languages = Counter(
            "khabar_languages_total", "Unique articles by detected language", ["code"], registry=r
        )
        self.stage_seconds = Histogram(
            "khabar_stage_seconds", "Processing time per stage and article", ["stage"],
            buckets=_STAGE_BUCKETS, registry=r,
        )
        self.end_to_end = Histogram(
            "khabar_end_to_end_latency_seconds", "From ingest (record timestamp) to the output record",
            ["topic"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.consumer_lag = Gauge(
            "khabar_consumer_lag_messages", "Highwater minus position per assigned topic-partition",
            ["topic", "partition"], registry=r,
        )
        self.state_entries = Gauge("khabar_state_entries", "Entries in a state store", ["store"], registry=r)
        self.state_bytes = Gauge("khabar_state_bytes", "Approximate bytes held by a state store", ["store"], registry=r)
        self.dedup_pending = Gauge(
            "khabar_dedup_pending_articles", "Articles waiting in the sequencer's reorder window", registry=r
        )
        self.dedup_late = Counter(
            "khabar_dedup_late_arrivals_total",
            "Articles that reached the sequencer after its reorder window had passed them", registry=r,
        )
        self.progress_markers = Counter(
            "khabar_progress_markers_total",
            "Progress markers about raw partitions: sent by this worker's prepare agent, or taken by its "
            "sequencer", ["direction"], registry=r,
        )
        self.assigned_partitions = Gauge(
            "khabar_assigned_partitions", "Partitions of khabar's topics assigned to this worker", ["topic"], registry=r
        )
        self.info = Info("khabar_worker", "Worker version and settings hash", registry=r)
        self.broker_up = Gauge(
            "khabar_broker_up", "1 while a bootstrap broker accepts connections, 0 during an outage", registry=r
        )
        self.broker_outages = Counter(
            "khabar_broker_outages_total", "Times every bootstrap broker stopped accepting connections", registry=r
        )
        self.broker_last_outage = Gauge(
            "khabar_broker_last_outage_seconds", "Length of the last broker outage that ended", registry=r
        )
        self.topic_layout_ok = Gauge(
            "khabar_topic_layout_ok",
            "1 when every topic exists with its partition count (checked at start and after an outage)",
            registry=r,
        )
        self._initialize_labels()

    def _initialize_labels(self) -> None:
        for kind in DUPLICATE_KINDS:
            self.duplicates.labels(kind=kind)
        for t in PloverType:
            self.events.labels(type=t.value)
        for reason in DEADLETTER_REASONS:
            self.deadletters.labels(reason=reason)
        for code in LANGUAGE_CODES:
            self.languages.labels(code=code)
        # the per-article observers use these children: a labels() lookup per call is a
        # measurable share of the hot path at several observations per article
        self._stage_children = {stage: self.stage_seconds.labels(stage=stage) for stage in STAGES}
        self._language_children = {code: self.languages.labels(code=code) for code in LANGUAGE_CODES}
        self._source_children: dict[str, Counter] = {}  # sources are open-ended: filled as they come
        for store in STATE_STORES:
            self.state_entries.labels(store=store)
            self.state_bytes.labels(store=store)

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Record one stage's processing time (usable as a :class:`~khabar.pipeline.Pipeline` callback)."""
        child = self._stage_children.get(stage)
        if child is None:
            child = self._stage_children[stage] = self.stage_seconds.labels(stage=stage)
        child.observe(seconds)

    def count_article_in(self, source: str) -> None:
        """Count one input article from ``source`` (``invalid`` when it could not be read)."""
        child = self._source_children.get(source)
        if child is None:
            child = self._source_children[source] = self.articles_in.labels(source=source)
        child.inc()

    def count_language(self, code: str) -> None:
        self._language_children.get(code, self._language_children["other"]).inc()
