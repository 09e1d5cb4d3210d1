"""Trigger lexicon: inflection, clitics, forbidden forms and the one-pass automaton."""

from __future__ import annotations

import pytest

from khabar.events.lexicon import (
    Found,
    Lexicon,
    build_automaton,
    get_lexicon,
    imperfect_forms,
    load_triggers,
    noun_forms,
    parse_tsv,
    past_forms,
)
from khabar.text.normalize import normalize_word
from schemas.models import PloverType
from tests.support.events import only_event, root

TINY = """# a comment line
قصف\tV\tASSAULT\tshelling/artillery\t0.9\t-
قصف\tI\tASSAULT\tshelling/artillery\t0.9\t-
غارة\tN\tASSAULT\taerial weapons\t0.95\t-
شن هجوما|غارات\tV\tASSAULT\t-\t0.95\t-
طالب\tVX\tREQUEST\t-\t0.8\t-
!طالبه
"""


def _trigger_table() -> dict[str, list[str]]:
    triggers, _ = load_triggers(TINY)
    table: dict[str, list[str]] = {}
    for words, hit in triggers:
        table.setdefault(" ".join(words), []).append(hit.entry.type.value)
    return table


def test_parse_tsv_skips_comments_and_pads() -> None:
    rows = parse_tsv("# c\n\nا\tب\n", 3)
    assert rows == [["ا", "ب", ""]]


def test_perfect_verb_inflections_and_clitics() -> None:
    table = _trigger_table()
    for form in ("قصف", "قصفت", "قصفوا", "وقصفت", "فقصفوا", "قصفها", "قصفتهم"):
        assert normalize_word(form) in table, form


def test_imperfect_prefixes_future_and_suffixes() -> None:
    table = _trigger_table()
    for form in ("يقصف", "تقصف", "نقصف", "يقصفون", "سيقصف", "وسيقصفون", "ستقصف"):
        assert normalize_word(form) in table, form
    assert "قصف" not in imperfect_forms("قصف")  # the bare stem is the perfect's business


def test_noun_forms_article_plural_dual_possessive() -> None:
    table = _trigger_table()
    for form in ("غارة", "الغارة", "غارات", "الغارات", "غاراتها", "غارتين", "بغارة", "والغارات",
                 "للغارات"):
        assert normalize_word(form) in table, form
    assert "غارات" in noun_forms("غاره")


def test_multiword_trigger_with_alternatives() -> None:
    table = _trigger_table()
    assert "شنت غارات" in table
    assert "وشنوا هجوما" in table
    assert "شنت الغارات" in table


def test_vx_and_forbidden_forms() -> None:
    table = _trigger_table()
    assert "طالب" not in table  # "student": VX leaves the bare stem out
    assert "طالبت" in table and "وطالبوا" in table
    assert "طالبه" not in table  # forbidden by "!طالبه"


def test_defective_verb_forms() -> None:
    forms = past_forms(normalize_word("التقى"))
    assert {"التقي", "التقت", "التقوا", "التقيا"} <= forms


def test_one_table_finds_multiword_and_single_triggers() -> None:
    triggers, _ = load_triggers(TINY)
    lex = build_automaton([triggers])
    words = [normalize_word(w) for w in ["وشنت", "روسيا", "غارات", "ثم", "شنت", "غارات"]]
    found = [(first, n, hit.entry.phrase) for first, n, hits, _t in lex.scan(words) for hit in hits]
    multi = [(first, n) for first, n, phrase in found if phrase.startswith("شن")]
    assert multi == [(4, 2)]  # "شنت غارات" at the end; "وشنت روسيا" is not the trigger
    assert [first for first, _n, phrase in found if phrase == "غارة"] == [2, 5]  # both غارات


def test_scan_orders_keys_by_end_longer_first() -> None:
    # the order of a left-to-right automaton: by last word; of keys ending together, the
    # longer first (mention order breaks ties downstream, so it must not depend on the table)
    triggers, _ = load_triggers(TINY)
    lex = build_automaton([triggers])
    words = [normalize_word(w) for w in ["شنت", "غارات", "غارات"]]
    got = [(first, n) for first, n, _hits, _t in lex.scan(words)]
    assert got == [(0, 2), (1, 1), (2, 1)]
    assert all(is_trigger for *_rest, is_trigger in lex.scan(words))


def _scan_by_sort(lex: Lexicon, words: list[str]) -> list[Found]:
    """Reference scan: every key in left-to-right order, then one stable sort by end."""
    out: list[Found] = []
    for i, word in enumerate(words):
        slot = lex.table.get(word)
        if slot is None:
            continue
        hits, trig, longer = slot
        if hits is not None:
            out.append((i, 1, hits, trig))
        for rest, hits, trig in (longer or {}).get(words[i + 1] if i + 1 < len(words) else "", ()):
            j = i + 2 + len(rest)
            if words[i + 2:j] == rest:
                out.append((i, j - i, hits, trig))
    return sorted(out, key=lambda f: (f[0] + f[1], -f[1]))


def test_scan_order_is_a_stable_sort_by_end_few_or_many_longer_keys() -> None:
    # scan files a few longer keys one by one and sorts when there are many: same order
    lex = get_lexicon()
    text = ["وشنت", "روسيا", "غارات", "على", "المدينة", "ثم", "شن", "هجوما", "وفرضت", "عقوبات", "اقتصادية", "على", "روسيا", "أمس"]
    for copies in (1, 3, 40):
        words = [normalize_word(w) for w in text * copies]
        got = lex.scan(words)
        assert got == _scan_by_sort(lex, words)
        assert any(n > 1 for _f, n, _h, _t in got)


def test_packaged_lexicon_covers_all_16_types() -> None:
    triggers, _ = load_triggers()
    assert {hit.entry.type for _w, hit in triggers} == set(PloverType)
    assert get_lexicon().size > 10_000


@pytest.mark.parametrize(("name", "code"), [
    ("بيلاروسيا", "BLR"), ("روسيا البيضاء", "BLR"), ("ميانمار", "MMR"), ("بورما", "MMR"),
    ("الكونغو الديمقراطية", "COD"), ("كوت ديفوار", "CIV"), ("جمهورية التشيك", "CZE"), ("كوسوفو", "XKX"),
])
def test_states_are_known_by_the_names_news_uses(name: str, code: str) -> None:
    # babel's Arabic names are بيلاروس، ميانمار (بورما)، الكونغو - كينشاسا: news writes otherwise
    ev = only_event(f"فرضت الولايات المتحدة عقوبات جديدة على {name} بسبب قمع المعارضين.", PloverType.SANCTION)
    assert (root(ev.source), root(ev.target)) == ("USA", code)


def test_a_demonym_names_the_attacker_not_the_state_after_the_place() -> None:
    ev = only_event("قصفت القوات الرواندية مواقع للمتمردين في الكونغو الديمقراطية.", PloverType.ASSAULT)
    assert root(ev.source) == "RWA"
