"""A PNG picture of khabar's dashboard, drawn from Prometheus' HTTP API.

Grafana cannot run everywhere (CI, a laptop without Docker); this draws the main panels
of ``deploy/grafana/dashboards/khabar.json`` with matplotlib's Agg canvas from the same
PromQL, queried with ``/api/v1/query_range`` and ``/api/v1/query``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: Records to internal topics (``*.internal.*``) are not output: left out like in Grafana.
_OUT = 'topic!~".*[.]internal[.].*"'
_BG, _PANEL, _FG, _GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
_PALETTE = ("#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff",
            "#ffb357", "#96d98d", "#ca95e5")


@dataclass(frozen=True)
class Series:
    """One labelled time series of a range query."""

    label: str
    times: list[datetime]
    values: list[float]


class PrometheusQueryError(RuntimeError):
    """Prometheus answered a query with an error."""


def _get(client: httpx.Client, url: str, params: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get(url, params=params, timeout=30).json()
    if answer.get("status") != "success":
        raise PrometheusQueryError(f"{params.get('query')!r}: {answer.get('error', answer)}")
    return list(answer["data"]["result"])


def _label(metric: dict[str, str], legend: str) -> str:
    """Fill a Grafana-style legend (``"out: {{topic}}"``) from a series' labels."""
    for key, value in metric.items():
        legend = legend.replace("{{" + key + "}}", value)
    return legend


def query_range(client: httpx.Client, base: str, expr: str, legend: str, start: float,
                end: float, step: float) -> list[Series]:
    """Run one range query and return its series, labelled with ``legend``."""
    params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:.3f}"}
    out = []
    for item in _get(client, f"{base}/api/v1/query_range", params):
        metric = dict(item["metric"])
        points = list(item["values"])
        out.append(Series(_label(metric, legend),
                          [datetime.fromtimestamp(float(t)) for t, _ in points],
                          [float(v) for _, v in points]))
    return out


def query_vector(client: httpx.Client, base: str, expr: str, label: str,
                 at: float) -> dict[str, float]:
    """Run one instant query and return ``{value of label: value}``."""
    params = {"query": expr, "time": f"{at:.3f}"}
    out = {}
    for item in _get(client, f"{base}/api/v1/query", params):
        metric = dict(item["metric"])
        out[metric.get(label, "")] = float(item["value"][1])
    return out


def _style(ax: Axes, title: str, unit: str = "") -> None:
    ax.set_facecolor(_PANEL)
    ax.set_title(title + (f"  ({unit})" if unit else ""), loc="left", color=_FG, fontsize=11)
    ax.tick_params(colors=_FG, labelsize=8)
    ax.grid(color=_GRID, linewidth=0.6)
    for spine in ax.spines.values():
        spine.set_color(_GRID)


def _plot_lines(ax: Axes, series: Sequence[Series], title: str, unit: str) -> None:
    _style(ax, title, unit)
    for i, s in enumerate(series):
        ax.plot(date2num(s.times), s.values, label=s.label, color=_PALETTE[i % len(_PALETTE)], linewidth=1.4)
    if series:
        ax.legend(fontsize=7, facecolor=_PANEL, edgecolor=_GRID, labelcolor=_FG, loc="upper left")
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M:%S"))
    else:
        _no_data(ax)


def _plot_bars(ax: Axes, values: dict[str, float], title: str) -> None:
    _style(ax, title)
    items = sorted(((v, k) for k, v in values.items() if v > 0 and math.isfinite(v)))[-12:]
    if not items:
        _no_data(ax)
        return
    ax.barh([k for _, k in items], [v for v, _ in items], color=_PALETTE[2])
    for y, (v, _) in enumerate(items):
        ax.text(v, y, f" {v:,.0f}", va="center", color=_FG, fontsize=8)
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color=_FG)


def _quantile(q: float, metric: str, by: str, window: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket[{window}])))"


def _stats(client: httpx.Client, base: str, at: float) -> list[tuple[str, str]]:
    """The stat row: figures since the workers started, as of ``at``."""
    def one(expr: str) -> float | None:
        values = query_vector(client, base, expr, "", at)
        return next(iter(values.values()), None)

    def fmt(value: float | None, pattern: str) -> str:
        return "—" if value is None or not math.isfinite(value) else pattern.format(value)

    return [
        ("articles in", fmt(one("sum(khabar_articles_in_total)"), "{:,.0f}")),
        ("records out", fmt(one(f"sum(khabar_records_out_total{{{_OUT}}})"), "{:,.0f}")),
        ("duplicate ratio", fmt(one("sum(khabar_duplicates_total) / clamp_min("
                                    "sum(khabar_duplicates_total) + "
                                    "sum(khabar_unique_articles_total), 1)"), "{:.1%}")),
        ("events", fmt(one("sum(khabar_events_total)"), "{:,.0f}")),
        ("dead letters", fmt(one("sum(khabar_deadletters_total)"), "{:,.0f}")),
        ("workers up", fmt(one('sum(up{job="khabar"})'), "{:.0f}")),
    ]


