"""``khabar soak``: the corpus at full speed through N workers, watching memory, errors and ids.

One run starts its own embedded broker and workers, replays the articles as fast as
the broker takes them, and meanwhile:

* samples every worker's resident memory (``VmRSS``) and its dedup-index size
  (``khabar_state_entries``) every few seconds, into ``soak.csv`` and ``soak.png``;
* reads the output topics by key (enriched, duplicates, dead letters) until every
  sent id is accounted for; only keys are kept, so the reader stays small;
* at the end counts error-level lines in the workers' logs.

It passes when every sent id is accounted for exactly once by kind (none missing,
none unknown, none both enriched and duplicate), no worker logged an error or died,
no worker's memory grew by more than ``max_growth_mb`` after the dedup window
filled (see :func:`window_full_index`), and every article got the verdict the pure
functions give it in one process (:func:`expected_outcomes`, in the sequencer's own
order: ingest time, then id), so a verdict never depends on which worker or partition
handled the article, nor on how fast.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

from khabar.config import Settings
from khabar.errors import InvalidArticleError
from khabar.process import parse_raw, prepare
from streams.broker import EmbeddedBroker
from streams.cluster import Stack, Worker, unique_settings
from streams.security import aiokafka_kwargs
from streams.sequencer import Sequencer
from streams.topics import bootstrap_servers

log = structlog.get_logger("khabar.soak")

_ENTRIES = re.compile(r'^khabar_state_entries\{store="dedup_index"\}\s+([0-9.eE+-]+)$', re.MULTILINE)
#: An error-level line in a worker log: structlog JSON, or the stdlib format Faust and aiokafka use.
_LATE = re.compile(r'^khabar_dedup_late_arrivals_total\s+([0-9.eE+-]+)$', re.MULTILINE)
_ERROR_LINE = re.compile(r'"level":\s*"(error|critical)"|\[(ERROR|CRITICAL)\]|^Traceback ')


@dataclass
class Sample:
    """One reading of one worker."""

    t: float
    worker: int
    rss_mb: float
    dedup_entries: float
    accounted: int


@dataclass
class Accounting:
    """What the output topics say about the sent ids."""

    enriched: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)
    deadletters: set[str] = field(default_factory=set)
    records: int = 0
    #: Ingest time (epoch seconds) of each enriched or duplicate article, from its record.
    ingested: dict[str, float] = field(default_factory=dict)

    def accounted(self) -> set[str]:
        return self.enriched | self.duplicates | self.deadletters


@dataclass
class SoakResult:
    """The outcome of a soak run; ``ok`` is the exit status."""

    sent: int
    accounted: int
    missing: int
    unknown: int
    both_enriched_and_duplicate: int
    enriched: int
    duplicates: int
    deadletters: int
    output_records: int
    seconds: float
    error_lines: int
    workers_alive: bool
    rss_mb: dict[str, dict[str, float]]
    max_growth_after_window_mb: float
    late_arrivals: int
    verdict_mismatches: int
    ok: bool
    reasons: list[str]


def count_error_lines(text: str) -> int:
    """Error-level lines in a worker log."""
    return sum(1 for line in text.splitlines() if _ERROR_LINE.search(line))


def dedup_entries(worker: Worker) -> float:
    """The worker's ``khabar_state_entries{store="dedup_index"}``; NaN when it does not answer."""
    try:
        match = _ENTRIES.search(httpx.get(worker.metrics_url, timeout=2.0).text)
    except httpx.HTTPError:
        return float("nan")
    return float(match.group(1)) if match else float("nan")


def window_full_index(entries: Sequence[float]) -> int | None:
    """Index of the sample at which the dedup window was first full.

    That is the last sample before the index first shrank (retention, which follows the
    stream's own time, started expiring articles); when it never shrank, the first sample
    holding 95 % of its final size. NaN samples (no answer) are skipped.
    """
    valid = [(i, e) for i, e in enumerate(entries) if e == e]
    if not valid or max(e for _, e in valid) <= 0:
        return None
    for (i_prev, prev), (_, cur) in itertools.pairwise(valid):
        if cur < prev:
            return i_prev
    target = 0.95 * valid[-1][1]
    return next(i for i, e in valid if e >= target)


