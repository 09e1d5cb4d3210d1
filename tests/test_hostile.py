"""The hostile-input corpus (``tests/hostile/``) through the pure functions and the agents.

Every record either enriches correctly or becomes a dead letter with its specific
reason; nothing raises out of the pipeline and no agent stops. The end-to-end run of
the same corpus on a real worker is ``tests/test_hostile_e2e.py``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from khabar.budget import check_budget, remaining_ms, stage_budget
from khabar.config import LimitSettings, Settings
from khabar.errors import StageTimeoutError
from khabar.process import OfflineEnricher, OfflineRecord, check_output_size, parse_raw
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle
from streams.app import KhabarApp, create_app
from streams.outbox import MemoryOutbox
from tests.hostile import HostileRecord, corpus

CORPUS = corpus()
BY_NAME = {r.name: r for r in CORPUS}


def outcome(record: OfflineRecord) -> str:
    """``enriched``, ``duplicate`` or the dead-letter reason."""
    return record.reason if isinstance(record, DeadLetter) else record.kind


@pytest.fixture(scope="module")
def offline() -> dict[str, tuple[OfflineRecord, float]]:
    """Every hostile record through one :class:`OfflineEnricher`, in corpus order, with the
    CPU seconds each took (CPU, not wall time: other processes share the machine)."""
    enricher = OfflineEnricher(Settings())
    out = {}
    for r in CORPUS:
        t0 = time.process_time()
        out[r.name] = (enricher.process(r.value), time.process_time() - t0)
    return out


@pytest.mark.parametrize("record", CORPUS, ids=lambda r: r.name)
def test_offline_outcome(record: HostileRecord, offline: dict[str, tuple[OfflineRecord, float]]) -> None:
    result, seconds = offline[record.name]
    assert outcome(result) == record.expect, getattr(result, "error", result)
    if isinstance(result, DeadLetter):
        assert result.article_id == record.article_id
        assert result.error
        original = base64.b64decode(result.original_b64)
        assert record.value.startswith(original) and len(original) <= LimitSettings().deadletter_original_bytes
        # a dead letter is itself a record that must fit on the topic
        assert len(result.model_dump_json().encode()) <= LimitSettings().max_output_bytes
    else:
        assert result.id == record.article_id
    if isinstance(result, EnrichedArticle):
        assert result.language is not None
        if record.language is not None:
            assert result.language.code == record.language
        for ev in result.events:  # spans point into the text as received
            assert result.text[ev.trigger_span.start:ev.trigger_span.end] == ev.trigger
    # nothing hostile takes long: the budget bounds the slow one, limits reject the big ones
    assert seconds < LimitSettings().stage_budget_ms / 1000 + 1.5, f"{record.name} took {seconds:.2f}s"


def test_the_copy_points_at_its_original(offline: dict[str, tuple[OfflineRecord, float]]) -> None:
    copy, _ = offline["exact_copy"]
    assert isinstance(copy, DuplicateNotice)
    assert (copy.duplicate_of, copy.duplicate_kind) == ("h-plain", "exact")


def test_corpus_covers_every_outcome_the_issue_lists() -> None:
    expected = Counter(r.expect for r in CORPUS)
    for reason in ("enriched", "duplicate", "invalid_json", "schema_violation", "invalid_utf8",
                   "invalid_unicode", "empty_text", "too_large", "too_deep", "too_many_sentences",
                   "stage_timeout:events"):
        assert expected[reason] >= 1, reason
    sizes = {r.name: len(r.value) for r in CORPUS}
    assert sizes["ten_megabytes"] >= 10 * 1024 * 1024
    assert json.loads(BY_NAME["million_lines"].value)["text"].count("\n") == 999_999


def test_slow_stage_stops_at_its_budget() -> None:
    """The stage made slow by input is cut off at the budget, not after it finishes."""
    budget_ms = 300.0
    enricher = OfflineEnricher(Settings(limits=LimitSettings(stage_budget_ms=budget_ms)))
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = enricher.process(BY_NAME["slow_events"].value)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert isinstance(result, DeadLetter) and result.reason == "stage_timeout:events"
    assert "300 ms" in result.error
    # the checks sit in per-sentence and per-trigger loops: one step past the deadline at
    # most (CPU time: the wall clock also counts other processes on a shared machine) ...
    assert cpu < budget_ms / 1000 + 0.5, cpu
    # ... where the unbudgeted stage runs for 12-15 s here
    assert elapsed < 5.0, elapsed


def test_budgets_off_lets_the_slow_stage_finish_within_limits() -> None:
    """With budgets off the same article is enriched: the timeout is the budget's doing."""
    text = "قصفت روسيا كييف " * 150  # small enough to finish quickly without a budget
    enricher = OfflineEnricher(Settings(limits=LimitSettings(stage_budget_ms=0)))
    result = enricher.process(json.dumps({"id": "slow-small", "text": text}).encode())
    assert isinstance(result, EnrichedArticle) and result.events


