"""TLS in front of the real embedded broker, for the security tests.

Tansu 0.6's own TLS listener did not complete a handshake with aiokafka here
(``--cert`` and ``--key`` are mutually exclusive in its CLI, and a combined PEM
gave "early eof"), so the tests terminate TLS in a small proxy: clients speak
TLS (optionally mutual) to the proxy, the proxy speaks plain Kafka to Tansu,
and Tansu advertises the proxy's port, so every connection of every client goes
through TLS.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization

from streams.broker import free_port
from tests.support.proxy import ServerThread, pipe


@dataclass
class Pki:
    """A throwaway CA, a server certificate and a client certificate with an encrypted key."""

    dir: Path
    ca: trustme.CA
    server: trustme.LeafCert
    key_password: str

    @property
    def cafile(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def client_cert(self) -> Path:
        return self.dir / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.dir / "client.key"


def make_pki(directory: Path, key_password: str, server_names: tuple[str, ...] = ("127.0.0.1",)) -> Pki:
    """Write a CA, and a client certificate whose key is encrypted with ``key_password``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    server = ca.issue_cert(*server_names)
    client = ca.issue_cert("khabar-client@example.org")
    client.cert_chain_pems[0].write_to_path(str(directory / "client.pem"))
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    (directory / "client.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password.encode())))
    return Pki(directory, ca, server, key_password)


@dataclass
class TlsProxy:
    """TLS on ``port`` → plain TCP to ``target_port``, in a background thread."""

    pki: Pki
    target_port: int
    require_client_cert: bool = True
    port: int = field(default_factory=free_port)
    handshakes: int = 0
    client_subjects: list[str] = field(default_factory=list)
    _server: ServerThread | None = None

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.pki.server.configure_cert(ctx)
        if self.require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            self.pki.ca.configure_trust(ctx)
        return ctx

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        cert = writer.get_extra_info("peercert")
        if cert:
            self.client_subjects.append(str(cert.get("subjectAltName")))
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def start(self) -> TlsProxy:
        self._server = ServerThread(self._handle, self.port, "tls-proxy", ssl_context=self._context())
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
