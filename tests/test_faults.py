"""Faults (issue 8): the broker goes away for 30 s while workers run.

The broker is this test's own embedded Tansu (memory storage), not the session one:
stopping it loses every topic, message, committed offset and changelog. The workers
must not exit (each restarts itself in place once the broker is back, same PID and
port), must say so (``broker_unreachable`` / ``broker_reconnected`` / ``worker_restarting``
log lines, ``khabar_broker_up 0`` during the outage), must recreate the topics with
their partition counts before Tansu auto-creates them with 4 (:mod:`streams.health`),
and must account for every article sent after the broker is back, copies flagged.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from khabar.corpus import iter_corpus, iter_sources
from streams.broker import EmbeddedBroker
from streams.replay import replay_records
from streams.topics import topic_specs
from tests.support.stack import Stack, Worker, unique_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


def _metric(worker: Worker, name: str) -> float | None:
    try:
        text = httpx.get(worker.metrics_url, timeout=3).text
    except httpx.HTTPError:
        return None
    values = [s.value for fam in text_string_to_metric_families(text) for s in fam.samples if s.name == name]
    return values[0] if values else None


def _wait_for(predicate: object, timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:.0f}s\n{stack.logs()}")


def _events(worker: Worker) -> list[dict[str, object]]:
    out = []
    for line in worker.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


async def _partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
    finally:
        await admin.close()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as b:
        yield b


@pytest.mark.parametrize("outage_seconds", [30.0])
def test_workers_survive_a_broker_outage_and_resume(own_broker: EmbeddedBroker, tmp_path: Path,
                                                    outage_seconds: float) -> None:
    stack = Stack(unique_settings(own_broker.url, tmp_path, partitions=4), tmp_path)
    stack.create_topics()
    try:
        workers = stack.start_workers(2)
        # the watch starts with the app's tasks, a moment after /metrics answers
        _wait_for(lambda: all(_metric(w, "khabar_broker_up") == 1 and _metric(w, "khabar_topic_layout_ok") == 1
                              for w in workers), 60, "the workers did not report the broker up", stack)

        # before: the seeds twice
        before = list(replay_records(list(iter_sources([REPO / "seeds"])), loops=2))
        stack.produce(before)
        ids = {k for k, _ in before}
        stack.collect_accounted(ids, timeout=120)

        # the outage, watched from outside through the workers' own /metrics
        seen_down: list[float | None] = []

        def watch() -> None:
            time.sleep(outage_seconds / 2)
            seen_down.extend(_metric(w, "khabar_broker_up") for w in workers)

        watcher = threading.Thread(target=watch)
        watcher.start()
        t0 = time.monotonic()
        own_broker.restart(down_seconds=outage_seconds)
        watcher.join()
        assert seen_down == [0.0, 0.0], "the workers did not report the outage on /metrics"

        # the workers notice the broker is back, and recreate the (lost) topics themselves
        _wait_for(lambda: all(_metric(w, "khabar_broker_up") == 1 and _metric(w, "khabar_topic_layout_ok") == 1
                              for w in workers), 60, "the workers did not report the broker back", stack)
        names = [s.name for s in topic_specs(stack.settings)]
        counts = asyncio.run(_partition_counts(own_broker.bootstrap, names))
        assert counts == {s.name: s.partitions for s in topic_specs(stack.settings)}

        # after: 60 new articles, twice (the second pass must be flagged as copies)
        fresh = [a for i, a in enumerate(iter_corpus()) if i % 97 == 0][:60]
        after = list(replay_records(fresh, loops=2))  # type: ignore[arg-type]
        stack.produce(after)
        after_ids = {k for k, _ in after}
        t = stack.settings.topics
        c = stack.collect_accounted(after_ids, timeout=90)
        copies = {k for k, _ in after if "#r2" in k}
        assert copies <= c.ids(t.duplicates), "dedup did not work on the recreated topics"
        assert not (c.ids(t.deadletter, key="article_id") & after_ids)

        # the workers never exited (each restarted itself in place: same PID, same port), and
        # told the story once each
        assert all(w.proc.poll() is None for w in workers), stack.logs()
        for w in workers:
            events = [e.get("event") for e in _events(w)]
            assert events.count("broker_unreachable") == 1 and events.count("broker_reconnected") == 1, events
            assert events.count("worker_restarting") == 1, events
            reconnected = next(e for e in _events(w) if e.get("event") == "broker_reconnected")
            assert float(reconnected["down_seconds"]) >= outage_seconds * 0.8  # type: ignore[arg-type]
        # one of the two recreated the topics (the other found them there)
        assert any("topics_recreated" in [e.get("event") for e in _events(w)] for w in workers)
        assert time.monotonic() - t0 < outage_seconds + 240
    finally:
        stack.stop()
