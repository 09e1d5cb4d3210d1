"""``khabar top``: a live terminal view of one worker's /metrics.

Scrapes the worker's Prometheus endpoint every ``interval`` seconds and shows the
figures of the Grafana dashboard: rates are computed between two consecutive scrapes,
latency quantiles from the histogram buckets observed in between (like PromQL's
``histogram_quantile`` over ``rate``), and counts since the worker started.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

#: One scrape: ``(sample name, sorted label pairs) -> value``.
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

QUANTILES = (0.5, 0.95, 0.99)


def parse_metrics(text: str) -> Samples:
    """Parse a Prometheus text exposition into flat samples.

    Args:
        text: the body of a /metrics answer.

    Returns:
        Every sample keyed by its name and sorted labels.
    """
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return samples


def scrape(url: str, client: httpx.Client | None = None, timeout: float = 5.0) -> Samples:
    """GET ``url`` (a /metrics endpoint) and parse it.

    Raises:
        httpx.HTTPError: when the worker does not answer or answers with an error status.
    """
    response = (client.get(url, timeout=timeout) if client
                else httpx.get(url, timeout=timeout))
    response.raise_for_status()
    return parse_metrics(response.text)


def _by(samples: Samples, name: str, label: str | None = None) -> dict[str, float]:
    """Sum the samples called ``name`` by one label (all into ``""`` when label is None)."""
    out: dict[str, float] = defaultdict(float)
    for (sample_name, labels), value in samples.items():
        if sample_name == name:
            out[dict(labels).get(label, "") if label else ""] += value
    return dict(out)


def _delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Counter increase per key; a counter that went down was reset and counts from zero."""
    return {k: v - before.get(k, 0.0) if v >= before.get(k, 0.0) else v for k, v in after.items()}


def _rates(before: Samples, after: Samples, name: str, label: str | None,
           seconds: float) -> dict[str, float]:
    """Per-second increase of counter ``name`` by ``label`` between two scrapes."""
    increase = _delta(_by(before, name, label), _by(after, name, label))
    return {k: v / seconds for k, v in increase.items()} if seconds > 0 else {}


