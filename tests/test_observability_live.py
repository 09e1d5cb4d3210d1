"""A real Prometheus scraping a real, seeded khabar worker.

``seeded_worker`` (tests/conftest.py) is a worker that has processed the five seeds twice
plus malformed lines, so duplicates, events and dead letters are non-zero. Prometheus is
started with deploy/prometheus/prometheus.yml, its DNS discovery swapped for the worker's
port and a 1 s scrape interval, and with alerts.yml loaded. Then every PromQL expression of
the Grafana dashboard and of the alert rules must return data.

How alert thresholds are stripped: :func:`tests.support.prometheus.alert_operands` splits a
condition at top-level ``and``/``or``/``unless``, then at its top-level comparison, and keeps
the sides that are not plain numbers (``a > 3 * b`` -> ``a`` and ``3 * b``); for
``absent(x)`` it checks ``x``. Grafana variables are replaced as in
:data:`tests.support.prometheus.GRAFANA_VARIABLES` (``$__rate_interval`` -> 1m, ``$__range`` -> 1h,
``$instance`` -> ``.*``).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from streams.snapshot import render_snapshot
from tests.support.prometheus import (
    PrometheusServer,
    alert_operands,
    alert_rules,
    dashboard_expressions,
    scrape_config_for,
    start_prometheus,
    substitute,
)


@pytest.fixture(scope="module")
def prometheus(seeded_worker: Any, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[PrometheusServer]:
    """Prometheus scraping the seeded worker every second, after its second scrape."""
    config_path = tmp_path_factory.mktemp("prometheus") / "prometheus.yml"
    target = f"127.0.0.1:{seeded_worker.metrics_port}"
    config_path.write_text(yaml.safe_dump(scrape_config_for(target, "1s")))
    with start_prometheus(config_path) as server:
        deadline = time.monotonic() + 30
        scrapes = 0.0
        while scrapes < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            answer = server.query('count_over_time(up{job="khabar"}[1m])')
            scrapes = float(answer[0]["value"][1]) if answer else 0.0
        assert scrapes >= 2, f"fewer than two scrapes of {target}:\n{server.log()}"
        yield server


def test_worker_is_up(prometheus: PrometheusServer, seeded_worker: Any) -> None:
    (up,) = prometheus.query('up{job="khabar"}')
    assert up["metric"]["instance"] == f"127.0.0.1:{seeded_worker.metrics_port}"
    assert up["value"][1] == "1"
    assert seeded_worker.metrics_url.endswith(f":{seeded_worker.metrics_port}/metrics")


def test_seeded_counts_are_nonzero(prometheus: PrometheusServer) -> None:
    for expr in ("sum(khabar_duplicates_total)", "sum(khabar_events_total)",
                 "sum(khabar_deadletters_total)", "sum(khabar_unique_articles_total)"):
        (sample,) = prometheus.query(expr)
        assert float(sample["value"][1]) > 0, expr


def test_alert_rules_load_and_evaluate(prometheus: PrometheusServer) -> None:
    deadline = time.monotonic() + 15
    rules: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        groups = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules):
            break
        time.sleep(0.5)
    assert {r["name"] for r in rules} == {r["alert"] for r in alert_rules()}
    assert [r["name"] for r in rules if r["health"] != "ok"] == []


def _empty(prometheus: PrometheusServer, exprs: list[tuple[str, str]]) -> list[str]:
    """The expressions (with where they come from) that return no series."""
    return [f"{where}: {expr}" for where, expr in exprs if not prometheus.query(expr)]


def test_every_dashboard_query_returns_data(prometheus: PrometheusServer) -> None:
    exprs = [(title, substitute(expr)) for title, expr in dashboard_expressions()]
    assert len(exprs) >= 25
    assert not [e for _, e in exprs if "$" in e]
    assert _empty(prometheus, exprs) == []


def test_every_alert_expression_returns_data(prometheus: PrometheusServer) -> None:
    exprs = [(rule["alert"], operand) for rule in alert_rules()
             for operand in alert_operands(rule["expr"])]
    assert {name for name, _ in exprs} == {r["alert"] for r in alert_rules()}
    assert _empty(prometheus, exprs) == []


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_snapshot_png(prometheus: PrometheusServer, tmp_path: Path) -> None:
    out = render_snapshot(prometheus.url, tmp_path / "snap" / "dashboard.png", minutes=2)
    assert out == tmp_path / "snap" / "dashboard.png"
    assert _png_size(out) == (1920, 1080)
    assert out.stat().st_size > 60_000
