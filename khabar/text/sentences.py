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

_LINE = re.compile(r"[^\n]+")
_CLOSERS = "»\"”’')]"
# A run of terminal marks (group 1), the closing quotes and brackets after it, then
# white space or the end of the line: a candidate boundary. The look-ahead does in C
# what would otherwise be a Python test per mark ("3.5" and "e.g.x" never match).
# (``[m][m]*`` rather than ``[m]+``: a leading character set lets the regex engine skip
# ahead in C to the next mark instead of trying a match at every character, 3x faster.)
# The look-behind lets a match start only at the first mark of a run and the possessive
# repeats never give back: a run of 20,000 dots before a letter took 45 s without them.
_BOUNDARY = re.compile(rf"([.!?؟](?<![.!?؟][.!?؟])[.!?؟]*+)[{re.escape(_CLOSERS)}]*+(?=\s|\Z)")
# One-letter abbreviations: د. (doctor), م. (engineer / AD), ص. (page), plus Latin initials.
# The letter stands alone: at the line start or after a space, an opening bracket or quote, or
# another abbreviation's dot ((د. علي)، أ.د.، د. ب. أ); after a hyphen or slash it is the end
# of a code (Type-C., 101/ب.), and after a letter or diacritic the end of a word (مخطئًا.).
_ABBREV = re.compile(r"(?<![^\s(\[«\"“”'‘’.])[\u0621-\u064aA-Za-z]$")
# After a closed quotation, a word with the conjunction و/ف continues the reporting sentence.
# (The look-behind keeps a search linear on long blank runs; a match at a boundary
# always follows a mark or a closer.)
_CONTINUES = re.compile(r"(?<!\s)\s+[وف][\u0621-\u064a]{2,}")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed.

    Args:
        text: Any text; Arabic, Latin or mixed.

    Returns:
        Non-empty, non-overlapping spans in order.
    """
    spans: list[tuple[int, int]] = []
    quotes = "«" in text  # without an opening guillemet no mark is inside a quotation
    for line_match in _LINE.finditer(text):
        line_start, line_end = line_match.span()
        start = line_start
        # unclosed guillemets in text[start:q_pos], carried along the line: recounting from
        # the sentence start at every mark was quadratic in a long quotation full of marks
        q_pos, q_open = line_start, 0
        # endpos = line end, so ``\Z`` in the look-ahead is the end of the line
        for m in _BOUNDARY.finditer(text, line_start, line_end):
            mark_start, mark_end = m.span(1)
            end = m.end()
            if mark_end - mark_start == 1 and text[mark_start] == "." and mark_start > 0:
                before = text[max(line_start, mark_start - 2):mark_start]
                if _ABBREV.search(before):
                    continue
            if quotes:
                q_open += text.count("«", q_pos, mark_start) - text.count("»", q_pos, mark_start)
                q_pos = mark_start
            if quotes and q_open > 0:
                if end == mark_end:
                    continue  # the quotation goes on: not the end of the sentence
                if _CONTINUES.match(text, end, line_end):
                    continue  # «لن نتراجع!» وأضاف ...: the reporting sentence goes on
            _append(spans, text, start, end)
            start = end
            q_pos, q_open = end, 0
        _append(spans, text, start, line_end)
    return spans


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
