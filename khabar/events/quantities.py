"""Quantities in an event's sentence: a number (digits, Eastern Arabic digits, number words)
followed by a unit word (``data/units.tsv``), with the qualifier written before it
(أكثر من -> more_than, ما لا يقل عن -> at_least, نحو/حوالي -> about, ما يصل إلى -> up_to).

Eastern Arabic digits are already ASCII in the shared normalized form. People-like units
(people, civilians, children, soldiers) become ``killed`` or ``injured`` when a casualty word
(مقتل، أصيب ...) is within five words before or two after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from schemas.models import Quantity

if TYPE_CHECKING:
    from khabar.events.mentions import Mention
    from khabar.text.normalize import Doc, Sentence

_DIGITS = re.compile(r"^[وفبل]?(\d+(?:[.,٫]\d+)*)$")
_PEOPLE = frozenset({"people", "civilians", "children", "soldiers", "fighters"})
_MAX = 8


def parse_number(norm: str) -> float | None:
    """Value of a normalized digit token: ``653``, ``و51``, ``1,500`` (thousands), ``3.5``."""
    m = _DIGITS.match(norm)
    if not m:
        return None
    s = m.group(1).replace("٫", ".")
    if "," in s:
        parts = s.split(",")
        s = "".join(parts) if all(len(p) == 3 for p in parts[1:]) else s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


def find_quantities(doc: Doc, sent: Sentence, ms: Sequence[Mention],
                    within: tuple[int, int] | None = None) -> list[Quantity]:
    """Counted quantities of a sentence, in text order (at most eight).

    Args:
        doc: The article.
        sent: The sentence.
        ms: Lexicon mentions of the sentence (units, number words, qualifiers).
        within: Token range to look in (the trigger's clause); default the whole sentence.
    """
    lo, hi = within if within is not None else (sent.first_token, sent.last_token)
    tokens = doc.tokens
    units = {m.start: m for m in ms if m.hit.kind == "unit" and not m.hit.entry[2].startswith("@")}
    casualty = [m for m in ms if m.hit.kind == "unit" and m.hit.entry[2].startswith("@")]
    words = {m.end - 1: m for m in ms if m.hit.kind == "number" and m.hit.entry[1] != "-"}
    qualifiers = {m.end: m for m in ms if m.hit.kind == "number" and m.hit.entry[1] == "-"}
    out: list[Quantity] = []
    for i in range(lo, hi):
        qualifier = "exact"
        word = words.get(i)
        if word is not None:
            value = float(word.hit.entry[1])
            qualifier = word.hit.entry[2]
            first = word.start
        else:
            norm = tokens[i].norm
            if not norm or not norm[-1].isdigit():
                continue
            got = parse_number(norm)
            if got is None:
                continue
            value, first = got, i
        unit_m = units.get(i + 1) or units.get(i + 2)
        if word is not None and unit_m is None and i in units and units[i].start == first:
            unit_m = None
        if unit_m is None:
            continue
        unit: str = unit_m.hit.entry[2]
        if unit in _PEOPLE:
            for c in casualty:
                if first - 5 <= c.end <= first or unit_m.end <= c.start <= unit_m.end + 2:
                    unit = c.hit.entry[2][1:]
                    break
        q = qualifiers.get(first)
        if q is not None and qualifier == "exact":
            qualifier = q.hit.entry[2]
            first = q.start
        start, end = tokens[first].start, tokens[unit_m.end - 1].end
        out.append(Quantity(value=value, unit=unit, text=doc.text[start:end],
                            approximate=qualifier != "exact", qualifier=qualifier))
        if len(out) >= _MAX:
            break
    return out
