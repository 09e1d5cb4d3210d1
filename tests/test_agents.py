"""Agent tests: each Faust agent driven through ``test_context()``, no broker.

The agents hand their records to a MemoryOutbox instead of Kafka topics; the
stage functions underneath are the real ones.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from khabar.config import Settings
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, Event, RawArticle
from streams.app import KhabarApp, create_app
from streams.envelope import decode_envelope
from streams.outbox import MemoryOutbox

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_02b480f61992c5b6.txt"


def _app(tmp_path: Path, pipeline: list[str]) -> KhabarApp:
    # No broker is contacted: test_context() feeds the agents from memory.
    settings = Settings(broker_url="kafka://127.0.0.1:9", data_dir=tmp_path, pipeline=pipeline,
                        dedup={"reorder_grace_seconds": 0.0})  # type: ignore[arg-type]
    return create_app(settings, outbox=MemoryOutbox())


@pytest.fixture
def kapp(tmp_path: Path) -> KhabarApp:
    """The app without enrichment components (the dedup tests do not need them)."""
    return _app(tmp_path, [])


@pytest.fixture
def full_app(tmp_path: Path) -> KhabarApp:
    return _app(tmp_path, ["language", "events"])


def _article(article_id: str, text: str) -> bytes:
    return RawArticle(id=article_id, text=text, source="test").model_dump_json().encode()


async def test_prepare_agent_forwards_probe_and_dead_letters_bad_input(kapp: KhabarApp) -> None:
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("a1", SEED.read_text(encoding="utf-8")))
        await agent.put(b"not json at all")
        await agent.put(b'{"id": "x", "text": 5}')
    forwarded = outbox.to(t.dedup)
    assert [k for k, _ in forwarded] == ["a1"]
    envelope = decode_envelope(forwarded[0][1])
    assert envelope.article.id == "a1" and envelope.probe.article_id == "a1"
    assert SEED.read_text(encoding="utf-8")[:40].encode() in envelope.enriched.head  # serialized upstream
    dead = [DeadLetter.model_validate_json(v) for _, v in outbox.to(t.deadletter)]
    assert [d.reason for d in dead] == ["invalid_json", "schema_violation"]
    assert dead[1].article_id == "x"
    assert kapp.metrics.deadletters.labels(reason="invalid_json")._value.get() == 1


async def _sequence(kapp: KhabarApp, envelopes: list[bytes], decided: int) -> None:
    """Feed the prepare agent's envelopes to the sequencer until ``decided`` are written."""
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    async with kapp.sequence.test_context() as agent:
        for value in envelopes:
            await agent.put(value)
        for _ in range(50):  # the reorder window releases on the flush timer too
            if len(outbox.to(t.enriched)) + len(outbox.to(t.duplicates)) == decided:
                break
            await asyncio.sleep(0.02)


async def test_sequence_agent_flags_the_copy_and_persists_entries(kapp: KhabarApp) -> None:
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    text = SEED.read_text(encoding="utf-8")
    # the prepare agent makes the envelopes the sequencer consumes
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("orig", text))
        await agent.put(_article("copy", text))
    await _sequence(kapp, [v for _, v in outbox.to(t.dedup)], decided=2)
    assert [k for k, _ in outbox.to(t.enriched)] == ["orig"]
    record = EnrichedArticle.model_validate_json(outbox.to(t.enriched)[0][1])
    assert (record.story_id, record.text, record.stages) == ("orig", text, [])
    (key, value), = outbox.to(t.duplicates)
    notice = DuplicateNotice.model_validate_json(value)
    assert (key, notice.duplicate_of, notice.duplicate_kind, notice.similarity) == ("copy", "orig", "exact", 1.0)
    assert set(outbox.entries) == {"orig", "copy"}


async def test_prepare_enriches_and_the_sequencer_emits_article_and_events(full_app: KhabarApp) -> None:
    kapp = full_app
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    text = SEED.read_text(encoding="utf-8")
    article = RawArticle(id="000_02b480f61992c5b6", text=text, title="عنوان", source="test",
                         url="https://example.com/a")
    async with kapp.prepare.test_context() as agent:
        await agent.put(article.model_dump_json().encode())
        await agent.put(RawArticle(id="copy", text=text).model_dump_json().encode())
        await agent.put(b'{"id": "broken"}')  # no text: dead-lettered, loop goes on
    assert outbox.to(t.enriched) == [] and outbox.to(t.events) == []  # written only once decided
    (_, dead), = outbox.to(t.deadletter)
    assert DeadLetter.model_validate_json(dead).reason == "schema_violation"
    await _sequence(kapp, [v for _, v in outbox.to(t.dedup)], decided=2)
    (key, value), = outbox.to(t.enriched)
    record = EnrichedArticle.model_validate_json(value)
    assert key == article.id and record.story_id == article.id
    assert value == record.model_dump_json().encode()  # byte for byte what the model writes
    assert (record.title, record.text, record.url, record.stages) == (article.title, text, article.url,
                                                                      ["language", "events"])
    assert record.language is not None and record.language.code == "ar"
    assert "ASSAULT" in {e.type for e in record.events}
    events = [(k, Event.model_validate_json(v), v) for k, v in outbox.to(t.events)]
    assert [ev for _, ev, _ in events] == record.events  # the same events, in order
    assert all(k == ev.event_id and v == ev.model_dump_json().encode() for k, ev, v in events)
    (_, notice), = outbox.to(t.duplicates)  # the copy was enriched too, and its records dropped
    assert DuplicateNotice.model_validate_json(notice).duplicate_of == article.id
    m = kapp.metrics
    assert m.events.labels(type="ASSAULT")._value.get() == sum(e.type == "ASSAULT" for e in record.events)
    assert m.languages.labels(code="ar")._value.get() == 1
    assert m.records_out.labels(topic=t.enriched)._value.get() == 1
    assert m.end_to_end.labels(topic=t.enriched)._sum.get() >= 0


async def test_prepare_dead_letters_a_failed_enrichment(full_app: KhabarApp, monkeypatch: pytest.MonkeyPatch) -> None:
    kapp = full_app
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    assert kapp.pipeline.names == ["language", "events"]

    def broken(ctx: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(kapp.pipeline, "components", [kapp.pipeline.components[0], _Named("events", broken)])
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("a1", SEED.read_text(encoding="utf-8")))
    assert outbox.to(t.dedup) == []  # never reaches the sequencer, so never enters the index
    (key, dead), = outbox.to(t.deadletter)
    record = DeadLetter.model_validate_json(dead)
    assert (key, record.article_id, record.reason) == ("a1", "a1", "stage_failed:events")
    assert "boom" in record.error


class _Named:
    def __init__(self, name: str, fn: object) -> None:
        self.name, self._fn = name, fn

    def __call__(self, ctx: object) -> None:
        self._fn(ctx)  # type: ignore[operator]
