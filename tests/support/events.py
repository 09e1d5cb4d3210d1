"""Event extraction on one short text, as the tests of khabar.events write it."""

from __future__ import annotations

from datetime import datetime

from khabar.config import EventSettings
from khabar.events.extract import get_extractor
from khabar.pipeline import prepare_doc
from schemas.models import Event, RawArticle


def extract_text(text: str, published: datetime | None = None, article_id: str = "t-1",
                 source: str | None = None, **settings: object) -> list[Event]:
    """The events the default pipeline's extractor finds in ``text`` (an article of its own)."""
    article = RawArticle(id=article_id, text=text, source=source, published_at=published)
    return get_extractor(EventSettings(**settings)).extract(prepare_doc(article), article)  # type: ignore[arg-type]
