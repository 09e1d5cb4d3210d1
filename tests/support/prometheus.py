"""A real Prometheus for tests, and the PromQL plumbing the observability tests share.

:func:`ensure_prometheus` finds ``prometheus`` and ``promtool`` on ``PATH`` or installs
Debian's ``prometheus`` package (under a file lock, so parallel test sessions do not run
``apt-get`` twice). :func:`start_prometheus` runs one server on a free loopback port with
its TSDB in a temporary directory, waits for ``/-/ready`` and stops it cleanly.

The PromQL helpers pull every expression out of the Grafana dashboard and the alert rules,
substitute Grafana's variables, list the metric names an expression reads, and split an
alert condition into the operands that must return data (see :func:`alert_operands`).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "khabar.json"
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "khabar-prometheus-apt.lock"

#: What the tests substitute for Grafana's variables before sending a query.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__range": "1h",
    "$__interval": "15s",
    "$instance": ".*",
}


def _which_both() -> tuple[Path, Path] | None:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    return (Path(prom), Path(tool)) if prom and tool else None


def ensure_prometheus() -> tuple[Path, Path]:
    """Return the paths of ``prometheus`` and ``promtool``, installing them if missing.

    Installs Debian's ``prometheus`` package (``apt-get update`` then ``apt-get install``)
    while holding an exclusive lock on a file in the temp directory, so concurrent callers
    wait for one installation instead of colliding on dpkg's lock.

    Returns:
        The two executables' paths.

    Raises:
        RuntimeError: when the installation fails or leaves the binaries missing.
    """
    found = _which_both()
    if found:
        return found
    with _INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            found = _which_both()  # another process may have installed it meanwhile
            if found:
                return found
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            wait = ["-o", "DPkg::Lock::Timeout=600"]
            for cmd in (["apt-get", *wait, "update", "-q"],
                        ["apt-get", *wait, "install", "-y", "-q", "--no-install-recommends",
                         "prometheus"]):
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                if done.returncode:
                    raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    found = _which_both()
    if not found:
        raise RuntimeError("the prometheus package installed no prometheus/promtool on PATH")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrometheusServer:
    """A running Prometheus started by :func:`start_prometheus`."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    _tmp: tempfile.TemporaryDirectory[str] = field(repr=False)

    @property
    def url(self) -> str:
        """Base URL, such as ``http://127.0.0.1:9091``."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Prometheus' own log so far (stderr), for failure messages."""
        return self.log_path.read_text(errors="replace")

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Evaluate an instant query and return its result list.

        Args:
            expr: PromQL expression.
            at: evaluation time (Unix seconds); Prometheus' "now" when None.

        Returns:
            ``data.result`` of the answer (empty when the expression selects nothing).

        Raises:
            RuntimeError: when Prometheus rejects the query.
        """
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        answer = httpx.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        if answer.get("status") != "success":
            raise RuntimeError(f"query {expr!r} failed: {answer}")
        return list(answer["data"]["result"])

    def wait_for(self, expr: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll ``expr`` until it returns at least ``count`` series (or time runs out).

        Returns:
            The last answer, which may be shorter than ``count`` after a timeout.
        """
        deadline = time.monotonic() + timeout
        result = self.query(expr)
        while len(result) < count and time.monotonic() < deadline:
            time.sleep(0.25)
            result = self.query(expr)
        return result

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its data."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._tmp.cleanup()

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_prometheus(config_path: Path, port: int | None = None,
                     timeout: float = 30.0) -> PrometheusServer:
    """Start Prometheus with ``config_path`` on 127.0.0.1 and wait until it is ready.

    Args:
        config_path: the prometheus.yml to load (relative rule files resolve next to it).
        port: listen port; a free one when None.
        timeout: seconds to wait for ``/-/ready``.

    Returns:
        The running server; stop it with :meth:`PrometheusServer.stop` or ``with``.

    Raises:
        RuntimeError: when the process exits or is not ready in time (its log is included).
    """
    prometheus, _ = ensure_prometheus()
    port = port or free_port()
    tmp = tempfile.TemporaryDirectory(prefix="khabar-prom-")
    data_dir, log_path = Path(tmp.name) / "data", Path(tmp.name) / "prometheus.log"
    cmd = [str(prometheus), f"--config.file={config_path}", f"--storage.tsdb.path={data_dir}",
           f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h",
           "--web.enable-lifecycle", "--log.level=warn"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    server = PrometheusServer(process, port, data_dir, log_path, tmp)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = server.log()
            server.stop()
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n{text}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    text = server.log()
    server.stop()
    raise RuntimeError(f"prometheus not ready after {timeout} s:\n{text}")


def scrape_config_for(target: str, scrape_interval: str = "1s",
                      rule_file: Path | None = PROMETHEUS_DIR / "alerts.yml") -> dict[str, Any]:
    """Turn deploy/prometheus/prometheus.yml into a test config scraping one target.

    The ``khabar`` job keeps its name, path and relabelling; only its DNS discovery is
    replaced by ``static_configs`` pointing at ``target`` (``host:port``). Other jobs go.

    Returns:
        The config as a dict, ready for ``yaml.safe_dump``.
    """
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval=scrape_interval, evaluation_interval=scrape_interval,
                            scrape_timeout=scrape_interval)
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "khabar")
    job.pop("dns_sd_configs")
    job["static_configs"] = [{"targets": [target]}]
    config["scrape_configs"] = [job]
    config["rule_files"] = [str(rule_file)] if rule_file else []
    return config