def rss_summary(samples: list[Sample], n_workers: int) -> tuple[dict[str, dict[str, float]], float]:
    """Per worker: RSS at the first sample, when its dedup window filled, at the peak and at the end.

    Returns:
        The summary and the largest growth after the window filled (MB) over the workers.
        The window is that of the worker holding the dedup partition (the largest index);
        the other workers' growth is measured from the same moment.
    """
    by_worker = {w: [s for s in samples if s.worker == w] for w in range(n_workers)}
    owner = max(by_worker, key=lambda w: max((s.dedup_entries for s in by_worker[w] if s.dedup_entries == s.dedup_entries),
                                            default=0.0))
    owner_samples = by_worker[owner]
    idx = window_full_index([s.dedup_entries for s in owner_samples])
    t_full = owner_samples[idx].t if idx is not None and owner_samples else None
    out: dict[str, dict[str, float]] = {}
    growth = 0.0
    for w, rows in by_worker.items():
        live = [s for s in rows if s.rss_mb > 0]
        if not live:
            continue
        after = [s for s in live if t_full is not None and s.t >= t_full] or live[-1:]
        out[f"worker{w}"] = {
            "start": live[0].rss_mb, "window_full": after[0].rss_mb, "peak": max(s.rss_mb for s in live),
            "end": live[-1].rss_mb, "window_full_at_s": after[0].t,
            "dedup_entries_end": rows[-1].dedup_entries,
        }
        growth = max(growth, max(s.rss_mb for s in after) - after[0].rss_mb)
    return out, growth


async def read_accounting(settings: Settings, ids: set[str], acc: Accounting, stop: threading.Event,
                          timeout: float) -> None:
    """Read the three accounting topics from the start (keys only) until every id in ``ids`` is seen.

    Raises:
        TimeoutError: Some ids were still unaccounted for after ``timeout`` seconds.
    """
    assert settings.broker_url
    t = settings.topics
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers(settings.broker_url), enable_auto_commit=False,
                                group_id=None, auto_offset_reset="earliest", **aiokafka_kwargs(settings.kafka))
    await consumer.start()
    try:
        tps = [TopicPartition(name, p) for name in (t.enriched, t.duplicates, t.deadletter)
               for p in range(settings.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        while not ids <= acc.accounted():
            if stop.is_set():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ids - acc.accounted())} of {len(ids)} ids unaccounted for after {timeout:.0f}s")
            batch = await consumer.getmany(timeout_ms=500, max_records=20_000)
            for tp, messages in batch.items():
                for m in messages:
                    acc.records += 1
                    if tp.topic == t.deadletter:
                        # a dead letter's key may be topic/partition/offset; its body names the article
                        article = json.loads(m.value or b"{}").get("article_id")
                        if article:
                            acc.deadletters.add(str(article))
                    elif m.key:
                        (acc.enriched if tp.topic == t.enriched else acc.duplicates).add(m.key.decode())
                        ingested = json.loads(m.value or b"{}").get("ingested_at")
                        if ingested:
                            acc.ingested[m.key.decode()] = datetime.fromisoformat(ingested).timestamp()
    finally:
        await consumer.stop()