def bucket_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Quantile ``q`` of a cumulative histogram, interpolated like ``histogram_quantile``.

    Args:
        q: the quantile, between 0 and 1.
        buckets: cumulative count per upper bound (``inf`` included).

    Returns:
        The estimate, or None when the histogram holds no observation.
    """
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


@dataclass(frozen=True)
class Quantiles:
    """p50/p95/p99 of one histogram (seconds) and how many observations they cover.

    ``window`` is True when they come from the observations between the two scrapes and
    False when there were none and the cumulative histogram since start was used.
    """

    p50: float | None
    p95: float | None
    p99: float | None
    count: float
    window: bool


def _histograms(samples: Samples, name: str, label: str | None) -> dict[str, dict[float, float]]:
    """Cumulative bucket counts of histogram ``name`` summed by ``label``."""
    out: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for (sample_name, labels), value in samples.items():
        if sample_name == f"{name}_bucket":
            d = dict(labels)
            out[d.get(label, "") if label else ""][float(d["le"])] += value
    return {k: dict(v) for k, v in out.items()}


def _quantiles(before: Samples, after: Samples, name: str,
               label: str | None) -> dict[str, Quantiles]:
    """Quantiles of the observations between two scrapes, by ``label``."""
    old, new = _histograms(before, name, label), _histograms(after, name, label)
    out: dict[str, Quantiles] = {}
    for key, cumulative in new.items():
        window = {le: c - old.get(key, {}).get(le, 0.0) for le, c in cumulative.items()}
        fresh = bool(window) and max(window.values()) > 0 and min(window.values()) >= 0
        buckets = window if fresh else cumulative
        p50, p95, p99 = (bucket_quantile(q, buckets) for q in QUANTILES)
        out[key] = Quantiles(p50, p95, p99, buckets.get(float("inf"), 0.0), fresh)
    return out


@dataclass(frozen=True)
class TopSummary:
    """The figures of one ``khabar top`` frame. Rates are per second over ``seconds``."""

    seconds: float
    articles_in_per_s: float
    records_out_per_s: dict[str, float]
    unique_total: float
    duplicates_total: dict[str, float]
    duplicate_ratio: float | None
    duplicates_per_s: float
    events_total: dict[str, float]
    events_per_s: float
    deadletters_total: dict[str, float]
    deadletters_per_s: float
    languages_total: dict[str, float]
    end_to_end: Quantiles | None
    stages: dict[str, Quantiles]
    lag_by_topic: dict[str, float]
    state_entries: dict[str, float]
    state_bytes: dict[str, float]
    dedup_pending: float
    faust_messages_per_s: float
    worker: dict[str, str] = field(default_factory=dict)


def _worker_info(samples: Samples) -> dict[str, str]:
    for (name, labels), _ in samples.items():
        if name == "khabar_worker_info":
            return dict(labels)
    return {}


def summarize(before: Samples, after: Samples, seconds: float) -> TopSummary:
    """Compute one frame from two scrapes taken ``seconds`` apart.

    Args:
        before: the earlier scrape.
        after: the later scrape.
        seconds: time between them; rates are 0 when it is not positive.

    Returns:
        Rates between the scrapes, totals as of ``after``, latency quantiles.
    """
    dup_total = _by(after, "khabar_duplicates_total", "kind")
    unique = sum(_by(after, "khabar_unique_articles_total").values())
    judged = unique + sum(dup_total.values())

    def rate(name: str) -> float:
        return sum(_rates(before, after, name, None, seconds).values())

    e2e = _quantiles(before, after, "khabar_end_to_end_latency_seconds", None)
    return TopSummary(
        seconds=seconds,
        articles_in_per_s=rate("khabar_articles_in_total"),
        records_out_per_s=_rates(before, after, "khabar_records_out_total", "topic", seconds),
        unique_total=unique,
        duplicates_total=dup_total,
        duplicate_ratio=sum(dup_total.values()) / judged if judged else None,
        duplicates_per_s=rate("khabar_duplicates_total"),
        events_total=_by(after, "khabar_events_total", "type"),
        events_per_s=rate("khabar_events_total"),
        deadletters_total=_by(after, "khabar_deadletters_total", "reason"),
        deadletters_per_s=rate("khabar_deadletters_total"),
        languages_total=_by(after, "khabar_languages_total", "code"),
        end_to_end=e2e.get(""),
        stages=_quantiles(before, after, "khabar_stage_seconds", "stage"),
        lag_by_topic=_by(after, "khabar_consumer_lag_messages", "topic"),
        state_entries=_by(after, "khabar_state_entries", "store"),
        state_bytes=_by(after, "khabar_state_bytes", "store"),
        dedup_pending=sum(_by(after, "khabar_dedup_pending_articles").values()),
        faust_messages_per_s=rate("faust_messages_received_total"),
        worker=_worker_info(after),
    )


# ---------------------------------------------------------------------------- rendering

def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f} s" if value >= 1 else f"{value * 1000:,.1f} ms"


def _table(title: str, columns: Iterable[str]) -> Table:
    table = Table(title=title, title_justify="left", expand=True, pad_edge=False)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def _latency_table(summary: TopSummary) -> Table:
    table = _table("Latency", ["", "p50", "p95", "p99", "n"])
    rows: list[tuple[str, Quantiles | None]] = [("end-to-end", summary.end_to_end),
                                                *sorted(summary.stages.items())]
    for name, q in rows:
        if q is not None and q.count > 0:
            label = name if q.window else f"{name}*"
            table.add_row(label, _ms(q.p50), _ms(q.p95), _ms(q.p99), f"{q.count:,.0f}")
    table.caption = "* none in the window: since start"
    table.caption_justify = "left"
    return table


def _counts_table(title: str, values: Mapping[str, float], limit: int = 8) -> Table:
    table = _table(title, ["", "count"])
    nonzero = sorted(((v, k) for k, v in values.items() if v), reverse=True)[:limit]
    for value, key in nonzero:
        table.add_row(key, f"{value:,.0f}")
    if not nonzero:
        table.add_row("(none)", "0")
    return table


def _flow_table(summary: TopSummary) -> Table:
    table = _table("Throughput", ["", "per s"])
    table.add_row("articles in", f"{summary.articles_in_per_s:,.2f}")
    table.add_row("faust messages in", f"{summary.faust_messages_per_s:,.2f}")
    for topic, value in sorted(summary.records_out_per_s.items()):
        if ".internal." not in topic:  # hops between khabar's own agents, not output
            table.add_row(f"out {topic}", f"{value:,.2f}")
    table.add_row("duplicates", f"{summary.duplicates_per_s:,.2f}")
    table.add_row("events", f"{summary.events_per_s:,.2f}")
    table.add_row("dead letters", f"{summary.deadletters_per_s:,.2f}")
    return table


def _state_table(summary: TopSummary) -> Table:
    table = _table("Lag and state", ["", "value"])
    for topic, lag in sorted(summary.lag_by_topic.items()):
        table.add_row(f"lag {topic}", f"{lag:,.0f}")
    for store, entries in sorted(summary.state_entries.items()):
        size = summary.state_bytes.get(store, 0.0)
        table.add_row(store, f"{entries:,.0f} entries, {size / 1e6:,.1f} MB")
    table.add_row("dedup pending", f"{summary.dedup_pending:,.0f}")
    ratio = summary.duplicate_ratio
    table.add_row("duplicate ratio", "—" if ratio is None else f"{ratio:.1%}")
    table.add_row("unique", f"{summary.unique_total:,.0f}")
    return table


def render(summary: TopSummary, url: str) -> RenderableType:
    """The frame for one summary: a header line and a grid of small tables."""
    info = " ".join(f"{k}={v}" for k, v in sorted(summary.worker.items()))
    header = Text.assemble(("khabar top ", "bold"), url, f"  every {summary.seconds:.1f} s  ",
                           (info, "dim"))
    top = Table.grid(expand=True, padding=(0, 2))
    for _ in range(3):
        top.add_column(ratio=1)
    top.add_row(_flow_table(summary), _latency_table(summary), _state_table(summary))
    bottom = Table.grid(expand=True, padding=(0, 2))
    for _ in range(4):
        bottom.add_column(ratio=1)
    bottom.add_row(_counts_table("Events by type", summary.events_total),
                   _counts_table("Dead letters by reason", summary.deadletters_total),
                   _counts_table("Languages", summary.languages_total),
                   _counts_table("Duplicates by kind", summary.duplicates_total))
    return Group(header, top, bottom)


def run_top(url: str, interval: float = 2.0, once: bool = False,
            console: Console | None = None) -> int:
    """Show a live view of the worker whose /metrics is at ``url`` until Ctrl-C.

    Args:
        url: the worker's metrics endpoint, e.g. ``http://127.0.0.1:6066/metrics``.
        interval: seconds between scrapes.
        once: print one frame after two scrapes and return (for tests and scripts).
        console: where to draw; a new :class:`rich.console.Console` when None.

    Returns:
        0 on a normal exit, 1 when the worker could not be scraped at start.
    """
    console = console or Console()
    with httpx.Client() as client:
        try:
            before, at = scrape(url, client), time.monotonic()
        except httpx.HTTPError as exc:
            console.print(f"[red]cannot scrape {url}: {exc}[/red]")
            return 1
        if once:
            time.sleep(interval)
            after, now = scrape(url, client), time.monotonic()
            console.print(render(summarize(before, after, now - at), url))
            return 0
        return _live(url, interval, client, console, before, at)


def _live(url: str, interval: float, client: httpx.Client, console: Console,
          before: Samples, at: float) -> int:
    """The refresh loop of :func:`run_top`; a failed scrape shows and is retried."""
    with Live(Text("waiting for the second scrape…"), console=console,
              refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                try:
                    after, now = scrape(url, client), time.monotonic()
                except httpx.HTTPError as exc:
                    live.update(Text(f"cannot scrape {url}: {exc}", style="red"))
                    continue
                live.update(render(summarize(before, after, now - at), url))
                before, at = after, now
        except KeyboardInterrupt:
            return 0
