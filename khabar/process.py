"""The named processing steps, as pure functions shared by the Faust agents and
the offline ``khabar enrich`` command.

    parse_raw → prepare → (dedup verdict) → enrich → build_enriched / build_duplicate
    any InvalidArticleError / StageError  → build_deadletter

Nothing here touches Kafka: each step unit-tests on plain values.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from khabar.config import Settings
from khabar.dedup import DedupIndex, Probe, Verdict, make_probe
from khabar.errors import (
    InvalidArticleError,
    MalformedJsonError,
    SchemaViolationError,
    UndecodableInputError,
)
from khabar.pipeline import ArticleContext, Pipeline, prepare_doc
from khabar.text.normalize import Doc
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, RawArticle


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_raw(value: bytes | None, ingested_at: datetime | None = None) -> RawArticle:
    """Decode one raw record into a :class:`RawArticle`.

    Args:
        value: The record value as received.
        ingested_at: When the record entered Kafka; used unless the record says.

    Raises:
        UndecodableInputError: Not UTF-8.
        MalformedJsonError: Not a JSON object.
        SchemaViolationError: Missing or mistyped fields, or an empty text.
    """
    if value is None:
        raise MalformedJsonError("empty record (no value)")
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UndecodableInputError(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(obj, dict):
        raise MalformedJsonError(f"expected a JSON object, got {type(obj).__name__}")
    try:
        article = RawArticle.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise SchemaViolationError(f"{where}: {first['msg']}") from exc
    if not article.text.strip():
        raise InvalidArticleError("text is empty", reason="empty_text")
    if article.ingested_at is None and ingested_at is not None:
        article.ingested_at = ingested_at
    return article


@dataclass
class Prepared:
    """An article after the shared normalization pass, with its dedup probe."""

    article: RawArticle
    doc: Doc
    probe: Probe


def prepare(article: RawArticle, settings: Settings) -> Prepared:
    """Normalize once and compute the dedup fingerprints."""
    doc = prepare_doc(article)
    return Prepared(article, doc, make_probe(article, doc, settings.dedup))


def enrich(article: RawArticle, pipeline: Pipeline, doc: Doc | None = None) -> ArticleContext:
    """Run the configured components (language, events, ...) over a unique article."""
    return pipeline(ArticleContext(article=article, doc=doc if doc is not None else prepare_doc(article)))


def build_enriched(ctx: ArticleContext, verdict: Verdict, content_hash: str) -> EnrichedArticle:
    """The record for ``khabar.articles.enriched``."""
    a = ctx.article
    return EnrichedArticle(
        id=a.id, title=a.title, text=a.text, source=a.source, url=a.url,
        published_at=a.published_at, ingested_at=a.ingested_at, processed_at=now_utc(),
        story_id=verdict.story_id, content_hash=content_hash, language=ctx.language,
        events=ctx.events, stages=ctx.stages,
    )


def build_duplicate(article: RawArticle, verdict: Verdict) -> DuplicateNotice:
    """The record for ``khabar.articles.duplicates``."""
    if verdict.kind == "unique" or verdict.duplicate_of is None:
        raise ValueError("build_duplicate needs a copy verdict")
    return DuplicateNotice(
        id=article.id, duplicate_of=verdict.duplicate_of, similarity=min(1.0, verdict.similarity),
        duplicate_kind=verdict.kind, story_id=verdict.story_id, source=article.source, url=article.url,
        published_at=article.published_at, ingested_at=article.ingested_at, processed_at=now_utc(),
    )


def build_deadletter(value: bytes | None, error: Exception, *, reason: str | None = None,
                     article_id: str | None = None, topic: str | None = None,
                     partition: int | None = None, offset: int | None = None) -> DeadLetter:
    """The record for ``khabar.deadletter``: the reason and the original bytes."""
    return DeadLetter(
        reason=reason or getattr(error, "reason", "internal_error"),
        error=str(error) or type(error).__name__,
        article_id=article_id,
        original_b64=base64.b64encode(value or b"").decode("ascii"),
        topic=topic, partition=partition, offset=offset, processed_at=now_utc(),
    )


def guess_article_id(value: bytes | None) -> str | None:
    """The ``id`` of a record that failed validation, when one can be read (for dead letters)."""
    try:
        obj = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    ident = obj.get("id") if isinstance(obj, dict) else None
    return ident if isinstance(ident, str) else None


OfflineRecord = EnrichedArticle | DuplicateNotice | DeadLetter


class OfflineEnricher:
    """The whole pipeline in one process, for ``khabar enrich`` and for tests.

    Same functions as the agents, with the dedup index held in memory.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline(settings)
        self.index = DedupIndex(settings.dedup)

    def process(self, value: bytes, ingested_at: datetime | None = None) -> OfflineRecord:
        """One input record in, one output record out."""
        try:
            article = parse_raw(value, ingested_at or now_utc())
        except InvalidArticleError as exc:
            return build_deadletter(value, exc, article_id=guess_article_id(value))
        try:
            prepared = prepare(article, self.settings)
            verdict, _entry = self.index.decide(prepared.probe)
            if verdict.kind != "unique":
                return build_duplicate(article, verdict)
            ctx = enrich(article, self.pipeline, prepared.doc)
            return build_enriched(ctx, verdict, prepared.probe.content_hash)
        except InvalidArticleError as exc:
            return build_deadletter(value, exc, article_id=article.id)
        except Exception as exc:  # one bad article must not stop the batch
            reason = getattr(exc, "reason", "internal_error")
            return build_deadletter(value, exc, reason=reason, article_id=article.id)
