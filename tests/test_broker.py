"""The embedded Tansu broker and explicit topic creation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from khabar.config import Settings
from streams.broker import EmbeddedBroker, find_tansu
from streams.errors import BrokerNotFoundError, TopicSetupError
from streams.topics import create_topics, topic_specs
from tests.support.stack import unique_settings


def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BrokerNotFoundError, match="KHABAR_TANSU_BIN"):
        find_tansu(tmp_path / "no-such-tansu")


def test_broker_starts_on_a_free_port_and_stops(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log").start()
    try:
        assert broker.running and broker.url.startswith("kafka://127.0.0.1:")
    finally:
        broker.stop()
    assert not broker.running


def test_topics_are_created_with_their_partition_counts(broker: EmbeddedBroker, tmp_path: Path) -> None:
    settings = unique_settings(broker.url, tmp_path, partitions=3)
    specs = topic_specs(settings)
    created = asyncio.run(create_topics(broker.url, specs))
    assert set(created) == {s.name for s in specs}
    assert {s.name: s.partitions for s in specs}[settings.topics.dedup] == 1
    assert asyncio.run(create_topics(broker.url, specs)) == []  # idempotent
    wrong = Settings(**{**settings.model_dump(), "partitions": 5})
    with pytest.raises(TopicSetupError, match="expected 5"):
        asyncio.run(create_topics(broker.url, topic_specs(wrong)))


def test_an_unreachable_broker_is_a_clear_error() -> None:
    with pytest.raises(TopicSetupError, match="cannot reach"):
        asyncio.run(create_topics("kafka://127.0.0.1:9", topic_specs(Settings()), timeout=3))
