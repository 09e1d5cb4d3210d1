"""The shared normalization pass."""

from __future__ import annotations

from pathlib import Path

from camel_tools.utils.charmap import CharMapper

from khabar.corpus import iter_corpus
from khabar.text.normalize import arclean, make_doc, normalize_text, normalize_word

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
