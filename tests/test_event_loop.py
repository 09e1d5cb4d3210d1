"""The worker's event loop (``KHABAR_EVENT_LOOP``) and the JSON helpers of the agents' envelopes.

The loop is checked on the real entry point (``python -m streams.cli worker``): the worker
logs the class of the loop that is *running* (``asyncio.get_running_loop()`` inside it), and
the uvloop worker processes the seeds end to end.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khabar.corpus import iter_sources
from khabar.dedup import Probe, Verdict
from streams.app import (
    _decode_probe_envelope,
    _encode_probe_envelope,
    _encode_unique,
    _json_value,
    _loads,
)
from streams.broker import EmbeddedBroker, free_port
from streams.replay import replay_records
from streams.worker import (
    install_event_loop,
    loop_name,
    spawn_worker,
    stop_process,
    wait_for_metrics,
)
from tests.support.stack import Stack, settings_env, unique_settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
ASYNCIO_LOOP = loop_name(asyncio.new_event_loop())


def _loop_lines(log: Path, event: str, timeout: float = 30.0) -> list[dict[str, str]]:
    """The JSON log records ``event`` of a worker's log (waits for the first)."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for line in log.read_text(errors="replace").splitlines():
            if event in line and line.lstrip().startswith("{"):
                found.append(json.loads(line))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.parametrize(("kind", "expected"), [("uvloop", "uvloop.Loop"), ("asyncio", ASYNCIO_LOOP)])
def test_the_worker_runs_on_the_configured_loop(broker: EmbeddedBroker, tmp_path: Path, kind: str,
                                                expected: str) -> None:
    stack = Stack(unique_settings(broker.url, tmp_path, partitions=2), tmp_path)
    stack.create_topics()
    port = free_port()
    log = tmp_path / f"worker-{kind}.log"
    env = settings_env(stack.settings) | {
        "KHABAR_WEB_PORT": str(port), "KHABAR_EVENT_LOOP": kind, "KHABAR_LOG_LEVEL": "info",
        "KHABAR_LOG_JSON": "true", "PYTHONUNBUFFERED": "1"}
    proc = spawn_worker(env, log_path=log)
    try:
        wait_for_metrics(f"http://127.0.0.1:{port}/metrics", proc, timeout=90)
        lines = _loop_lines(log, "worker_event_loop")
        assert [(r["loop"], r["setting"]) for r in lines] == [(expected, kind)], log.read_text()[-3000:]
        if kind == "uvloop":
            # the worker does its work on that loop: the seeds go through every stage
            records = list(replay_records(list(iter_sources([SEEDS]))))
            stack.produce(records)
            got = stack.collect_accounted([k for k, _ in records], timeout=120)
            t = stack.settings.topics
            assert got.ids(t.enriched) and not got.of(t.deadletter)  # enriched, nothing dead-lettered
        assert stop_process(proc) == 0  # SIGTERM stops it cleanly on either loop
    finally:
        stop_process(proc)


