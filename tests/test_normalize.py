"""The shared normalization pass."""

from __future__ import annotations

from pathlib import Path

from camel_tools.utils.charmap import CharMapper

from khabar.corpus import iter_corpus
from khabar.text.normalize import (
    TOKEN_RE,
    _WordCache,
    arclean,
    make_doc,
    normalize_text,
    normalize_word,
    normalize_word_reference,
)

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def test_arclean_table_matches_camel_tools_charmapper() -> None:
    mapper = CharMapper.builtin_mapper("arclean")
    samples = [p.read_text(encoding="utf-8") for p in SEEDS]
    samples += [a.text for a in iter_corpus(limit=300)]
    samples += ["ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ", "عَلَيْكُمْ ـــ السلام", "Mixed ﻻ text ١٢٣"]
    for text in samples:
        assert arclean(text) == mapper(text)


def test_tokens_keep_spans_into_the_original_text() -> None:
    text = "قالَ الرئيسُ: «أطلقت روسيا ٦٥٣ طائرةً مسيّرة» يوم السبت."
    doc = make_doc(text)
    for tok in doc.tokens:
        assert text[tok.start:tok.end] == tok.text
    norms = [t.norm for t in doc.tokens]
    assert "653" in norms                     # Eastern Arabic digits → ASCII
    assert "طائره" in norms                   # diacritics gone, teh marbuta → heh
    assert "مسيره" in norms                   # shadda gone
    assert "اطلقت" in norms                   # hamza on alef → bare alef


def test_normalize_word_folds_the_usual_variants() -> None:
    assert normalize_word("إلى") == normalize_word("الي") == "الي"
    assert normalize_word("مدرسة") == "مدرسه"
    assert normalize_word("ﺍﻟﺴﻼﻡ") == "السلام"  # presentation forms
    assert normalize_word("كـــبير") == "كبير"  # tatweel
    assert normalize_word("NATO") == "nato"


def test_one_table_normalizes_like_camel_tools_steps() -> None:
    # every character of the BMP alone (the table is built per character; beyond it, one
    # in 17), then words where a character's neighbours matter: Greek final sigma,
    # ligatures, tatweel runs
    cache = _WordCache()  # fresh: each word goes through the one-table path
    for cp in [*range(0x10000), *range(0x10000, 0x110000, 17)]:
        if not 0xD800 <= cp <= 0xDFFF:
            assert cache[chr(cp)] == normalize_word_reference(chr(cp)), hex(cp)
    words = ["ΟΔΥΣΣΕΥΣ", "ΑΣ", "أَحْمَدُ", "ﻻﺗﺰﺍﻝ", "مدرسةٌ", "١٢٣٫٥", "ـــعلى", "İstanbul", "STRASSE", "ﷺ"]
    words += [w for p in SEEDS for w in TOKEN_RE.findall(p.read_text(encoding="utf-8"))]
    for word in words:
        assert _WordCache()[word] == normalize_word_reference(word), word


def test_folded_text_ignores_punctuation_spacing_and_boilerplate_spans() -> None:
    a = make_doc("روسيا، تقصف كييف!!\n\nشارك المقال")
    b = make_doc("روسيا تقصف   كييف")
    a_excluded = make_doc(a.text, [(a.text.index("شارك"), len(a.text))])
    assert a_excluded.folded == b.folded == normalize_text("روسيا تقصف كييف")
    assert a.folded != b.folded


def test_odd_input_does_not_break_the_pass() -> None:
    for text in ["", "   ", "!!!؟؟؟", "x" * 100_000, "\u200f\u200e", "١٢٣٫٥"]:
        doc = make_doc(text)
        assert isinstance(doc.folded, str)
        assert all(0 <= s.start < s.end <= len(text) for s in doc.sentences)


def test_tokens_match_the_token_regex_on_the_corpus() -> None:
    # make_doc computes spans and norms in bulk; the definition is one match per token
    for a in iter_corpus(limit=400):
        doc = make_doc(a.text)
        expected = [(m.start(), m.end(), m.group(), normalize_word(m.group())) for m in TOKEN_RE.finditer(a.text)]
        assert [tuple(t) for t in doc.tokens] == expected
        assert doc.starts == [t.start for t in doc.tokens]
        assert doc.norms == [t.norm for t in doc.tokens]


def test_content_tokens_skip_every_token_starting_in_a_span() -> None:
    text = "واحد اثنان ثلاثة أربعة خمسة ستة"
    # overlapping and unsorted spans; "اثنان" starts inside the first one
    spans = [(text.index("خمسة"), len(text)), (3, text.index("ثلاثة")), (4, 6)]
    doc = make_doc(text, spans)
    assert [t.text for t in doc.content_tokens] == ["واحد", "ثلاثة", "أربعة"]
    assert doc.content_norms == [t.norm for t in doc.content_tokens]
    assert doc.folded == "واحد ثلاثه اربعه"


def test_sentences_carry_their_token_ranges() -> None:
    doc = make_doc("قصفت روسيا كييف. هل انتهت الحرب؟\nسطر جديد")
    assert [(s.text, s.first_token, s.last_token) for s in doc.sentences] == [
        ("قصفت روسيا كييف.", 0, 3), ("هل انتهت الحرب؟", 3, 6), ("سطر جديد", 6, 8)]


def test_word_cache_is_bounded() -> None:
    cache = _WordCache()
    cache.max_size = 10
    norms = [cache[f"كلمة{i}"] for i in range(25)]
    assert len(cache) <= 10
    assert norms == [normalize_word(f"كلمة{i}") for i in range(25)]
