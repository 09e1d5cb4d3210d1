"""Output records with their broker timestamps, and the rates and latencies they give.

Throughput is measured from the timestamps the producers put on the output
records (the time each was sent), not from when this process reads them, so
reading late or slowly changes nothing. Keys are enough to know which input an
output accounts for; values are only decoded afterwards, for latency.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from streams.bench import BenchError
from streams.cluster import rss_mb
from streams.replay import start_reader


@dataclass(frozen=True)
class Timed:
    """One output record as read back."""

    topic: str
    key: str | None
    timestamp_ms: int
    value: bytes


async def read_timed(broker_url: str, topics: Sequence[str], done: Callable[[list[Timed]], bool],
                     timeout: float, alive: Callable[[], bool] = lambda: True) -> list[Timed]:
    """Read ``topics`` from the beginning (no consumer group) until ``done`` is true.

    Args:
        done: Called after each fetch with everything read so far.
        timeout: Seconds to give up after.
        alive: False when the processes producing the output died (stop early).

    Raises:
        BenchError: Timed out, or ``alive`` turned false, before ``done``.
    """
    consumer = await start_reader(broker_url, topics, max_partition_fetch_bytes=4 << 20)
    out: list[Timed] = []
    try:
        deadline = time.monotonic() + timeout
        while not done(out):
            if time.monotonic() > deadline:
                raise BenchError(f"output incomplete after {timeout:.0f}s: {len(out)} records read")
            if not alive():
                raise BenchError(f"a worker died; {len(out)} output records read")
            batch = await consumer.getmany(timeout_ms=300, max_records=5000)
            for tp, messages in batch.items():
                out.extend(Timed(tp.topic, m.key.decode() if m.key else None, m.timestamp, m.value or b"")
                           for m in messages)
    finally:
        await consumer.stop()
    return out


def keys_cover(expected: set[str], topics: set[str]) -> Callable[[list[Timed]], bool]:
    """A ``done`` for :func:`read_timed`: every expected key seen on one of ``topics``.

    Incremental, so polling it after every fetch stays linear in the records read.
    """
    seen: set[str] = set()
    upto = 0

    def done(records: list[Timed]) -> bool:
        nonlocal upto
        for r in records[upto:]:
            if r.topic in topics and r.key is not None:
                seen.add(r.key)
        upto = len(records)
        return expected <= seen

    return done


def steady_rate(timestamps_ms: Sequence[int], trim: float = 0.05) -> float:
    """Records per second between the ``trim`` and ``1 - trim`` quantiles of their times.

    Trimming leaves out the pipeline filling at the start and the tail at the end
    (the dedup sequencer holds the last articles for its idle grace period), which
    belong to a finite run, not to the steady state. 0.0 with under 3 records.
    """
    ts = sorted(timestamps_ms)
    if len(ts) < 3:
        return 0.0
    lo = math.floor(trim * (len(ts) - 1))
    hi = math.ceil((1 - trim) * (len(ts) - 1))
    span = (ts[hi] - ts[lo]) / 1000
    # one millisecond is the timestamps' resolution: a shorter span says "too fast to tell"
    return (hi - lo) / max(span, 0.001)


def served_rate(timestamps_ms: Sequence[int], start_ms: int, share: float = 0.95) -> float:
    """Records per second from ``start_ms`` until ``share`` of them are out.

    Counts from the first input, so filling the pipeline counts against the rate, and
    stops before the last ``1 - share``: what a finite run's end holds back (the dedup
    sequencer keeps the last articles for its idle grace period, 10 s by default), not
    what the stream sustains. Unlike :func:`steady_rate` it is not fooled by records
    released in bursts (the sequencer writes its outputs as its watermark jumps).
    0.0 without records.
    """
    ts = sorted(timestamps_ms)
    if not ts:
        return 0.0
    k = math.ceil(share * (len(ts) - 1))
    return (k + 1) / max((ts[k] - start_ms) / 1000, 0.001)


def span_rate(n: int, start_ms: int, end_ms: int) -> float:
    """``n`` records over the whole span from ``start_ms`` to ``end_ms``."""
    return n / max((end_ms - start_ms) / 1000, 0.001)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max (nearest rank), and how many were measured."""
    from khabar.bench import percentile

    if not latencies_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "n": 0}
    return {"p50": percentile(latencies_ms, 0.5), "p95": percentile(latencies_ms, 0.95),
            "p99": percentile(latencies_ms, 0.99), "max": max(latencies_ms), "n": len(latencies_ms)}


@dataclass
class RssSampler:
    """Samples the resident memory of some processes in a thread; keeps each one's maximum.

    Use as a context manager around the part of the run to cover.
    """

    pids: list[int]
    interval: float = 0.25
    peak_mb: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        for pid in self.pids:
            self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), rss_mb(pid))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

