"""The story guard's word sketch: which words of an article fill a template's slots.

Templated announcements (royal condolence and congratulation cables, "the
Ministry of X announces the results of region Y") repeat one text with a name,
a country or a number swapped. Two such articles share most of their shingles,
yet they are different stories. The guard (``DedupSettings.story_guard``)
compares the *words* two articles do not share: when both sides swap words and
those words are mostly slot fillers, including a swapped name or place on each
side, the story link is blocked (:func:`khabar.dedup.index.template_variants`).

A word is a **slot filler** when it is a *number* (holds a digit) or a *name*:
a country, nationality, Saudi region or large city (with the clitics و/ب/ل/ف
and the article), a name particle (بن ابن آل أبو أم), the word after a name
particle, or one of the two words after a title (الأمير، الملك، الرئيس …).
``عبد`` names are ignored (written joined or split, they differ between rewrites).

Everything is computed from word hashes in numpy (:class:`~khabar.dedup.minhash.Spans`),
so the sketch costs no Python work per word. Hashes are 16-bit: a sketch is a
few hundred bytes, and a chance collision only makes the guard slightly less
likely to fire.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np

from khabar.dedup.minhash import U16, U64, Spans, word_hashes
from khabar.text.normalize import normalize_word

COUNTRIES = (
    "السعودية المملكة مصر الإمارات الكويت قطر البحرين عمان اليمن العراق سوريا الأردن لبنان "
    "فلسطين السودان ليبيا تونس الجزائر المغرب موريتانيا الصومال جيبوتي جزر القمر إيران "
    "تركيا باكستان أفغانستان الهند الصين اليابان كوريا روسيا أمريكا الولايات المتحدة بريطانيا "
    "فرنسا ألمانيا إيطاليا إسبانيا البرتغال هولندا بلجيكا السويد النرويج الدنمارك سويسرا "
    "النمسا اليونان أوكرانيا بولندا كندا البرازيل الأرجنتين المكسيك أستراليا إندونيسيا "
    "ماليزيا بنجلاديش سريلانكا نيجيريا إثيوبيا كينيا السنغال مالي تشاد النيجر "
    "جنوب أفريقيا الفلبين تايلاند سنغافورة كازاخستان أذربيجان"
)
NATIONALITIES = (
    "السعودي المصري الإماراتي الكويتي القطري البحريني العماني اليمني العراقي السوري الأردني "
    "اللبناني الفلسطيني السوداني الليبي التونسي الجزائري المغربي الموريتاني الصومالي الإيراني "
    "التركي الباكستاني الأفغاني الهندي الصيني الياباني الكوري الروسي الأمريكي البريطاني "
    "الفرنسي الألماني الإيطالي الإسباني الكندي الأسترالي الإندونيسي الماليزي"
)
PLACES = (
    "الرياض جدة مكة المكرمة المدينة المنورة الدمام الخبر الظهران الأحساء القطيف الجبيل الطائف "
    "تبوك حائل القصيم بريدة عنيزة عسير أبها خميس مشيط جازان جيزان نجران الباحة الجوف سكاكا "
    "عرعر الشمالية الشرقية ينبع القريات الخرج المجمعة الزلفي شقراء الدوادمي وادي الدواسر "
    "بيشة القنفذة رابغ حفر الباطن"
)
JOINED_NAMES = (
    "عبدالله عبدالعزيز عبدالرحمن عبدالمحسن عبدالإله عبدالكريم عبدالملك عبدالمجيد عبدالفتاح "
    "عبدالحميد عبدالرحيم عبدالسلام عبداللطيف عبدالوهاب عبدالقادر عبدالناصر عبدالمنعم عبدالهادي"
)
PARTICLES = "بن ابن آل أبو ابو أم بنت"
TITLES = (
    "الأمير الأميرة الملك الرئيس الشيخ الشيخة السيد الدكتور المهندس الأستاذ السلطان "
    "سمو معالي فخامة جلالة سعادة"
)
_CLITICS = ("و", "ب", "ل", "ف", "وب", "ول")


class Sketch(NamedTuple):
    """An article's guard sketch: :func:`sketch` output."""

    words: U16
    names: U16
    numbers: U16


def _variants(word: str) -> set[str]:
    """``word`` with the usual proclitics (and ``ال`` + ``ل`` → ``لل``)."""
    out = {word}
    out.update(c + word for c in _CLITICS)
    if word.startswith("ال"):
        out.update({"لل" + word[2:], "ولل" + word[2:], "فال" + word[2:]})
    return out


def _hash_words(words: set[str]) -> U64:
    norms = sorted({normalize_word(w) for w in words})
    return np.unique(word_hashes(Spans(" ".join(norms))))


@cache
def lexicon() -> tuple[U64, U64, U64, U64]:
    """Hashes of (place words, name particles, titles, ``عبد`` forms), normalized like
    ``Doc`` tokens."""
    places: set[str] = set()
    for w in " ".join((COUNTRIES, NATIONALITIES, PLACES)).split():
        places |= _variants(w)
    particles: set[str] = set()
    for w in PARTICLES.split():
        particles |= _variants(w)
    titles: set[str] = set()
    for w in TITLES.split():
        titles |= _variants(w)
    abd: set[str] = _variants("عبد")
    for w in JOINED_NAMES.split():
        abd |= _variants(w)
    return _hash_words(places), _hash_words(particles), _hash_words(titles), _hash_words(abd)


def sketch(spans: Spans) -> Sketch:
    """The 16-bit hashes of an article's distinct words, its name/place words and its numbers.

    ``عبد`` names are left out altogether (``عبد``, the word after it and the joined
    ``عبدالله`` forms): papers write them both ways, so they differ between rewrites
    of one text.

    Args:
        spans: The article's folded text (:class:`~khabar.dedup.minhash.Spans`).

    Returns:
        ``(words, names, numbers)``: sorted unique uint16 arrays; ``names`` (countries,
        nationalities, Saudi places, words after a name particle or title) and
        ``numbers`` (words with a digit) are subsets of ``words``.
    """
    empty = np.empty(0, dtype=np.uint16)
    if spans.prefix.size <= 1:
        return Sketch(empty, empty, empty)
    wh = word_hashes(spans)
    places, particles, titles, abd = lexicon()
    names = np.isin(wh, places)
    is_particle = np.isin(wh, particles)
    names |= is_particle
    names[1:] |= is_particle[:-1]
    is_title = np.isin(wh, titles)
    names[1:] |= is_title[:-1]
    names[2:] |= is_title[:-2]
    numbers = np.zeros(wh.size, dtype=bool)
    # Words holding an ASCII digit (normalization maps Arabic-Indic digits to ASCII)
    # are reduced to their digits: 665,932,983 = 665.932.983 and 13مواطنا = 13مواطن.
    is_digit = (spans.units >= 0x30) & (spans.units <= 0x39)
    digits = np.flatnonzero(is_digit)
    if digits.size:
        numbers[np.searchsorted(spans.starts, digits, side="right") - 1] = True
        only = Spans(spans.units[is_digit].tobytes().decode("utf-16-le"))
        before = np.zeros(spans.units.size + 1, dtype=np.intp)
        np.cumsum(is_digit, out=before[1:])
        wh[numbers] = only.hashes(before[spans.starts[numbers]], before[spans.ends[numbers]])
    is_abd = np.isin(wh, abd)
    keep = ~is_abd
    keep[1:] &= ~is_abd[:-1]
    short = (wh >> np.uint64(48)).astype(np.uint16)
    return Sketch(np.unique(short[keep]), np.unique(short[keep & names & ~numbers]),
                  np.unique(short[keep & numbers]))
