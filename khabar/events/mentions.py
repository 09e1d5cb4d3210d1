"""What event extraction passes between its steps: lexicon mentions, merged actors and
event candidates, and the constants more than one step reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from khabar.events.lexicon import (
    Hit,
    TriggerEntry,
)
from schemas.models import (
    PloverType,
)

#: Type names by type: an enum member's ``.value`` is a descriptor call, this a dict look-up
#: (it is read for every blocking cue and every event).
_NAME: dict[PloverType, str] = {t: t.value for t in PloverType}

#: Prepositions (normalized) after which an actor is an oblique object, not the subject.
_OBLIQUE = frozenset({"علي", "ضد", "مع", "الي", "بين", "في", "من", "عن", "نحو", "تجاه", "لدي",
                      "عبر", "داخل"})


#: Below this lexicon weight a trigger is a weak reading (ضرب "hit" or "give an example").
_WEAK = 0.6

_FAILED_TALKS = TriggerEntry("فشل", PloverType.SANCTION, None, 0.8, None, True)


@dataclass(slots=True)
class Mention:
    """A lexicon hit on tokens ``[start, end)`` of the document."""

    start: int
    end: int
    hit: Hit


@dataclass(slots=True)
class ActorMention:
    """An actor in a sentence after sector and apposition merging."""

    start: int
    end: int
    code: str
    name: str
    oblique: bool
    country: bool = False  # a country or demonym, usable as a location with في
    locative: bool = False  # a seat after في / قرب: a place here, not a participant
    prev: str = ""  # the normalized word before the mention
    conj: bool = False  # attached و: the second of a coordination (روسيا وأوكرانيا)
    implicit: bool = False  # not named: implied by the act (تم القبض: the police)
    adjective: bool = False  # a demonym (روسية): it qualifies the noun before it

    @property
    def root(self) -> str:
        return self.code.split()[0]


@dataclass(slots=True)
class Candidate:
    """A trigger (or merged triggers) in a sentence, before it becomes an :class:`Event`."""

    start: int
    end: int
    entry: TriggerEntry
    clitic: str
    weight: float
    mode: str | None
    parts: list[Mention] = field(default_factory=list)


#: Hosting triggers (their subject is the host, the object the visitor).
_HOSTS = frozenset({"استقبل", "ستقبل"})
