"""The named processing steps, without Kafka."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from khabar.config import Settings
from khabar.errors import (
    InvalidArticleError,
    MalformedJsonError,
    SchemaViolationError,
    UndecodableInputError,
)
from khabar.process import (
    ENRICHED_FIELD_ORDER,
    OfflineEnricher,
    assemble_enriched,
    build_deadletter,
    enrich,
    parse_raw,
    prepare,
    serialize_enriched,
)

REPO = Path(__file__).resolve().parents[1]
SEED_TEXT = (REPO / "seeds" / "000_02b480f61992c5b6.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (b"\xff\xfe{}", UndecodableInputError, "invalid_utf8"),
        (b"{not json", MalformedJsonError, "invalid_json"),
        (b'"a string"', MalformedJsonError, "invalid_json"),
        (b'{"title": "no id, no text"}', SchemaViolationError, "schema_violation"),
        (b'{"id": 7, "text": "numeric id"}', SchemaViolationError, "schema_violation"),
        (b'{"id": "a", "text": "x", "published_at": "yesterday-ish"}', SchemaViolationError, "schema_violation"),
        (b'{"id": "a", "text": ""}', InvalidArticleError, "empty_text"),
        (None, MalformedJsonError, "invalid_json"),
    ],
)
def test_parse_raw_rejects_bad_input_with_a_reason(value: bytes | None, error: type[Exception], reason: str) -> None:
    with pytest.raises(error) as info:
        parse_raw(value)
    assert info.value.reason == reason
    assert str(info.value)


def test_parse_raw_reads_a_valid_article_and_ignores_unknown_fields() -> None:
    a = parse_raw(json.dumps({"id": "x1", "text": "نص", "published_at": "2025-12-07T10:00:00Z",
                              "extra": 1}).encode())
    assert a.id == "x1" and a.published_at is not None and a.published_at.day == 7


def test_deadletter_keeps_the_original_bytes() -> None:
    raw = b"\x00\xffbroken"
    record = build_deadletter(raw, UndecodableInputError("bad"), topic="t", partition=2, offset=9)
    assert base64.b64decode(record.original_b64) == raw
    assert (record.reason, record.topic, record.partition, record.offset) == ("invalid_utf8", "t", 2, 9)


def test_offline_enricher_flags_copies_and_enriches_originals() -> None:
    enricher = OfflineEnricher(Settings())
    first = enricher.process(json.dumps({"id": "s", "text": SEED_TEXT}).encode())
    second = enricher.process(json.dumps({"id": "s2", "text": SEED_TEXT}).encode())
    bad = enricher.process(b"[]")
    assert first.kind == "enriched" and first.language is not None and first.language.code == "ar"
    assert any(e.type == "ASSAULT" for e in first.events)
    assert second.kind == "duplicate" and second.duplicate_of == "s" and second.duplicate_kind == "exact"
    assert bad.kind == "deadletter" and bad.reason == "invalid_json"


def test_enrich_command_writes_one_line_per_input_line_in_order(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": SEED_TEXT}),
        "garbage",
        json.dumps({"id": "b", "text": SEED_TEXT}),
        json.dumps({"id": "c", "text": "The Fed kept interest rates unchanged on Wednesday."}),
    ]
    out = subprocess.run([sys.executable, "-m", "streams.cli", "enrich"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True, cwd=REPO)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["kind"] for r in records] == ["enriched", "deadletter", "duplicate", "enriched"]
    assert records[0]["language"]["code"] == "ar" and 0 < records[0]["language"]["confidence"] <= 1
    assert {"type", "trigger", "negated"} <= set(records[0]["events"][0])
    assert records[0]["events"][0]["type"].isupper()
    assert records[1]["reason"] == "invalid_json"
    assert (records[2]["duplicate_of"], records[2]["similarity"]) == ("a", 1.0)
    assert records[3]["language"]["code"] == "en" and records[3]["events"] == []


def test_enriched_field_order_is_the_models() -> None:
    # assemble_enriched writes the fields in this order: the schema and it must agree
    from schemas.models import EnrichedArticle

    assert tuple(EnrichedArticle.model_fields) == ENRICHED_FIELD_ORDER


def test_assembled_enriched_record_equals_the_offline_one() -> None:
    """The agents' split serialization writes what ``OfflineEnricher`` (one model) writes."""
    from schemas.models import EnrichedArticle

    settings = Settings()
    offline = OfflineEnricher(settings)
    seed = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))[0]
    raw = json.dumps({"id": "s-1", "text": seed.read_text(encoding="utf-8"), "title": "عنوان",
                      "published_at": "2015-03-01T12:30:00"}, ensure_ascii=False).encode()
    record = offline.process(raw)
    assert isinstance(record, EnrichedArticle) and record.events
    article = parse_raw(raw, record.ingested_at)
    prepared = prepare(article, settings)
    parts = serialize_enriched(enrich(article, offline.pipeline, prepared.doc), prepared.probe.content_hash)
    assert assemble_enriched(parts, record.story_id, record.processed_at) == record.model_dump_json().encode()
