"""Boilerplate rules (khabar/text/boilerplate.yaml) on real SaudiNewsNet shapes."""

from __future__ import annotations

import itertools
import re

import pytest

from khabar.corpus import iter_corpus
from khabar.text.boilerplate import (
    _line_matches,
    _required_literal,
    _rules,
    boilerplate_spans,
    merge_spans,
)

BODY = "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة الرياض."


def stripped(text: str) -> str:
    out, last = [], 0
    for s, e in boilerplate_spans(text):
        out.append(text[last:s])
        last = e
    out.append(text[last:])
    return " ".join("".join(out).split())


@pytest.mark.parametrize(
    "text",
    [
        BODY + " رابط الخبر بصحيفة الوئام: ظريف في الكويت.. ايران: الاتفاق النووي",  # alweeam
        BODY + "\nرابط الخبر بصحيفة الوئام: أسعار النفط تغلق على تراجع",
        "Next Previous محمود نديم – عين اليوم\n" + BODY,  # 3alyoum widget + byline
        "عين اليوم – متابعات\n" + BODY,
        BODY + " سمات الجوازات الرياض اليمنيين بطاقة زائر",  # 3alyoum tag list
        "عبدالعزيز السلمي- سبق- جدة: " + BODY,  # sabq dateline
        "سبق، واس- الباحة: " + BODY,
        "الرياض 26 شوال 1436 هـ الموافق 11 أغسطس 2015 م واس\n " + BODY + "\n // انتهى //\n 12:47 ت م",
        "شارك من خلال تويتر فيسبوك جوجل بلس اكتب رأيك " + BODY,  # okaz share widget
        BODY + "\n...المزيد",  # aawsat
        BODY + "\n* خدمة «نيويورك تايمز»",
        BODY + "\nللتواصل مع الكاتب ارسل رسالة SMS\n88591 - Stc\n635031 - Mobily\n737221 - Zain",
        BODY + "\nللتواصل أرسل sms إلى 88548 الاتصالات ,636250 موبايلي, 738303 زين",
        BODY + "\nلمراسلة الكاتب: turki@alriyadh.net",
        BODY + "\n* وحدة التقارير الاقتصادية",
        "الرياضي ـ جدة\n" + BODY,
        BODY + "\nشارك المقال",
    ],
)
def test_boilerplate_is_removed(text: str) -> None:
    assert stripped(text) == BODY


@pytest.mark.parametrize(
    "text",
    [
        "شارك مركز الملك عبدالله العالمي للحوار في المؤتمر الدولي.",  # "took part": content
        "شارك أكثر من 200 شخص أمس في إحياء الذكرى.",
        "وقال إن السمات المشتركة بين البلدين كثيرة.",
        "وأضاف أن الاجتماع سيعقد في الرياض - جدة الأسبوع المقبل وسيحضره الوزراء المعنيون.",
        "",
    ],
)
def test_content_is_kept(text: str) -> None:
    assert boilerplate_spans(text) == []


def test_spans_are_sorted_and_disjoint() -> None:
    text = "Next Previous عين اليوم – الرياض\n" + BODY + " رابط الخبر بصحيفة الوئام: عنوان"
    spans = boilerplate_spans(text)
    assert spans == sorted(spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def _spans_by_plain_search(text: str) -> list[tuple[int, int]]:
    """The definition: every rule regex searched over the whole text, spans merged."""
    return merge_spans([m.span() for _, rx, _ in _rules() for m in rx.finditer(text) if m.end() > m.start()])


def test_shortcuts_give_the_plain_search_spans() -> None:
    # line rules tried at line starts only, scopes skipped when a required literal is absent
    texts = [a.text for a in iter_corpus(limit=400)]
    texts += ["شارك\nعلى تويتر\n\nشارك المقال\n", "\n\n  طباعة | x\n", "x سمات a b", "سمات"]
    for text in texts:
        assert boilerplate_spans(text) == _spans_by_plain_search(text)


def test_line_matches_equal_finditer() -> None:
    line_rx = next(rx for scope, rx, _ in _rules() if scope == "line")
    for text in ["", "\n", "شارك المقال", "نص\nشارك المقال\nنص", "شارك\n\nطباعة\n", "طباعة\n" * 3]:
        assert _line_matches(line_rx, text) == [m.span() for m in line_rx.finditer(text)]
    assert _line_matches(re.compile(r"^x*$", re.MULTILINE), "a\n") is None  # empty match: use finditer


def test_required_literal() -> None:
    assert _required_literal(r"(?<=[.!])\s*سمات(?: \S+){1,15}") == "سمات"
    assert _required_literal(r"ab(?:cde)+f?") == "cde"
    assert _required_literal(r"abc|xyz") is None  # either alternative may match
    assert _required_literal(r"(?i)abc") is None
    assert _required_literal(r"a(?:bc)?") == "a"