# ---------------------------------------------------------------------------- PromQL helpers

def dashboard_panels(path: Path = DASHBOARD) -> list[dict[str, Any]]:
    """The dashboard's panels, with the panels of collapsed rows flattened in."""
    out: list[dict[str, Any]] = []
    for panel in json.loads(path.read_text())["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_expressions(path: Path = DASHBOARD) -> list[tuple[str, str]]:
    """Every ``(panel title, expr)`` of the dashboard, variables' queries included."""
    exprs = [(str(p["title"]), str(t["expr"])) for p in dashboard_panels(path)
             for t in p.get("targets", [])]
    for var in json.loads(path.read_text()).get("templating", {}).get("list", []):
        query = var.get("query")
        text = query.get("query", "") if isinstance(query, dict) else str(query or "")
        match = re.fullmatch(r"label_values\((.+),\s*\w+\)", text.strip())
        if match:  # label_values(selector, label) is Grafana's, not PromQL: check the selector
            exprs.append((f"${var['name']}", match.group(1)))
    return exprs


def alert_rules(path: Path = PROMETHEUS_DIR / "alerts.yml") -> list[dict[str, Any]]:
    """All rules of all groups of a Prometheus rule file."""
    doc = yaml.safe_load(path.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def substitute(expr: str) -> str:
    """Replace Grafana variables (:data:`GRAFANA_VARIABLES`) by fixed values."""
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    return expr


_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "e"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (function and label names excluded).

    Strings, ``{...}`` matchers, ``[...]`` ranges and ``by (...)``-style label lists are
    removed first; what remains that looks like an identifier and is not a function call,
    keyword or number is a metric name.
    """
    text = _STRING.sub('""', substitute(expr))
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _LABEL_LISTS.sub(" ", text)
    text = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", " ", text)
    return {m for m in _IDENT.findall(text) if m.lower() not in _KEYWORDS}


def _top_level_spans(expr: str) -> Iterator[tuple[int, str]]:
    """Yield ``(index, char)`` for characters outside brackets and strings."""
    depth, quote = 0, ""
    for i, ch in enumerate(expr):
        if quote:
            quote = "" if ch == quote and expr[i - 1] != "\\" else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            yield i, ch


def _split_top(expr: str, pattern: re.Pattern[str]) -> list[str]:
    """Split ``expr`` at matches of ``pattern`` that start at bracket depth zero."""
    top = {i for i, _ in _top_level_spans(expr)}
    parts, start = [], 0
    for match in pattern.finditer(expr):
        if match.start() in top and match.start() >= start:
            parts.append(expr[start:match.start()])
            start = match.end()
    parts.append(expr[start:])
    return [p.strip() for p in parts if p.strip()]


_SET_OPS = re.compile(r"\b(and|or|unless)\b(\s+(on|ignoring)\s*\([^)]*\))?")
_COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)(\s*bool\b)?")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?|[-+]?inf|nan", re.IGNORECASE)


def _unwrap(expr: str) -> str:
    """Drop parentheses that enclose the whole expression."""
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        depth = 0
        for i, ch in enumerate(expr):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(expr) - 1:
                return expr
        expr = expr[1:-1].strip()
    return expr


def alert_operands(expr: str) -> list[str]:
    """The sub-expressions of an alert condition that must each return data.

    How thresholds are stripped: the condition is split at top-level set operators
    (``and``/``or``/``unless``); each operand is split at its top-level comparison
    (``> 30``, ``== 0``, ``> 3 * x``); the left-hand side is kept, and the right-hand side
    too when it is not a plain number (it is a query then). ``absent(x)`` returns data only
    when ``x`` is missing, so ``x`` is what must return data. Parentheses around a whole
    operand are dropped first, and the rules apply again inside what remains, so
    ``(a or vector(0)) == 0`` gives ``a`` and ``vector(0)``. Example:
    ``a > 0.1 and a > 3 * b`` gives ``a``, ``a``, ``3 * b``.
    """
    out: list[str] = []
    operands = _split_top(_unwrap(expr), _SET_OPS)
    if len(operands) > 1:
        return [part for operand in operands for part in alert_operands(operand)]
    sides = _split_top(operands[0], _COMPARISON)
    if len(sides) > 1:
        return [part for side in sides if not _NUMBER.fullmatch(_unwrap(side))
                for part in alert_operands(side)]
    absent = re.fullmatch(r"absent\((.*)\)", operands[0], re.DOTALL)
    out.append(_unwrap(absent.group(1)) if absent else operands[0])
    return out
