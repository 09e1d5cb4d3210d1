"""Boilerplate in news bodies: footers, share lines, widget text, tag lists.

Returns character spans rather than a stripped copy, so the rest of the
pipeline keeps offsets into the article as published.
"""

from __future__ import annotations

import re

# One pattern a line; a linguist can add lines here. Each matches a whole line
# (after strip) that carries no news content.
_LINE_PATTERNS = [
    r"رابط الخبر بصحيفة .*",          # Al-Weeam footer: "link to the story in ..."
    r"(?:شارك|شاركها|شارك المقال|شارك الخبر)(?:\s.*)?",
    r"قصص مقترحة",
    r"قائمة من \d+ عناصر.*",
    r"(?:اقرأ|إقرأ) (?:أيضا|أيضاً|ايضا)\s*:?.*",
    r"(?:الكلمات الدالة|كلمات دالة|الوسوم|وسوم)\s*:?.*",
    r"(?:Next|Previous)(?:\s+(?:Next|Previous))*\s*",
    r"(?:طباعة|أرسل لصديق|تعليقات|أضف تعليق)(?:\s*\|\s*\S+)*",
]
_LINE_RE = re.compile(r"^\s*(?:" + "|".join(_LINE_PATTERNS) + r")\s*$", re.MULTILINE)


def boilerplate_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of boilerplate lines in ``text``, in order."""
    return [m.span() for m in _LINE_RE.finditer(text)]
