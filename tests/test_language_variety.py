"""Arabic variety from the marker lexicon, and the data files behind it."""

from __future__ import annotations

from importlib import resources

import pytest

from khabar.language import detect_text
from khabar.language.lexicon import build_lexicon, get_lexicon, parse_tsv, surface_key
from khabar.language.variety import MarkerVariety, decide_variety, marker_scores
from khabar.text.normalize import normalize_word

# Dev sentences written for these tests (not from the evaluation set).
SENTENCES = {
    "egy": [
        "انا مش عارف هو عايز ايه بالظبط",
        "الجو النهارده حر اوي ومفيش تكييف",
        "ازيك يا باشا عامل ايه",
        "هو فين الكتاب اللي كان هنا",
        "عشان كده مش هروح الشغل بكره",
    ],
    "lev": [
        "شو عم تعمل هلق يا زلمة",
        "بدي روح عالبيت بس الطريق زحمة كتير",
        "هيك الوضع منيح ما في مشكلة",
        "وين كنت مبارح ما شفتك",
        "هاد الشي تبعي مش تبعك",
    ],
    "glf": [
        "وش تبي الحين يا خوي",
        "والله الجو وايد حار اليوم",
        "شلونك عساك بخير",
        "ابغى اروح السوق بس ما عندي سيارة",
        "ليش ما تسوي اللي قلت لك",
    ],
    "mag": [
        "واش راك لاباس عليك",
        "كاين بزاف ديال الناس فالسوق",
        "علاش ما جيتيش البارح",
        "بغيت نمشي للدار دابا",
        "الماكلة باهية برشا اليوم",
    ],
    "msa": [
        "أعلنت وزارة الصحة اليوم عن تسجيل حالات جديدة في عدد من المناطق",
        "قال المتحدث الرسمي إن المحادثات سوف تستأنف الأسبوع المقبل",
        "لماذا لم تحضر الاجتماع الذي عقد أمس",
        "لقد أكد الوزير أن الحكومة تعمل على تنفيذ الخطة",
    ],
}


@pytest.mark.parametrize(
    ("variety", "text"), [(v, t) for v, texts in SENTENCES.items() for t in texts]
)
def test_dev_sentences(variety: str, text: str) -> None:
    lang = detect_text(text)
    assert lang.code == "ar"
    assert lang.variety is not None
    assert (lang.variety.code, lang.variety.method) == (variety, "markers")
    assert 0.0 < lang.variety.confidence <= 1.0


def test_one_quoted_dialect_word_keeps_news_msa() -> None:
    text = (
        "قال الوزير في مؤتمر صحفي عقده اليوم إن الحكومة سوف تواصل العمل على الخطة التي "
        "أعلنت عنها الأسبوع الماضي، وأضاف أن المواطنين قالوا له: مفيش مشكلة."
    )
    variety = detect_text(text).variety
    assert variety is not None and variety.code == "msa"


def test_no_evidence_short_is_unknown_long_is_msa() -> None:
    assert decide_variety(dict.fromkeys(("msa", "egy"), 0.0), 2).code == "unknown"
    assert decide_variety(dict.fromkeys(("msa", "egy"), 0.0), 12).code == "msa"


def test_marker_scores_use_normalized_forms() -> None:
    lexicon = get_lexicon()
    # written with alef-hamza and teh marbuta; the lexicon is normalized the same way
    scores = marker_scores([normalize_word("إزيك"), normalize_word("عايزة")], lexicon)
    assert scores["egy"] > 4 and scores["lev"] == 0.0
    assert MarkerVariety(lexicon).identify([], "").code == "unknown"


def test_parse_tsv_skips_comments_and_bad_rows() -> None:
    rows = parse_tsv(
        ["# comment", "", "شو\tlev\t2", "bad line", "x\tnope\t1", "y\tlev\tnotanumber", "  # indented"],
        ("lev",),
    )
    assert rows == [("شو", "lev", 2.0)]


def test_duplicate_rows_keep_highest_weight() -> None:
    lexicon = build_lexicon([("است", "fa", 1.0), ("است", "fa", 2.0)], [("شو", "lev", 1.0), ("شو", "lev", 0.5)])
    assert lexicon.surface_words["است"]["fa"] == 2.0
    assert lexicon.norm_words["شو"]["lev"] == 1.0


@pytest.mark.parametrize("name", ["markers.tsv", "function_words.tsv"])
def test_data_files_have_no_malformed_rows(name: str) -> None:
    lines = resources.files("khabar.language").joinpath("data", name).read_text("utf-8").splitlines()
    data_lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    labels = ("ar", "fa", "ur") if name == "function_words.tsv" else ("msa", "egy", "lev", "glf", "mag")
    assert len(parse_tsv(lines, labels)) == len(data_lines) > 50


def test_persian_surface_keys_keep_persian_letters() -> None:
    lexicon = get_lexicon()
    assert surface_key("برای") in lexicon.surface_words
    assert "ur" in lexicon.surface_words[surface_key("ہے")]
    # arclean would have folded ی into ي: the surface key must not
    assert surface_key("برای") != "براي"
