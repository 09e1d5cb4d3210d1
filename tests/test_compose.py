"""The deployment files: docker-compose.yml, .env.example, deploy/Dockerfile, .dockerignore.

No Docker engine is needed: ``compose config`` parses, validates against the
Compose Specification and interpolates; the rest reads the files and checks them
against khabar's own settings model, the monitoring files they mount, and the
image's health check run against a local HTTP server.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, SecretStr, TypeAdapter

from khabar.config import Settings
from tests.support.compose import (
    COMPOSE_FILE,
    DOCKERFILE,
    DOCKERIGNORE,
    ENV_EXAMPLE,
    REPO_ROOT,
    Instruction,
    clean_environment,
    compose_config,
    dockerfile_instructions,
    dockerignore_patterns,
    ensure_docker_compose,
    environment_of,
    expand_dockerfile_args,
    load_compose,
    parse_env_file,
    settings_path,
    settings_value,
    variable_refs,
)

SERVICES = {"kafka", "topics", "worker", "replay", "prometheus", "grafana"}
TEST_PASSWORD = "not-a-real-password-4-tests"
DEPLOY_README = REPO_ROOT / "deploy" / "README.md"


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def compose() -> list[str]:
    """argv prefix of a working compose (installs Debian's docker-compose when missing)."""
    return ensure_docker_compose()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """docker-compose.yml as YAML data."""
    return load_compose()


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    """.env.example as a dict."""
    return parse_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    """deploy/Dockerfile's instructions."""
    return dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))


def _write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def _published(entry: Any) -> tuple[str, str, str]:
    """(host address, host port, container port) of a rendered port, short or long syntax."""
    if isinstance(entry, dict):
        return str(entry.get("host_ip", "")), str(entry["published"]), str(entry["target"])
    host_ip, published, target = str(entry).split("/")[0].split(":")
    return host_ip, published, target


