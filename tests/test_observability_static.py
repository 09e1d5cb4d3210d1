"""Observability without a worker: Prometheus config and rules, Grafana, ``khabar top``.

promtool and Prometheus are the real ones (Debian's package, installed on first use by
:func:`tests.support.prometheus.ensure_prometheus`).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from rich.console import Console

from streams.metrics import Metrics
from streams.top import bucket_quantile, parse_metrics, run_top, summarize
from tests.support.prometheus import (
    DASHBOARD,
    PROMETHEUS_DIR,
    alert_operands,
    alert_rules,
    dashboard_expressions,
    dashboard_panels,
    ensure_prometheus,
    free_port,
    metric_names,
)

GRAFANA = DASHBOARD.parents[1]
GRID_COLUMNS = 24


def _promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    _, promtool = ensure_prometheus()
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


# ---------------------------------------------------------------------------- Prometheus

def test_promtool_check_config() -> None:
    done = _promtool("check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 1 rule files found" in done.stdout


def test_promtool_check_rules() -> None:
    done = _promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    """alerts_test.yml: dead-letter spike fires (and a trickle does not), worker down, ..."""
    done = _promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
    tested = {t["alertname"] for case in yaml.safe_load(
        (PROMETHEUS_DIR / "alerts_test.yml").read_text())["tests"]
        for t in case.get("alert_rule_test", [])}
    assert {"KhabarDeadLetterSpike", "KhabarWorkerDown"} <= tested


def test_promtool_unit_tests_can_fail(tmp_path: Path) -> None:
    """The unit tests are not vacuous: expecting no spike alert at 66m makes them fail."""
    text = (PROMETHEUS_DIR / "alerts_test.yml").read_text()
    broken = text.replace("rule_files:\n  - alerts.yml", f"rule_files:\n  - {PROMETHEUS_DIR}/alerts.yml")
    doc = yaml.safe_load(broken)
    doc["tests"] = doc["tests"][:1]
    doc["tests"][0]["alert_rule_test"][-1]["exp_alerts"] = []
    (tmp_path / "t.yml").write_text(yaml.safe_dump(doc))
    done = _promtool("test", "rules", "t.yml", cwd=tmp_path)
    assert done.returncode != 0
    assert "KhabarDeadLetterSpike" in done.stdout + done.stderr


def test_alert_rules_have_for_severity_and_annotations() -> None:
    rules = alert_rules()
    names = {r["alert"] for r in rules}
    assert names == {"KhabarIngestStalled", "KhabarConsumerLagHigh", "KhabarDeadLetterSpike",
                     "KhabarWorkerDown", "KhabarWorkersAbsent", "KhabarEndToEndLatencyHigh"}
    for rule in rules:
        assert rule["for"], rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_prometheus_config_scrapes_the_worker_service() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "khabar")
    assert job["dns_sd_configs"] == [{"names": ["worker"], "type": "A", "port": 6066,
                                      "refresh_interval": "15s"}]
    assert job["metrics_path"] == "/metrics"


# ---------------------------------------------------------------------------- Grafana

def test_provisioning_points_at_the_dashboard_and_datasource() -> None:
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (datasource,) = source["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/khabar.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    for panel in dashboard_panels():
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"], panel["title"]


def test_every_panel_has_queries() -> None:
    panels = dashboard_panels()
    assert len(panels) >= 12
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
    refs = [[t["refId"] for t in p["targets"]] for p in panels]
    assert all(len(r) == len(set(r)) for r in refs)
    assert len({p["id"] for p in panels}) == len(panels)


def test_grid_fits_24_columns_without_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    panels = dashboard_panels()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0
        assert pos["x"] + pos["w"] <= GRID_COLUMNS, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
    top_row = [p for p in panels if p["gridPos"]["y"] == 0]
    assert top_row and all(p["type"] == "stat" for p in top_row)
    assert sum(p["gridPos"]["w"] for p in top_row) == GRID_COLUMNS
    # at a glance on 1080p: ~30 px per row unit, the whole board within one screen
    assert max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) <= 30


def test_dashboard_covers_the_figures() -> None:
    exprs = " ".join(e for _, e in dashboard_expressions())
    for needed in ("khabar_articles_in_total", "khabar_records_out_total",
                   "khabar_end_to_end_latency_seconds_bucket", "khabar_stage_seconds_bucket",
                   "khabar_consumer_lag_messages", "khabar_duplicates_total",
                   "khabar_languages_total", "khabar_events_total", "khabar_deadletters_total",
                   "khabar_state_entries", "khabar_worker_info"):
        assert needed in exprs, needed
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (le) (rate(khabar_end_to_end" in exprs
        assert f"histogram_quantile({q}, sum by (le, stage) (rate(khabar_stage_seconds" in exprs
    assert json.loads(DASHBOARD.read_text())["uid"] == "khabar-overview"


# ---------------------------------------------------------------------------- metric names

def _family_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry's families can expose, labelled children or not."""
    suffixes = {"counter": ("_total", "_created"), "gauge": ("",),
                "histogram": ("_bucket", "_count", "_sum", "_created"),
                "summary": ("", "_count", "_sum", "_created"), "info": ("_info",)}
    names = set()
    for family in registry.collect():
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def _known_metric_names() -> set[str]:
    khabar = Metrics()
    faust = CollectorRegistry()
    FaustMetrics.create(faust, "faust")
    return _family_names(khabar.registry) | _family_names(faust) | {"up"}


def test_every_metric_in_dashboard_and_alerts_exists_in_code() -> None:
    known = _known_metric_names()
    assert "khabar_end_to_end_latency_seconds_bucket" in known  # the helper itself works
    assert "faust_messages_received_total" in known
    used = {name for _, e in dashboard_expressions() for name in metric_names(e)}
    used |= {name for r in alert_rules() for name in metric_names(r["expr"])}
    assert len(used) >= 15
    assert used - known == set()


