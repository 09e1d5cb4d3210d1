"""Envelopes of made-up articles, for the tests of the dedup topic's records."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from khabar.dedup import Probe
from khabar.pipeline import ArticleContext, prepare_doc
from khabar.process import serialize_enriched
from schemas.models import Event, Language, PloverType, RawArticle, Span
from streams.envelope import encode_envelope


def article(**fields: object) -> RawArticle:
    base: dict[str, object] = {"id": "a-1", "text": "نص الخبر الأول. " * 50, "title": "عنوان",
                               "source": "sabq", "url": "https://example.com/a?b=1",
                               "published_at": datetime(2015, 3, 1, 12, 30, tzinfo=UTC),
                               "ingested_at": datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)}
    return RawArticle.model_validate(base | fields)


def probe(article_id: str) -> Probe:
    u32, u16 = np.uint32, np.uint16
    return Probe(article_id, "c" * 32, "example.com/a", np.array([1, 2, 3], u32), np.array([4, 5], u32), 42,
                 1.5e9, np.array([7], u16), np.array([], u16), np.array([9], u16))


def event(article_id: str, i: int) -> Event:
    return Event(event_id=f"e{i}", article_id=article_id, type=PloverType.ASSAULT, trigger="قصف",
                 trigger_span=Span(start=i, end=i + 3), sentence="قصف \"x\" ' \n", sentence_span=Span(start=0, end=9),
                 confidence=0.5)


def context(article: RawArticle, n_events: int) -> ArticleContext:
    language = Language(code="ar", confidence=0.9, script="Arab")
    return ArticleContext(article=article, doc=prepare_doc(article), language=language if n_events else None,
                          events=[event(article.id, i) for i in range(n_events)], stages=["language", "events"])


def envelope(article_id: str, n_events: int = 1) -> bytes:
    """The envelope of a short article with ``n_events`` events, from raw partition 1."""
    made = article(id=article_id, text=f"نص الخبر {article_id}")
    ctx = context(made, n_events)
    return encode_envelope(ctx, probe(article_id), serialize_enriched(ctx, "h"), 1, 2.0)
