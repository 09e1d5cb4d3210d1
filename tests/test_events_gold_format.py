"""Format checks for the hand-annotated PLOVER gold set (eval/events/gold.jsonl)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

GOLD = Path(__file__).resolve().parents[1] / "eval" / "events" / "gold.jsonl"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"

TYPES = {
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
    "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT",
}
ARTICLE_KEYS = {"article_id", "split", "source", "published_at", "text", "events"}
EVENT_KEYS = {"type", "mode", "trigger", "trigger_start", "trigger_end", "source", "target", "negated"}


@pytest.fixture(scope="module")
def gold() -> list[dict]:
    assert GOLD.is_file(), f"missing {GOLD}"
    rows = []
    with GOLD.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            assert line.strip(), f"blank line {lineno}"
            rows.append(json.loads(line))
    return rows


def test_article_fields(gold):
    for row in gold:
        assert set(row) == ARTICLE_KEYS, (row.get("article_id"), set(row) ^ ARTICLE_KEYS)
        assert isinstance(row["article_id"], str) and row["article_id"]
        assert row["split"] in {"dev", "test"}
        assert row["source"] is None or isinstance(row["source"], str)
        if row["published_at"] is not None:
            datetime.fromisoformat(row["published_at"])
        assert isinstance(row["text"], str) and row["text"].strip()
        assert isinstance(row["events"], list)


def test_ids_unique(gold):
    ids = [row["article_id"] for row in gold]
    assert len(ids) == len(set(ids))


def test_sizes_and_splits(gold):
    assert len(gold) >= 45
    snn = [row for row in gold if row["article_id"].startswith("snn-")]
    assert len(snn) >= 40
    assert len({row["source"] for row in snn}) >= 8, "SaudiNewsNet articles should span many newspapers"
    splits = {row["split"] for row in gold}
    assert splits == {"dev", "test"}
    snn_dev = sum(row["split"] == "dev" for row in snn)
    assert abs(2 * snn_dev - len(snn)) <= 2, "SaudiNewsNet articles should be split about half/half"


def test_seeds_present_in_dev_with_exact_text(gold):
    by_id = {row["article_id"]: row for row in gold}
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    for path in seeds:
        row = by_id[path.stem]
        assert row["split"] == "dev"
        assert row["text"] == path.read_text(encoding="utf-8")


def test_event_fields_and_offsets(gold):
    n_events = 0
    for row in gold:
        text = row["text"]
        for ev in row["events"]:
            n_events += 1
            assert EVENT_KEYS <= set(ev) <= EVENT_KEYS | {"note"}, (row["article_id"], ev)
            assert ev["type"] in TYPES, (row["article_id"], ev["type"])
            assert ev["mode"] is None or (isinstance(ev["mode"], str) and ev["mode"])
            assert isinstance(ev["negated"], bool)
            for side in ("source", "target"):
                assert ev[side] is None or (isinstance(ev[side], str) and ev[side].strip() == ev[side] and ev[side])
            start, end = ev["trigger_start"], ev["trigger_end"]
            assert isinstance(start, int) and isinstance(end, int)
            assert 0 <= start < end <= len(text), (row["article_id"], ev)
            assert text[start:end] == ev["trigger"], (row["article_id"], ev["trigger"], text[start:end])
            assert ev["trigger"] == ev["trigger"].strip()
    assert n_events > 0


def test_no_duplicate_event_at_same_trigger(gold):
    for row in gold:
        keys = [(ev["trigger_start"], ev["trigger_end"], ev["type"]) for ev in row["events"]]
        assert len(keys) == len(set(keys)), row["article_id"]


def test_both_splits_have_events_and_event_free_articles(gold):
    for split in ("dev", "test"):
        rows = [row for row in gold if row["split"] == split]
        assert sum(len(row["events"]) for row in rows) > 50
        assert any(not row["events"] for row in rows), f"{split} needs no-event articles for precision"


BLIND = GOLD.with_name("gold_blind.jsonl")


def test_blind_set_has_the_same_format_and_no_overlap_with_gold(gold):
    rows = [json.loads(line) for line in BLIND.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 30
    for row in rows:
        assert set(row) == ARTICLE_KEYS and row["split"] == "blind"
        for ev in row["events"]:
            assert set(ev) - {"note"} == EVENT_KEYS and ev["type"] in TYPES  # the annotator's notes on hard calls
            assert row["text"][ev["trigger_start"]:ev["trigger_end"]] == ev["trigger"]
    gold_ids = {r["article_id"] for r in gold}
    gold_texts = {r["text"] for r in gold}
    assert not gold_ids & {r["article_id"] for r in rows}
    assert not gold_texts & {r["text"] for r in rows}
