"""Arabic sentence splitting.

Boundaries: newlines, and ``.`` ``!`` ``?`` ``؟`` (or runs of them) followed by
space, a closing quote or the end of the text. Not boundaries: the Arabic comma
``،`` and semicolon ``؛`` (clauses of one sentence in news prose), a full stop
between digits (``3.5``), one-letter abbreviations (``د.`` for doctor, ``م.``),
and terminal marks inside «guillemets» that the sentence goes on after: inside an
unclosed quotation, or right after the closing » when the next word carries the
conjunction و/ف (``قال: «لن نتراجع!» وأضاف ...``).
"""

from __future__ import annotations

import re

_TERMINAL = re.compile(r"[.!?؟]+")
_CLOSERS = "»\"”’')]"
# One-letter abbreviations: د. (doctor), م. (engineer / AD), ص. (page), plus Latin initials.
_ABBREV = re.compile(r"(?:^|\s)[\u0621-\u064aA-Za-z]$")
# After a closed quotation, a word with the conjunction و/ف continues the reporting sentence.
_CONTINUES = re.compile(r"\s+[وف][\u0621-\u064a]{2,}")


def _inside_quote(text: str, start: int, pos: int) -> bool:
    """True when ``pos`` lies inside an unclosed guillemet opened since ``start``."""
    segment = text[start:pos]
    return segment.count("«") > segment.count("»")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed.

    Args:
        text: Any text; Arabic, Latin or mixed.

    Returns:
        Non-empty, non-overlapping spans in order.
    """
    spans: list[tuple[int, int]] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line_start, line_end = line_match.span()
        start = line_start
        for m in _TERMINAL.finditer(text, line_start, line_end):
            end = m.end()
            # absorb closing quotes and brackets that follow the mark
            while end < line_end and text[end] in _CLOSERS:
                end += 1
            nxt = text[end] if end < line_end else " "
            if not nxt.isspace():
                continue  # "3.5", "e.g.x", a mark glued to the next word
            if m.group() == "." and m.start() > 0:
                before = text[max(line_start, m.start() - 2):m.start()]
                if _ABBREV.search(before):
                    continue
            if _inside_quote(text, start, m.start()):
                if end == m.end():
                    continue  # the quotation goes on: not the end of the sentence
                if _CONTINUES.match(text, end, line_end):
                    continue  # «لن نتراجع!» وأضاف ...: the reporting sentence goes on
            _append(spans, text, start, end)
            start = end
        _append(spans, text, start, line_end)
    return spans


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
