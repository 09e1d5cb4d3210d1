"""Event extraction on one short text, as the tests of khabar.events write it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from khabar.config import EventSettings
from khabar.events.extract import get_extractor
from khabar.pipeline import prepare_doc
from schemas.models import Event, PloverType, RawArticle


def extract_text(text: str, published: datetime | None = None, article_id: str = "t-1",
                 source: str | None = None, **settings: object) -> list[Event]:
    """The events the default pipeline's extractor finds in ``text`` (an article of its own)."""
    article = RawArticle(id=article_id, text=text, source=source, published_at=published)
    return get_extractor(EventSettings(**settings)).extract(prepare_doc(article), article)  # type: ignore[arg-type]


def only_event(text: str, etype: PloverType, published: datetime | None = None,
               article_id: str = "t-1") -> Event:
    """The one event of ``etype`` in ``text``; fails listing what was found otherwise."""
    found = extract_text(text, published, article_id)
    of_type = [e for e in found if e.type is etype]
    assert len(of_type) == 1, [(e.type, e.trigger) for e in found]
    return of_type[0]


def code(actor: object) -> str | None:
    """An event's source or target code (None for no actor)."""
    return getattr(actor, "code", None)


def root(actor: object) -> str | None:
    """The root of an actor's code, as the evaluation compares it (``UKR GOV`` -> ``UKR``)."""
    c = code(actor)
    return c.split()[0] if c else None


@dataclass(frozen=True)
class PublishedAt:
    """The helpers above for articles published on one date (each round of rule tests has one):
    ``AT = PublishedAt(datetime(2015, 8, 1))``, then ``AT.events(text)``, ``AT.types(text)``,
    ``AT.only(text, type)``."""

    published: datetime | None

    def events(self, text: str) -> list[Event]:
        return extract_text(text, self.published)

    def types(self, text: str) -> set[PloverType]:
        return {e.type for e in self.events(text)}

    def only(self, text: str, etype: PloverType) -> Event:
        return only_event(text, etype, self.published)
