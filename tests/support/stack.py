"""Real workers against the real embedded broker, for end-to-end tests.

Every test gets its own app id and topic names, so tests sharing one broker
never see each other's records.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from khabar.config import Settings, TopicNames
from streams.broker import free_port
from streams.replay import Collected, collect, produce
from streams.topics import create_topics, topic_specs
from streams.worker import spawn_worker, stop_process, wait_for_metrics


def unique_settings(broker_url: str, tmp: Path, partitions: int = 4, **overrides: object) -> Settings:
    """Settings with an app id and topic names no other test uses."""
    tag = uuid.uuid4().hex[:8]
    topics = TopicNames(**{name: f"t{tag}.{value}" for name, value in TopicNames().model_dump().items()})
    return Settings(app_id=f"khabar-{tag}", broker_url=broker_url, partitions=partitions, topics=topics,
                    data_dir=tmp / f"data-{tag}", **overrides)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``KHABAR_*`` environment that reproduces ``settings`` in a child process."""
    env = {
        "KHABAR_APP_ID": settings.app_id,
        "KHABAR_BROKER_URL": settings.broker_url or "",
        "KHABAR_PARTITIONS": str(settings.partitions),
        "KHABAR_DATA_DIR": str(settings.data_dir),
        "KHABAR_LOG_LEVEL": "warn",
        "KHABAR_DEDUP": settings.dedup.model_dump_json(),
        "KHABAR_PIPELINE": json.dumps(settings.pipeline),
    }
    for name, value in settings.topics.model_dump().items():
        env[f"KHABAR_TOPICS__{name.upper()}"] = value
    return env


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"


@dataclass
class Stack:
    """Topics of one test plus the workers serving them."""

    settings: Settings
    tmp: Path
    workers: list[Worker] = field(default_factory=list)

    def create_topics(self) -> None:
        assert self.settings.broker_url
        asyncio.run(create_topics(self.settings.broker_url, topic_specs(self.settings)))

    def start_worker(self, wait: bool = True) -> Worker:
        port = free_port()
        log = self.tmp / f"worker-{len(self.workers)}-{port}.log"
        data_dir = self.settings.data_dir / f"w{len(self.workers)}-{port}"
        env = settings_env(self.settings) | {"KHABAR_WEB_PORT": str(port), "KHABAR_DATA_DIR": str(data_dir),
                                             "PYTHONUNBUFFERED": "1"}
        proc = spawn_worker(env, log_path=log)
        worker = Worker(proc, port, log)
        self.workers.append(worker)
        if wait:
            wait_for_metrics(worker.metrics_url, proc, timeout=90)
        return worker

    def produce(self, records: Sequence[tuple[str | None, bytes]], rate: float | None = None) -> int:
        assert self.settings.broker_url
        return asyncio.run(produce(self.settings.broker_url, self.settings.topics.raw, records, rate=rate))

    def collect(self, done: Callable[[Collected], bool], timeout: float = 180.0,
                topics: Sequence[str] | None = None) -> Collected:
        assert self.settings.broker_url
        t = self.settings.topics
        return asyncio.run(collect(self.settings.broker_url,
                                   topics or [t.enriched, t.duplicates, t.deadletter, t.events], done, timeout))

    def stop(self) -> None:
        for w in self.workers:
            stop_process(w.proc)

    def logs(self) -> str:
        return "\n".join(f"--- {w.log}\n{w.log.read_text(errors='replace')[-3000:]}" for w in self.workers
                         if w.log.exists())


def accounted_ids(c: Collected, settings: Settings) -> set[str]:
    """Ids seen as enriched, duplicate or dead letter."""
    t = settings.topics
    return c.ids(t.enriched) | c.ids(t.duplicates) | c.ids(t.deadletter, key="article_id")