def test_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHABAR_LIMITS__MAX_ARTICLE_BYTES", "2048")
    monkeypatch.setenv("KHABAR_LIMITS__STAGE_BUDGET_MS", "250")
    settings = Settings()
    assert (settings.limits.max_article_bytes, settings.limits.stage_budget_ms) == (2048, 250.0)
    record = parse_raw(json.dumps({"id": "a", "text": "x" * 100}).encode(), limits=settings.limits)
    assert record.id == "a"
    enricher = OfflineEnricher(settings, pipeline=None)
    dead = enricher.process(json.dumps({"id": "b", "text": "x" * 3000}).encode())
    assert isinstance(dead, DeadLetter) and dead.reason == "too_large" and "2,048" in dead.error
    monkeypatch.setenv("KHABAR_LIMITS__MAX_ARTICLE_BYTES", "0")
    with pytest.raises(ValueError, match="max_article_bytes"):
        Settings()


def test_output_records_too_large_for_the_topic_are_dead_lettered() -> None:
    limits = LimitSettings(max_output_bytes=20_000, deadletter_original_bytes=2_000)
    text = "قصفت القوات الروسية مدينة كييف يوم السبت. " * 200  # about 16 KB of UTF-8, ~30 KB as a record
    enricher = OfflineEnricher(Settings(limits=limits))
    dead = enricher.process(json.dumps({"id": "big-out", "text": text}, ensure_ascii=False).encode())
    assert isinstance(dead, DeadLetter) and dead.reason == "too_large" and "enriched record" in dead.error
    assert dead.article_id == "big-out" and len(base64.b64decode(dead.original_b64)) == 2_000
    with pytest.raises(ValueError, match="deadletter_original_bytes"):
        LimitSettings(max_output_bytes=20_000, deadletter_original_bytes=10_000)
    assert check_output_size(b"x" * 20_000, "event", limits) == b"x" * 20_000


def test_budget_is_cooperative_and_scoped() -> None:
    check_budget()  # outside any budget: never raises
    assert remaining_ms() is None
    with pytest.raises(StageTimeoutError) as caught, stage_budget("events", 20):
        assert 0 < (remaining_ms() or 0) <= 20
        while True:
            check_budget()
    assert caught.value.reason == "stage_timeout:events" and caught.value.stage == "events"
    assert remaining_ms() is None  # the deadline does not leak past its block
    # a block that overran without checking is late too
    with pytest.raises(StageTimeoutError, match="prepare"), stage_budget("prepare", 1):
        time.sleep(0.01)
    with stage_budget("language", 0):  # 0 = no budget
        time.sleep(0.005)
        check_budget()


# ------------------------------------------------------------------ agents


def _app(tmp_path: Path) -> KhabarApp:
    settings = Settings(broker_url="kafka://127.0.0.1:9", data_dir=tmp_path,
                        dedup={"reorder_grace_seconds": 0.0})  # type: ignore[arg-type]
    return create_app(settings, outbox=MemoryOutbox())


async def test_agents_route_every_hostile_record(tmp_path: Path) -> None:
    """The two agents in turn (``test_context()``), fed the whole corpus.

    ``agent.put`` re-raises if an agent crashed, so getting through the loop means no
    record stopped an agent; each record's outcome and the accounting are then checked.
    """
    kapp = _app(tmp_path)
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    offsets: dict[int, HostileRecord] = {}
    async with kapp.prepare.test_context() as agent:
        for r in CORPUS:
            event = await agent.put(r.value, key=r.key.encode())
            offsets[event.message.offset] = r
    envelopes = [v for _, v in outbox.to(t.dedup)]
    dead_before = len(outbox.to(t.deadletter))
    async with kapp.sequence.test_context() as agent:
        for value in envelopes:
            await agent.put(value)
        for _ in range(100):  # the reorder window releases on the flush timer too
            decided = (len(outbox.to(t.enriched)) + len(outbox.to(t.duplicates))
                       + len(outbox.to(t.deadletter)) - dead_before)
            if decided == len(envelopes):
                break
            await asyncio.sleep(0.02)

    got: dict[str, list[str]] = {}
    for _, v in outbox.to(t.enriched):
        got.setdefault(EnrichedArticle.model_validate_json(v).id, []).append("enriched")
    for _, v in outbox.to(t.duplicates):
        got.setdefault(DuplicateNotice.model_validate_json(v).id, []).append("duplicate")
    for _, v in outbox.to(t.deadletter):
        dead = DeadLetter.model_validate_json(v)
        if dead.article_id is not None:
            got.setdefault(dead.article_id, []).append(dead.reason)
        else:  # no readable id: the raw record's offset names it
            assert dead.topic == t.raw and dead.offset is not None
            got.setdefault(offsets[dead.offset].key, []).append(dead.reason)
    expected = {r.key: [r.expect] for r in CORPUS}
    assert got == expected  # inputs = enriched + duplicates + dead letters, each exactly once
    assert kapp.metrics.deadletters.labels(reason="stage_timeout:events")._value.get() == 1
    assert kapp.metrics.deadletters.labels(reason="too_large")._value.get() == 3
