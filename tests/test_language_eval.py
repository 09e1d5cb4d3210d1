"""``khabar.eval.language``: accuracy per group / language, variety accuracy, confusions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from khabar.eval.language import evaluate, main, read_set

ROWS = [
    {"text": "قال الوزير إن المحادثات سوف تستمر الأسبوع المقبل في الرياض", "language": "ar",
     "variety": "msa", "group": "msa"},
    {"text": "شو عم تعمل هلق", "language": "ar", "variety": "lev", "group": "dialect_short"},
    {"text": "ازيك يا باشا عامل ايه النهارده", "language": "ar", "variety": "egy", "group": "dialect"},
    # deliberately mislabeled: the report must count it as an error and a confusion
    {"text": "The minister said the talks would continue next week.", "language": "fr",
     "variety": None, "group": "other"},
    {"text": "12345 !!!", "language": "und", "variety": None, "group": "junk"},
]


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    path = tmp_path / "set.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS]
    path.write_text("\n".join([*lines[:2], "", "not json", *lines[2:]]) + "\n", encoding="utf-8")
    return path


def test_read_set_skips_blank_and_bad_lines(tiny_set: Path) -> None:
    assert len(list(read_set(tiny_set))) == len(ROWS)


def test_evaluate(tiny_set: Path) -> None:
    report = evaluate(tiny_set)
    assert report["n"] == 5
    assert report["accuracy"] == 0.8
    assert report["groups"]["msa"] == {"accuracy": 1.0, "n": 1}
    assert report["groups"]["other"] == {"accuracy": 0.0, "n": 1}
    assert report["languages"]["fr"]["accuracy"] == 0.0
    assert report["confusions"] == [{"gold": "fr", "got": "en", "n": 1}]
    assert report["variety"]["all"] == {"accuracy": 1.0, "n": 2}
    assert report["variety"]["dialect_short"]["n"] == 1


def test_main_prints_report(tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(tiny_set) == 0
    out = capsys.readouterr().out
    assert "language accuracy 0.8000 on 5 texts" in out
    assert "fr -> en: 1" in out
    assert "dialect_short" in out


def test_main_missing_or_empty_set(tmp_path: Path) -> None:
    assert main(tmp_path / "missing.jsonl") == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(empty) == 2
