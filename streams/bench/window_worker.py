"""A real worker holding a full dedup window: its resident memory, measured.

:mod:`khabar.bench_window` measures the index in a process of its own and adds the
start-up memory of a worker to estimate a worker's. This measures the worker itself:
the entries of a simulated full window (the same salted copies of real probes,
decided by the same :class:`~khabar.dedup.DedupIndex` code) are written straight to
the ``dedup_index`` changelog topic, then a worker is started on that app id. It
recovers the table from the changelog and rebuilds its index from the table, as a
worker taking over the sequencer does; its RSS is sampled from ``/proc`` once
``khabar_state_entries`` reports the whole window, then while it deduplicates live
articles against it.

Run as ``python -m streams.bench.window_worker [--store rocksdb://] [--window-articles N]``;
it prints one JSON object. It needs a broker (``KHABAR_BROKER_URL``, else an embedded
Tansu started for the run) with room for the changelog (about 1.5 KB per entry).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from khabar.bench_window import window_probes, window_timestamp
from khabar.config import Settings
from khabar.dedup import DedupIndex, Probe, make_probe
from streams.bench import BenchError
from streams.broker import EmbeddedBroker
from streams.cluster import Stack, unique_settings
from streams.replay import replay_records
from streams.security import aiokafka_kwargs
from streams.topics import DEDUP_TABLE, bootstrap_servers


def changelog_topic(settings: Settings) -> str:
    """The name Faust gives the ``dedup_index`` table's changelog for this app id."""
    return f"{settings.app_id}-{DEDUP_TABLE}-changelog"


def window_entries(base: Sequence[Probe], settings: Settings, n: int, per_day: int,
                   blob_dir: Path) -> Iterator[tuple[str, bytes]]:
    """``(article id, entry)`` of ``n`` window articles, decided in order as the sequencer would."""
    index = DedupIndex(settings.dedup, blob_dir=blob_dir)
    try:
        for probe in window_probes(base, n, per_day, settings.dedup.num_perm):
            _, entry = index.decide(probe)
            yield probe.article_id, entry
    finally:
        index.close()


async def _produce_entries(settings: Settings, entries: Iterator[tuple[str, bytes]]) -> int:
    assert settings.broker_url
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(settings.broker_url), linger_ms=20,
                                max_batch_size=1_048_576, max_request_size=8_388_608, acks="all",
                                **aiokafka_kwargs(settings.kafka))
    await producer.start()
    sent = 0
    try:
        pending = []
        for key, value in entries:
            pending.append(await producer.send(changelog_topic(settings), value=value, key=key.encode(),
                                               partition=0))
            sent += 1
            if len(pending) >= 5_000:  # bounded memory of futures; delivery overlaps the deciding
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def _entries_gauge(url: str) -> float:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return -1.0
    return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples
               if s.name == "khabar_state_entries" and s.labels.get("store") == "dedup_index")


