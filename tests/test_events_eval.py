"""The evaluation's matching rule and its CLI entry point, on gold records built here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from khabar.eval.events import (
    Item,
    _errors,
    agreement,
    calibration,
    evaluate,
    format_causes,
    main,
    match,
    match_pairs,
    miss_causes,
    read_gold,
    root,
    to_items,
)

TEXT = "شنت روسيا هجوما على أوكرانيا. والتقى ماكرون زيلينسكي في باريس."


def _gold(events: list[dict[str, object]], split: str = "dev") -> dict[str, object]:
    return {"article_id": "g1", "split": split, "source": None, "published_at": None,
            "text": TEXT, "events": events}


def _ev(type_: str, trigger: str, source: str | None, target: str | None) -> dict[str, object]:
    start = TEXT.index(trigger)
    return {"type": type_, "mode": None, "trigger": trigger, "trigger_start": start,
            "trigger_end": start + len(trigger), "source": source, "target": target,
            "negated": False}


def test_root() -> None:
    assert root("UKR GOV") == "UKR" and root("NATO") == "NATO" and root(None) is None


def test_match_overlap_then_sentence_one_to_one() -> None:
    g = to_items([("ASSAULT", 0, 3, "RUS", "UKR"), ("ASSAULT", 4, 9, "RUS", "UKR")], TEXT)
    p = to_items([("ASSAULT", 10, 15, "RUS MIL", "UKR")], TEXT)
    assert match(g, p, actors=False) == 1  # same sentence, but only one prediction
    assert match(g, p, actors=True) == 1  # RUS MIL ~ RUS on the root
    other = to_items([("ASSAULT", TEXT.index("والتقى"), TEXT.index("والتقى") + 6, None, None)], TEXT)
    assert match(g, other, actors=False) == 0  # another sentence, no overlap
    assert match([Item("CONSULT", 0, 3, 0, None, None)], p, actors=False) == 0  # other type


def test_null_gold_actor_needs_null_prediction() -> None:
    g = to_items([("ASSAULT", 0, 3, None, None)], TEXT)
    assert match(g, to_items([("ASSAULT", 0, 3, "RUS", None)], TEXT), actors=True) == 0
    assert match(g, to_items([("ASSAULT", 0, 3, None, None)], TEXT), actors=True) == 1


def test_evaluate_end_to_end_on_real_extractor() -> None:
    rec = _gold([_ev("ASSAULT", "شنت", "RUS", "UKR"), _ev("CONSULT", "التقى", "FRA GOV", "UKR GOV"),
                 _ev("PROTEST", "باريس", None, None)])
    report = evaluate([rec])
    assert report.by_type["ASSAULT"].tp == 1 and report.by_type["CONSULT"].tp == 1
    assert report.by_type["PROTEST"].recall == 0.0
    assert report.overall.gold == 3
    assert report.overall.recall == pytest.approx(2 / 3)
    assert report.overall_actors.tp <= report.overall.tp


def test_main_prints_and_filters_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gold.jsonl"
    lines = [json.dumps(_gold([_ev("ASSAULT", "شنت", "RUS", "UKR")], "dev"), ensure_ascii=False),
             json.dumps(_gold([], "test"), ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(read_gold(path, "test")) == 1
    assert main(path, "dev") == 0
    out = capsys.readouterr().out
    assert "ASSAULT" in out and "OVERALL" in out and "articles: 1" in out


def test_main_reports_bad_gold(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert main(bad) == 2
    assert main(tmp_path / "missing.jsonl") == 2


def test_errors_list_missed_spurious_and_actor_mismatches() -> None:
    g = to_items([("ASSAULT", 0, 3, "RUS", "UKR"), ("PROTEST", 30, 36, None, None)], TEXT)
    p = to_items([("ASSAULT", 4, 9, "RUS", "FRA"), ("CONSULT", 30, 36, "FRA", "UKR")], TEXT)
    pairs = match_pairs(g, p, actors=False)
    assert pairs == [(0, 0)]
    misses = _errors("a1", TEXT, [g[0]], [p[0]])  # one type at a time, as evaluate calls it
    assert [(m.kind, m.type, m.trigger) for m in misses] == [("actors", "ASSAULT", "شنت")]
    assert misses[0].gold_actors == ("RUS", "UKR") and misses[0].predicted_actors == ("RUS", "FRA")
    assert "gold RUS → UKR got RUS → FRA" in misses[0].line()
    assert misses[0].sentence == "شنت روسيا هجوما على أوكرانيا."
    assert [m.kind for m in _errors("a1", TEXT, [g[1]], [])] == ["missed"]
    spurious = _errors("a1", TEXT, [], [p[1]])
    assert [(m.kind, m.type, m.predicted_actors) for m in spurious] == [("spurious", "CONSULT", ("FRA", "UKR"))]


def test_main_prints_errors_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gold.jsonl"
    rec = _gold([_ev("ASSAULT", "شنت", "RUS", "UKR"), _ev("PROTEST", "باريس", None, None)])
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(path) == 0
    assert "errors (" not in capsys.readouterr().out
    assert main(path, errors=True) == 0
    out = capsys.readouterr().out
    report = evaluate([rec], errors=True)
    assert f"errors ({len(report.errors)})" in out
    assert any(m.kind == "missed" and m.type == "PROTEST" and m.trigger == "باريس" for m in report.errors)
    assert "g1  missed   PROTEST   «باريس»" in out


def test_agreement_scores_a_second_annotation_on_the_shared_articles() -> None:
    first = _gold([_ev("ASSAULT", "شنت", "RUS", "UKR"), _ev("CONSULT", "التقى", "FRA GOV", "UKR GOV")])
    # the second annotator agrees on the attack (its source only by root), calls the meeting a
    # visit on another word of the sentence, and adds a protest the first did not see
    second = _gold([_ev("ASSAULT", "هجوما", "RUS MIL", "UKR"), _ev("CONSULT", "باريس", "FRA", None),
                    _ev("PROTEST", "زيلينسكي", None, None)])
    unshared = {**_gold([]), "article_id": "only-in-second"}
    report = agreement([first], [second, unshared])
    assert report.articles == 1
    assert (report.overall.tp, report.overall.gold, report.overall.predicted) == (2, 2, 3)
    assert report.overall_actors.tp == 1  # the meeting's target differs
    assert report.by_type["PROTEST"].predicted == 1 and report.by_type["PROTEST"].tp == 0


def test_agreement_refuses_different_texts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps(_gold([_ev("ASSAULT", "شنت", "RUS", "UKR")]), ensure_ascii=False) + "\n",
                     encoding="utf-8")
    second.write_text(json.dumps({**_gold([]), "text": TEXT + " "}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(first, against=second) == 2
    assert "different texts" in capsys.readouterr().out
    assert main(first, against=first) == 0
    out = capsys.readouterr().out
    assert "against:" in out and "OVERALL        1     1  1.000  1.000  1.000" in out


def test_misses_are_counted_by_cause(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = "شنت روسيا هجوما على أوكرانيا. واستهدفت الحملة الشباب في المدارس."

    def ev(type_: str, trigger: str) -> dict[str, object]:
        start = text.index(trigger)
        return {"type": type_, "mode": None, "trigger": trigger, "trigger_start": start,
                "trigger_end": start + len(trigger), "source": None, "target": None, "negated": False}

    rec = {"article_id": "c1", "split": "dev", "source": None, "published_at": None, "text": text,
           "events": [ev("ASSAULT", "شنت"),  # found
                      ev("ASSAULT", "واستهدفت"),  # an ASSAULT entry that needs a military cue
                      ev("CONSULT", "هجوما"),  # only an ASSAULT entry covers the word
                      ev("PROTEST", "المدارس")]}  # no entry at all
    causes = miss_causes([rec])
    assert causes == {"found": 1, "filtered or merged": 1, "other type only": 1, "no trigger word": 1}
    assert format_causes(causes) == ("missed gold events by cause: no trigger word 1 (25%), filtered or merged "
                                     "1 (25%), other type only 1 (25%); found 1 of 4")
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(path, causes=True) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("found 1 of 4") and "المدارس" not in out  # counts, never sentences


def test_calibration_bins_predicted_events_by_confidence() -> None:
    points = [(0.35, False), (0.45, True), (0.55, True), (0.55, False), (0.95, True), (1.0, True)]
    bins, ece = calibration(points)
    by_edge = {(b.low, b.high): b for b in bins}
    assert (by_edge[0.0, 0.5].events, by_edge[0.0, 0.5].correct) == (2, 1)
    assert by_edge[0.5, 0.6].precision == 0.5 and by_edge[0.5, 0.6].mean_confidence == pytest.approx(0.55)
    assert by_edge[0.9, 1.0].events == 2  # 1.0 falls in the last bin
    assert sum(b.events for b in bins) == len(points)
    # |0.5 - 0.4| * 2 + |0.5 - 0.55| * 2 + |1.0 - 0.975| * 2, over 6 events
    assert ece == pytest.approx((0.2 + 0.1 + 0.05) / 6)
    empty, none = calibration([])
    assert none == 0.0 and all(b.events == 0 for b in empty)


def test_every_predicted_event_is_scored_for_calibration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = _gold([_ev("ASSAULT", "شنت", "RUS", "UKR")])
    report = evaluate([rec])
    assert len(report.confidence) == report.overall.predicted >= 2  # the attack and the meeting
    assert sum(ok for _, ok in report.confidence) == report.overall.tp == 1
    assert all(0.3 <= c <= 1.0 for c, _ in report.confidence)
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(path, confidence=True) == 0
    out = capsys.readouterr().out
    assert "expected calibration error" in out
    rows = [line.split() for line in out.splitlines() if line[:3] in {"0.0", "0.5", "0.6", "0.7", "0.8", "0.9"}]
    assert sum(int(r[1]) for r in rows) == len(report.confidence)
