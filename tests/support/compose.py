"""Helpers for checking the deployment files: docker-compose.yml, .env.example, the Dockerfile.

Nothing here needs a Docker engine. ``docker compose config`` (or Debian's
``docker-compose`` 1.29, installed with apt-get when neither is present) only
parses, validates and interpolates the compose file.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from khabar.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

#: Serialises apt-get between test processes (apt's own lock fails instead of waiting).
APT_LOCK = Path("/tmp/khabar-apt.lock")

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
_DOCKERFILE_VARIABLE = re.compile(r"\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class VariableRef:
    """One ``${NAME}``, ``${NAME:-default}`` or ``${NAME:?message}`` in a compose file."""

    name: str
    operator: str | None
    argument: str | None

    @property
    def default(self) -> str | None:
        """The fallback value after ``:-`` or ``-``, if any."""
        return self.argument if self.operator in (":-", "-") else None

    @property
    def required(self) -> bool:
        """True for ``${NAME:?...}`` and ``${NAME?...}``: compose refuses to run without it."""
        return self.operator in (":?", "?")


def variable_refs(text: str) -> list[VariableRef]:
    """Every ``${...}`` interpolation in a compose file's text.

    ``$$`` escapes and whole-line comments (which compose never interpolates) are skipped.

    Args:
        text: The compose file's content.

    Returns:
        The references in order of appearance, repeats included.
    """
    lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
    text = "\n".join(lines).replace("$$", "")
    return [VariableRef(m["name"], m["op"], m["arg"]) for m in _VARIABLE.finditer(text)]


def parse_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a dotenv file; blank lines and ``#`` comments skipped.

    Values are taken verbatim (the project's files use no quotes).

    Args:
        path: The dotenv file.

    Returns:
        The variables in file order.

    Raises:
        ValueError: A line is neither a comment nor ``KEY=VALUE``, or a key repeats.
    """
    result: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{path}:{lineno}: not KEY=VALUE: {line!r}")
        if key in result:
            raise ValueError(f"{path}:{lineno}: {key} is set twice")
        result[key] = value
    return result


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as YAML data (anchors and ``<<`` merges resolved, no interpolation)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's ``environment`` as a dict, whether written as a mapping or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``Model`` or ``Model | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for m in map(_model_of, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def settings_path(env_name: str, settings_cls: type[Settings] = Settings) -> tuple[str, ...]:
    """The field path an environment variable sets, e.g. ``KHABAR_DEDUP__THRESHOLD`` → dedup.threshold.

    Follows the settings class's own ``env_prefix`` and ``env_nested_delimiter``.

    Args:
        env_name: The variable's name.
        settings_cls: The settings class to resolve against.

    Returns:
        Field names from the settings class down to the leaf field.

    Raises:
        KeyError: The name lacks the prefix, or a part names no field.
    """
    prefix = str(settings_cls.model_config.get("env_prefix") or "")
    delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "")
    if not env_name.upper().startswith(prefix.upper()):
        raise KeyError(f"{env_name} lacks the prefix {prefix!r}")
    rest = env_name[len(prefix) :].lower()
    parts = rest.split(delimiter) if delimiter else [rest]
    model: type[BaseModel] | None = settings_cls
    path: list[str] = []
    for part in parts:
        if model is None or part not in model.model_fields:
            where = ".".join(path) or settings_cls.__name__
            raise KeyError(f"{env_name}: {where} has no field {part!r}")
        path.append(part)
        model = _model_of(model.model_fields[part].annotation)
    if model is not None:
        raise KeyError(f"{env_name} names the group {'.'.join(path)}, not a setting")
    return tuple(path)


def settings_value(settings: BaseModel, path: tuple[str, ...]) -> Any:
    """The value at a field path of a settings object."""
    value: Any = settings
    for part in path:
        value = getattr(value, part)
    return value


def clean_environment(drop: Iterable[str]) -> dict[str, str]:
    """This process's environment without the given names and without any ``KHABAR_*``.

    compose gives the process environment precedence over ``--env-file``; a
    developer's shell must not change what the tests see.
    """
    dropped = set(drop)
    return {
        key: value
        for key, value in os.environ.items()
        if key not in dropped and not key.startswith("KHABAR_") and not key.startswith("COMPOSE_")
    }


def _works(argv: list[str]) -> bool:
    try:
        done = subprocess.run(
            [*argv, "version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def ensure_docker_compose() -> list[str]:
    """A command that runs compose: ``docker compose``, else ``docker-compose``.

    When neither works, installs Debian's ``docker-compose`` package with apt-get
    (as CI does, running as root), holding :data:`APT_LOCK` so that parallel test
    processes do not run apt at once.

    Returns:
        The argv prefix, e.g. ``["docker", "compose"]``.

    Raises:
        RuntimeError: No compose could be found or installed.
    """
    candidates = [["docker", "compose"], ["docker-compose"]]
    for argv in candidates:
        if shutil.which(argv[0]) and _works(argv):
            return argv
    if os.geteuid() != 0:
        raise RuntimeError("no docker compose / docker-compose, and not root to apt-get install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with APT_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shutil.which("docker-compose") and _works(["docker-compose"])):
            log: list[str] = []
            for cmd in (
                ["apt-get", "update", "-qq"],
                [
                    "apt-get",
                    "install",
                    "-y",
                    "-qq",
                    "-o",
                    "DPkg::Lock::Timeout=600",
                    "--no-install-recommends",
                    "docker-compose",
                ],
            ):
                done = subprocess.run(
                    cmd, capture_output=True, text=True, env=env, timeout=900, check=False
                )
                log.append(
                    f"$ {' '.join(cmd)} -> {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
                if done.returncode != 0:
                    raise RuntimeError("installing docker-compose failed:\n" + "\n".join(log))
    if not _works(["docker-compose"]):
        raise RuntimeError("docker-compose installed but `docker-compose version` fails")
    return ["docker-compose"]


def compose_config(
    compose: list[str],
    env_file: Path,
    compose_file: Path = COMPOSE_FILE,
    environ: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``compose -f FILE --env-file ENV config`` and return the finished process.

    Args:
        compose: The argv prefix from :func:`ensure_docker_compose`.
        env_file: The dotenv file used for interpolation.
        compose_file: The compose file.
        environ: Environment of the compose process (default: this process's).

    Returns:
        The completed process; stdout holds the rendered configuration on success.
    """
    return subprocess.run(
        [*compose, "-f", str(compose_file), "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=compose_file.parent,
        env=dict(environ) if environ is not None else None,
    )


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    arguments: str
    stage: int
    """Index of the build stage (0 for the first FROM; -1 before any FROM)."""


def dockerfile_instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, comments dropped and ``\\`` continuations joined."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current.strip():
        logical.append(current)
    result: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        result.append(Instruction(keyword, " ".join(arguments.split()), stage))
    return result


def expand_dockerfile_args(value: str, instructions: list[Instruction]) -> str:
    """Replace ``$NAME``/``${NAME}`` with the default of ``ARG NAME=default`` (if declared)."""
    defaults: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ARG" and "=" in ins.arguments:
            name, _, default = ins.arguments.partition("=")
            defaults.setdefault(name.strip(), default.strip().strip('"'))
    return _DOCKERFILE_VARIABLE.sub(lambda m: defaults.get(m["name"], m.group(0)), value)


def dockerignore_patterns(path: Path = DOCKERIGNORE) -> list[str]:
    """Patterns of a .dockerignore, comments and blank lines dropped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]
