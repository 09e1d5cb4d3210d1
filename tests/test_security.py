"""Kafka connection security (issue 8): settings, the two builders, real TLS and SASL round trips.

Every protocol and mechanism goes through both builders, and the Faust one must give
aiokafka exactly what the aiokafka one gives (Faust converts its credentials with
``credentials_to_aiokafka_auth``). The TLS tests run the real broker behind a
TLS-terminating proxy with client certificates (see ``tests/support/tls.py``). The SASL
tests run it behind a SASL-terminating proxy (see ``tests/support/sasl.py``): Tansu 0.6
accepts no login until a user is created through an already-authenticated connection,
so the proxy runs the Kafka SASL exchange (PLAIN checked against its user table, SCRAM
by the ``scramp`` server) and then pipes to Tansu; Tansu advertises the proxy's port,
so every client connection authenticates, and the records really pass through Tansu.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr, ValidationError

from khabar.config import KafkaSecurity, Settings
from streams.broker import EmbeddedBroker, free_port
from streams.errors import TopicSetupError
from streams.replay import collect, produce
from streams.security import SecurityConfigError, aiokafka_kwargs, faust_credentials, ssl_context
from streams.topics import create_topics, topic_specs
from tests.support.sasl import SaslProxy
from tests.support.stack import unique_settings
from tests.support.tls import Pki, TlsProxy, make_pki

PASSWORD = "pw-Zq81-never-printed"
KEY_PASSWORD = "key-Jh42-never-printed"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), KEY_PASSWORD)


def _tls(pki: Pki, protocol: str = "SSL", **extra: object) -> KafkaSecurity:
    return KafkaSecurity(security_protocol=protocol, ssl_cafile=pki.cafile, ssl_certfile=pki.client_cert,  # type: ignore[arg-type]
                         ssl_keyfile=pki.client_key, ssl_key_password=SecretStr(KEY_PASSWORD), **extra)


# ------------------------------------------------------------------ settings


def test_the_group_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setenv("KHABAR_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KHABAR_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KHABAR_KAFKA__USERNAME", "khabar")
    monkeypatch.setenv("KHABAR_KAFKA__PASSWORD", PASSWORD)
    monkeypatch.setenv("KHABAR_KAFKA__SSL_CAFILE", str(pki.cafile))
    monkeypatch.setenv("KHABAR_KAFKA__SSL_CHECK_HOSTNAME", "false")
    k = Settings().kafka
    assert (k.security_protocol, k.sasl_mechanism, k.username) == ("SASL_SSL", "SCRAM-SHA-512", "khabar")
    assert k.password is not None and k.password.get_secret_value() == PASSWORD
    assert k.ssl_cafile == pki.cafile and k.ssl_check_hostname is False


@pytest.mark.parametrize(("fields", "message"), [
    ({"security_protocol": "SASL_PLAINTEXT"}, "needs kafka.username"),
    ({"security_protocol": "SASL_SSL", "username": "u"}, "needs kafka.username and kafka.password"),
    ({"username": "u", "password": "p"}, "use SASL_PLAINTEXT or SASL_SSL"),
    ({"security_protocol": "SSL", "ssl_cafile": "/no/such/ca.pem"}, "is not a readable file"),
    ({"ssl_cafile": "/etc/hostname"}, "use SSL or SASL_SSL"),
    ({"security_protocol": "SSL", "ssl_keyfile": "/etc/hostname"}, "needs kafka.ssl_certfile"),
    ({"security_protocol": "GSSAPI"}, "security_protocol"),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER", "username": "u", "password": "p"},
     "sasl_mechanism"),
])
def test_inconsistent_settings_fail_fast(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KafkaSecurity(**fields)  # type: ignore[arg-type]


def test_the_old_variables_still_mean_sasl_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHABAR_BROKER_USERNAME", "legacy")
    monkeypatch.setenv("KHABAR_BROKER_PASSWORD", PASSWORD)
    k = Settings().kafka
    assert (k.security_protocol, k.sasl_mechanism, k.username) == ("SASL_PLAINTEXT", "PLAIN", "legacy")
    assert k.password is not None and k.password.get_secret_value() == PASSWORD
    monkeypatch.setenv("KHABAR_KAFKA__USERNAME", "someone-else")
    with pytest.raises(ValidationError, match="both set and differ"):
        Settings()


def test_secrets_stay_out_of_repr_dumps_and_credentials(pki: Pki) -> None:
    s = Settings(kafka=KafkaSecurity(security_protocol="SASL_SSL", username="u",  # type: ignore[arg-type]
                                     password=PASSWORD, ssl_cafile=pki.cafile, ssl_certfile=pki.client_cert,
                                     ssl_keyfile=pki.client_key, ssl_key_password=KEY_PASSWORD))
    for text in (repr(s), str(s), s.model_dump_json(), repr(s.model_dump()), repr(faust_credentials(s.kafka))):
        assert PASSWORD not in text and KEY_PASSWORD not in text


# ------------------------------------------------------------------ builders

MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def _security(protocol: str, mechanism: str, pki: Pki) -> KafkaSecurity:
    sasl = {"username": "khabar", "password": PASSWORD, "sasl_mechanism": mechanism} if "SASL" in protocol else {}
    tls = ({"ssl_cafile": pki.cafile, "ssl_certfile": pki.client_cert, "ssl_keyfile": pki.client_key,
            "ssl_key_password": KEY_PASSWORD} if protocol.endswith("SSL") else {})
    return KafkaSecurity(security_protocol=protocol, **sasl, **tls)  # type: ignore[arg-type]


# the mechanism only matters with SASL
COMBINATIONS = [("PLAINTEXT", "PLAIN"), ("SSL", "PLAIN")] + [
    (protocol, mechanism) for protocol in ("SASL_PLAINTEXT", "SASL_SSL") for mechanism in MECHANISMS]


@pytest.mark.parametrize(("protocol", "mechanism"), COMBINATIONS)
def test_both_builders_agree_for_every_protocol_and_mechanism(protocol: str, mechanism: str, pki: Pki) -> None:
    sec = _security(protocol, mechanism, pki)
    kwargs = aiokafka_kwargs(sec)
    creds = faust_credentials(sec)
    assert kwargs["security_protocol"] == protocol
    if protocol == "PLAINTEXT":
        assert creds is None and kwargs == {"security_protocol": "PLAINTEXT"}
    elif protocol == "SSL":
        assert isinstance(creds, faust.SSLCredentials)
        assert set(kwargs) == {"security_protocol", "ssl_context"}
    else:
        assert isinstance(creds, faust.SASLCredentials)
        assert kwargs["sasl_mechanism"] == mechanism == creds.mechanism.value
        assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("khabar", PASSWORD)
        assert ("ssl_context" in kwargs) == (protocol == "SASL_SSL")
    # what Faust hands aiokafka is what our other clients get
    faust_side = dict(credentials_to_aiokafka_auth(creds))
    for key in ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert faust_side.get(key) == kwargs.get(key), key
    assert (faust_side.get("ssl_context") is None) == (kwargs.get("ssl_context") is None)

    async def construct() -> None:
        # aiokafka validates the combination in its constructors; no connection is made
        AIOKafkaProducer(bootstrap_servers="127.0.0.1:9", **kwargs)
        AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9", **kwargs)
        await AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:9", **kwargs).close()

    asyncio.run(construct())


def test_the_tls_context_verifies_the_broker(pki: Pki) -> None:
    ctx = ssl_context(_tls(pki))
    assert ctx is not None and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    relaxed = ssl_context(_tls(pki, ssl_check_hostname=False))
    assert relaxed is not None and not relaxed.check_hostname and relaxed.verify_mode == ssl.CERT_REQUIRED
    assert ssl_context(KafkaSecurity()) is None


def test_a_wrong_key_password_is_a_clear_error_without_the_password(pki: Pki) -> None:
    bad = KafkaSecurity(security_protocol="SSL", ssl_certfile=pki.client_cert, ssl_keyfile=pki.client_key,  # type: ignore[arg-type]
                        ssl_key_password="not-the-password")
    with pytest.raises(SecurityConfigError, match="TLS material") as info:
        ssl_context(bad)
    assert "not-the-password" not in str(info.value)


# ------------------------------------------------------------------ a real TLS round trip


@pytest.fixture(scope="module")
def tls_broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedBroker, TlsProxy]]:
    """Tansu reachable only through a TLS proxy that requires a client certificate."""
    proxy_port = free_port()
    broker = EmbeddedBroker(log_path=tmp_path_factory.mktemp("tls") / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TlsProxy(pki, broker.port, port=proxy_port).start()
    try:
        yield broker, proxy
    finally:
        proxy.stop()
        broker.stop()


def test_topics_replay_and_collect_work_over_mutual_tls(tls_broker: tuple[EmbeddedBroker, TlsProxy], pki: Pki,
                                                        tmp_path: Path) -> None:
    _, proxy = tls_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    settings = unique_settings(url, tmp_path, partitions=2)
    sec = _tls(pki)
    before = proxy.handshakes
    assert asyncio.run(create_topics(url, topic_specs(settings), security=sec, timeout=15))
    records = [(f"tls-{i}", f'{{"n": {i}}}'.encode()) for i in range(20)]
    assert asyncio.run(produce(url, settings.topics.raw, records, security=sec)) == 20
    got = asyncio.run(collect(url, [settings.topics.raw], lambda c: len(c.of(settings.topics.raw)) >= 20,
                              timeout=30, security=sec))
    assert sorted(r["n"] for r in got.of(settings.topics.raw)) == list(range(20))
    assert proxy.handshakes > before  # every connection went through TLS ...
    assert any("khabar-client@example.org" in s for s in proxy.client_subjects)  # ... with our client cert


@pytest.mark.parametrize("case", ["plaintext", "no client certificate", "untrusted CA"])
def test_clients_without_the_right_tls_material_are_refused(tls_broker: tuple[EmbeddedBroker, TlsProxy], pki: Pki,
                                                            tmp_path: Path, case: str) -> None:
    _, proxy = tls_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    if case == "plaintext":
        sec = KafkaSecurity()
    elif case == "no client certificate":
        sec = KafkaSecurity(security_protocol="SSL", ssl_cafile=pki.cafile)  # type: ignore[arg-type]
    else:
        other = make_pki(tmp_path / "other", "x")
        sec = KafkaSecurity(security_protocol="SSL", ssl_cafile=other.cafile, ssl_certfile=pki.client_cert,  # type: ignore[arg-type]
                            ssl_keyfile=pki.client_key, ssl_key_password=KEY_PASSWORD)
    with pytest.raises(TopicSetupError, match="cannot reach"):
        asyncio.run(create_topics(url, topic_specs(unique_settings(url, tmp_path)), security=sec, timeout=4))


# ------------------------------------------------------------------ a live worker over TLS


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_a_live_worker_over_tls_keeps_secrets_and_serves_read_only_pages(
        tls_broker: tuple[EmbeddedBroker, TlsProxy], pki: Pki, tmp_path: Path) -> None:
    import httpx

    from khabar.corpus import iter_sources
    from streams.replay import replay_records
    from streams.worker import spawn_worker, stop_process, wait_for_metrics
    from tests.support.stack import accounted_ids, settings_env

    _, proxy = tls_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    settings = unique_settings(url, tmp_path, partitions=2)
    sec = _tls(pki)
    asyncio.run(create_topics(url, topic_specs(settings), security=sec, timeout=15))
    port = free_port()
    log = tmp_path / "worker.log"
    env = settings_env(settings) | {
        "KHABAR_WEB_PORT": str(port), "KHABAR_LOG_LEVEL": "debug", "PYTHONUNBUFFERED": "1",
        "KHABAR_KAFKA__SECURITY_PROTOCOL": "SSL", "KHABAR_KAFKA__SSL_CAFILE": str(pki.cafile),
        "KHABAR_KAFKA__SSL_CERTFILE": str(pki.client_cert), "KHABAR_KAFKA__SSL_KEYFILE": str(pki.client_key),
        "KHABAR_KAFKA__SSL_KEY_PASSWORD": KEY_PASSWORD,
    }
    proc = spawn_worker(env, log_path=log)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_metrics(f"{base}/metrics", proc, timeout=90)
        records = list(replay_records(list(iter_sources([Path(__file__).parents[1] / "seeds"])), loops=2))
        asyncio.run(produce(url, settings.topics.raw, records, security=sec))
        ids = {k for k, _ in records}
        t = settings.topics
        asyncio.run(collect(url, [t.enriched, t.duplicates, t.deadletter],
                            lambda c: ids <= accounted_ids(c, settings), timeout=120, security=sec))

        # the web server: loopback only, GET-only, no table/router/stats pages
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        with httpx.Client(base_url=base, timeout=5) as http:
            metrics = http.get("/metrics")
            assert metrics.status_code == 200 and "khabar_worker_info" in metrics.text
            assert http.get("/").json() == {"status": "OK"}
            for path in ("/table/", "/router/", "/stats/", "/graph/", "/assignment/", "/performance/"):
                assert http.get(path).status_code == 404, path
            articles_before = metrics.text.count("khabar_articles_in_total")
            for path in ("/", "/metrics"):
                for method in ("POST", "PUT", "PATCH", "DELETE"):
                    assert http.request(method, path, content=b"{}").status_code == 405, (method, path)
            assert http.get("/metrics").text.count("khabar_articles_in_total") == articles_before

        # the key password is nowhere: not on /metrics (worker-info included), not in a debug log
        assert KEY_PASSWORD not in metrics.text
        info = [line for line in metrics.text.splitlines() if line.startswith("khabar_worker_info")]
        assert info and all(KEY_PASSWORD not in line and "ssl" not in line.lower() for line in info)
    finally:
        stop_process(proc)
    text = log.read_text(errors="replace")
    assert "DEBUG" in text and KEY_PASSWORD not in text  # a debug log, and still no password


# ------------------------------------------------------------------ real SASL round trips

SASL_USER = "khabar"
WORKER_USER, WORKER_PASSWORD = "khabar-worker", "wk-Pq93-never-printed"


def _sasl(mechanism: str, password: str = PASSWORD, username: str = SASL_USER) -> KafkaSecurity:
    return KafkaSecurity(security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,  # type: ignore[arg-type]
                         username=username, password=SecretStr(password))


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedBroker, SaslProxy]]:
    """Tansu reachable only through a proxy that requires SASL (PLAIN, SCRAM-SHA-256/512)."""
    proxy_port = free_port()
    broker = EmbeddedBroker(log_path=tmp_path_factory.mktemp("sasl") / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = SaslProxy(broker.port, {SASL_USER: PASSWORD, WORKER_USER: WORKER_PASSWORD,
                                    "someone-else": "other-password"},
                      port=proxy_port).start()
    try:
        yield broker, proxy
    finally:
        proxy.stop()
        broker.stop()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
def test_topics_replay_and_collect_work_over_sasl(sasl_broker: tuple[EmbeddedBroker, SaslProxy], tmp_path: Path,
                                                  mechanism: str) -> None:
    _, proxy = sasl_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    settings = unique_settings(url, tmp_path, partitions=2)
    sec = _sasl(mechanism)
    before, failures = len(proxy.authenticated), proxy.failures
    assert asyncio.run(create_topics(url, topic_specs(settings), security=sec, timeout=30))
    records = [(f"sasl-{i}", f'{{"n": {i}}}'.encode()) for i in range(20)]
    assert asyncio.run(produce(url, settings.topics.raw, records, security=sec)) == 20
    got = asyncio.run(collect(url, [settings.topics.raw], lambda c: len(c.of(settings.topics.raw)) >= 20,
                              timeout=30, security=sec))
    assert sorted(r["n"] for r in got.of(settings.topics.raw)) == list(range(20))
    # admin, producer and consumer each authenticated (bootstrap and per-broker connections)
    logins = proxy.authenticated[before:]
    assert len(logins) >= 3 and set(logins) == {(mechanism, SASL_USER)}
    assert proxy.failures == failures
    # Tansu itself lists both SASL APIs; the proxy answers them in its place
    assert set(proxy.upstream_api_versions) == {17, 36}


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_sasl_handshake_v0_sends_bare_tokens(sasl_broker: tuple[EmbeddedBroker, SaslProxy], tmp_path: Path,
                                             mechanism: str) -> None:
    """Brokers before Kafka 1.0 have no SaslAuthenticate: aiokafka then sends size-prefixed tokens."""
    _, proxy = sasl_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    before = len(proxy.authenticated)
    proxy.sasl_api_versions[17] = (0, 0)
    try:
        assert asyncio.run(create_topics(url, topic_specs(unique_settings(url, tmp_path)), security=_sasl(mechanism),
                                         timeout=30))
    finally:
        proxy.sasl_api_versions[17] = (0, 1)
    assert set(proxy.authenticated[before:]) == {(mechanism, SASL_USER)}


@pytest.mark.parametrize(("mechanism", "username", "password"), [
    ("SCRAM-SHA-512", SASL_USER, "wrong-Xy77-password"),
    ("SCRAM-SHA-256", SASL_USER, "wrong-Xy77-password"),
    ("PLAIN", SASL_USER, "wrong-Xy77-password"),
    ("SCRAM-SHA-512", "nobody", PASSWORD),  # an unknown user, with a real user's password
    ("PLAIN", "someone-else", PASSWORD),  # another user's password
])
def test_wrong_credentials_are_refused_without_showing_the_password(
        sasl_broker: tuple[EmbeddedBroker, SaslProxy], tmp_path: Path, caplog: pytest.LogCaptureFixture,
        mechanism: str, username: str, password: str) -> None:
    _, proxy = sasl_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    before, failures = len(proxy.authenticated), proxy.failures
    # INFO, the default level: aiokafka.conn's DEBUG lines print whole requests, PLAIN tokens
    # included (see the PLAIN case of the live worker test)
    with caplog.at_level(logging.INFO), pytest.raises(TopicSetupError, match="cannot reach the broker") as info:
        asyncio.run(create_topics(url, topic_specs(unique_settings(url, tmp_path)),
                                  security=_sasl(mechanism, password, username), timeout=30))
    # aiokafka gives up bootstrapping with a generic connection error; the reason, error 58
    # with the broker's message, is in its log
    assert proxy.failures > failures and proxy.authenticated[before:] == []
    assert any("SaslAuthenticationFailed" in r.getMessage() and f"mechanism {mechanism}" in r.getMessage()
               for r in caplog.records)
    for text in (str(info.value), repr(info.value), repr(info.value.__cause__), caplog.text,
                 *proxy.failure_messages):
        assert password not in text


def _raw_exchange(port: int, *requests: object) -> list[bytes]:
    """Send aiokafka request structs on one plain connection; the response bodies, until the proxy closes."""

    async def run() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        bodies = []
        try:
            for n, request in enumerate(requests):
                header = request.build_request_header(correlation_id=n, client_id="raw")  # type: ignore[attr-defined]
                message = header.encode() + request.encode()  # type: ignore[attr-defined]
                try:
                    writer.write(struct.pack(">i", len(message)) + message)
                    await writer.drain()
                    (size,) = struct.unpack(">i", await asyncio.wait_for(reader.readexactly(4), 30))
                    frame = await reader.readexactly(size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break  # closed by the proxy
                assert struct.unpack_from(">i", frame) == (n,)  # the correlation id comes back
                bodies.append(frame[4:])
        finally:
            writer.close()
        return bodies

    return asyncio.run(run())


def test_the_proxy_refuses_unknown_mechanisms_and_requests_before_authentication(
        sasl_broker: tuple[EmbeddedBroker, SaslProxy], tmp_path: Path) -> None:
    from aiokafka.protocol.admin import SaslHandShakeRequest_v1, SaslHandShakeResponse_v1
    from aiokafka.protocol.metadata import MetadataRequest_v1

    _, proxy = sasl_broker
    # an unknown mechanism: error 33 with the enabled list, then the connection closes
    bodies = _raw_exchange(proxy.port, SaslHandShakeRequest_v1("GSSAPI"), SaslHandShakeRequest_v1("PLAIN"))
    assert len(bodies) == 1
    answer = SaslHandShakeResponse_v1.decode(bodies[0])
    assert answer.error_code == 33 and answer.enabled_mechanisms == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
    # a Kafka request before authentication is never forwarded to Tansu
    refused = proxy.refused
    assert _raw_exchange(proxy.port, MetadataRequest_v1([])) == []
    assert proxy.refused == refused + 1
    # and neither is a client that does not speak SASL at all
    url = f"kafka://127.0.0.1:{proxy.port}"
    with pytest.raises(TopicSetupError, match="cannot reach the broker"):
        asyncio.run(create_topics(url, topic_specs(unique_settings(url, tmp_path)), security=KafkaSecurity(),
                                  timeout=10))
    assert proxy.refused > refused + 1


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "PLAIN"])
def test_a_live_worker_over_sasl_enriches_and_keeps_the_password_secret(
        sasl_broker: tuple[EmbeddedBroker, SaslProxy], tmp_path: Path, mechanism: str) -> None:
    import httpx

    from khabar.corpus import iter_sources
    from streams.replay import replay_records
    from streams.worker import spawn_worker, stop_process, wait_for_metrics
    from tests.support.stack import accounted_ids, settings_env

    _, proxy = sasl_broker
    url = f"kafka://127.0.0.1:{proxy.port}"
    settings = unique_settings(url, tmp_path, partitions=2)
    sec = _sasl(mechanism)
    asyncio.run(create_topics(url, topic_specs(settings), security=sec, timeout=30))
    port = free_port()
    log = tmp_path / "worker.log"
    # streams.cluster.Stack does not carry settings.kafka to its workers: the environment is set here
    env = settings_env(settings) | {
        "KHABAR_WEB_PORT": str(port), "KHABAR_LOG_LEVEL": "debug", "PYTHONUNBUFFERED": "1",
        "KHABAR_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KHABAR_KAFKA__SASL_MECHANISM": mechanism,
        "KHABAR_KAFKA__USERNAME": WORKER_USER, "KHABAR_KAFKA__PASSWORD": WORKER_PASSWORD,
    }
    before, failures, refused = len(proxy.authenticated), proxy.failures, proxy.refused
    proc = spawn_worker(env, log_path=log)
    try:
        wait_for_metrics(f"http://127.0.0.1:{port}/metrics", proc, timeout=120)
        articles = list(iter_sources([Path(__file__).parents[1] / "seeds"]))[:8]
        records = list(replay_records(articles))
        asyncio.run(produce(url, settings.topics.raw, records, security=sec))
        ids = {k for k, _ in records}
        t = settings.topics
        got = asyncio.run(collect(url, [t.enriched, t.duplicates, t.deadletter],
                                  lambda c: ids <= accounted_ids(c, settings), timeout=120, security=sec))
        enriched = {r["id"]: r for r in got.of(t.enriched) if r["id"] in ids}
        assert enriched, "no seed article came out enriched"
        assert all(r["kind"] == "enriched" and r["language"]["code"] and r["stages"] for r in enriched.values())
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "khabar_worker_info" in metrics and WORKER_PASSWORD not in metrics
    finally:
        stop_process(proc)
    # the worker's connections authenticated as its own user (the test's as SASL_USER)
    assert set(proxy.authenticated[before:]) == {(mechanism, WORKER_USER), (mechanism, SASL_USER)}
    assert (proxy.failures, proxy.refused) == (failures, refused)
    text = log.read_text(errors="replace")
    assert "DEBUG" in text
    # aiokafka.conn logs each request at debug; khabar.logs hides the PLAIN token (the password)
    assert WORKER_PASSWORD not in text  # a debug log, and still no password
    assert "<SASL token hidden>" in text  # the login request was logged, without its token
