"""Shared fixtures: one real embedded broker per test session, and a worker that
has processed the seeds (used by the end-to-end and observability tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from khabar.corpus import iter_sources
from streams.broker import EmbeddedBroker
from streams.replay import Collected, replay_records
from tests.support.stack import Stack, accounted_ids, unique_settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"

#: Malformed records a feed might carry, each with the dead-letter reason it must get.
MALFORMED: list[tuple[bytes, str]] = [
    (b"this is not json", "invalid_json"),
    (b'{"id": "bad-missing-text", "title": "no text field"}', "schema_violation"),
    (b'{"id": 12345, "text": "id is a number"}', "schema_violation"),
    (b'{"id": "bad-types", "text": ["a", "list"]}', "schema_violation"),
    (b'{"id": "bad-utf8", "text": "\xff\xfe broken"}', "invalid_utf8"),
    (b"[1, 2, 3]", "invalid_json"),
    (b'{"id": "bad-empty", "text": "   "}', "empty_text"),
]


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The embedded Tansu broker, started once for the session."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as b:
        yield b


@pytest.fixture
def make_stack(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Factory of stacks with unique topics; stops their workers at the end of the test."""
    stacks: list[Stack] = []

    def factory(partitions: int = 4, **overrides: object) -> Stack:
        stack = Stack(unique_settings(broker.url, tmp_path, partitions, **overrides), tmp_path)
        stack.create_topics()
        stacks.append(stack)
        return stack

    yield factory
    for s in stacks:
        s.stop()


@dataclass
class SeededWorker:
    """A worker that has processed the 5 seeds twice plus malformed records."""

    stack: Stack
    collected: Collected
    seed_ids: list[str]
    replayed_ids: list[str]

    @property
    def metrics_url(self) -> str:
        return self.stack.workers[0].metrics_url

    @property
    def metrics_port(self) -> int:
        return self.stack.workers[0].port


@pytest.fixture(scope="session")
def seeded_worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededWorker]:
    tmp = tmp_path_factory.mktemp("seeded")
    stack = Stack(unique_settings(broker.url, tmp, partitions=4), tmp)
    stack.create_topics()
    stack.start_worker()
    articles = list(iter_sources([SEEDS]))
    records = list(replay_records(articles, loops=2))
    stack.produce(records)
    stack.produce([(None, value) for value, _ in MALFORMED])
    ids = {k for k, _ in records}
    t = stack.settings.topics
    try:
        collected = stack.collect(
            lambda c: ids <= accounted_ids(c, stack.settings) and len(c.of(t.deadletter)) >= len(MALFORMED),
            timeout=180,
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{stack.logs()}") from exc
    try:
        yield SeededWorker(stack, collected, [a.id for a in articles], [k for k, _ in records])
    finally:
        stack.stop()