def expected_outcomes(records: Sequence[tuple[str, bytes]], ingested: dict[str, float],
                      settings: Settings) -> dict[str, str]:
    """What each article should become, from the pure functions in one process.

    The articles are decided in the order the sequencer uses (ingest time, then id),
    with the same retention in stream time, so any difference from a run is a verdict
    that depended on workers, partitions or timing.

    Returns:
        Article id → ``enriched``, ``duplicate`` or ``deadletter``.
    """
    sequencer: Sequencer[str] = Sequencer(settings.dedup)
    out: dict[str, str] = {}
    order = sorted(records, key=lambda r: (ingested.get(r[0], float("inf")), r[0]))
    for n, (article_id, value) in enumerate(order):
        try:
            article = parse_raw(value)
            prepared = prepare(article, settings)
        except InvalidArticleError:
            out[article_id] = "deadletter"
            continue
        sequencer.push(article_id, article, prepared.probe, float(n))
        for d in sequencer.ready(flush=True):
            out[d.token] = "enriched" if d.verdict.kind == "unique" else "duplicate"
    return out


def late_arrivals(worker: Worker) -> int:
    """The worker's ``khabar_dedup_late_arrivals_total`` (0 when it does not answer)."""
    try:
        match = _LATE.search(httpx.get(worker.metrics_url, timeout=2.0).text)
    except httpx.HTTPError:
        return 0
    return int(float(match.group(1))) if match else 0


def wait_for_stable_group(stack: Stack, timeout: float = 120.0) -> bool:
    """Until every raw partition is assigned, to workers that all have some, for 3 s in a row.

    Starting the replay before the group settles costs a rebalance mid-stream (harmless,
    but the redeliveries blur the memory curve). Returns whether it settled in time.
    """
    raw = stack.settings.topics.raw
    wanted = min(len(stack.workers), stack.settings.partitions)
    stable = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            counts = [w.assigned().get(raw, 0) for w in stack.workers]
        except httpx.HTTPError:
            counts = []
        ok = sum(counts) == stack.settings.partitions and sum(1 for c in counts if c) == wanted
        stable = stable + 1 if ok else 0
        if stable >= 3:
            return True
        time.sleep(1.0)
    log.warning("soak_group_not_settled", timeout=timeout)
    return False


