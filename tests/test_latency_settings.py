"""The producer linger setting reaches every producer on the way from replay to output.

Each topic hop pays the linger (replay, the prepare agent's envelope, the sequencer's
outputs): ``KHABAR_PRODUCER_LINGER_MS`` trades batching for latency (README, issue 9).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import streams.replay
from khabar.config import Settings
from streams.errors import BrokerError
from tests.support.stack import settings_env, unique_settings


def test_the_worker_producer_lingers_as_configured(tmp_path: Path) -> None:
    from streams.app import create_app

    settings = unique_settings("kafka://127.0.0.1:9", tmp_path).model_copy(update={"producer_linger_ms": 2.5})
    kapp = create_app(settings)
    assert kapp.app.conf.producer_linger == pytest.approx(0.0025)
    assert create_app(unique_settings("kafka://127.0.0.1:9", tmp_path)).app.conf.producer_linger == 0.01


def test_a_child_worker_inherits_the_linger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = unique_settings("kafka://127.0.0.1:9", tmp_path).model_copy(update={"producer_linger_ms": 0.0})
    for key, value in settings_env(settings).items():
        monkeypatch.setenv(key, value)
    assert Settings().producer_linger_ms == 0.0


def test_replay_producer_lingers_as_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

        async def start(self) -> None:
            raise OSError("no broker in this test")

        async def stop(self) -> None:
            pass

    monkeypatch.setattr(streams.replay, "AIOKafkaProducer", Recorder)
    with pytest.raises(BrokerError):
        asyncio.run(streams.replay.produce("kafka://127.0.0.1:9", "t", [("k", b"v")], linger_ms=0))
    assert seen["linger_ms"] == 0


@pytest.mark.parametrize("bad", [-1, 5_000])
def test_an_out_of_range_linger_fails_at_start(bad: float) -> None:
    with pytest.raises(ValidationError, match="producer_linger_ms"):
        Settings(producer_linger_ms=bad)
