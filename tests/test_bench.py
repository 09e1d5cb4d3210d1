"""``khabar bench`` end to end on the session broker, on a tiny input (about 90 s).

The figures themselves are machine-dependent; what is checked is that one run
produces every figure other tools read, that they are measured (positive, in
sane ranges) and consistent with each other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from khabar.bench import STAGES, replicate_with_edits
from khabar.corpus import iter_sources
from streams.broker import EmbeddedBroker

REPO = Path(__file__).resolve().parents[1]
LIMIT = 60
RATE = 200.0


def test_replicas_are_distinct_articles() -> None:
    seeds = list(iter_sources([REPO / "seeds"]))
    copies = replicate_with_edits(seeds, 12)
    assert len({a.id for a in copies}) == 12
    assert len({a.text for a in copies}) == 12
    assert copies[:5] == seeds  # the originals come first, unchanged
    # an edit inserts numbers between words: every original word is still there, in order
    assert copies[5].text.split()[:4] == seeds[0].text.split()[:4]
    assert copies[5].text.split()[4] == "1"


def test_bench_reports_every_figure(broker: EmbeddedBroker, tmp_path: Path) -> None:
    seeds = list(iter_sources([REPO / "seeds"]))
    corpus = tmp_path / "corpus.jsonl"
    # the seeds replicated: LIMIT for the throughput runs, LIMIT more for the latency run
    corpus.write_text("".join(a.model_dump_json(exclude_none=True) + "\n"
                              for a in replicate_with_edits(seeds, 2 * LIMIT)))
    out = tmp_path / "bench.json"
    env = {**os.environ, "KHABAR_BROKER_URL": broker.url, "KHABAR_LOG_LEVEL": "warn"}
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "bench", "--corpus", str(corpus), "--limit", str(LIMIT),
         "--workers", "2", "--rate", str(RATE), "--window-articles", "2000", "--json", str(out)],
        env=env, capture_output=True, text=True, timeout=240, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r = json.loads(out.read_text())

    for key in ("articles_per_s_1worker", "articles_per_s_2workers", "faust_ceiling_msgs_per_s",
                "aiokafka_ceiling_msgs_per_s", "cpu_ms_per_article_median", "rss_mb_per_worker"):
        assert isinstance(r[key], float) and r[key] > 0, key
    # the raw client is what Faust is built on: it must move messages faster than a Faust agent
    assert r["aiokafka_ceiling_msgs_per_s"] > r["faust_ceiling_msgs_per_s"]
    assert r["ratio_1worker_to_faust_ceiling"] == r["articles_per_s_1worker"] / r["faust_ceiling_msgs_per_s"]

    # every article was accounted for, in both end-to-end runs
    for run in ("e2e_1worker", "e2e_2workers"):
        assert r[run]["articles"] == LIMIT
        assert sum(r[run]["outcomes"].values()) == LIMIT
        assert r[run]["worker_cpu_ms_per_article"] > 0
    assert r["e2e_2workers"]["workers"] == 2

    lat = r["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["n"] > LIMIT * 0.8  # most replicas are unique, so enriched (the latency is of enriched records)
    assert 0.5 * RATE < r["latency_achieved_per_s"] <= 1.1 * RATE
    # the two hops of each enriched article add up to its latency: their medians bound the whole's
    hops = r["latency_ms_by_hop"]
    assert hops["prepare"]["n"] == hops["sequence"]["n"] == lat["n"]
    assert all(hops[h]["p50"] >= 0 for h in hops)
    assert lat["p50"] <= hops["prepare"]["p99"] + hops["sequence"]["p99"]
    assert max(hops["prepare"]["p50"], hops["sequence"]["p50"]) <= lat["max"]

    assert set(r["stage_ms_median"]) == set(STAGES) == set(r["stage_ms_p99"]) == set(r["stage_ms_mean"])
    assert all(ms > 0 for ms in r["stage_ms_median"].values())
    # the per-article sum of every stage is at least any one stage, article by article
    assert r["cpu_ms_per_article_median"] >= max(r["stage_ms_median"].values())
    assert r["cpu_ms_per_article_p99"] >= r["cpu_ms_per_article_median"]
    # the mean of a sum is the sum of the means
    assert r["cpu_ms_per_article_mean"] == pytest.approx(sum(r["stage_ms_mean"].values()))
    assert all(r["stage_ms_p99"][s] >= r["stage_ms_median"][s] for s in STAGES)

    # a worker holds the language and events models: well over 100 MB, and not runaway
    assert 100 < r["rss_mb_per_worker"] < 4000
    assert len(r["rss_mb_each_worker"]) == 3  # 1 worker, then 2
    window = r["dedup_window"]
    assert window["entries"] == 2000 and window["unique"] > 1600
    assert window["bytes_per_article"] > 100
    assert window["rss_mb"] > 100


def test_served_rate_counts_from_the_first_input_and_ignores_bursts() -> None:
    from streams.bench.timing import served_rate, steady_rate

    # 100 records: 96 written in one burst at 6.400 s, once the sequencer's watermark
    # moved, and the last 4 held back until 19.400 s (a finite run's tail); input at 0
    stamps = [6_400] * 96 + [19_400] * 4
    assert steady_rate(stamps) > 10_000  # the burst fools the trimmed rate
    assert served_rate(stamps, 0) == 96 / 6.4
    assert served_rate([1_000 + 10 * i for i in range(101)], 0) == 96 / 1.95
    assert served_rate([], 0) == 0.0
