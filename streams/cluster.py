"""Several real khabar workers on one broker: the harness of the end-to-end tests and of
``khabar bench``.

A :class:`Stack` is one set of topics (its own app id and topic names, from
:func:`unique_settings`) and the worker processes serving it, so stacks sharing
one broker never see each other's records.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka.partitioner import murmur2

from khabar.config import Settings, TopicNames
from streams.broker import free_port
from streams.replay import Collected, CollectTimeoutError, collect, produce
from streams.topics import create_topics, topic_specs
from streams.worker import spawn_worker, stop_process, wait_for_metrics

_SUMMARY_METRICS = ("khabar_articles_in_total", "khabar_records_out_total", "khabar_dedup_pending_articles",
                    "khabar_assigned_partitions", "khabar_broker_up", "khabar_topic_layout_ok",
                    "khabar_deadletters_total")
_ALARM = re.compile(r'"level": ?"(warning|error|critical)"|\b(WARNING|ERROR|CRITICAL|Traceback)\b')
_ASSIGNED = re.compile(r'^khabar_assigned_partitions\{topic="([^"]+)"\}\s+([0-9.eE+-]+)$', re.MULTILINE)


def unique_settings(broker_url: str, tmp: Path, partitions: int = 4, **overrides: object) -> Settings:
    """Settings with an app id and topic names no other stack uses.

    Args:
        broker_url: ``kafka://host:port`` of the broker.
        tmp: Directory for the workers' data directories.
        partitions: Partitions of the keyed topics.
        **overrides: Any other :class:`Settings` field.
    """
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
        # warn unless this process was started with KHABAR_LOG_LEVEL (e.g. info, to keep the
        # rebalance traces of test workers: issue 8)
        "KHABAR_LOG_LEVEL": os.environ.get("KHABAR_LOG_LEVEL", "warn"),
        "KHABAR_DEDUP": settings.dedup.model_dump_json(),
        "KHABAR_LIMITS": settings.limits.model_dump_json(),
        "KHABAR_PIPELINE": json.dumps(settings.pipeline),
        "KHABAR_STORE": settings.store,
        "KHABAR_PRODUCER_LINGER_MS": str(settings.producer_linger_ms),
    }
    if settings.recovery_consistency_check is not None:
        env["KHABAR_RECOVERY_CONSISTENCY_CHECK"] = str(settings.recovery_consistency_check).lower()
    for name, value in settings.topics.model_dump().items():
        env[f"KHABAR_TOPICS__{name.upper()}"] = value
    return env


def output_id_fields(settings: Settings) -> dict[str, str]:
    """Output topic → the field naming the input article a record accounts for.

    Every input article ends up as exactly one of these records (enriched,
    duplicate or dead letter); events are extra records and are not listed.
    """
    t = settings.topics
    return {t.enriched: "id", t.duplicates: "id", t.deadletter: "article_id"}


def accounted_ids(c: Collected, settings: Settings) -> set[str]:
    """Ids seen as enriched, duplicate or dead letter."""
    found: set[str] = set()
    for topic, key in output_id_fields(settings).items():
        found |= c.ids(topic, key=key)
    return found


def describe_missing(c: Collected, settings: Settings, inputs: Iterable[str], limit: int = 20) -> str:
    """Which inputs have no outcome yet, with the raw partition each was produced to (the
    producer's default partitioner: murmur2 of the key), for failure messages."""
    missing = sorted(set(inputs) - accounted_ids(c, settings))
    by_partition: dict[int, int] = {}
    for key in missing:
        p = (murmur2(key.encode()) & 0x7FFFFFFF) % settings.partitions
        by_partition[p] = by_partition.get(p, 0) + 1
    return f"{len(missing)} ids without an outcome, by raw partition {dict(sorted(by_partition.items()))}: {missing[:limit]}"


def rss_mb(pid: int) -> float:
    """Resident memory of a process (``VmRSS``), in MB; 0.0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used (``/proc/PID/stat``); 0.0 once it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            # the command name may hold spaces: fields are counted after its closing parenthesis
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Worker:
    """One ``khabar worker`` child process."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def rss_mb(self) -> float:
        """Its resident memory now, in MB."""
        return rss_mb(self.proc.pid)

    def cpu_seconds(self) -> float:
        """CPU seconds it has used so far."""
        return cpu_seconds(self.proc.pid)

    def summary(self, tail: int = 2500) -> str:
        """Alive or exit code, key counters from ``/metrics``, its warning and error lines
        (last 15), then the last ``tail`` characters of its log."""
        state = "alive" if self.proc.poll() is None else f"exited {self.proc.returncode}"
        try:
            text = httpx.get(self.metrics_url, timeout=2.0).text
            counters = " ".join(line for line in text.splitlines()
                                if line.startswith(_SUMMARY_METRICS) and not line.startswith("#"))
        except httpx.HTTPError as exc:
            counters = f"(no /metrics: {exc.__class__.__name__})"
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        # dead letters are the expected kind of warning; the rest say what went wrong
        alarms = [ln[:300] for ln in lines if _ALARM.search(ln) and '"dead_letter"' not in ln][-15:]
        return "\n".join([f"--- worker :{self.port} pid {self.proc.pid} {state}, log {self.log}",
                          f"metrics: {counters}", "warnings/errors:", *alarms,
                          "tail:", "\n".join(lines)[-tail:]])

    def assigned(self) -> dict[str, int]:
        """Partitions assigned to it, by topic, from its ``khabar_assigned_partitions`` gauge.

        Raises:
            httpx.HTTPError: The worker does not answer.
        """
        text = httpx.get(self.metrics_url, timeout=2.0).text
        return {topic: int(float(value)) for topic, value in _ASSIGNED.findall(text)}


@dataclass
class Stack:
    """The topics of one app id plus the workers serving them."""

    settings: Settings
    tmp: Path
    workers: list[Worker] = field(default_factory=list)

    def create_topics(self) -> None:
        """Create this stack's topics with their partition counts."""
        assert self.settings.broker_url
        asyncio.run(create_topics(self.settings.broker_url, topic_specs(self.settings)))

    def start_worker(self, wait: bool = True) -> Worker:
        """Start one more worker; with ``wait``, return once it serves its metrics.

        Raises:
            WorkerError: The worker died or did not answer within 90 s.
        """
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

    def start_workers(self, n: int) -> list[Worker]:
        """Start ``n`` more workers at once (their start-ups overlap); return once all serve metrics.

        Raises:
            WorkerError: A worker died or did not answer within 90 s.
        """
        workers = [self.start_worker(wait=False) for _ in range(n)]
        for w in workers:
            wait_for_metrics(w.metrics_url, w.proc, timeout=90)
        return workers

    def produce(self, records: Sequence[tuple[str | None, bytes]], rate: float | None = None) -> int:
        """Send ``records`` to the raw topic (at most ``rate`` per second); returns how many."""
        assert self.settings.broker_url
        return asyncio.run(produce(self.settings.broker_url, self.settings.topics.raw, records, rate=rate,
                                   linger_ms=self.settings.producer_linger_ms))

    def collect(self, done: Callable[[Collected], bool], timeout: float = 180.0,
                topics: Sequence[str] | None = None) -> Collected:
        """Read the output topics from the beginning until ``done`` says so.

        Raises:
            TimeoutError: ``done`` was still false after ``timeout`` seconds.
        """
        assert self.settings.broker_url
        t = self.settings.topics
        return asyncio.run(collect(self.settings.broker_url,
                                   topics or [t.enriched, t.duplicates, t.deadletter, t.events], done, timeout))

    def collect_accounted(self, ids: Iterable[str], timeout: float = 180.0,
                          topics: Sequence[str] | None = None) -> Collected:
        """:meth:`collect` until every id in ``ids`` has an outcome (enriched, duplicate or
        dead letter).

        Raises:
            CollectTimeoutError: Some had none after ``timeout`` seconds; the message names
                them, with their raw partitions, and ends with :meth:`logs`.
        """
        wanted = set(ids)
        try:
            return self.collect(lambda c: wanted <= accounted_ids(c, self.settings), timeout, topics)
        except CollectTimeoutError as exc:
            missing = describe_missing(exc.collected, self.settings, wanted)
            raise CollectTimeoutError(f"{exc}\n{missing}\n{self.logs()}", exc.collected) from exc

    def stop(self) -> None:
        """Stop every worker (SIGTERM, then SIGKILL)."""
        for w in self.workers:
            stop_process(w.proc)

    def logs(self) -> str:
        """What each worker was doing, for failure messages: a summary first (CI shows only
        the start of a long failure), then the tail of its log."""
        return "\n".join(w.summary() for w in self.workers)
