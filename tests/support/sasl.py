"""SASL in front of the real embedded broker, for the security tests.

Tansu 0.6 authenticates only with SCRAM, and its users can only be created through a
connection that is already authenticated (``tansu user create`` fails with
NotAuthenticated; PLAIN answers NoSharedMechanism), so a fresh Tansu cannot be logged
into at all. The tests therefore terminate SASL in a small proxy, the same way
``tests/support/tls.py`` terminates TLS: clients run the real Kafka SASL exchange
(SaslHandshake, then SaslAuthenticate steps) against the proxy, which checks PLAIN
credentials against a user table and runs SCRAM-SHA-256/512 with the ``scramp`` server
implementation. Once a client is authenticated the proxy pipes its bytes to plain
Tansu unchanged. Tansu advertises the proxy's port, so every connection of every
client (the bootstrap one and the per-broker ones) authenticates.

Only the start of each connection is parsed: request frames are ``int32 size`` plus
request header v1 (``int16 api_key, int16 api_version, int32 correlation_id,
nullable int16-length client_id``) plus the body; responses are ``int32 size`` plus
``int32 correlation_id`` plus the body (response header v0, which is what the
non-flexible versions handled here use). Bodies are decoded and encoded with
aiokafka's own protocol classes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import struct
from dataclasses import dataclass, field
from typing import Any

from aiokafka.protocol.admin import (
    ApiVersionResponse_v0,
    ApiVersionResponse_v1,
    ApiVersionResponse_v2,
    SaslAuthenticateRequest_v0,
    SaslAuthenticateRequest_v1,
    SaslAuthenticateResponse_v0,
    SaslAuthenticateResponse_v1,
    SaslHandShakeRequest_v0,
    SaslHandShakeRequest_v1,
    SaslHandShakeResponse_v0,
    SaslHandShakeResponse_v1,
)
from scramp import ScramException, ScramMechanism

from streams.broker import free_port
from tests.support.proxy import ServerThread, pipe

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
NONE, UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 0, 33, 58
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# The request versions this proxy speaks (the non-flexible ones); the ApiVersions answer
# relayed to clients is clamped to them, so no client picks a version it cannot parse.
SUPPORTED: dict[int, tuple[int, int]] = {SASL_HANDSHAKE: (0, 1), SASL_AUTHENTICATE: (0, 1)}
# Kafka's own limit for one SASL frame before authentication; anything larger is garbage
MAX_UNAUTHENTICATED_FRAME = 524_288

_API_VERSIONS_RESPONSES: dict[int, Any] = {0: ApiVersionResponse_v0, 1: ApiVersionResponse_v1,
                                           2: ApiVersionResponse_v2}
_HANDSHAKE = {0: (SaslHandShakeRequest_v0, SaslHandShakeResponse_v0),
              1: (SaslHandShakeRequest_v1, SaslHandShakeResponse_v1)}
_AUTHENTICATE = {0: (SaslAuthenticateRequest_v0, SaslAuthenticateResponse_v0),
                 1: (SaslAuthenticateRequest_v1, SaslAuthenticateResponse_v1)}


class AuthenticationFailed(Exception):
    """A client's SASL token was malformed or its credentials are wrong."""


class _Closed(Exception):
    """The proxy ends the connection (a protocol violation or a failed authentication)."""