def test_metric_names_and_threshold_stripping() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, topic) (rate(a_bucket{x="y > 1"}[5m])))'
            " > 30 and on() (sum(b_total) or vector(0)) == 0")
    assert metric_names(expr) == {"a_bucket", "b_total"}
    assert alert_operands(expr) == [
        'histogram_quantile(0.99, sum by (le, topic) (rate(a_bucket{x="y > 1"}[5m])))',
        "sum(b_total)", "vector(0)"]
    assert alert_operands("absent(up{job='k'})") == ["up{job='k'}"]
    assert alert_operands("a > 3 * b") == ["a", "3 * b"]


# ---------------------------------------------------------------------------- khabar top

def _work(m: Metrics) -> None:
    """Record what a worker does for 10 articles (8 unique, 2 copies, 1 dead letter)."""
    m.articles_in.labels(source="seed").inc(10)
    m.records_out.labels(topic="khabar.articles.enriched").inc(8)
    m.records_out.labels(topic="khabar.articles.duplicates").inc(2)
    m.unique.inc(8)
    m.duplicates.labels(kind="exact").inc(2)
    m.events.labels(type="ASSAULT").inc(3)
    m.deadletters.labels(reason="invalid_json").inc()
    m.count_language("ar")
    for _ in range(10):
        m.end_to_end.labels(topic="khabar.articles.enriched").observe(0.2)
        m.observe_stage("language", 0.0003)
    m.consumer_lag.labels(topic="khabar.articles.raw", partition="0").set(42)
    m.state_entries.labels(store="dedup_index").set(8)


def test_summarize_two_real_scrapes() -> None:
    m = Metrics()
    m.articles_in.labels(source="seed").inc(4)
    m.end_to_end.labels(topic="khabar.events").observe(3.0)
    before = parse_metrics(generate_latest(m.registry).decode())
    _work(m)
    after = parse_metrics(generate_latest(m.registry).decode())
    s = summarize(before, after, 2.0)
    assert s.articles_in_per_s == pytest.approx(5.0)
    assert s.records_out_per_s == {"khabar.articles.enriched": pytest.approx(4.0),
                                   "khabar.articles.duplicates": pytest.approx(1.0)}
    assert s.duplicate_ratio == pytest.approx(0.2)
    assert s.duplicates_total["exact"] == 2 and s.unique_total == 8
    assert s.events_total["ASSAULT"] == 3 and s.events_per_s == pytest.approx(1.5)
    assert s.deadletters_total["invalid_json"] == 1 and s.deadletters_per_s == pytest.approx(0.5)
    assert s.languages_total["ar"] == 1
    assert s.lag_by_topic == {"khabar.articles.raw": 42}
    assert s.state_entries == {"dedup_index": 8}
    # 10 observations of 0.2 s in the window, in bucket (0.1, 0.25]: the 3.0 s one before
    # the first scrape is not part of it.
    assert s.end_to_end is not None and s.end_to_end.window and s.end_to_end.count == 10
    assert s.end_to_end.p50 == pytest.approx(0.1 + 0.15 * 0.5)
    assert s.end_to_end.p99 == pytest.approx(0.1 + 0.15 * 0.99)
    language = s.stages["language"]
    assert language.window and 0.00025 < (language.p95 or 0) <= 0.0005
    assert not s.stages["parse"].window and s.stages["parse"].p50 is None


def test_summarize_counter_reset_and_idle_window() -> None:
    m = Metrics()
    _work(m)
    _work(m)
    before = parse_metrics(generate_latest(m.registry).decode())
    restarted = Metrics()
    _work(restarted)
    after = parse_metrics(generate_latest(restarted.registry).decode())
    assert summarize(before, after, 1.0).articles_in_per_s == pytest.approx(10.0)
    idle = summarize(after, after, 1.0)
    assert idle.articles_in_per_s == 0.0
    assert idle.end_to_end is not None and not idle.end_to_end.window
    assert idle.end_to_end.count == 10  # falls back to the histogram since start


def test_bucket_quantile_like_promql() -> None:
    inf = float("inf")
    assert bucket_quantile(0.5, {}) is None
    assert bucket_quantile(0.5, {1.0: 0.0, inf: 0.0}) is None
    assert bucket_quantile(0.5, {1.0: 10.0, 2.0: 20.0, inf: 20.0}) == pytest.approx(1.0)
    assert bucket_quantile(0.75, {1.0: 10.0, 2.0: 20.0, inf: 20.0}) == pytest.approx(1.5)
    assert bucket_quantile(0.99, {1.0: 10.0, inf: 20.0}) == pytest.approx(1.0)


@pytest.fixture
def metrics_endpoint() -> Iterator[tuple[str, Metrics]]:
    """A real /metrics server (prometheus_client's) over a khabar registry."""
    m = Metrics()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=m.registry)
    yield f"http://127.0.0.1:{port}/metrics", m
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_run_top_once_draws_a_frame(metrics_endpoint: tuple[str, Metrics]) -> None:
    url, m = metrics_endpoint
    _work(m)
    console = Console(record=True, width=200, color_system=None)
    assert run_top(url, interval=0.2, once=True, console=console) == 0
    text = console.export_text()
    for figure in ("Throughput", "Latency", "end-to-end", "ASSAULT", "invalid_json",
                   "khabar.articles.raw", "20.0%", "dedup_index"):
        assert figure in text, figure


def test_run_top_reports_an_unreachable_worker() -> None:
    console = Console(record=True, width=120, color_system=None)
    assert run_top(f"http://127.0.0.1:{free_port()}/metrics", once=True, console=console) == 1
    assert "cannot scrape" in console.export_text()
