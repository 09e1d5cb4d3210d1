"""Clause structure of a sentence and what its cues say about a trigger: where clauses end,
negation, modality, the mode named by a cue, the trigger's character span."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from khabar.events.mentions import _FAILED_TALKS, _NAME, Candidate, Mention
from khabar.text.normalize import Doc, Sentence, Token

#: Punctuation that ends a clause.
_CLAUSE_MARKS = "،,؛;:"

_NO_MARKS = {c: None for c in range(0x064B, 0x0653)}

#: Proclitics left out of trigger spans (GUIDELINES: وفشلت -> فشلت, بانفجار -> انفجار).
_SPAN_CLITICS = "وفبل"


def _split_links(doc: Doc, sent: Sentence,
                 ms: list[Mention]) -> list[tuple[Sentence, list[Mention]]]:
    """Split a sentence at a closing link line (رابط الخبر ...: <headline>), which repeats the
    headline: its events are mentions of their own (GUIDELINES), not parts of the sentence before."""
    cut = next((m.start for m in ms if m.hit.kind == "cue" and m.hit.entry[2] == "LINK"
                and m.start > sent.first_token), None)
    if cut is None:
        return [(sent, ms)]
    at = doc.tokens[cut].start
    head = Sentence(sent.start, at, doc.text[sent.start:at], sent.first_token, cut)
    tail = Sentence(at, sent.end, doc.text[at:sent.end], cut, sent.last_token)
    return [(head, [m for m in ms if m.end <= cut]), (tail, [m for m in ms if m.start >= cut])]


def _marked(doc: Doc | None, a: int, b: int) -> bool:
    """Whether a clause mark (، , ؛ ; :) stands between the end of token ``a`` and the start of
    token ``b`` (a < b) of ``doc``."""
    if doc is None:
        return False
    tokens = doc.tokens
    if not 0 <= a < b < len(tokens):
        return False
    gap = doc.text[tokens[a].end:tokens[b].start]
    return any(c in gap for c in _CLAUSE_MARKS)


def _word_at(norms: Sequence[str], i: int) -> str:
    """The normalized token at ``i``, or "" outside the document."""
    return norms[i] if 0 <= i < len(norms) else ""


def _clause(cand: Candidate, sent: Sentence, breaks: set[int]) -> tuple[int, int]:
    """Token range ``[start, end)`` of the clause holding the trigger."""
    lo = max((b for b in breaks if b <= cand.start), default=sent.first_token)
    hi = min((b for b in breaks if b >= cand.end), default=sent.last_token)
    return lo, hi


def _near(ms: Sequence[Mention], start: int, end: int, window: int) -> bool:
    return any(m.end >= start - window and m.start <= end + window for m in ms)


def _cue_before(cues: dict[str, list[Mention]], kinds: tuple[str, ...], start: int,
                window: int) -> bool:
    return any(start - window <= m.end <= start for k in kinds for m in cues.get(k, ()))


def _clause_breaks(text: str, starts: list[int], sent: Sentence,
                   cues: dict[str, list[Mention]]) -> set[int]:
    """Token indices that begin a new clause (after ، ; : or at حيث بينما ...).

    Args:
        starts: Character offsets of the document's tokens (``Doc.starts``).
    """
    out = {m.start for m in cues.get("BREAK", ())}
    first, last = sent.first_token, sent.last_token
    lo, hi = sent.start, sent.end
    find, bisect_left = text.find, bisect.bisect_left
    # one str.find per mark and occurrence rather than a regex's match objects (the
    # result is a set: the order the marks are found in does not matter)
    for mark in _CLAUSE_MARKS:
        at = find(mark, lo, hi)
        while at >= 0:
            i = bisect_left(starts, at, first, last)
            if first < i < last:
                out.add(i)
            at = find(mark, at + 1, hi)
    return out


#: Longest time phrase set off by commas that does not end a clause (، صباح اليوم الأحد،).
_ASIDE_TOKENS = 5


def _bridge_time_asides(breaks: set[int], calendar: Sequence[Mention]) -> set[int]:
    """The clause breaks without those around a time phrase set off by commas.

    Agency copy puts the time between the subject and the rest of the clause (عقد وزير
    الخارجية، مساء أمس، اجتماعا مع نظيره): the commas do not
    end the clause, so the subject before them still governs the event after them.
    """
    marks = sorted(breaks)
    starts = {m.start for m in calendar}
    out = set(breaks)
    for a, b in pairwise(marks):
        if b - a <= _ASIDE_TOKENS and any(a <= t < b for t in starts):
            out.discard(a)
            out.discard(b)
    return out


def _crosses(breaks: set[int], a: int, b: int) -> bool:
    """True when a clause boundary lies in ``(a, b]`` (token positions, a < b)."""
    lo, hi = min(a, b), max(a, b)
    return any(lo < x <= hi for x in breaks)


def _negated(cand: Candidate, cues: dict[str, list[Mention]], cands: list[Candidate],
             breaks: set[int]) -> bool:
    # a particle right before the trigger: لم تلتق، لن يخفف، عدم التوصل
    if _cue_before(cues, ("NEG",), cand.start, 2):
        return True
    # failure word just before its subject: فشلت المحادثات، مع فشل محادثات السلام
    if _cue_before(cues, ("FAIL",), cand.start, 3):
        return True
    nxt = min((c.start for c in cands if c.start > cand.start and c.entry is not _FAILED_TALKS),
              default=10**9)
    for m in cues.get("FAIL", ()):
        # المحادثات التي فشلت ... / اجتماع ... والذي فشل في التوصل
        if cand.end <= m.start <= cand.end + 14 and m.start < nxt:
            return True
    for m in cues.get("WITHOUT", ()):
        # انتهت المحادثات ... دون إحراز تقدم / دون التوصل إلى اتفاق
        if cand.end <= m.start <= cand.end + 14 and _cue_after(cues, "OUTCOME", m.end, 2):
            return True
    return False


def _cue_after(cues: dict[str, list[Mention]], kind: str, end: int, window: int) -> bool:
    return any(end <= m.start <= end + window for m in cues.get(kind, ()))


def _modality(cand: Candidate, cues: dict[str, list[Mention]],
              breaks: set[int]) -> tuple[str, float]:
    """``(modality, confidence factor)``."""
    for kind, value, factor in (("DENY", "denied", 0.9), ("CLAIM", "claimed", 0.95)):
        for m in cues.get(kind, ()):
            if cand.start - 10 <= m.start < cand.start:
                return value, factor
    if "س" in cand.clitic and cand.entry.verbal:
        return "planned", 0.95
    for m in cues.get("PLAN", ()):
        if cand.start - 4 <= m.end <= cand.start or cand.end <= m.start <= cand.end + 3:
            return "planned", 0.95
    if _cue_before(cues, ("HYPO",), cand.start, 1):
        return "planned", 0.7
    return "reported", 1.0


def _mode_from_cues(cand: Candidate, cues: dict[str, list[Mention]],
                    breaks: set[int], first: bool = False) -> str | None:
    """The mode a cue near the trigger gives: the nearest, or with ``first`` the first
    named in the clause (several weapons listed: the first one counts)."""
    want = _NAME[cand.entry.type] + ":"
    best: tuple[int, str] | None = None
    for m in cues.get("MODE", ()):
        value: str = m.hit.entry[3]
        if not value.startswith(want):
            continue
        dist = m.start - cand.end if m.start >= cand.end else cand.start - m.end
        if dist <= 8 and not _crosses(breaks, min(m.start, cand.start), max(m.start, cand.start)):
            key = m.start if first else dist
            if best is None or key < best[0]:
                best = (key, value.split(":", 1)[1])
    return best[1] if best else None


def _trigger_span(tokens: list[Token], cand: Candidate) -> tuple[int, int]:
    """Character span of a trigger without its conjunction/preposition proclitics."""
    first = tokens[cand.start]
    clitic = cand.clitic if cand.parts and cand.parts[0].start == cand.start else ""
    strip = len(clitic) - len(clitic.lstrip(_SPAN_CLITICS))
    if clitic.startswith("ل") and first.norm.startswith("لل"):
        strip = 2  # ل + ال written لل: the span starts after لل (للتفجير -> تفجير)
    start = first.start
    if strip and first.text[:strip].translate(_NO_MARKS) == first.norm[:strip]:
        start += strip
    if strip and start >= first.end:
        start = first.start
    return start, tokens[cand.end - 1].end


@lru_cache(maxsize=1 << 16)
def _core(word: str) -> str:
    """``word`` without its proclitics and article (وبالصورة -> صوره, للقمة -> قمه).

    Cached (bounded): the sense features ask for the cores of a dozen words around each
    ambiguous trigger, the same common words again and again.
    """
    for pre in ("وال", "فال", "بال", "كال", "ولل", "لل", "ال"):
        if word.startswith(pre) and len(word) > len(pre) + 1:
            return word[len(pre):]
    if len(word) > 3 and word[0] in "وف":
        word = word[1:]
    if len(word) > 3 and word[0] in "بل":
        word = word[1:]
    return word