@dataclass
class RequestHeader:
    """Request header v1 of one Kafka request frame."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    body: bytes

    @classmethod
    def parse(cls, frame: bytes) -> RequestHeader:
        """Split ``frame`` (without its size prefix) into the header fields and the body.

        Raises:
            _Closed: The frame is too short to hold a header.
        """
        if len(frame) < 10:
            raise _Closed("request frame shorter than a header")
        api_key, api_version, correlation_id, id_len = struct.unpack_from(">hhih", frame)
        offset = 10 + max(id_len, 0)
        client_id = frame[10:offset].decode("utf-8", "replace") if id_len >= 0 else None
        return cls(api_key, api_version, correlation_id, client_id, frame[offset:])


def response_frame(correlation_id: int, body: bytes) -> bytes:
    """``int32 size`` + response header v0 (``int32 correlation_id``) + ``body``."""
    return struct.pack(">ii", 4 + len(body), correlation_id) + body


async def read_frame(reader: asyncio.StreamReader, limit: int | None = None) -> bytes:
    """One size-prefixed frame, without its size.

    Raises:
        asyncio.IncompleteReadError: The peer closed the connection.
        _Closed: The frame is larger than ``limit``.
    """
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    if size < 0 or (limit is not None and size > limit):
        raise _Closed(f"frame of {size} bytes before authentication")
    return await reader.readexactly(size)


class Authenticator:
    """The server side of one SASL exchange: token in, token out, until :attr:`done`."""

    username: str | None = None
    done: bool = False

    def step(self, token: bytes) -> bytes:
        """Answer one client token.

        Raises:
            AuthenticationFailed: Bad credentials or a malformed token.
        """
        raise NotImplementedError


class PlainAuthenticator(Authenticator):
    """RFC 4616 PLAIN: one token, ``authzid NUL authcid NUL password``."""

    def __init__(self, users: dict[str, str]) -> None:
        self._users = users

    def step(self, token: bytes) -> bytes:
        parts = token.split(b"\0")
        if len(parts) != 3:
            raise AuthenticationFailed("malformed PLAIN token")
        try:
            authzid, authcid, password = (p.decode("utf-8") for p in parts)
        except UnicodeDecodeError:
            raise AuthenticationFailed("malformed PLAIN token") from None
        expected = self._users.get(authcid)
        # aiokafka sends the user name as authzid too; acting as someone else is not offered
        if authzid not in ("", authcid) or expected is None or not hmac.compare_digest(
                password.encode(), expected.encode()):
            raise AuthenticationFailed("invalid credentials")
        self.username, self.done = authcid, True
        return b""  # aiokafka asserts an empty answer to PLAIN


class ScramAuthenticator(Authenticator):
    """RFC 5802 SCRAM (no channel binding): client-first → server-first, client-final → server-final."""

    def __init__(self, mechanism: ScramMechanism, auth_info: dict[str, tuple[bytes, bytes, bytes, int]]) -> None:
        self._server = mechanism.make_server(self._lookup)
        self._auth_info = auth_info
        self._first = True

    def _lookup(self, username: str) -> tuple[bytes, bytes, bytes, int] | None:
        # scramp calls this with the user name of client-first; None means unknown user
        self.username = username
        return self._auth_info.get(username)

    def step(self, token: bytes) -> bytes:
        try:
            if self._first:
                self._first = False
                self._server.set_client_first(token.decode("utf-8"))
                return str(self._server.get_server_first()).encode()
            self._server.set_client_final(token.decode("utf-8"))
            self.done = True
            return str(self._server.get_server_final()).encode()
        except (ScramException, UnicodeDecodeError) as exc:
            # scramp's messages describe the failure ("client keys don't match"), never a secret
            raise AuthenticationFailed(str(exc)) from None


@dataclass
class SaslProxy:
    """SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) on ``port`` → plain Kafka to ``target_port``.

    Runs in a background thread with its own event loop. Passwords live only in
    ``users`` (PLAIN compares them) and, for SCRAM, as the salted keys derived at start.

    Attributes:
        users: User name → password.
        authenticated: ``(mechanism, user name)`` per successful authentication.
        failures: Failed authentications (bad credentials or malformed tokens).
        failure_messages: The error messages sent with those failures.
        refused: Connections closed for a request not allowed before authentication.
        upstream_api_versions: Tansu's own ``api_key → (min, max)`` for SaslHandshake and
            SaslAuthenticate, from the last ApiVersions answer relayed (absent: not listed).
        sasl_api_versions: What clients are told instead for those two APIs; lowering
            SaslHandshake to ``(0, 0)`` makes clients send bare tokens (pre-Kafka-1.0 style).
    """

    target_port: int
    users: dict[str, str] = field(repr=False)  # keeps the passwords out of pytest's failure output
    port: int = field(default_factory=free_port)
    mechanisms: tuple[str, ...] = MECHANISMS
    scram_iterations: int = 4096  # Kafka's minimum, and scramp's default for SHA-256
    connections: int = 0
    authenticated: list[tuple[str, str]] = field(default_factory=list)
    failures: int = 0
    failure_messages: list[str] = field(default_factory=list)
    refused: int = 0
    upstream_api_versions: dict[int, tuple[int, int]] = field(default_factory=dict)
    sasl_api_versions: dict[int, tuple[int, int]] = field(default_factory=lambda: dict(SUPPORTED))
    _scram: dict[str, tuple[ScramMechanism, dict[str, tuple[bytes, bytes, bytes, int]]]] = field(
        default_factory=dict, repr=False)
    _server: ServerThread | None = field(default=None, repr=False)

    # ------------------------------------------------------------ authentication

    def _authenticator(self, mechanism: str) -> Authenticator:
        if mechanism == "PLAIN":
            return PlainAuthenticator(self.users)
        scram, auth_info = self._scram[mechanism]
        return ScramAuthenticator(scram, auth_info)

    def _prepare_scram(self) -> None:
        """Derive salt, StoredKey and ServerKey per user and mechanism, as a broker stores them."""
        for mechanism in self.mechanisms:
            if mechanism.startswith("SCRAM-"):
                scram = ScramMechanism(mechanism)
                self._scram[mechanism] = (scram, {
                    user: scram.make_auth_info(password, iteration_count=self.scram_iterations)
                    for user, password in self.users.items()})

    # ------------------------------------------------------------ per connection

    async def _api_versions(self, request: RequestHeader, frame: bytes, upstream: asyncio.StreamReader,
                            up_writer: asyncio.StreamWriter) -> bytes:
        """Relay an ApiVersions request to Tansu; return its answer with the SASL APIs set to ours."""
        up_writer.write(struct.pack(">i", len(frame)) + frame)
        await up_writer.drain()
        answer = await read_frame(upstream)
        response_type = _API_VERSIONS_RESPONSES.get(request.api_version)
        if response_type is None:
            # a flexible version aiokafka cannot decode: relay untouched (aiokafka asks for v2)
            return struct.pack(">i", len(answer)) + answer
        (correlation_id,) = struct.unpack_from(">i", answer)
        response = response_type.decode(answer[4:])
        listed = {key: (low, high) for key, low, high in response.api_versions}
        self.upstream_api_versions = {key: listed[key] for key in SUPPORTED if key in listed}
        # add the SASL APIs if Tansu did not list them, and clamp them to what this proxy parses
        ours = self.sasl_api_versions
        response.api_versions = [entry for entry in response.api_versions if entry[0] not in ours] + [
            (key, low, high) for key, (low, high) in ours.items()]
        return response_frame(correlation_id, response.encode())

    async def _authenticate(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            upstream: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
        """Run requests until the client is authenticated.

        Raises:
            _Closed: The connection must end (bad credentials, a request out of order).
            asyncio.IncompleteReadError: The client went away.
        """
        authenticator: Authenticator | None = None
        mechanism = ""
        raw_tokens = False  # SaslHandshake v0: the tokens follow as bare size-prefixed frames
        while True:
            frame = await read_frame(reader, MAX_UNAUTHENTICATED_FRAME)
            if raw_tokens and authenticator is not None:
                try:
                    answer = authenticator.step(frame)
                except AuthenticationFailed as exc:
                    self._failed(mechanism, exc)
                    raise _Closed("authentication failed") from None  # no error channel without headers
                writer.write(struct.pack(">i", len(answer)) + answer)
                await writer.drain()
                if authenticator.done:
                    self._succeeded(mechanism, authenticator)
                    return
                continue
            request = RequestHeader.parse(frame)
            if request.api_key == API_VERSIONS:
                if not upstream:
                    upstream.append(await asyncio.open_connection("127.0.0.1", self.target_port))
                writer.write(await self._api_versions(request, frame, *upstream[0]))
            elif request.api_key == SASL_HANDSHAKE and authenticator is None and request.api_version in _HANDSHAKE:
                request_type, response_type = _HANDSHAKE[request.api_version]
                mechanism = request_type.decode(request.body).mechanism
                enabled = list(self.mechanisms)
                if mechanism not in enabled:
                    writer.write(response_frame(request.correlation_id,
                                                response_type(UNSUPPORTED_SASL_MECHANISM, enabled).encode()))
                    await writer.drain()
                    raise _Closed(f"unsupported mechanism {mechanism}")
                authenticator = self._authenticator(mechanism)
                raw_tokens = request.api_version == 0
                writer.write(response_frame(request.correlation_id, response_type(NONE, enabled).encode()))
            elif (request.api_key == SASL_AUTHENTICATE and authenticator is not None
                  and request.api_version in _AUTHENTICATE):
                request_type, response_type = _AUTHENTICATE[request.api_version]
                token = request_type.decode(request.body).sasl_auth_bytes or b""
                extra = (0,) if request.api_version >= 1 else ()  # session_lifetime_ms: no re-authentication
                try:
                    answer = authenticator.step(token)
                except AuthenticationFailed as exc:
                    message = self._failed(mechanism, exc)
                    writer.write(response_frame(request.correlation_id, response_type(
                        SASL_AUTHENTICATION_FAILED, message, b"", *extra).encode()))
                    await writer.drain()
                    raise _Closed("authentication failed") from None
                writer.write(response_frame(request.correlation_id,
                                            response_type(NONE, None, answer, *extra).encode()))
                if authenticator.done:
                    await writer.drain()
                    self._succeeded(mechanism, authenticator)
                    return
            else:
                # Kafka brokers close the connection too (IllegalSaslState): nothing else is
                # allowed before authentication, so nothing unauthenticated reaches Tansu
                self.refused += 1
                raise _Closed(f"api_key {request.api_key} v{request.api_version} before authentication")
            await writer.drain()

    def _failed(self, mechanism: str, exc: AuthenticationFailed) -> str:
        self.failures += 1
        # like Kafka's message: it names the mechanism, not the user or what was sent
        message = f"Authentication failed during authentication due to invalid credentials with SASL " \
                  f"mechanism {mechanism} ({exc})"
        self.failure_messages.append(message)
        return message

    def _succeeded(self, mechanism: str, authenticator: Authenticator) -> None:
        assert authenticator.username is not None
        self.authenticated.append((mechanism, authenticator.username))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        # opened by the first ApiVersions, which Tansu itself answers, and kept for the pipe
        upstream: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        try:
            await self._authenticate(reader, writer, upstream)
            if not upstream:
                upstream.append(await asyncio.open_connection("127.0.0.1", self.target_port))
        except (_Closed, asyncio.IncompleteReadError, OSError, ConnectionError):
            for w in [writer] + [w for _, w in upstream]:
                with contextlib.suppress(Exception):
                    w.close()
            return
        up_reader, up_writer = upstream[0]
        # from here on the proxy is a plain pipe: Tansu sees the client's requests unchanged
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    # ------------------------------------------------------------ lifecycle

    def start(self) -> SaslProxy:
        """Listen on ``port`` in a background thread; return once it accepts connections."""
        self._prepare_scram()
        self._server = ServerThread(self._handle, self.port, "sasl-proxy")
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop listening and end the thread (open connections die with the loop)."""
        if self._server is not None:
            self._server.stop()

