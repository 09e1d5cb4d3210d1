"""The worker's event loop (``KHABAR_EVENT_LOOP``) and the envelope the sequencer reads.

The loop is checked on the real entry point (``python -m streams.cli worker``): the worker
logs the class of the loop that is *running* (``asyncio.get_running_loop()`` inside it), and
the uvloop worker processes the seeds end to end.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from khabar.corpus import iter_sources
from khabar.dedup import Verdict
from khabar.process import (
    ArticleMeta,
    EnrichedParts,
    assemble_enriched,
    build_duplicate,
    build_enriched,
    serialize_enriched,
)
from streams.broker import EmbeddedBroker, free_port
from streams.envelope import decode_envelope, encode_envelope
from streams.replay import replay_records
from streams.worker import (
    install_event_loop,
    loop_name,
    spawn_worker,
    stop_process,
    wait_for_metrics,
)
from tests.support.envelopes import article as _article
from tests.support.envelopes import context as _context
from tests.support.envelopes import probe as _probe
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


# ------------------------------------------------------------------ the sequencer's envelope


@pytest.mark.parametrize("fields", [
    {}, {"title": None, "url": None, "source": None, "published_at": None}, {"id": "id \"quoted\" \\ خبر"},
    {"text": "control \x00\x01 and emoji 😀 and RTL \u200f"}, {"published_at": datetime(2015, 3, 1)},
    {"ingested_at": datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=3)))},
])
@pytest.mark.parametrize("n_events", [0, 1, 3])
def test_the_envelope_carries_what_the_sequencer_writes(fields: dict[str, object], n_events: int) -> None:
    article = _article(**fields)
    ctx = _context(article, n_events)
    probe = _probe(article.id)
    parts = serialize_enriched(ctx, probe.content_hash)
    env = decode_envelope(encode_envelope(ctx, probe, parts, 3, 1234.5))
    assert env.article == ArticleMeta.of(article)
    assert (env.header.partition, env.header.sent_at) == (3, 1234.5)
    assert env.header.language == (None if ctx.language is None else "ar")
    assert env.probe.to_bytes() == probe.to_bytes() and env.enriched == parts
    assert [(k, ty) for k, ty, _ in env.event_records()] == [(e.event_id, e.type) for e in ctx.events]
    # the duplicate notice of the metadata equals the one of the whole article
    verdict = Verdict("exact", "orig", 1.0, "orig")
    assert (build_duplicate(env.article, verdict).model_dump(exclude={"processed_at"})
            == build_duplicate(article, verdict).model_dump(exclude={"processed_at"}))
    # and the enriched record it assembles is the model's, byte for byte
    when = datetime(2026, 5, 6, 7, 8, 9, 10, tzinfo=UTC)
    want = build_enriched(ctx, Verdict("unique", None, 0.0, "قصة \"1\""), probe.content_hash)
    want.processed_at = when
    assert assemble_enriched(env.enriched, "قصة \"1\"", when) == want.model_dump_json().encode()
    assert [v for _, _, v in env.event_records()] == [e.model_dump_json().encode() for e in ctx.events]


@pytest.mark.parametrize("cut", [1, 3, 4, 10, -1, -5])
def test_a_truncated_envelope_is_a_value_error(cut: int) -> None:
    article = _article()
    ctx = _context(article, 2)
    value = encode_envelope(ctx, _probe(article.id), serialize_enriched(ctx, "h"), 0, 1.0)
    with pytest.raises(ValueError, match=r"envelope|frame|header|event|probe|validation"):
        decode_envelope(value[:cut])


@pytest.mark.parametrize("junk", [
    b"", b"not an envelope", b"\x00\x00\x00\x02{}", b'{"article": {"id": "x", "text": "t"}}', b"\xff" * 64,
])
def test_a_bad_envelope_is_a_value_error(junk: bytes) -> None:
    with pytest.raises(ValueError):
        decode_envelope(junk)


def test_an_envelope_whose_events_do_not_match_its_header_is_refused() -> None:
    article = _article()
    ctx = _context(article, 2)
    parts = serialize_enriched(ctx, "h")
    fewer = EnrichedParts(parts.head, parts.middle, parts.events[:1], parts.tail)
    with pytest.raises(ValueError, match="event records"):
        decode_envelope(encode_envelope(ctx, _probe(article.id), fewer, 0, 1.0))
    bad_probe = encode_envelope(ctx, _probe(article.id), parts, 0, 1.0).replace(b"KP\x02", b"XX\x02", 1)
    with pytest.raises(ValueError):
        decode_envelope(bad_probe)
