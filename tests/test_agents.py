"""Agent tests: each Faust agent driven through ``test_context()``, no broker.

The agents hand their records to a MemoryOutbox instead of Kafka topics; the
stage functions underneath are the real ones.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from khabar.config import Settings
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, RawArticle
from streams.app import KhabarApp, create_app
from streams.outbox import MemoryOutbox

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_02b480f61992c5b6.txt"


def _app(tmp_path: Path, pipeline: list[str]) -> KhabarApp:
    # No broker is contacted: test_context() feeds the agents from memory.
    settings = Settings(broker_url="kafka://127.0.0.1:9", data_dir=tmp_path, pipeline=pipeline,
                        dedup={"reorder_grace_seconds": 0.0})  # type: ignore[arg-type]
    return create_app(settings, outbox=MemoryOutbox())


@pytest.fixture
def kapp(tmp_path: Path) -> KhabarApp:
    """The app without enrichment components (the prepare and sequence agents do not use them)."""
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
    envelope = json.loads(forwarded[0][1])
    assert envelope["article"]["id"] == "a1" and envelope["probe"]
    dead = [DeadLetter.model_validate_json(v) for _, v in outbox.to(t.deadletter)]
    assert [d.reason for d in dead] == ["invalid_json", "schema_violation"]
    assert dead[1].article_id == "x"
    assert kapp.metrics.deadletters.labels(reason="invalid_json")._value.get() == 1


async def test_sequence_agent_flags_the_copy_and_persists_entries(kapp: KhabarApp) -> None:
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    text = SEED.read_text(encoding="utf-8")
    # the prepare agent makes the envelopes the sequencer consumes
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("orig", text))
        await agent.put(_article("copy", text))
    envelopes = [v for _, v in outbox.to(t.dedup)]
    async with kapp.sequence.test_context() as agent:
        for value in envelopes:
            await agent.put(value)
        for _ in range(50):  # the reorder window releases on the flush timer too
            if len(outbox.to(t.unique)) + len(outbox.to(t.duplicates)) == 2:
                break
            await asyncio.sleep(0.02)
    assert [k for k, _ in outbox.to(t.unique)] == ["orig"]
    (key, value), = outbox.to(t.duplicates)
    notice = DuplicateNotice.model_validate_json(value)
    assert (key, notice.duplicate_of, notice.duplicate_kind, notice.similarity) == ("copy", "orig", "exact", 1.0)
    assert set(outbox.entries) == {"orig", "copy"}


async def test_enrich_agent_emits_article_and_events(full_app: KhabarApp) -> None:
    kapp = full_app
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    article = RawArticle(id="000_02b480f61992c5b6", text=SEED.read_text(encoding="utf-8"))
    unique = json.dumps({"article": article.model_dump(mode="json"), "story_id": "s1", "content_hash": "h"})
    async with kapp.enrich.test_context() as agent:
        await agent.put(unique.encode())
        await agent.put(b'{"article": {"id": "broken"}}')  # no text: dead-lettered, loop goes on
    (key, value), = outbox.to(t.enriched)
    record = EnrichedArticle.model_validate_json(value)
    assert key == article.id and record.story_id == "s1"
    assert record.language is not None and record.language.code == "ar"
    assert "ASSAULT" in {e.type for e in record.events}
    assert sorted(k for k, _ in outbox.to(t.events)) == sorted(e.event_id for e in record.events)
    (_, dead), = outbox.to(t.deadletter)
    assert DeadLetter.model_validate_json(dead).reason