def plot(samples: list[Sample], n_workers: int, path: Path, window_full_at: float | None) -> None:
    """RSS per worker over time, with the accounted articles on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for w in range(n_workers):
        rows = [s for s in samples if s.worker == w and s.rss_mb > 0]
        ax.plot([s.t for s in rows], [s.rss_mb for s in rows], label=f"worker {w} RSS")
    ax.set_xlabel("seconds since the replay started")
    ax.set_ylabel("resident memory (MB)")
    ax.set_ylim(bottom=0)
    if window_full_at is not None:
        ax.axvline(window_full_at, color="grey", linestyle="--", label="dedup window full")
    ax2 = ax.twinx()
    first = [s for s in samples if s.worker == 0]
    ax2.plot([s.t for s in first], [s.accounted for s in first], color="black", alpha=0.4, label="articles accounted")
    ax2.set_ylabel("articles accounted for")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left")
    ax.set_title("khabar soak: worker memory during a full-speed replay")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_soak(settings: Settings, records: list[tuple[str, bytes]], out_dir: Path, workers: int = 2,
             partitions: int = 4, sample_seconds: float = 2.0, timeout: float = 3600.0,
             max_growth_mb: float = 150.0) -> SoakResult:
    """Run one soak; writes ``soak.csv``, ``soak.png`` and ``summary.json`` into ``out_dir``.

    Args:
        settings: Stage settings (dedup, pipeline, ...) for the workers; the broker is the
            run's own embedded one.
        records: ``(id, RawArticle JSON)`` pairs to replay.
        max_growth_mb: Largest RSS growth allowed after the dedup window filled.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = {k for k, _ in records}
    started = time.monotonic()
    with EmbeddedBroker(settings.tansu_bin, log_path=out_dir / "tansu.log") as broker:
        stack = Stack(unique_settings(broker.url, out_dir, partitions, dedup=settings.dedup,
                                      pipeline=settings.pipeline, language=settings.language,
                                      events=settings.events), out_dir)
        stack.create_topics()
        samples: list[Sample] = []
        acc = Accounting()
        stop = threading.Event()
        late = 0
        try:
            stack.start_workers(workers)
            wait_for_stable_group(stack)
            log.info("soak_started", workers=workers, partitions=partitions, articles=len(records))
            t0 = time.monotonic()

            def take_sample() -> None:
                now = time.monotonic() - t0
                accounted = len(acc.accounted())
                for i, w in enumerate(stack.workers):
                    samples.append(Sample(round(now, 2), i, round(w.rss_mb(), 1), dedup_entries(w), accounted))

            def sample() -> None:
                while not stop.is_set():
                    take_sample()
                    stop.wait(sample_seconds)

            sampler = threading.Thread(target=sample, name="soak-sampler", daemon=True)
            producer = threading.Thread(target=stack.produce, args=(records,), name="soak-producer", daemon=True)
            sampler.start()
            producer.start()
            error: str | None = None
            try:
                asyncio.run(read_accounting(stack.settings, ids, acc, stop, timeout))
            except TimeoutError as exc:
                error = str(exc)
            producer.join(60)
            time.sleep(sample_seconds)  # the memory a moment after the last article
            stop.set()
            sampler.join(10)
            take_sample()  # the last row holds the final count, however the sampler's timing fell
            alive = all(w.proc.poll() is None for w in stack.workers)
            late = sum(late_arrivals(w) for w in stack.workers)
        finally:
            stop.set()
            stack.stop()
        errors = sum(count_error_lines(w.log.read_text(errors="replace")) for w in stack.workers if w.log.exists())

    with (out_dir / "soak.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(samples[0]).keys()) if samples else ["t"])
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)
    summary, growth = rss_summary(samples, workers)
    full_at = next(iter(summary.values()), {}).get("window_full_at_s")
    plot(samples, workers, out_dir / "soak.png", full_at)

    accounted = acc.accounted()
    both = acc.enriched & acc.duplicates
    actual = {i: "deadletter" for i in acc.deadletters} | {i: "duplicate" for i in acc.duplicates} \
        | {i: "enriched" for i in acc.enriched}
    expected = expected_outcomes(records, acc.ingested, settings)
    mismatched = sorted(i for i in ids & accounted if expected.get(i) != actual.get(i))
    if mismatched:
        log.warning("soak_verdict_mismatch", count=len(mismatched), late_arrivals=late,
                    sample=[(i, expected.get(i), actual.get(i)) for i in mismatched[:10]])
    reasons = []
    if error:
        reasons.append(error)
    if ids - accounted:
        reasons.append(f"{len(ids - accounted)} ids missing")
    if accounted - ids:
        reasons.append(f"{len(accounted - ids)} unknown ids on the output topics")
    if both:
        reasons.append(f"{len(both)} ids both enriched and duplicate")
    if errors:
        reasons.append(f"{errors} error-level log lines")
    if not alive:
        reasons.append("a worker died")
    if mismatched:
        reasons.append(f"{len(mismatched)} verdicts differ from the single-process run "
                       f"({late} late arrivals at the sequencer)")
    if growth > max_growth_mb:
        reasons.append(f"RSS grew {growth:.0f} MB after the dedup window filled (limit {max_growth_mb:.0f})")
    result = SoakResult(
        sent=len(ids), accounted=len(accounted & ids), missing=len(ids - accounted), unknown=len(accounted - ids),
        both_enriched_and_duplicate=len(both), enriched=len(acc.enriched), duplicates=len(acc.duplicates),
        deadletters=len(acc.deadletters), output_records=acc.records, seconds=round(time.monotonic() - started, 1),
        error_lines=errors, workers_alive=alive, rss_mb=summary, max_growth_after_window_mb=round(growth, 1),
        late_arrivals=late, verdict_mismatches=len(mismatched), ok=not reasons, reasons=reasons,
    )
    (out_dir / "summary.json").write_text(json.dumps(asdict(result), indent=2))
    return result
