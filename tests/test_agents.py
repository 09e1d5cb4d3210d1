"""Agent tests: each Faust agent driven through ``test_context()``, no broker.

The agents hand their records to a MemoryOutbox instead of Kafka topics; the
stage functions underneath are the real ones.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from khabar.config import Settings
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, Event, RawArticle
from streams.app import KhabarApp, create_app
from streams.envelope import decode_envelope, encode_batch, encode_marker, is_batch
from streams.outbox import MemoryOutbox

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_02b480f61992c5b6.txt"


def _app(tmp_path: Path, pipeline: list[str], grace: float = 0.0) -> KhabarApp:
    # No broker is contacted: test_context() feeds the agents from memory.
    settings = Settings(broker_url="kafka://127.0.0.1:9", data_dir=tmp_path, pipeline=pipeline,
                        dedup={"reorder_grace_seconds": grace})  # type: ignore[arg-type]
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


async def _envelopes(kapp: KhabarApp, articles: list[tuple[str, str]]) -> list[bytes]:
    """What the prepare agent sends the sequencer for ``(id, text)`` articles."""
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    async with kapp.prepare.test_context() as agent:
        for article_id, text in articles:
            await agent.put(_article(article_id, text))
    return [v for _, v in outbox.to(kapp.settings.topics.dedup)]


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
    await _sequence(kapp, await _envelopes(kapp, [("orig", text), ("copy", text)]), decided=2)
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


async def test_the_sequencer_decides_on_progress_markers_and_counts_none_of_them(tmp_path: Path) -> None:
    kapp = _app(tmp_path, [], grace=60.0)  # only markers can release before a minute
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("a1", SEED.read_text(encoding="utf-8")), partition=2)
    (_, envelope), = outbox.to(t.dedup)
    ingested = decode_envelope(envelope).article.ingested_at
    assert ingested is not None
    after = ingested.timestamp() + 0.001
    async with kapp.sequence.test_context() as agent:
        await agent.put(envelope)
        await agent.put(encode_marker({0: after, 1: after, 3: after}, sent_at=after))
        await asyncio.sleep(0.1)
        assert outbox.to(t.enriched) == []  # partition 2 itself may still send one stamped the same
        await agent.put(encode_marker({2: after}, sent_at=after))
        for _ in range(50):
            if outbox.to(t.enriched):
                break
            await asyncio.sleep(0.01)
    assert [k for k, _ in outbox.to(t.enriched)] == ["a1"]
    # markers are no articles: no output, no dead letter, no count
    assert outbox.to(t.deadletter) == [] and outbox.to(t.duplicates) == []
    m = kapp.metrics
    assert m.records_out.labels(topic=t.dedup)._value.get() == 1
    assert m.deadletters.labels(reason="invalid_json")._value.get() == 0
    assert m.dedup_late._value.get() == 0
    assert m.progress_markers.labels(direction="taken")._value.get() == 2  # counted apart


async def test_prepare_reports_what_it_finished_to_the_progress_tracker(kapp: KhabarApp) -> None:
    tracker = kapp.progress
    assert tracker.owed is None
    async with kapp.prepare.test_context() as agent:
        await agent.put(_article("a1", SEED.read_text(encoding="utf-8")), partition=1)
        await agent.put(b"not json at all", partition=1)  # dead-lettered: finished all the same
    count, offset = tracker.done[1]
    assert count == 2 and offset == 1
    assert tracker.owed is not None  # an article went out: markers are owed until they pass it


def test_fetch_states_are_read_from_the_consumer_as_the_tracker_needs_them() -> None:
    from types import SimpleNamespace

    from faust.types import TP

    from streams.app import read_fetch_states

    raw0, raw1, raw2 = (TP("raw", p) for p in range(3))
    states = {raw0: SimpleNamespace(has_valid_position=True, position=7, timestamp=1_700_000_000_250),
              raw1: SimpleNamespace(has_valid_position=False, position=None, timestamp=None)}
    assignment = SimpleNamespace(active=True, state_value=states.get)
    consumer = SimpleNamespace(_subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment)),
                               _fetcher=SimpleNamespace(_records={raw0: object()}))
    out = read_fetch_states(consumer, [raw0, raw1, raw2], {0: (3, 6)}, {raw0: 5})
    assert set(out) == {0, 1}  # raw2 is not assigned here
    assert (out[0].position, out[0].fetched_at, out[0].buffered) == (7, 1_700_000_000.25, True)
    assert (out[0].processed, out[0].processed_offset, out[0].committed) == (3, 6, 5)
    assert (out[1].position, out[1].fetched_at, out[1].processed, out[1].processed_offset) == (None, None, 0, None)
    assignment.active = False  # a rebalance under way: nothing to say
    assert read_fetch_states(consumer, [raw0], {}, {}) == {}


async def test_sequence_agent_reads_a_batch_as_its_articles_and_dead_letters_a_bad_one(kapp: KhabarApp) -> None:
    outbox = kapp.outbox
    assert isinstance(outbox, MemoryOutbox)
    t = kapp.settings.topics
    text = SEED.read_text(encoding="utf-8")
    envelopes = await _envelopes(kapp, [("orig", text), ("other", text[len(text) // 2:] + " خبر آخر"),
                                        ("copy", text)])
    assert len(envelopes) == 3 and not any(is_batch(v) for v in envelopes)  # no consumer: sent one by one
    batch = encode_batch([envelopes[0], b"\x00\x00\x00\x02{}junk", envelopes[1], envelopes[2]])
    await _sequence(kapp, [batch], decided=3)
    assert sorted(k for k, _ in outbox.to(t.enriched)) == ["orig", "other"]
    (key, value), = outbox.to(t.duplicates)
    assert (key, DuplicateNotice.model_validate_json(value).duplicate_of) == ("copy", "orig")
    (_, dead), = outbox.to(t.deadletter)  # the junk part alone, with its own bytes
    letter = DeadLetter.model_validate_json(dead)
    assert "envelope truncated" in letter.error
    assert base64.b64decode(letter.original_b64) == b"\x00\x00\x00\x02{}junk"
