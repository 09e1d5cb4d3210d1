"""Format checks for the language / Arabic-variety evaluation set (eval/language/set.jsonl).

These check the *data*, not any detector: schema, label consistency, composition
counts and uniqueness, so the set cannot silently drift.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

SET_PATH = Path(__file__).resolve().parents[1] / "eval" / "language" / "set.jsonl"

KEYS = {"text", "language", "variety", "group", "source", "note"}
VARIETIES = {"msa", "egy", "lev", "glf", "mag"}
DIALECTS = VARIETIES - {"msa"}
GROUPS = ["msa", "dialect", "dialect_short", "persian_urdu", "other", "junk"]
SOURCES = {"saudinewsnet", "written", "derived"}
OTHER_LANGS = {"en", "fr", "tr", "he"}

PRESENTATION = re.compile("[\ufe70-\ufeff]")
# letters used by Persian/Urdu but not by Arabic
NON_ARABIC_LETTERS = re.compile("[\u067e\u0686\u0698\u06af\u06cc\u06a9\u06c1\u06d2\u0679\u0688\u0691\u06ba]")
URDU_ONLY = re.compile("[\u06d2\u06c1\u0679\u0688\u0691\u06ba\u06be]")
HEBREW = re.compile("[\u05d0-\u05ea]")
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


@pytest.fixture(scope="module")
def raw() -> str:
    return SET_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows(raw: str) -> list[dict]:
    return [json.loads(line) for line in raw.split("\n") if line]


def by_group(rows: list[dict], group: str) -> list[dict]:
    return [r for r in rows if r["group"] == group]


def test_file_layout(raw: str) -> None:
    assert raw.endswith("\n")
    lines = raw[:-1].split("\n")
    assert all(line.strip() for line in lines), "blank line in set.jsonl"
    for line in lines:
        assert isinstance(json.loads(line), dict)


def test_schema(rows: list[dict]) -> None:
    for r in rows:
        assert set(r) == KEYS, r
        assert isinstance(r["text"], str) and r["text"].strip(), r
        assert r["text"] == r["text"].strip(), r["text"][:40]
        assert isinstance(r["note"], str)
        assert r["language"] == "und" or re.fullmatch(r"[a-z]{2}", r["language"]), r["language"]
        assert r["group"] in GROUPS
        assert r["source"] in SOURCES
        if r["language"] == "ar":
            assert r["variety"] in VARIETIES, r
        else:
            assert r["variety"] is None, r


def test_group_label_consistency(rows: list[dict]) -> None:
    for r in rows:
        g, lang, var = r["group"], r["language"], r["variety"]
        if g == "msa":
            assert (lang, var) == ("ar", "msa"), r
        elif g in ("dialect", "dialect_short"):
            assert lang == "ar" and var in DIALECTS, r
            assert r["source"] == "written"
        elif g == "persian_urdu":
            assert lang in ("fa", "ur"), r
        elif g == "other":
            assert lang in OTHER_LANGS, r
        else:
            assert lang == "und", r


def test_grouped_in_fixed_order(rows: list[dict]) -> None:
    order = [GROUPS.index(r["group"]) for r in rows]
    assert order == sorted(order)


def test_total_and_group_counts(rows: list[dict]) -> None:
    counts = Counter(r["group"] for r in rows)
    assert len(rows) >= 300
    assert counts["msa"] >= 80
    assert counts["dialect"] == 100
    assert counts["dialect_short"] == 40
    assert counts["persian_urdu"] == 40
    assert counts["other"] == 40
    assert counts["junk"] == 10


def test_dialect_counts_per_variety(rows: list[dict]) -> None:
    long_ = Counter(r["variety"] for r in by_group(rows, "dialect"))
    short = Counter(r["variety"] for r in by_group(rows, "dialect_short"))
    assert long_ == {v: 25 for v in DIALECTS}
    assert short == {v: 10 for v in DIALECTS}


def test_dialect_short_is_short_and_long_is_not(rows: list[dict]) -> None:
    for r in by_group(rows, "dialect_short"):
        assert 2 <= len(r["text"].split()) <= 4, r["text"]
    for r in by_group(rows, "dialect"):
        assert len(r["text"].split()) >= 4, r["text"]


def test_dialect_texts_are_arabic_script_only(rows: list[dict]) -> None:
    for r in by_group(rows, "dialect") + by_group(rows, "dialect_short"):
        assert ARABIC_LETTER.search(r["text"]), r["text"]
        assert not NON_ARABIC_LETTERS.search(r["text"]), r["text"]
        assert not re.search("[A-Za-z]", r["text"]), r["text"]


def test_dialect_marker_words_not_everywhere(rows: list[dict]) -> None:
    famous = {"egy": "ايه", "lev": "شو", "glf": "وش", "mag": "واش"}
    for var, word in famous.items():
        texts = [r["text"] for r in by_group(rows, "dialect") if r["variety"] == var]
        with_marker = sum(word in t.split() or word + "؟" in t for t in texts)
        assert with_marker <= len(texts) // 3, (var, with_marker)


def test_msa_composition(rows: list[dict]) -> None:
    msa = by_group(rows, "msa")
    snn = [r for r in msa if r["source"] == "saudinewsnet"]
    assert len(snn) >= 70
    papers = {m.group(1) for r in msa if (m := re.search(r"\((\w+)\)", r["note"]))}
    assert len(papers) >= 10, papers
    assert sum("title" in r["note"] for r in msa) >= 20
    assert all(re.search(r"snn-\d{4}-\d{2}-\d{2}-\d{4}", r["note"]) for r in msa)
    # presentation forms from the first letter (derived by mapping), plus ones as found in the corpus
    starts = [r for r in msa if PRESENTATION.match(r["text"])]
    assert len(starts) >= 3
    assert all(r["source"] == "derived" and "presentation" in r["note"] for r in starts)
    assert sum(bool(PRESENTATION.search(r["text"])) for r in snn) >= 1
    # scraper junk that must still count as MSA
    assert sum(r["text"].startswith("Next Previous") for r in msa) >= 2
    assert sum("{" in r["text"] and ":" in r["text"] for r in msa) >= 2
    assert sum("jQuery" in r["text"] for r in msa) >= 1


def test_derived_presentation_forms_fold_back_to_plain_arabic(rows: list[dict]) -> None:
    for r in by_group(rows, "msa"):
        if r["source"] == "derived":
            folded = unicodedata.normalize("NFKC", r["text"])
            assert not PRESENTATION.search(folded)
            assert ARABIC_LETTER.search(folded)


def test_persian_urdu(rows: list[dict]) -> None:
    pu = by_group(rows, "persian_urdu")
    fa = [r["text"] for r in pu if r["language"] == "fa"]
    ur = [r["text"] for r in pu if r["language"] == "ur"]
    assert len(fa) == 20 and len(ur) == 20
    arabic_kb = [t for t in fa if re.search("[\u064a\u0643]", t) and not re.search("[\u06cc\u06a9]", t)]
    assert len(arabic_kb) >= 3, "Persian typed with Arabic yeh/kaf missing"
    assert sum(len(t.split()) <= 3 for t in fa) >= 3, "short Persian texts missing"
    assert sum(len(t.split()) <= 3 for t in ur) >= 2, "short Urdu texts missing"
    for t in ur:
        assert URDU_ONLY.search(t), t
    for t in fa:
        assert not URDU_ONLY.search(t.replace("\u06be", "")), t


def test_other_languages(rows: list[dict]) -> None:
    other = by_group(rows, "other")
    assert Counter(r["language"] for r in other) == {lang: 10 for lang in OTHER_LANGS}
    for r in other:
        if r["language"] == "he":
            assert HEBREW.search(r["text"]), r["text"]
        else:
            assert re.search("[A-Za-z]", r["text"]) and not HEBREW.search(r["text"]), r["text"]
        assert not ARABIC_LETTER.search(r["text"]), r["text"]
    tr = [r["text"] for r in other if r["language"] == "tr"]
    assert sum(bool(re.search("[çğıöşüİ]", t)) for t in tr) >= 8


def test_junk(rows: list[dict]) -> None:
    junk = by_group(rows, "junk")
    for r in junk:
        assert r["language"] == "und" and r["variety"] is None
    texts = [r["text"] for r in junk]
    assert any(t.isdigit() for t in texts)
    assert any(t.startswith("http") for t in texts)
    assert any("{" in t for t in texts)
    assert any(any(unicodedata.category(c) == "So" for c in t) for t in texts)


def normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def test_texts_unique(rows: list[dict]) -> None:
    texts = [r["text"] for r in rows]
    dup = [t for t, n in Counter(texts).items() if n > 1]
    assert not dup, dup
    norm = [normalize(t) for t in texts]
    dup = [t for t, n in Counter(norm).items() if n > 1]
    assert not dup, dup
