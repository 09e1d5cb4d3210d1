"""The whole ``khabar bench`` run: every figure of issue 9, its target, a table and a JSON report.

Parts (``--only``): ``stages`` (CPU per article in process), ``ceilings`` (aiokafka and
Faust passthrough), ``e2e`` (articles/s with 1 and N workers), ``latency`` (at a fixed
offered rate, on the 1-worker stack) and ``memory`` (a simulated full dedup window).
Worker memory is sampled whenever workers run.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from khabar.bench import STAGES, TARGETS_MS, load_articles, measure_stages, stage_notes, stage_table
from khabar.config import Settings
from schemas.models import RawArticle
from streams.bench import BenchError
from streams.bench.ceilings import aiokafka_passthrough, ceiling_topics, faust_passthrough
from streams.bench.e2e import run_end_to_end, run_latency, start_stack
from streams.bench.timing import RssSampler
from streams.broker import EmbeddedBroker
from streams.replay import produce, replay_records

PARTS = ("stages", "ceilings", "e2e", "latency", "memory")

#: The issue's targets beyond the per-stage CPU ones (khabar.bench.TARGETS_MS).
TARGETS: dict[str, float] = {
    "articles_per_s_per_worker": 600.0,
    "ratio_to_faust_ceiling": 0.3,
    "scaling_2workers": 1.7,
    "latency_p99_ms": 50.0,
    "rss_mb_per_worker": 500.0,
}


@dataclass
class BenchOptions:
    """What to run and on what."""

    corpus: Path | None = None
    limit: int = 3000
    workers: int = 2
    rate: float = 200.0
    only: frozenset[str] = frozenset(PARTS)
    window_articles: int = 700_000
    articles_per_day: int = 100_000
    #: Messages through each passthrough ceiling (default: 4 x limit, at least 2,000).
    ceiling_messages: int | None = None
    #: Seconds of offered load in the latency run (at most ``limit`` articles).
    latency_seconds: float = 10.0
    broker_url: str | None = None
    partitions: int = 4
    seeds: Path = field(default_factory=lambda: Path(__file__).resolve().parents[2] / "seeds")

    @property
    def latency_articles(self) -> int:
        return max(1, min(self.limit, int(self.rate * self.latency_seconds)))


def _window(opts: BenchOptions) -> dict[str, Any]:
    """Run :mod:`khabar.bench_window` in a fresh process; its JSON."""
    cmd = [sys.executable, "-m", "khabar.bench_window", "--window-articles", str(opts.window_articles),
           "--per-day", str(opts.articles_per_day), "--limit", str(opts.limit), "--seeds", str(opts.seeds)]
    if opts.corpus is not None:
        cmd += ["--corpus", str(opts.corpus)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"dedup window simulation failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _ceilings(broker_url: str, articles: Sequence[RawArticle], n: int, partitions: int,
              tmp: Path, event_loop: str) -> dict[str, Any]:
    loops = -(-n // len(articles))
    records: list[tuple[str | None, bytes]] = list(replay_records(articles, loops=loops, limit=n))
    source, sink = ceiling_topics(broker_url, partitions)
    asyncio.run(produce(broker_url, source, records))
    raw = asyncio.run(aiokafka_passthrough(broker_url, source, sink, len(records)))
    faust = faust_passthrough(broker_url, records, tmp, partitions, event_loop=event_loop)
    return {"aiokafka": asdict(raw), "faust": asdict(faust)}


def run_all(opts: BenchOptions, console: Console | None = None) -> dict[str, Any]:
    """Run the parts in ``opts.only``; returns the report (also printed as a table).

    Raises:
        BenchError: A part could not complete.
        ReplaySourceError: The corpus cannot be read.
    """
    console = console or Console()
    unknown = set(opts.only) - set(PARTS)
    if unknown:
        raise BenchError(f"unknown parts {sorted(unknown)}; choose from {', '.join(PARTS)}")
    need = opts.limit + (opts.latency_articles if "latency" in opts.only else 0)
    articles, source = load_articles(opts.corpus, need, opts.seeds)
    main, extra = articles[: opts.limit], articles[opts.limit :]
    if not main:
        raise BenchError(f"no articles in {source}")
    report: dict[str, Any] = {
        "corpus": source, "articles": len(main), "workers": opts.workers, "partitions": opts.partitions,
        "parts": sorted(opts.only), "targets": {**{f"stage_ms_{k}": v for k, v in TARGETS_MS.items()}, **TARGETS},
        "settings": {"faust": {"producer_max_batch_size": 262_144,
                               "producer_linger": Settings().producer_linger_ms / 1000,
                               "stream_buffer_maxsize": 16_384, "broker_max_poll_records": 2_000,
                               "broker_rebalance_timeout": 3.0},
                     # the workers' loop (they read KHABAR_EVENT_LOOP), and the passthrough's
                     "event_loop": Settings().event_loop,
                     "rate": opts.rate, "window_articles": opts.window_articles,
                     "articles_per_day": opts.articles_per_day},
    }
    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    report["part_seconds"] = seconds
    if "stages" in opts.only:
        console.print(f"[bold]stages[/bold]: CPU per article in process, {len(main)} articles")
        stages = measure_stages(main, Settings())
        console.print(stage_table(stages, source))
        for line in stage_notes(stages):
            console.print(line)
        by = stages.by_stage()
        report["stage_ms_median"] = {s: by[s].median_ms for s in STAGES}
        report["stage_ms_mean"] = {s: by[s].mean_ms for s in STAGES}
        report["stage_ms_p99"] = {s: by[s].p99_ms for s in STAGES}
        assert stages.total is not None
        report["cpu_ms_per_article_median"] = stages.total.median_ms
        report["cpu_ms_per_article_mean"] = stages.total.mean_ms
        report["cpu_ms_per_article_p99"] = stages.total.p99_ms
        report["dedup_bytes_per_article"] = stages.dedup_bytes / max(1, stages.dedup_entries)
        report["language_detector"] = stages.extra
        seconds["stages"] = time.perf_counter() - t_start
    if opts.only & {"ceilings", "e2e", "latency"}:
        _broker_parts(opts, main, extra, report, console)
    if "memory" in opts.only:
        console.print(f"[bold]memory[/bold]: dedup window of {opts.window_articles:,} articles, in a fresh process")
        t0 = time.perf_counter()
        window = _window(opts)
        seconds["memory"] = time.perf_counter() - t0
        report["dedup_window"] = window
        report["dedup_state_bytes_per_article"] = window["bytes_per_article"]
        report["window_rss_mb"] = window["rss_mb"]
    report["bench_seconds"] = time.perf_counter() - t_start
    _ratios(report, opts.workers)
    console.print(summary_table(report))
    return report


def _broker_parts(opts: BenchOptions, main: Sequence[RawArticle], extra: Sequence[RawArticle],
                  report: dict[str, Any], console: Console) -> None:
    broker: EmbeddedBroker | None = None
    broker_url = opts.broker_url or Settings().broker_url
    with tempfile.TemporaryDirectory(prefix="khabar-bench-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            if broker_url is None:
                broker = EmbeddedBroker(log_path=tmp / "tansu.log").start()
                broker_url = broker.url
                console.print(f"embedded broker: Tansu at {broker.bootstrap}")
            report["broker"] = "embedded Tansu" if broker is not None else broker_url
            rss: list[float] = []
            if "ceilings" in opts.only:
                # at least a second of Faust's ~2,000 msg/s, so the rate is more than its edges
                n = opts.ceiling_messages or max(2000, 4 * len(main))
                console.print(f"[bold]ceilings[/bold]: {n} messages through aiokafka and a Faust passthrough")
                t0 = time.perf_counter()
                c = _ceilings(broker_url, main, n, opts.partitions, tmp, report["settings"]["event_loop"])
                report["part_seconds"]["ceilings"] = time.perf_counter() - t0
                report["ceilings"] = c
                report["aiokafka_ceiling_msgs_per_s"] = c["aiokafka"]["msgs_per_s"]
                report["faust_ceiling_msgs_per_s"] = c["faust"]["msgs_per_s"]
            if opts.only & {"e2e", "latency"}:
                console.print("[bold]end to end[/bold]: 1 worker" + (", then latency" if "latency" in opts.only else ""))
                t0 = time.perf_counter()
                stack = start_stack(broker_url, tmp, 1, opts.partitions)
                report["part_seconds"]["start_1worker"] = time.perf_counter() - t0
                try:
                    with RssSampler([w.proc.pid for w in stack.workers]) as sampler:
                        if "e2e" in opts.only:
                            one = run_end_to_end(stack, main)
                            report["e2e_1worker"] = asdict(one)
                            report["articles_per_s_1worker"] = one.articles_per_s
                        if "latency" in opts.only:
                            if not extra:
                                raise BenchError("the corpus has no articles left for the latency run: lower --limit")
                            lat = run_latency(stack, extra, opts.rate)
                            report["latency_ms"] = lat.ms
                            report["latency_ms_by_hop"] = lat.by_hop
                            report["latency_offered_per_s"] = lat.offered_per_s
                            report["latency_achieved_per_s"] = lat.achieved_per_s
                    rss.extend(sampler.peak_mb.values())
                finally:
                    stack.stop()
            if "e2e" in opts.only and opts.workers > 1:
                console.print(f"[bold]end to end[/bold]: {opts.workers} workers")
                t0 = time.perf_counter()
                stack = start_stack(broker_url, tmp, opts.workers, opts.partitions)
                report["part_seconds"][f"start_{opts.workers}workers"] = time.perf_counter() - t0
                try:
                    with RssSampler([w.proc.pid for w in stack.workers]) as sampler:
                        many = run_end_to_end(stack, main)
                    rss.extend(sampler.peak_mb.values())
                finally:
                    stack.stop()
                report[f"e2e_{opts.workers}workers"] = asdict(many)
                report[f"articles_per_s_{opts.workers}workers"] = many.articles_per_s
            if rss:
                report["rss_mb_per_worker"] = max(rss)
                report["rss_mb_each_worker"] = rss
        finally:
            if broker is not None:
                broker.stop()


def _ratios(report: dict[str, Any], workers: int) -> None:
    one = report.get("articles_per_s_1worker")
    many = report.get(f"articles_per_s_{workers}workers")
    faust = report.get("faust_ceiling_msgs_per_s")
    if one and faust:
        report["ratio_1worker_to_faust_ceiling"] = one / faust
    if one and many:
        report[f"scaling_{workers}workers"] = many / one
    if one and report.get("latency_offered_per_s"):
        # offered above what one worker does, the latency is mostly queueing behind the backlog
        report["latency_saturated"] = report["latency_offered_per_s"] > one
    if faust and report.get("aiokafka_ceiling_msgs_per_s"):
        report["ratio_faust_to_aiokafka_ceiling"] = faust / report["aiokafka_ceiling_msgs_per_s"]


def _row(table: Table, name: str, value: float | None, target: float | None, unit: str,
         higher_is_better: bool = False) -> None:
    if value is None:
        return
    shown = f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    if target is None:
        table.add_row(name, f"{shown} {unit}", "", "", "")
        return
    ratio = value / target
    met = ratio >= 1 if higher_is_better else ratio <= 1
    table.add_row(name, f"{shown} {unit}", f"{'≥' if higher_is_better else '≤'} {target:g}", f"{ratio:.2f}",
                  "[green]yes[/green]" if met else "[red]no[/red]")


def summary_table(report: dict[str, Any]) -> Table:
    """Each figure with its target, the ratio measured / target, and whether it is met."""
    workers = report["workers"]
    table = Table(title=f"khabar bench: {report['articles']} articles of {report['corpus']}")
    for col in ("figure", "measured", "target", "ratio", "met"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    _row(table, "aiokafka passthrough ceiling", report.get("aiokafka_ceiling_msgs_per_s"), None, "msg/s")
    _row(table, "Faust passthrough ceiling", report.get("faust_ceiling_msgs_per_s"), None, "msg/s")
    _row(table, "khabar, 1 worker", report.get("articles_per_s_1worker"),
         TARGETS["articles_per_s_per_worker"], "art/s", True)
    _row(table, "  / Faust ceiling", report.get("ratio_1worker_to_faust_ceiling"),
         TARGETS["ratio_to_faust_ceiling"], "", True)
    e2e1 = report.get("e2e_1worker") or {}
    _row(table, "  worker CPU per article", e2e1.get("worker_cpu_ms_per_article"), None, "ms")
    if workers > 1:
        _row(table, f"khabar, {workers} workers", report.get(f"articles_per_s_{workers}workers"), None, "art/s")
        _row(table, "  / 1 worker", report.get(f"scaling_{workers}workers"),
             TARGETS["scaling_2workers"] if workers == 2 else None, "", True)
    lat = report.get("latency_ms") or {}
    if lat:
        rate = report.get("latency_offered_per_s", 0)
        _row(table, f"latency p50 at {rate:g}/s", lat["p50"], None, "ms")
        _row(table, f"latency p95 at {rate:g}/s", lat["p95"], None, "ms")
        _row(table, f"latency p99 at {rate:g}/s", lat["p99"], TARGETS["latency_p99_ms"], "ms")
        for hop, what in (("prepare", "raw → envelope"), ("sequence", "envelope → output")):
            by_hop = (report.get("latency_ms_by_hop") or {}).get(hop)
            if by_hop and by_hop["n"]:
                table.add_row(f"  {what}, p50 / p99", f"{by_hop['p50']:.0f} / {by_hop['p99']:.0f} ms", "", "", "")
        if report.get("latency_saturated"):
            table.add_row("  [yellow]offered rate above 1 worker's throughput: latency is queueing[/yellow]",
                          "", "", "", "")
    for stage, ms in (report.get("stage_ms_median") or {}).items():
        _row(table, f"CPU {stage}, median", ms, TARGETS_MS.get(stage), "ms")
    _row(table, "CPU all stages, median article", report.get("cpu_ms_per_article_median"),
         TARGETS_MS["total"], "ms")
    _row(table, "RSS per worker (max sampled)", report.get("rss_mb_per_worker"), TARGETS["rss_mb_per_worker"], "MB")
    window = report.get("dedup_window")
    if window:
        days = window["days"]
        _row(table, f"RSS with {days:g}-day dedup window", window["rss_mb"], TARGETS["rss_mb_per_worker"], "MB")
        _row(table, "dedup state per article (nbytes)", window["bytes_per_article"], None, "B")
    elif report.get("dedup_bytes_per_article"):
        _row(table, "dedup state per article (nbytes)", report["dedup_bytes_per_article"], None, "B")
    return table
