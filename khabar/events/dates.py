"""Event dates resolved against the article's publication time.

Handles weekdays (يوم السبت = the most recent Saturday on or before publication),
relative words (أمس، اليوم، الليلة الماضية), "29 نوفمبر" / "29 تشرين الثاني" with or
without a year (no year: the latest such date not after publication), month-only
mentions, and Hijri dates ("15 رمضان 1436 هـ", via hijridate). Words come from
``data/calendar.tsv``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from schemas.models import EventDate

if TYPE_CHECKING:
    from khabar.events.mentions import Mention
    from khabar.text.normalize import Doc, Sentence

_NUM = re.compile(r"^[وفب]?(\d{1,4})$")


def _number(norm: str) -> int | None:
    m = _NUM.match(norm)
    return int(m.group(1)) if m else None


def resolve_date(doc: Doc, sent: Sentence, ms: Sequence[Mention], published: datetime | None,
                 near: int) -> EventDate | None:
    """The date expression of ``sent`` nearest to token ``near``, resolved.

    Args:
        doc: The article.
        sent: The sentence of the event.
        ms: Lexicon mentions of the sentence (calendar words among them).
        published: Publication time; relative dates need it.
        near: Token index of the trigger.

    Returns:
        None when the sentence has no resolvable date.
    """
    cal = [m for m in ms if m.hit.kind == "calendar"]
    if not cal:
        return None
    cal.sort(key=lambda m: abs(m.start - near))
    pub = published.date() if published is not None else None
    for m in cal:
        got = _resolve_one(doc, sent, m, pub)
        if got is not None:
            return got
    return None


def _resolve_one(doc: Doc, sent: Sentence, m: Mention, pub: date | None) -> EventDate | None:
    tokens = doc.tokens
    _form, kind, number = m.hit.entry
    n = int(number)
    start, end = m.start, m.end
    if kind == "weekday":
        if pub is None:
            return None
        if start > sent.first_token and tokens[start - 1].norm in ("يوم", "ويوم"):
            start -= 1
        value = pub - timedelta(days=(pub.weekday() - n) % 7)
        return _mk(doc, start, end, value, "day", "relative")
    if kind == "rel":
        if pub is None:
            return None
        return _mk(doc, start, end, pub + timedelta(days=n), "day", "relative")
    # a month name: day before, year after
    day = _number(tokens[start - 1].norm) if start > sent.first_token else None
    if day is not None and not 1 <= day <= 31:
        day = None
    year = None
    if end < sent.last_token:
        y = _number(tokens[end].norm)
        if y is not None and (1300 <= y <= 1500 if kind == "hijri" else 1900 <= y <= 2100):
            year = y
    if day is not None:
        start -= 1
    if year is not None:
        end += 1
        if end < sent.last_token and tokens[end].norm in ("م", "ه", "هـ"):
            end += 1
    try:
        if kind == "greg":
            return _gregorian(doc, start, end, n, day, year, pub)
        if kind == "hijri":
            return _hijri(doc, start, end, n, day, year, pub)
    except (ValueError, OverflowError):
        return None  # 31 February and the like
    return None


def _gregorian(doc: Doc, start: int, end: int, month: int, day: int | None, year: int | None,
               pub: date | None) -> EventDate | None:
    if year is None:
        if pub is None:
            return None
        year = pub.year
        if date(year, month, day or 1) > pub:
            year -= 1  # "في 29 ديسمبر" read in January is last year's
    value = date(year, month, day or 1)
    return _mk(doc, start, end, value, "day" if day else "month", "gregorian")


def _hijri(doc: Doc, start: int, end: int, month: int, day: int | None, year: int | None,
           pub: date | None) -> EventDate | None:
    from hijridate import Gregorian, Hijri

    if year is None:
        if pub is None:
            return None
        h = Gregorian(pub.year, pub.month, pub.day).to_hijri()
        year = h.year if (month, day or 1) <= (h.month, h.day) else h.year - 1
    value = Hijri(year, month, day or 1).to_gregorian()
    return _mk(doc, start, end, date(value.year, value.month, value.day),
               "day" if day else "month", "hijri")


def _mk(doc: Doc, start: int, end: int, value: date, resolution: str, calendar: str) -> EventDate:
    text = doc.text[doc.tokens[start].start:doc.tokens[end - 1].end]
    return EventDate(value=value, text=text, resolution=resolution,
                     calendar=calendar)
