"""``khabar up``: the one-command demo on the embedded broker.

Broker → topics → worker → replay of ``seeds/`` → summary table → metrics until
Ctrl-C (or, with ``--once``, exit 0 once every replayed article is accounted for).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from khabar.config import Settings
from khabar.corpus import iter_sources
from schemas.models import RawArticle
from streams.broker import EmbeddedBroker, free_port, port_is_free
from streams.cluster import output_id_fields
from streams.replay import Collected, collect, produce, replay_records
from streams.topics import create_topics, topic_specs
from streams.worker import spawn_worker, stop_process, wait_for_metrics


@dataclass
class Outcome:
    """What happened to one replayed article."""

    article_id: str
    status: str  # enriched | duplicate | deadletter
    language: str = ""
    duplicate_of: str = ""
    duplicate_kind: str = ""
    similarity: float = 0.0
    events: Counter[str] | None = None
    reason: str = ""


def accounted(collected: Collected, settings: Settings, ids: set[str]) -> dict[str, Outcome]:
    """Outcome of each replayed id found on the output topics so far."""
    t = settings.topics
    found: dict[str, Outcome] = {}
    # the same topic → id-field mapping the tests and the bench count with
    for topic, key in output_id_fields(settings).items():
        for r in collected.of(topic):
            article_id = r.get(key)
            if article_id not in ids:
                continue
            if topic == t.enriched:
                found[article_id] = Outcome(article_id, "enriched",
                                            language=(r.get("language") or {}).get("code", ""),
                                            events=Counter(e["type"] for e in r.get("events", [])))
            elif topic == t.duplicates:
                found[article_id] = Outcome(article_id, "duplicate", duplicate_of=r["duplicate_of"],
                                            duplicate_kind=r["duplicate_kind"], similarity=r["similarity"])
            else:
                found[article_id] = Outcome(article_id, "deadletter", reason=r["reason"])
    return found


def summary_table(outcomes: dict[str, Outcome], order: Sequence[str]) -> Table:
    """The table ``khabar up`` prints: one row per replayed article."""
    table = Table(title="khabar: replayed articles")
    for col in ("article", "language", "verdict", "events by type"):
        table.add_column(col)
    for article_id in order:
        o = outcomes.get(article_id)
        if o is None:
            table.add_row(article_id, "", "[red]missing[/red]", "")
        elif o.status == "enriched":
            events = ", ".join(f"{k} {v}" for k, v in sorted((o.events or Counter()).items())) or "none"
            table.add_row(article_id, o.language, "unique", events)
        elif o.status == "duplicate":
            table.add_row(article_id, "", f"{o.duplicate_kind} copy of {o.duplicate_of} ({o.similarity:.2f})", "")
        else:
            table.add_row(article_id, "", f"[yellow]dead letter: {o.reason}[/yellow]", "")
    return table


def run_up(settings: Settings, seeds: Sequence[Path], loops: int = 2, once: bool = False,
           timeout: float = 180.0, console: Console | None = None) -> int:
    """Run the demo. Returns the process exit code."""
    console = console or Console()
    broker: EmbeddedBroker | None = None
    worker = None
    workdir = settings.data_dir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if settings.broker_url is None:
            broker = EmbeddedBroker(settings.tansu_bin, log_path=workdir / "tansu.log").start()
            settings = settings.model_copy(update={"broker_url": broker.url})
            console.print(f"[green]embedded broker[/green] Tansu at {broker.bootstrap} (memory storage)")
        assert settings.broker_url is not None
        created = asyncio.run(create_topics(settings.broker_url, topic_specs(settings), settings.replication_factor))
        console.print(f"topics ready ({len(created)} created, {settings.partitions} partitions)")
        port = settings.web_port if settings.web_port and port_is_free(settings.web_host, settings.web_port) \
            else free_port(settings.web_host)
        metrics_url = f"http://{settings.web_host}:{port}/metrics"
        worker = spawn_worker({"KHABAR_BROKER_URL": settings.broker_url, "KHABAR_WEB_PORT": str(port)},
                              log_path=workdir / "worker.log")
        wait_for_metrics(metrics_url, worker, timeout=90)
        console.print(f"worker up; metrics at [bold]{metrics_url}[/bold] (log: {workdir / 'worker.log'})")

        articles: list[RawArticle] = list(iter_sources(seeds))
        records = list(replay_records(articles, loops=loops))
        ids = [k for k, _ in records]
        sent = asyncio.run(produce(settings.broker_url, settings.topics.raw, records,
                                   linger_ms=settings.producer_linger_ms))
        console.print(f"replayed {sent} records ({len(articles)} articles x {loops})")
        t = settings.topics
        idset = set(ids)
        collected = asyncio.run(collect(settings.broker_url, [t.enriched, t.duplicates, t.deadletter],
                                        lambda c: len(accounted(c, settings, idset)) >= len(idset), timeout))
        outcomes = accounted(collected, settings, idset)
        console.print(summary_table(outcomes, ids))
        if once:
            return 0
        console.print(f"serving metrics at [bold]{metrics_url}[/bold]; Ctrl-C to stop")
        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        while not stop and worker.poll() is None:
            time.sleep(0.5)
        return 0
    finally:
        if worker is not None:
            stop_process(worker)
        if broker is not None:
            broker.stop()
