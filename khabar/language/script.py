"""Script statistics, text preparation for the statistical detectors, and junk detection.

Everything here is cheap and data-free: Unicode ranges and regular expressions.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# Any word character that is not a core Arabic letter (U+0621-U+064A), a digit or
# tatweel: Persian/Urdu letters, presentation forms, Latin, Hebrew, ... One regex
# search answers "is this plain Arabic script?" at C speed (about 20 µs per article).
NOT_PLAIN_ARABIC = re.compile(r"[^\W\d_\u0621-\u063a\u0641-\u064a\u0640]")

#: Letters Persian and Urdu write and Arabic does not (ی ک گ پ چ ژ).
FA_UR_LETTERS = frozenset("\u06cc\u06a9\u06af\u067e\u0686\u0698")
#: Letters of Urdu (and other South-Asian orthographies), not of Persian or Arabic.
UR_LETTERS = frozenset("\u0679\u0688\u0691\u06ba\u06be\u06c1\u06d2\u06c3")
#: Letters of Pashto, Sindhi, Kurdish, Uyghur... not of Arabic, Persian or Urdu.
OTHER_ARABIC_SCRIPT = frozenset(
    "\u067c\u0681\u0685\u0689\u0693\u0696\u069a\u06ab\u06bc\u06d0\u06cd"  # Pashto
    "\u067a\u067b\u067d\u067f\u0680\u0683\u0684\u0687\u068a\u068c\u068d\u068e\u068f"
    "\u0699\u06a6\u06b1\u06b3\u06bb"  # Sindhi
    "\u06d5\u06ce\u06c6\u06b5\u0695\u06a4"  # Kurdish (Sorani)
    "\u06c7\u06c8\u06cb\u06d0\u06ad"  # Uyghur, Kazakh
)

# (first code point, last code point, ISO 15924 code), sorted.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latn"),
    (0x0061, 0x007A, "Latn"),
    (0x00C0, 0x024F, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0700, 0x074F, "Syrc"),
    (0x0750, 0x077F, "Arab"),
    (0x0780, 0x07BF, "Thaa"),
    (0x08A0, 0x08FF, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x1200, 0x139F, "Ethi"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x3040, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xAC00, 0xD7AF, "Hang"),
    (0xFB1D, 0xFB4F, "Hebr"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
)
_STARTS = [r[0] for r in _RANGES]


def char_script(char: str) -> str:
    """ISO 15924 code of one character's script; ``"Zyyy"`` (common) when none applies."""
    cp = ord(char)
    lo, hi = 0, len(_RANGES)
    while lo < hi:  # bisect by hand: no list allocation per call
        mid = (lo + hi) // 2
        if _STARTS[mid] <= cp:
            lo = mid + 1
        else:
            hi = mid
    if lo:
        start, end, code = _RANGES[lo - 1]
        if start <= cp <= end:
            return code
    return "Zyyy"


def word_script(word: str) -> str:
    """Script of the first letter of ``word`` (digits and marks skipped)."""
    for char in word:
        if "\u0600" <= char <= "\u06ff":  # the common case, without the range search
            return "Arab"
        if char.isalpha():
            return char_script(char)
    return "Zyyy"


@cache
def _presentation_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for start, end in ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF)):
        for cp in range(start, end + 1):
            folded = unicodedata.normalize("NFKC", chr(cp))
            if folded != chr(cp):
                table[cp] = folded
    # Invisible format characters glue or split words unpredictably; the detectors
    # see a space (ZWNJ) or nothing (bidi marks, BOM).
    table.update({0x200C: " ", 0x200B: "", 0x200E: "", 0x200F: "", 0xFEFF: "", 0x061C: ""})
    return table


def lid_text(text: str) -> str:
    """Text as the statistical detectors see it: presentation forms resolved, one line.

    Why not ``Doc.clean``: arclean resolves presentation forms but also folds
    Persian/Urdu letters (ی ک گ پ ہ ے ٹ ں) into Arabic ones, which would make
    Persian look like Arabic. Unicode NFKC on the presentation-form blocks only
    resolves ``ﺍﻟﺴﻼﻡ`` to ``السلام`` and ``ﮐ`` to ``ک`` and leaves every base letter as typed.
    """
    return text.translate(_presentation_table()).replace("\n", " ").replace("\r", " ")


_CODE_CHARS = re.compile(r"[{}();=<>\[\]$#|\\/*&+:]")
_CODE_WORDS = re.compile(
    r"(?i)\b(?:function|var|let|const|return|document|window|null|undefined|px|em|rgba?|"
    r"font|color|margin|padding|width|height|display|border|important|jquery|script|style|"
    r"div|span|href|src|onclick|typeof|else|true|false|http|https|www|css|js|px;)\b"
)


def looks_like_code(segment: str, letters: int | None = None) -> bool:
    """True for scraper junk: CSS, JavaScript, HTML or URLs rather than prose.

    Prose has few of ``{}();=<>[]$#|\\/*&+:`` per letter; code has many, and uses a
    small vocabulary of keywords (function, var, px, margin, ...).
    """
    if letters is None:
        letters = sum(1 for c in segment if c.isalpha())
    if _CODE_CHARS.search(segment) is None:
        return False
    if letters == 0:
        return bool(segment.strip())
    symbols = len(_CODE_CHARS.findall(segment))
    keywords = len(_CODE_WORDS.findall(segment))
    words = max(1, len(segment.split()))
    return symbols / letters > 0.12 or (keywords / words > 0.25 and symbols >= 2)
