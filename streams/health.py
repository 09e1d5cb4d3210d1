"""The worker's view of its brokers: outages, reconnection, and the topic layout.

aiokafka and Faust ride out a broker outage by themselves (they reconnect, rejoin the
group and go on), but they say so only in a flood of connection errors. The watch
below turns that into one structured log line per transition, metrics
(``khabar_broker_up``, ``khabar_broker_outages_total``,
``khabar_broker_last_outage_seconds``, ``khabar_topic_layout_ok``) and, after an
outage, a check of the topics:

* On Apache Kafka the topics survive; the check only confirms partition counts.
* The embedded Tansu broker (memory storage) comes back **empty**. The watch recreates
  the missing topics at once, single-partition ones first, because Tansu auto-creates
  an unknown topic with 4 partitions the moment any client asks for its metadata, and
  a 4-partition ``khabar.internal.dedup`` would break the total order of dedup. If a
  client wins that race anyway, the check fails loudly (``topic_layout_broken``,
  ``khabar_topic_layout_ok 0``); recover by restarting the broker and the workers.

Then the worker restarts itself in place (``Settings.restart_after_outage``, on by default):
after every broker was gone, the Kafka client's group state (member id, generation, fetch
positions, Faust's read offsets) no longer matches the broker's, and aiokafka and Faust do
not always recover it. With Tansu, whose generations restart at 0 with its memory, we
reproduced under load second-pass copies not flagged (as if two indexes had decided, or the
originals came late), raw records nobody consumed, and "synced ... generation -1" in the
logs; CI once saw no output at all for 180 s (the symptom of faust-streaming/faust#523). A fresh process joins
like any new worker: at-least-once, as after SIGKILL, which the failover tests cover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import structlog

from khabar.config import Settings
from streams.errors import TopicSetupError
from streams.metrics import Metrics
from streams.topics import create_topics, topic_specs

log = structlog.get_logger("khabar.health")

#: aiokafka logs every failed reconnect at ERROR, tens of lines a second during an outage.
NOISY_LOGGERS = ("aiokafka",)


def bootstrap_addresses(broker_url: str) -> list[tuple[str, int]]:
    """``kafka://a:9092;kafka://b:9093`` → ``[("a", 9092), ("b", 9093)]``."""
    out: list[tuple[str, int]] = []
    for part in broker_url.split(";"):
        host, _, port = part.removeprefix("kafka://").rpartition(":")
        out.append((host.strip("[]"), int(port)))
    return out


async def any_broker_reachable(addresses: list[tuple[str, int]], timeout: float = 1.0) -> bool:
    """True when at least one bootstrap address accepts a TCP connection within ``timeout``."""
    for host, port in addresses:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


class RepeatFilter(logging.Filter):
    """Lets the first of each repeated message of the noisy loggers through per ``window`` seconds.

    The suppressed count is appended to the next message that gets through, so nothing
    is hidden, only folded.
    """

    def __init__(self, prefixes: tuple[str, ...] = NOISY_LOGGERS, window: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.window = window
        self.clock = clock
        self._last: dict[tuple[str, object], float] = {}
        self._suppressed: dict[tuple[str, object], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, record.msg)
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.window:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        folded = self._suppressed.pop(key, 0)
        if folded:
            record.msg = f"{record.msg} [{folded} repeats in the last {self.window:.0f}s folded]"
        return True


def fold_repeated_client_errors(window: float = 30.0) -> RepeatFilter:
    """Install a :class:`RepeatFilter` on the root handlers (where aiokafka's records end up)."""
    flt = RepeatFilter(window=window)
    for handler in logging.getLogger().handlers:
        handler.addFilter(flt)
    return flt


class BrokerWatch:
    """Probes the bootstrap brokers, reports outages, and repairs the topics after one.

    Args:
        settings: The worker's settings (broker URL, topics, security).
        metrics: Where ``khabar_broker_*`` and ``khabar_topic_layout_ok`` go.
        interval: Seconds between probes while the brokers answer.
        down_interval: Seconds between probes during an outage (short: the topics must be
            recreated before other clients make Tansu invent them).
        on_reconnected: Awaited with the outage's length once the brokers answer again and
            the topics are checked (the worker restarts itself there; see the module doc).
    """

    def __init__(self, settings: Settings, metrics: Metrics, interval: float = 1.0,
                 down_interval: float = 0.05,
                 on_reconnected: Callable[[float], Awaitable[None]] | None = None) -> None:
        assert settings.broker_url, "the watch needs settings.broker_url"
        self.settings = settings
        self.metrics = metrics
        self.interval = interval
        self.down_interval = down_interval
        self.addresses = bootstrap_addresses(settings.broker_url)
        self.down_since: float | None = None
        self.outages = 0
        self.on_reconnected = on_reconnected

    async def _create_topics(self, create_missing: bool) -> list[str]:
        assert self.settings.broker_url
        return await create_topics(self.settings.broker_url, topic_specs(self.settings),
                                   self.settings.replication_factor, timeout=10.0,
                                   security=self.settings.kafka, create_missing=create_missing)

    async def check_layout(self, after_outage: bool) -> bool:
        """Check (and after an outage, recreate) the topics; sets ``khabar_topic_layout_ok``."""
        try:
            created = await self._create_topics(after_outage)
        except TopicSetupError as exc:
            self.metrics.topic_layout_ok.set(0)
            log.error("topic_layout_broken", error=str(exc), after_outage=after_outage,
                      hint="on the embedded broker: restart it and the workers; elsewhere: khabar topics create")
            return False
        self.metrics.topic_layout_ok.set(1)
        if created:
            log.warning("topics_recreated", topics=created,
                        reason="the broker came back without them (memory storage loses everything)")
        return True

    async def step(self) -> bool:
        """One probe; handles a transition. Returns whether the brokers answered."""
        up = await any_broker_reachable(self.addresses)
        now = time.monotonic()
        if not up and self.down_since is None:
            self.down_since = now
            self.outages += 1
            self.metrics.broker_up.set(0)
            self.metrics.broker_outages.inc()
            log.warning("broker_unreachable", brokers=self.settings.broker_url, outage=self.outages)
        elif up and self.down_since is not None:
            # topics first: every millisecond counts against Tansu's auto-creation
            layout_ok = await self.check_layout(after_outage=True)
            down = now - self.down_since
            self.down_since = None
            self.metrics.broker_up.set(1)
            self.metrics.broker_last_outage.set(down)
            log.warning("broker_reconnected", brokers=self.settings.broker_url, down_seconds=round(down, 1),
                        outage=self.outages, topic_layout_ok=layout_ok)
            if self.on_reconnected is not None:
                await self.on_reconnected(down)
        return up

    async def run(self) -> None:
        """Probe forever (a Faust app task)."""
        up = await any_broker_reachable(self.addresses)
        self.metrics.broker_up.set(1 if up else 0)
        if up:
            await self.check_layout(after_outage=False)
        else:
            self.down_since = time.monotonic()
        while True:
            await asyncio.sleep(self.interval if self.down_since is None else self.down_interval)
            await self.step()