def render_snapshot(prometheus_url: str, out: Path, minutes: float = 15.0) -> Path:
    """Draw the dashboard's main panels over the last ``minutes`` into a PNG.

    Args:
        prometheus_url: Prometheus' base URL, e.g. ``http://127.0.0.1:9090``.
        out: the PNG to write (parent directories are created).
        minutes: the time range shown, ending now.

    Returns:
        ``out``.

    Raises:
        PrometheusQueryError: when Prometheus rejects one of the queries.
        httpx.HTTPError: when Prometheus cannot be reached.
    """
    base = prometheus_url.rstrip("/")
    end = time.time()
    start = end - minutes * 60
    step = max(1.0, minutes * 60 / 240)
    window = f"{max(4 * step, 30.0):.0f}s"
    figure = Figure(figsize=(19.2, 10.8), dpi=100, facecolor=_BG)
    grid = figure.add_gridspec(3, 4, height_ratios=(0.35, 1, 1), hspace=0.35, wspace=0.22,
                               left=0.04, right=0.99, top=0.93, bottom=0.05)
    figure.suptitle(f"khabar — last {minutes:.1f} min — {datetime.fromtimestamp(end):%Y-%m-%d %H:%M:%S}",
                    color=_FG, fontsize=14, x=0.04, ha="left")
    with httpx.Client() as client:
        def rng(expr: str, legend: str) -> list[Series]:
            return query_range(client, base, expr, legend, start, end, step)

        stats = _stats(client, base, end)
        stat_ax = figure.add_subplot(grid[0, :])
        stat_ax.set_facecolor(_PANEL)
        stat_ax.set_axis_off()
        for i, (name, value) in enumerate(stats):
            x = (i + 0.5) / len(stats)
            stat_ax.text(x, 0.62, value, ha="center", va="center", color=_PALETTE[0], fontsize=22,
                         transform=stat_ax.transAxes)
            stat_ax.text(x, 0.15, name, ha="center", va="center", color=_FG, fontsize=10,
                         transform=stat_ax.transAxes)
        _plot_lines(figure.add_subplot(grid[1, 0]),
                    rng(f"sum(rate(khabar_articles_in_total[{window}]))", "articles in")
                    + rng(f"sum by (topic) (rate(khabar_records_out_total{{{_OUT}}}[{window}]))",
                          "out: {{topic}}"), "Throughput", "per s")
        _plot_lines(figure.add_subplot(grid[1, 1]),
                    [s for q in (0.5, 0.95, 0.99) for s in
                     rng(_quantile(q, "khabar_end_to_end_latency_seconds", "le", window),
                         f"p{round(q * 100)}")], "End-to-end latency", "s")
        _plot_lines(figure.add_subplot(grid[1, 2]),
                    rng(_quantile(0.95, "khabar_stage_seconds", "le, stage", window),
                        "p95 {{stage}}"), "Stage latency p95", "s")
        _plot_lines(figure.add_subplot(grid[1, 3]),
                    rng(f"sum by (kind) (rate(khabar_duplicates_total[{window}])) / scalar("
                        f"sum(rate(khabar_duplicates_total[{window}])) + "
                        f"sum(rate(khabar_unique_articles_total[{window}])))", "{{kind}}"),
                    "Duplicate ratio by kind", "fraction")
        _plot_lines(figure.add_subplot(grid[2, 0]),
                    rng("sum by (topic) (khabar_consumer_lag_messages)", "{{topic}}"),
                    "Consumer lag", "messages")
        _plot_bars(figure.add_subplot(grid[2, 1]),
                   query_vector(client, base, "sum by (type) (khabar_events_total)", "type", end),
                   "Events by type (since start)")
        _plot_bars(figure.add_subplot(grid[2, 2]),
                   query_vector(client, base, "sum by (reason) (khabar_deadletters_total)",
                                "reason", end), "Dead letters by reason (since start)")
        _plot_bars(figure.add_subplot(grid[2, 3]),
                   query_vector(client, base, "sum by (code) (khabar_languages_total)", "code",
                                end), "Languages (since start)")
    out.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(out))
    return out
