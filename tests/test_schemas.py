"""Record schemas: exported JSON Schema is current, ids are deterministic."""

from __future__ import annotations

from schemas.export import stale
from schemas.models import EXPORTED_MODELS, RawArticle, event_id


def test_exported_json_schema_is_up_to_date() -> None:
    assert stale() == [], "run `khabar schemas export` and commit schemas/json/"


def test_every_record_has_a_schema_version() -> None:
    for model in EXPORTED_MODELS.values():
        assert "schema_version" in model.model_fields


def test_event_ids_are_deterministic_and_distinct() -> None:
    a = event_id("art-1", 10, 15, 20, "ASSAULT")
    assert a == event_id("art-1", 10, 15, 20, "ASSAULT")
    assert len({a, event_id("art-1", 10, 15, 20, "CONSULT"), event_id("art-2", 10, 15, 20, "ASSAULT"),
                event_id("art-1", 10, 16, 20, "ASSAULT")}) == 4


def test_raw_article_is_strict_about_types() -> None:
    assert RawArticle.model_validate({"id": "x", "text": "t", "unknown": 1}).id == "x"
    for bad in ({"id": 1, "text": "t"}, {"id": "x"}, {"id": "x", "text": 3}, {"id": "", "text": "t"}):
        try:
            RawArticle.model_validate(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