def _render(
    compose: list[str], env_file: Path, example: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return compose_config(compose, env_file, environ=clean_environment(example))


@pytest.fixture(scope="module")
def rendered(
    compose: list[str], example: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """``compose config`` output with a copy of .env.example (password filled in) as .env."""
    env_file = _write_env(
        tmp_path_factory.mktemp("env") / ".env",
        {**example, "GRAFANA_ADMIN_PASSWORD": TEST_PASSWORD},
    )
    done = _render(compose, env_file, example)
    assert done.returncode == 0, f"{' '.join(compose)} config failed:\n{done.stderr}"
    data = yaml.safe_load(done.stdout)
    assert isinstance(data, dict)
    return data


# ------------------------------------------------------------------ compose config


def test_compose_config_accepts_the_file_with_the_example_env(
    rendered: dict[str, Any], example: dict[str, str]
) -> None:
    assert set(rendered["services"]) == SERVICES
    grafana_env = environment_of(rendered["services"]["grafana"])
    assert grafana_env["GF_SECURITY_ADMIN_PASSWORD"] == TEST_PASSWORD
    assert grafana_env["GF_SECURITY_ADMIN_USER"] == example["GRAFANA_ADMIN_USER"]
    worker_env = environment_of(rendered["services"]["worker"])
    assert worker_env["KHABAR_PARTITIONS"] == example["KHABAR_PARTITIONS"]
    assert worker_env["KHABAR_BROKER_URL"] == "kafka://kafka:9092"
    kafka = rendered["services"]["kafka"]
    assert kafka["image"] == example["KAFKA_IMAGE"]
    assert [_published(p) for p in kafka["ports"]] == [
        (example["HOST_BIND_ADDRESS"], example["KAFKA_HOST_PORT"], "29092")
    ]


def test_compose_refuses_to_start_without_a_grafana_password(
    compose: list[str], example: dict[str, str]
) -> None:
    assert example["GRAFANA_ADMIN_PASSWORD"] == "", ".env.example must not ship a password"
    done = _render(compose, ENV_EXAMPLE, example)
    assert done.returncode != 0
    assert "GRAFANA_ADMIN_PASSWORD" in done.stderr


def test_compose_defaults_equal_the_example_values(
    compose: list[str], example: dict[str, str], rendered: dict[str, Any], tmp_path: Path
) -> None:
    """With only the password in .env, compose's own defaults give the same configuration."""
    env_file = _write_env(tmp_path / ".env", {"GRAFANA_ADMIN_PASSWORD": TEST_PASSWORD})
    done = _render(compose, env_file, example)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout) == rendered
    for ref in variable_refs(COMPOSE_FILE.read_text(encoding="utf-8")):
        if ref.default is not None:
            assert ref.default == example[ref.name], f"${{{ref.name}}}: compose default differs"


# ------------------------------------------------------------------ services


def test_the_services_exist(spec: dict[str, Any]) -> None:
    assert set(spec["services"]) == SERVICES
    assert not [name for name, s in spec["services"].items() if "container_name" in s]


def test_kafka_runs_kraft_with_a_health_check_and_a_named_volume(spec: dict[str, Any]) -> None:
    kafka = spec["services"]["kafka"]
    assert "apache/kafka:" in kafka["image"]
    env = environment_of(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in " ".join(env).upper()
    # The controller listener exists and is the one in the quorum voters.
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    voter_port = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].rsplit(":", 1)[1]
    assert listeners[controller] == f":{voter_port}"
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(listeners) <= set(protocols)
    # khabar's broker URL is one of the advertised listeners, on a listener that exists.
    broker = environment_of({"environment": spec["x-khabar-env"]})["KHABAR_BROKER_URL"]
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    internal = [
        name for name, addr in advertised.items() if addr == broker.removeprefix("kafka://")
    ]
    assert internal and listeners[internal[0]] == ":" + broker.rsplit(":", 1)[1]
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == internal[0]
    # A single node: internal topics with one replica, or the group coordinator never starts.
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    # Health check, really enabled.
    check = kafka["healthcheck"]
    assert not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL")
    assert "9092" in " ".join(check["test"])
    # Data on a named volume mounted where the broker keeps its log.
    volumes = [str(v).split(":") for v in kafka["volumes"]]
    named = [(src, dst) for src, dst, *_ in volumes if not src.startswith((".", "/", "$"))]
    assert len(named) == 1 and named[0][1] == env["KAFKA_LOG_DIRS"]
    assert named[0][0] in spec["volumes"]


def test_worker_scales_out(spec: dict[str, Any], rendered: dict[str, Any]) -> None:
    worker = spec["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker and "ports" not in rendered["services"]["worker"]
    web_port = environment_of(worker)["KHABAR_WEB_PORT"]
    assert [str(p) for p in worker["expose"]] == [web_port]
    assert environment_of(worker)["KHABAR_WEB_HOST"] == "0.0.0.0"
    assert worker["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert worker["command"] == ["worker"]
    assert not worker.get("healthcheck", {}).get("disable")


def test_topics_and_replay_are_one_shot(
    spec: dict[str, Any], instructions: list[Instruction]
) -> None:
    services = spec["services"]
    topics, replay = services["topics"], services["replay"]
    assert topics["command"] == ["topics", "create"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert replay["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    for one_shot in (topics, replay):
        assert one_shot["restart"] == "no"
        assert one_shot["healthcheck"] == {"disable": True}
        assert "ports" not in one_shot
    # replay reads the seeds the image ships.
    assert replay["command"][0] == "replay"
    seeds_target = replay["command"][1]
    copies = [i.arguments.split() for i in instructions if i.keyword == "COPY"]
    assert any(args[-2:] == ["seeds", seeds_target] for args in copies)
    assert len(list((REPO_ROOT / "seeds").glob("*.txt"))) == 5
    # The three khabar services run one image with one environment.
    images = {services[name]["image"] for name in ("topics", "worker", "replay")}
    assert len(images) == 1
    assert all(
        services[n]["build"]["dockerfile"] == "deploy/Dockerfile"
        for n in ("topics", "worker", "replay")
    )


# ------------------------------------------------------------------ khabar settings


def _khabar_names(spec: dict[str, Any], example: dict[str, str]) -> set[str]:
    names = {ref.name for ref in variable_refs(COMPOSE_FILE.read_text(encoding="utf-8"))}
    for service in [*spec["services"].values(), {"environment": spec["x-khabar-env"]}]:
        names.update(environment_of(service))
    names.update(example)
    return {name for name in names if name.startswith("KHABAR_")}


def test_the_settings_resolver_is_strict() -> None:
    assert settings_path("KHABAR_DEDUP__THRESHOLD") == ("dedup", "threshold")
    assert settings_path("KHABAR_BROKER_PASSWORD") == ("broker_password",)
    assert settings_path("KHABAR_TOPICS__RAW") == ("topics", "raw")
    for bad in (
        "KHABAR_DEDUP__NOPE",
        "KHABAR_NOPE",
        "KHABAR_DEDUP",
        "DEDUP__THRESHOLD",
        "KHABAR_PARTITIONS__X",
    ):
        with pytest.raises(KeyError):
            settings_path(bad)


def test_every_khabar_variable_is_a_setting(spec: dict[str, Any], example: dict[str, str]) -> None:
    names = _khabar_names(spec, example)
    assert len(names) >= 15
    unknown = {}
    for name in sorted(names):
        try:
            settings_path(name)
        except KeyError as exc:
            unknown[name] = str(exc)
    assert unknown == {}


def _field(path: tuple[str, ...]) -> Any:
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        model = model.model_fields[part].annotation  # type: ignore[assignment]
    return model.model_fields[path[-1]].annotation


def test_the_values_validate_and_land_in_their_fields(
    rendered: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's rendered environment builds Settings, each value in the field it names."""
    for key in list(os.environ):
        if key.startswith("KHABAR_"):
            monkeypatch.delenv(key)
    env = environment_of(rendered["services"]["worker"])
    khabar = {k: v for k, v in env.items() if k.startswith("KHABAR_")}
    for key, value in khabar.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    for key, raw in khabar.items():
        path = settings_path(key)
        parsed: Any = json.loads(raw) if raw[:1] in "[{" else raw
        expected = TypeAdapter(_field(path)).validate_python(parsed)
        actual = settings_value(settings, path)
        if isinstance(actual, SecretStr):
            actual, expected = actual.get_secret_value(), expected.get_secret_value()
        assert actual == expected, key
    assert settings.broker_url == "kafka://kafka:9092"
    assert settings.web_host == "0.0.0.0" and settings.web_port == 6066
    assert settings.pipeline == ["language", "events"]
    assert settings.dedup.threshold == 0.7


# ------------------------------------------------------------------ .env.example and ports


def test_env_example_documents_exactly_the_compose_variables(example: dict[str, str]) -> None:
    used = {ref.name for ref in variable_refs(COMPOSE_FILE.read_text(encoding="utf-8"))}
    assert used == set(example) - {"COMPOSE_PROJECT_NAME"}
    # Every variable sits under a comment (a block of variables may share one).
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z_]+=", line):
            above = index - 1
            while above >= 0 and re.match(r"[A-Z_]+=", lines[above]):
                above -= 1
            assert above >= 0 and lines[above].startswith("#"), f"{line!r} has no comment"


def test_no_secret_is_written_in_the_compose_file(spec: dict[str, Any]) -> None:
    for name, service in spec["services"].items():
        for key, value in environment_of(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}.{key}"


def test_published_ports_bind_the_host_address_and_are_documented(spec: dict[str, Any]) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    readme = DEPLOY_README.read_text(encoding="utf-8")
    ports: set[str] = set()
    for name, service in spec["services"].items():
        for entry in service.get("ports", []):
            assert str(entry).startswith("${HOST_BIND_ADDRESS:-127.0.0.1}:"), f"{name}: {entry}"
            ports.add(str(entry).rsplit(":", 1)[1])
        ports.update(str(p) for p in service.get("expose", []))
    kafka_env = environment_of(spec["services"]["kafka"])
    ports.update(re.findall(r":(\d+)", kafka_env["KAFKA_LISTENERS"]))
    assert ports == {"29092", "9092", "9093", "6066", "9090", "3000"}
    for port in ports:
        assert re.search(rf"\b{port}\b", header), f"port {port} not in the compose header"
        assert re.search(rf"\b{port}\b", readme), f"port {port} not in deploy/README.md"


def test_deploy_readme_has_the_sections() -> None:
    headings = re.findall(r"^#+ (.+)$", DEPLOY_README.read_text(encoding="utf-8"), re.M)
    for title in (
        "Run on your own Kafka",
        "Scale out",
        "Ports and credentials",
        "What the embedded broker does not give you",
    ):
        assert title in headings


# ------------------------------------------------------------------ mounted monitoring files


def _bind_mounts(service: dict[str, Any]) -> dict[str, str]:
    result = {}
    for entry in service.get("volumes", []):
        source, target, *_ = str(entry).split(":")
        if source.startswith("./"):
            result[source[2:]] = target
    return result


def test_the_mounted_deploy_paths_exist(spec: dict[str, Any]) -> None:
    mounts = {name: _bind_mounts(s) for name, s in spec["services"].items()}
    assert mounts["prometheus"] == {"deploy/prometheus": "/etc/prometheus"}
    assert set(mounts["grafana"]) == {"deploy/grafana/provisioning", "deploy/grafana/dashboards"}
    for service in mounts.values():
        for source in service:
            assert (REPO_ROOT / source).is_dir(), source
    for required in (
        "deploy/prometheus/prometheus.yml",
        "deploy/prometheus/alerts.yml",
        "deploy/grafana/dashboards/khabar.json",
    ):
        assert (REPO_ROOT / required).is_file(), required
    json.loads((REPO_ROOT / "deploy/grafana/dashboards/khabar.json").read_text(encoding="utf-8"))


def test_prometheus_scrapes_every_worker_replica(spec: dict[str, Any]) -> None:
    command = spec["services"]["prometheus"]["command"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    config = yaml.safe_load(
        (REPO_ROOT / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8")
    )
    web_port = int(spec["x-khabar-env"]["KHABAR_WEB_PORT"])
    targets = [
        (name, sd["port"])
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    ]
    assert ("worker", web_port) in targets
    for rule_file in config.get("rule_files", []):
        assert (REPO_ROOT / "deploy/prometheus" / rule_file).is_file(), rule_file


def test_grafana_provisioning_matches_the_mounts(spec: dict[str, Any]) -> None:
    grafana = spec["services"]["grafana"]
    dashboards_target = _bind_mounts(grafana)["deploy/grafana/dashboards"]
    provisioning = REPO_ROOT / "deploy/grafana/provisioning"
    providers = [
        p
        for f in sorted((provisioning / "dashboards").glob("*.y*ml"))
        for p in yaml.safe_load(f.read_text(encoding="utf-8"))["providers"]
    ]
    assert providers and all(p["options"]["path"].startswith(dashboards_target) for p in providers)
    sources = [
        s
        for f in sorted((provisioning / "datasources").glob("*.y*ml"))
        for s in yaml.safe_load(f.read_text(encoding="utf-8"))["datasources"]
    ]
    prometheus_port = str(spec["services"]["prometheus"]["ports"][0]).rsplit(":", 1)[1]
    assert f"http://prometheus:{prometheus_port}" in [s["url"] for s in sources]


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_builds_in_stages_and_runs_as_non_root(instructions: list[Instruction]) -> None:
    stages = [i for i in instructions if i.keyword == "FROM"]
    assert len(stages) >= 2
    assert stages[0].arguments.endswith("AS builder")
    final = stages[-1].stage
    base = expand_dockerfile_args(stages[-1].arguments.split()[0], instructions)
    assert base.startswith("python:3.11-slim"), base
    runtime = [i for i in instructions if i.stage == final]
    assert any(
        i.keyword == "COPY" and "--from=builder" in i.arguments and "/opt/venv" in i.arguments
        for i in runtime
    )
    users = [i.arguments for i in runtime if i.keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert [i.arguments for i in runtime if i.keyword == "EXPOSE"] == ["6066"]
    assert [i.arguments for i in runtime if i.keyword == "ENTRYPOINT"] == ['["khabar"]']
    assert [i.arguments for i in runtime if i.keyword == "CMD"] == ['["worker"]']
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert "khabar" in scripts


def test_dockerfile_installs_cpu_torch_at_the_pinned_version(
    instructions: list[Instruction],
) -> None:
    runs = [
        expand_dockerfile_args(i.arguments, instructions)
        for i in instructions
        if i.keyword == "RUN" and i.stage == 0
    ]
    torch_runs = [r for r in runs if "pip install" in r and "torch==" in r]
    assert len(torch_runs) == 1
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_runs[0].replace('"', "")
    version = re.search(r"torch==([\w.]+)", torch_runs[0])
    pins = re.findall(
        r"^torch==([\w.]+)$", (REPO_ROOT / "constraints.txt").read_text(encoding="utf-8"), re.M
    )
    assert version and pins == [version.group(1)]
    # Everything after torch is installed under the same constraints, so torch is not replaced.
    later = runs[runs.index(torch_runs[0]) + 1 :]
    assert [r for r in later if "pip install" in r]
    assert all("-c constraints.txt" in r for r in later if "pip install" in r)


def test_dockerignore_admits_exactly_what_the_dockerfile_copies(
    instructions: list[Instruction],
) -> None:
    patterns = dockerignore_patterns(DOCKERIGNORE)
    assert patterns[0] == "*"
    admitted = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    sources: set[str] = set()
    for ins in instructions:
        if ins.keyword == "COPY" and "--from=" not in ins.arguments:
            args = [a for a in ins.arguments.split() if not a.startswith("--")]
            sources.update(a.rstrip("/") for a in args[:-1])
    assert sources == admitted
    assert not {".env", ".venv", ".git", "tests"} & admitted


# ------------------------------------------------------------------ the image's health check


class _Metrics(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/metrics" else 404
        body = b"khabar_up 1\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Failing(_Metrics):
    status = 500


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[http.server.HTTPServer] = []

    def start(handler: type[_Metrics]) -> int:
        server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _run_healthcheck(instructions: list[Instruction], port: int) -> int:
    check = next(i.arguments for i in instructions if i.keyword == "HEALTHCHECK")
    assert "curl" not in check and "urllib" in check
    command = check.split(" CMD ", 1)[1]
    env = {
        **os.environ,
        "KHABAR_WEB_PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["/bin/sh", "-c", command], env=env, capture_output=True, timeout=30, check=False
    )
    return done.returncode


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_image_health_check_probes_metrics(instructions: list[Instruction], serve: Any) -> None:
    assert "python" in shlex.split(
        next(i.arguments for i in instructions if i.keyword == "HEALTHCHECK")
    )
    assert _run_healthcheck(instructions, serve(_Metrics)) == 0
    assert _run_healthcheck(instructions, serve(_Failing)) != 0
    assert _run_healthcheck(instructions, _closed_port()) != 0
