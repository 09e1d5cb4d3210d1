"""The story guard's word sketch: which words of an article fill a template's slots.

Templated announcements (royal condolence and congratulation cables, "the
Ministry of X announces the results of region Y") repeat one text with a name,
a country or a number swapped. Two such articles share most of their shingles,
yet they are different stories. The guard (``DedupSettings.story_guard``)
compares the *words* two articles do not share: when both sides swap words and
those words are mostly slot fillers, the story link is blocked.

A word is a **slot filler** when it holds a digit, is a country, nationality,
Saudi region or large city (with the clitics و/ب/ل/ف and the article), is a
joined ``عبد…`` name, is a name particle (عبد بن ابن آل أبو أم), follows a name
particle, or is one of the two words after a title (الأمير، الملك، الرئيس …).

Everything is computed from word hashes in numpy (:class:`~khabar.dedup.minhash.Spans`),
so the sketch costs no Python work per word. Hashes are 16-bit: a sketch is a
few hundred bytes, and a chance collision only makes the guard slightly less
likely to fire.
"""

from __future__ import annotations

from functools import cache

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
PARTICLES = "عبد بن ابن آل أبو ابو أم بنت"
TITLES = (
    "الأمير الأميرة الملك الرئيس الشيخ الشيخة السيد الدكتور المهندس الأستاذ السلطان "
    "سمو معالي فخامة جلالة سعادة"
)
_CLITICS = ("و", "ب", "ل", "ف", "وب", "ول")


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
def lexicon() -> tuple[U64, U64, U64]:
    """Hashes of (slot words, name particles, titles), normalized like ``Doc`` tokens."""
    slot_words: set[str] = set()
    for w in " ".join((COUNTRIES, NATIONALITIES, PLACES, JOINED_NAMES)).split():
        slot_words |= _variants(w)
    particles: set[str] = set()
    for w in PARTICLES.split():
        particles |= _variants(w)
    titles: set[str] = set()
    for w in TITLES.split():
        titles |= _variants(w)
    return _hash_words(slot_words), _hash_words(particles), _hash_words(titles)


def sketch(spans: Spans) -> tuple[U16, U16]:
    """The 16-bit hashes of an article's distinct words, and of those that fill slots.

    Args:
        spans: The article's folded text (:class:`~khabar.dedup.minhash.Spans`).

    Returns:
        ``(words, slots)``: sorted unique uint16 arrays, ``slots`` a subset of ``words``.
    """
    if spans.prefix.size <= 1:
        empty = np.empty(0, dtype=np.uint16)
        return empty, empty
    wh = word_hashes(spans)
    slot_words, particles, titles = lexicon()
    mark = np.isin(wh, slot_words)
    is_particle = np.isin(wh, particles)
    mark |= is_particle
    mark[1:] |= is_particle[:-1]
    is_title = np.isin(wh, titles)
    mark[1:] |= is_title[:-1]
    mark[2:] |= is_title[:-2]
    # Words holding an ASCII digit (normalization maps Arabic-Indic digits to ASCII).
    digits = np.flatnonzero((spans.units >= 0x30) & (spans.units <= 0x39))
    if digits.size:
        mark[np.searchsorted(spans.starts, digits, side="right") - 1] = True
    short = (wh >> np.uint64(48)).astype(np.uint16)
    return np.unique(short), np.unique(short[mark])