@pytest.mark.parametrize(("kind", "expected"), [("uvloop", "uvloop.Loop"), ("asyncio", ASYNCIO_LOOP)])
def test_the_passthrough_ceiling_runs_on_the_same_loop(tmp_path: Path, kind: str, expected: str) -> None:
    # No broker is needed to see the loop: the line is logged as the loop starts.
    log = tmp_path / "passthrough.log"
    cmd = [sys.executable, "-m", "streams.bench.passthrough", "--broker", f"kafka://127.0.0.1:{free_port()}",
           "--app-id", "loop-check", "--source", "in", "--sink", "out", "--web-port", str(free_port()),
           "--data-dir", str(tmp_path / "data")]
    env = {**os.environ, "KHABAR_EVENT_LOOP": kind, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "passthrough_event_loop" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        text = log.read_text(errors="replace")
        line = next(s for s in text.splitlines() if "passthrough_event_loop" in s)
        assert f"loop={expected}" in line or f'"loop": "{expected}"' in line, line
    finally:
        stop_process(proc)  # type: ignore[arg-type]


def test_install_event_loop_makes_the_current_loop() -> None:
    policy = asyncio.get_event_loop_policy()
    try:
        for kind, expected in (("uvloop", "uvloop.Loop"), ("asyncio", ASYNCIO_LOOP)):
            loop = install_event_loop(kind)
            try:
                assert loop_name(loop) == expected
                assert asyncio.get_event_loop_policy().get_event_loop() is loop
                assert loop.run_until_complete(_running()) == expected
            finally:
                loop.close()
        with pytest.raises(ValueError, match="unknown event loop"):
            install_event_loop("trio")
    finally:
        asyncio.set_event_loop_policy(policy)
        asyncio.set_event_loop(None)


async def _running() -> str:
    return loop_name(asyncio.get_running_loop())


# ------------------------------------------------------------------ JSON helpers

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    """Equal as parsed JSON, with NaN equal to NaN and the same types (1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _outcome(fn: object, value: bytes) -> tuple[str, object]:
    try:
        return "ok", fn(value)  # type: ignore[operator]
    except Exception as exc:
        return type(exc).__name__, None


def _check_like_json(value: bytes) -> None:
    want, got = _outcome(json.loads, value), _outcome(_loads, value)
    assert want[0] == got[0], (value, want, got)
    assert _same(want[1], got[1]), (value, want, got)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_loads_reads_what_json_writes_like_json(obj: object) -> None:
    # json.dumps writes NaN, Infinity, lone surrogates as \ud800 and big integers: all of them
    for text in (json.dumps(obj), json.dumps(obj, ensure_ascii=False)):
        _check_like_json(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40) | st.text(alphabet='{}[]":,0123456789.eE+-\\ufdntrulsa ', max_size=30)
       .map(lambda s: s.encode()))
def test_loads_fails_like_json_on_junk(value: bytes) -> None:
    _check_like_json(value)


@pytest.mark.parametrize("value", [
    b'{"a":1,"a":2}', str(2**70).encode(), b"-" + str(2**64).encode(), b"18446744073709551615",
    b"[9223372036854775808, -9223372036854775809, 1e19, 1.5]", b"1e400", b"NaN", b"-Infinity",
    b'"\\ud800"', b'"\\ud83d\\ude00"', b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b"[" * 2000 + b"]" * 2000,
    b"1" * 5000, b"\xff\xfe", b"", b"  ", b'"\x00"', b'"\\u0000"', b"-0", b"-0.0", b"1e-400",
])
def test_loads_edge_cases_like_json(value: bytes) -> None:
    _check_like_json(value)


def test_json_value_is_json_for_strings_and_null() -> None:
    for value in (None, "", "abc", "خبر عاجل", 'quo"te\\\n\t', "\x00\x1f", "😀", "\ud800"):
        assert json.loads(_json_value(value)) == value
    assert _json_value("خبر") == '"خبر"'.encode()  # UTF-8, not \u escapes


def _article(**fields: object) -> object:
    from schemas.models import RawArticle

    base: dict[str, object] = {"id": "a-1", "text": "نص الخبر الأول. " * 50, "title": "عنوان",
                               "source": "sabq", "url": "https://example.com/a?b=1",
                               "published_at": datetime(2015, 3, 1, 12, 30, tzinfo=UTC),
                               "ingested_at": datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)}
    return RawArticle.model_validate(base | fields)


def _probe(article_id: str) -> Probe:
    u32, u16 = np.uint32, np.uint16
    return Probe(article_id, "c" * 32, "example.com/a", np.array([1, 2, 3], u32), np.array([4, 5], u32), 42,
                 1.5e9, np.array([7], u16), np.array([], u16), np.array([9], u16))


@pytest.mark.parametrize("fields", [
    {}, {"schema_version": 2**70 + 1}, {"title": None, "url": None}, {"id": "id \"quoted\" \\ خبر"},
    {"text": "control \x00\x01 and emoji 😀 and RTL \u200f"},
])
def test_envelopes_hold_the_article_as_before(fields: dict[str, object]) -> None:
    article = _article(**fields)
    expected = json.loads(article.model_dump_json(exclude_none=True))  # type: ignore[attr-defined]
    probe = _probe(article.id)  # type: ignore[attr-defined]
    env_bytes = _encode_probe_envelope(article, probe, 3)  # type: ignore[arg-type]
    obj = json.loads(env_bytes)  # valid JSON for the standard parser
    assert obj["article"] == expected and obj["partition"] == 3
    env = _decode_probe_envelope(env_bytes)
    assert env.article == article and env.partition == 3 and env.probe.to_bytes() == probe.to_bytes()

    unique = _encode_unique(article, Verdict("unique", None, 1.0, "قصة-1"), "c" * 32)  # type: ignore[arg-type]
    assert json.loads(unique) == {"article": expected, "story_id": "قصة-1", "content_hash": "c" * 32}
    assert "قصة".encode() in unique  # Arabic stays UTF-8
    assert json.loads(_encode_unique(article, Verdict("unique", None, 1.0, None), "h"))["story_id"] is None  # type: ignore[arg-type]


def _decode_with_json(value: bytes) -> object:
    # the decoder before orjson: a bad envelope must fail with the same exception
    import base64

    from schemas.models import RawArticle

    obj = json.loads(value)
    return (RawArticle.model_validate(obj["article"]), Probe.from_bytes(base64.b64decode(obj["probe"])),
            int(obj["partition"]), float(obj["sent_at"]))


@pytest.mark.parametrize("junk", [
    b"not json", b"[1, 2]", b'{"article": {}}', b"\xff", b'{"article": 1e400}', b'{"article": NaN}',
    b'{"article": {"id": "x", "text": "t"}, "probe": "!!"}', b'{"article": {"id": "\\ud800", "text": "t"}}',
    b'{"article": {"id": "x", "text": "t"}, "probe": "AAAA", "partition": 1, "sent_at": 1}',
])
def test_a_bad_envelope_fails_as_before(junk: bytes) -> None:
    assert _outcome(_decode_probe_envelope, junk)[0] == _outcome(_decode_with_json, junk)[0] != "ok"