def measure(settings: Settings, base: Sequence[Probe], live: Sequence[tuple[str | None, bytes]],
            n: int, per_day: int, tmp: Path, timeout: float = 1800.0,
            live_rate: float | None = None) -> dict[str, Any]:
    """Fill the changelog with ``n`` entries, start a worker, sample its RSS; the figures.

    ``live`` is replayed once the window is recovered, at ``live_rate`` articles a second
    (``None``: all at once).

    Raises:
        BenchError: The worker did not report the whole window within ``timeout`` seconds.
    """
    assert settings.broker_url
    stack = Stack(settings, tmp)
    stack.create_topics()  # the changelog too, with its one partition
    t0 = time.perf_counter()
    sent = asyncio.run(_produce_entries(settings, window_entries(base, settings, n, per_day, tmp / "gen-blobs")))
    fill_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    worker = stack.start_worker()
    ready_mb = worker.rss_mb()
    deadline = time.monotonic() + timeout
    peak = ready_mb
    # The rebuilt index reports its size once recovery is done; it can hold fewer entries than
    # were written (a window copy can collide with another's id), so wait for it to settle.
    seen: list[float] = []
    while len(seen) < 3 or seen[-1] <= 0 or len(set(seen[-3:])) > 1:
        if worker.proc.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise BenchError(f"the worker did not recover the {sent:,}-entry window\n{stack.logs()}")
        peak = max(peak, worker.rss_mb())
        seen.append(_entries_gauge(worker.metrics_url))
        time.sleep(2.0)
    recover_seconds = time.perf_counter() - t1
    time.sleep(5.0)  # let the allocator settle after the rebuild
    recovered_mb = worker.rss_mb()
    samples = [recovered_mb]
    try:
        # sampled while the live articles arrive too: paced at a real feed's rate, the
        # buffers stay nearly empty; a flood (no rate) fills the stream buffers at once
        producer = threading.Thread(target=stack.produce, args=(live, live_rate), daemon=True)
        producer.start()
        while producer.is_alive():
            producer.join(1.0)
            samples.append(worker.rss_mb())
        for _ in range(30):
            time.sleep(1.0)
            samples.append(worker.rss_mb())
        entries_after = _entries_gauge(worker.metrics_url)
    finally:
        stack.stop()
    return {
        "store": settings.store, "entries": sent, "entries_recovered": seen[-1], "per_day": per_day, "days": sent / per_day,
        "changelog_fill_seconds": fill_seconds, "recover_seconds": recover_seconds,
        "rss_ready_mb": ready_mb, "rss_recovered_mb": recovered_mb, "rss_peak_recovery_mb": max(peak, recovered_mb),
        "rss_with_traffic_mb": max(samples), "rss_final_mb": samples[-1], "live_articles": len(live),
        "live_rate": live_rate, "entries_after_traffic": entries_after,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Build base probes from the corpus, run :func:`measure` on a fresh app id, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--window-articles", type=int, default=700_000)
    ap.add_argument("--per-day", type=int, default=100_000)
    ap.add_argument("--store", default="rocksdb://", choices=["rocksdb://", "memory://"])
    ap.add_argument("--limit", type=int, default=3000, help="corpus articles the window is built from")
    ap.add_argument("--live", type=int, default=2000, help="articles replayed once the window is loaded")
    ap.add_argument("--live-rate", type=float, default=None,
                    help="articles/s of the live replay (default: all at once; 100,000 a day is 1.2/s)")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parents[2] / "seeds")
    args = ap.parse_args(argv)
    from khabar.bench import load_articles
    from khabar.pipeline import prepare_doc
    articles, source = load_articles(args.corpus, args.limit + args.live, args.seeds)
    defaults = Settings()
    base = [make_probe(a, prepare_doc(a), defaults.dedup) for a in articles[: args.limit]]
    # The live articles are new stories (their ids do not clash with the window's) that
    # follow the window in time, as a feed's next articles do: with their own dates
    # (SaudiNewsNet's 2015) the stream time would jump past the whole window and expire it.
    after = [a.model_copy(update={"published_at": datetime.fromtimestamp(
                 window_timestamp(args.window_articles + i, args.per_day), UTC)})
             for i, a in enumerate(articles[args.limit:] or articles[: args.live])]
    live = list(replay_records(after, loops=1))
    broker: EmbeddedBroker | None = None
    url = defaults.broker_url
    with tempfile.TemporaryDirectory(prefix="khabar-window-worker-") as tmpdir:
        tmp = Path(tmpdir)
        if not url:
            broker = EmbeddedBroker(log_path=tmp / "tansu.log").start()
            url = broker.url
        try:
            settings = unique_settings(url, tmp, partitions=defaults.partitions, store=args.store,
                                       recovery_consistency_check=False)
            out = measure(settings, base, live, args.window_articles, args.per_day, tmp,
                          live_rate=args.live_rate)
        finally:
            if broker is not None:
                broker.stop()
    out["source"] = source
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
