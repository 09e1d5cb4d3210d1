"""``khabar bench``: throughput, latency and cost per stage against the broker's and Faust's
own ceilings, in one run.

* :mod:`streams.bench.timing`: reading output records with their broker timestamps, and
  rates and percentiles from them.
* :mod:`streams.bench.ceilings`: an aiokafka consume-and-produce loop and a Faust agent
  that forwards each message (:mod:`streams.bench.passthrough`), on the same broker.
* :mod:`streams.bench.e2e`: khabar workers end to end, and latency at a fixed rate.
* :mod:`streams.bench.run`: the whole run, the table and the JSON report.

The in-process stage figures come from :mod:`khabar.bench`, the dedup window from
:mod:`khabar.bench_window`.
"""

from __future__ import annotations

from streams.errors import StreamsError


class BenchError(StreamsError):
    """A benchmark run could not complete (a worker died, output never arrived)."""


__all__ = ["BenchError"]
