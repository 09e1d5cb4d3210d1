"""``khabar soak`` (issue 8): a short run end to end, and its pure helpers."""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.health import RepeatFilter, bootstrap_addresses
from streams.soak import Sample, count_error_lines, rss_summary, window_full_index

REPO = Path(__file__).resolve().parents[1]


def test_error_lines_are_counted_in_both_log_formats() -> None:
    text = "\n".join([
        '{"event": "dead_letter", "level": "warning"}',
        '{"event": "topic_layout_broken", "level": "error"}',
        "[2026-01-01 00:00:00,000] [1] [ERROR] Unable to update metadata",
        "[2026-01-01 00:00:00,000] [1] [WARNING] Heartbeat failed",
        "Traceback (most recent call last):",
        "error in a sentence is not an error line",
    ])
    assert count_error_lines(text) == 3


def test_the_window_is_full_when_retention_first_shrinks_the_index() -> None:
    nan = float("nan")
    assert window_full_index([nan, 0, 100, 500, nan, 1000, 400, 900]) == 5
    # never shrank: the first sample at 95 % of the final size
    assert window_full_index([nan, 0, 100, 500, 960, 1000]) == 4
    assert window_full_index([nan, nan]) is None and window_full_index([0, 0]) is None


def test_growth_is_measured_after_the_owner_window_filled() -> None:
    samples = []
    for i, (owner_rss, other_rss, entries) in enumerate([(300, 250, 0), (400, 260, 500), (500, 270, 990),
                                                          (520, 275, 1000), (510, 280, 1000)]):
        samples.append(Sample(float(i), 0, other_rss, 0.0, i))
        samples.append(Sample(float(i), 1, owner_rss, entries, i))
    summary, growth = rss_summary(samples, 2)
    assert summary["worker1"]["start"] == 300 and summary["worker1"]["window_full"] == 500
    assert summary["worker1"]["end"] == 510 and summary["worker0"]["window_full"] == 270
    assert growth == 20  # owner 500 -> peak 520 after the window filled


def test_repeated_client_errors_are_folded_not_hidden() -> None:
    now = [0.0]
    flt = RepeatFilter(window=30.0, clock=lambda: now[0])

    def record(name: str, msg: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)

    assert flt.filter(record("aiokafka.conn", "Unable connect to node %s"))
    assert not any(flt.filter(record("aiokafka.conn", "Unable connect to node %s")) for _ in range(50))
    assert flt.filter(record("khabar.app", "same text")) and flt.filter(record("khabar.app", "same text"))
    now[0] = 31.0
    later = record("aiokafka.conn", "Unable connect to node %s")
    assert flt.filter(later) and "50 repeats" in str(later.msg)


def test_bootstrap_addresses() -> None:
    assert bootstrap_addresses("kafka://a:9092;kafka://[::1]:9093") == [("a", 9092), ("::1", 9093)]


@pytest.mark.e2e
def test_a_short_soak_passes_and_draws_its_curve(tmp_path: Path) -> None:
    out = tmp_path / "soak"
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "soak", "--limit", "300", "--workers", "2", "--sample-seconds", "1",
         "--timeout", "240", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=400,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("KHABAR_")}, "KHABAR_LOG_LEVEL": "warn"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["sent"] == 300 and summary["accounted"] == 300
    assert summary["missing"] == summary["unknown"] == summary["both_enriched_and_duplicate"] == 0
    assert summary["error_lines"] == 0 and summary["workers_alive"]
    assert summary["verdict_mismatches"] == 0  # the same verdicts as one process deciding alone
    assert summary["enriched"] + summary["duplicates"] + summary["deadletters"] >= 300
    assert set(summary["rss_mb"]) == {"worker0", "worker1"}
    assert all(w["start"] > 50 for w in summary["rss_mb"].values())  # a real worker process, in MB
    with (out / "soak.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["worker"] for r in rows} == {"0", "1"} and len(rows) >= 4
    assert int(rows[-1]["accounted"]) == 300
    png = (out / "soak.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
