"""The named processing steps, as pure functions shared by the Faust agents and
the offline ``khabar enrich`` command.

    parse_raw → prepare → enrich → (dedup verdict) → build_enriched / build_duplicate
    any InvalidArticleError / StageError  → build_deadletter

The agents split ``build_enriched`` in two: :func:`serialize_enriched` where enrichment
runs (in parallel), :func:`assemble_enriched` in the single-partition sequencer, which
adds the fields the verdict decides to bytes that are already serialized.

Nothing here touches Kafka: each step unit-tests on plain values.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from khabar.budget import check_budget, stage_budget
from khabar.config import LimitSettings, Settings
from khabar.dedup import DedupIndex, Probe, Verdict, make_probe
from khabar.errors import (
    ArticleTooLargeError,
    InvalidArticleError,
    InvalidUnicodeError,
    JsonTooDeepError,
    MalformedJsonError,
    SchemaViolationError,
    TooManySentencesError,
    UndecodableInputError,
)
from khabar.pipeline import ArticleContext, Pipeline, prepare_doc
from khabar.text.normalize import Doc
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, Event, RawArticle


def now_utc() -> datetime:
    return datetime.now(UTC)


def json_depth_exceeds(obj: object, limit: int) -> bool:
    """True when ``obj`` (parsed JSON) nests deeper than ``limit`` containers.

    Iterative, so no input can make it recurse; it stops at the first path that is too deep.
    """
    stack: list[tuple[object, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_raw(value: bytes | None, ingested_at: datetime | None = None,
              limits: LimitSettings | None = None) -> RawArticle:
    """Decode one raw record into a :class:`RawArticle`.

    Args:
        value: The record value as received.
        ingested_at: When the record entered Kafka; used unless the record says.
        limits: Size and depth limits (the defaults when omitted).

    Raises:
        ArticleTooLargeError: More than ``limits.max_article_bytes`` bytes (checked before
            decoding) or a text longer than ``limits.max_text_chars``.
        UndecodableInputError: Not UTF-8.
        MalformedJsonError: Not a JSON object (or a number beyond Python's digit limit).
        JsonTooDeepError: Nested deeper than ``limits.max_json_depth``.
        SchemaViolationError: Missing or mistyped fields.
        InvalidUnicodeError: A string field holds a lone surrogate (``"\\ud800"``).
        InvalidArticleError: An empty text (reason ``empty_text``).
    """
    limits = limits or LimitSettings()
    if value is None:
        raise MalformedJsonError("empty record (no value)")
    if len(value) > limits.max_article_bytes:
        raise ArticleTooLargeError(f"record of {len(value):,} bytes exceeds limits.max_article_bytes "
                                   f"({limits.max_article_bytes:,})")
    try:
        decoded = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UndecodableInputError(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        obj = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise MalformedJsonError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        # the C decoder guards its own recursion: nothing overflowed, the input is just too deep
        raise JsonTooDeepError(f"JSON nested deeper than the decoder allows "
                               f"(limits.max_json_depth is {limits.max_json_depth})") from exc
    except ValueError as exc:  # an integer beyond sys.get_int_max_str_digits()
        raise MalformedJsonError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedJsonError(f"expected a JSON object, got {type(obj).__name__}")
    if json_depth_exceeds(obj, limits.max_json_depth):
        raise JsonTooDeepError(f"JSON nested deeper than limits.max_json_depth ({limits.max_json_depth})")
    try:
        article = RawArticle.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        raise SchemaViolationError(f"{where}: {first['msg']}") from exc
    for name in ("id", "text", "title", "source", "url", "language_hint"):
        field_value = getattr(article, name)
        try:
            if field_value is not None:
                field_value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidUnicodeError(f"{name}: lone surrogate {field_value[exc.start]!r} "
                                      f"at character {exc.start}") from exc
    if len(article.text) > limits.max_text_chars:
        raise ArticleTooLargeError(f"text of {len(article.text):,} characters exceeds "
                                   f"limits.max_text_chars ({limits.max_text_chars:,})")
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
    """Normalize once and compute the dedup fingerprints, within the stage budget.

    Raises:
        TooManySentencesError: More than ``settings.limits.max_sentences`` sentences.
        StageTimeoutError: The pass ran past ``settings.limits.stage_budget_ms``
            (reason ``stage_timeout:prepare``).
    """
    limits = settings.limits
    with stage_budget("prepare", limits.stage_budget_ms):
        doc = prepare_doc(article)
        check_budget()
        # the sentence split is computed once here and cached on the doc for the stages
        n_sentences = len(doc.sentences)
        if n_sentences > limits.max_sentences:
            raise TooManySentencesError(f"{n_sentences:,} sentences exceed limits.max_sentences "
                                        f"({limits.max_sentences:,})")
        check_budget()
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


@dataclass(frozen=True)
class EnrichedParts:
    """An enriched record serialized but for the fields the dedup verdict decides.

    ``head``, ``middle`` and ``tail`` are pieces of the record's JSON object and ``events``
    the event records (each as on ``khabar.events``, and as inside ``events[]``);
    :func:`assemble_enriched` joins them around ``processed_at`` and ``story_id``.

    Attributes:
        head: ``{"schema_version":...`` up to ``ingested_at`` (no closing brace).
        middle: ``"content_hash":...,"language":...``.
        events: The event records' JSON, in order.
        tail: ``"stages":[...]}``.
    """

    head: bytes
    middle: bytes
    events: tuple[bytes, ...]
    tail: bytes


#: The field order of ``EnrichedArticle`` that :func:`assemble_enriched` writes (a test
#: holds the model to it): the head, the two verdict fields, the middle, events, the tail.
ENRICHED_FIELD_ORDER = ("schema_version", "kind", "id", "title", "text", "source", "url", "published_at",
                        "ingested_at", "processed_at", "story_id", "content_hash", "language", "events",
                        "stages")
_ENRICHED_HEAD: set[str] = set(ENRICHED_FIELD_ORDER[:9])  # sets: the type pydantic's include takes
_ENRICHED_MIDDLE: set[str] = {"content_hash", "language"}
_ENRICHED_TAIL: set[str] = {"stages"}
_DATETIME_JSON = TypeAdapter(datetime)
_STR_JSON = TypeAdapter(str)


def serialize_enriched(ctx: ArticleContext, content_hash: str) -> EnrichedParts:
    """Everything of the enriched record that does not depend on the dedup verdict, as JSON.

    The record is validated here, with placeholders for ``story_id`` and ``processed_at``, so
    that the sequencer only joins bytes (:func:`assemble_enriched`).
    """
    record = build_enriched(ctx, Verdict("unique", None, 0.0, ctx.article.id), content_hash)
    dump = EnrichedArticle.__pydantic_serializer__.to_json
    event_dump = Event.__pydantic_serializer__.to_json
    return EnrichedParts(
        head=dump(record, include=_ENRICHED_HEAD)[:-1],  # drop "}"
        middle=dump(record, include=_ENRICHED_MIDDLE)[1:-1],  # drop "{" and "}"
        events=tuple(event_dump(ev) for ev in record.events),
        tail=dump(record, include=_ENRICHED_TAIL)[1:],  # drop "{"
    )


def serialize_checked(ctx: ArticleContext, content_hash: str, limits: LimitSettings) -> EnrichedParts:
    """:func:`serialize_enriched` with every record's size checked, before any is written.

    The enriched record is checked as if the article starts its own story; the writer
    checks it again with the story it joins (whose id can be longer).

    Raises:
        ArticleTooLargeError: An event or the enriched record is over ``limits.max_output_bytes``.
    """
    parts = serialize_enriched(ctx, content_hash)
    for value in parts.events:
        check_output_size(value, "event", limits)
    check_output_size(assemble_enriched(parts, ctx.article.id, now_utc()), "enriched", limits)
    return parts


def assemble_enriched(parts: EnrichedParts, story_id: str, processed_at: datetime) -> bytes:
    """The enriched record's bytes: equal to ``build_enriched(...).model_dump_json().encode()``
    for the same article, story and time, without building a model (the sequencer's cost
    is a join, whatever the article's size)."""
    return b"".join((
        parts.head,
        b',"processed_at":', _DATETIME_JSON.dump_json(processed_at),
        b',"story_id":', _STR_JSON.dump_json(story_id),
        b",", parts.middle,
        b',"events":[', b",".join(parts.events), b"],",
        parts.tail,
    ))


class ArticleMeta(BaseModel):
    """What the sequencer keeps of an article: the fields a duplicate notice and the
    ordering read, without the text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    ingested_at: datetime | None = None

    @classmethod
    def of(cls, article: RawArticle) -> ArticleMeta:
        return cls.model_construct(id=article.id, source=article.source, url=article.url,
                                   published_at=article.published_at, ingested_at=article.ingested_at)


def build_duplicate(article: RawArticle | ArticleMeta, verdict: Verdict) -> DuplicateNotice:
    """The record for ``khabar.articles.duplicates``."""
    if verdict.kind == "unique" or verdict.duplicate_of is None:
        raise ValueError("build_duplicate needs a copy verdict")
    return DuplicateNotice(
        id=article.id, duplicate_of=verdict.duplicate_of, similarity=min(1.0, verdict.similarity),
        duplicate_kind=verdict.kind, story_id=verdict.story_id, source=article.source, url=article.url,
        published_at=article.published_at, ingested_at=article.ingested_at, processed_at=now_utc(),
    )


#: Longest error message a dead letter carries (a pydantic message can quote the input).
_MAX_ERROR_CHARS = 2_000


def build_deadletter(value: bytes | None, error: Exception, *, reason: str | None = None,
                     article_id: str | None = None, topic: str | None = None,
                     partition: int | None = None, offset: int | None = None,
                     limits: LimitSettings | None = None) -> DeadLetter:
    """The record for ``khabar.deadletter``: the reason and the original bytes.

    The original is cut to ``limits.deadletter_original_bytes`` (the error says so) so that
    the dead letter of an oversized record still fits on the topic.
    """
    keep = (limits or LimitSettings()).deadletter_original_bytes
    original = value or b""
    message = (str(error) or type(error).__name__)[:_MAX_ERROR_CHARS]
    if len(original) > keep:
        message += f" [original_b64 holds the first {keep:,} of {len(original):,} bytes]"
        original = original[:keep]
    return DeadLetter(
        reason=reason or getattr(error, "reason", "internal_error"),
        error=message,
        article_id=_printable_id(article_id),
        original_b64=base64.b64encode(original).decode("ascii"),
        topic=topic, partition=partition, offset=offset, processed_at=now_utc(),
    )


def _printable_id(article_id: str | None) -> str | None:
    # a dead letter must serialize whatever the input held: ids with lone surrogates are dropped
    if article_id is None:
        return None
    try:
        article_id.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return article_id


def guess_article_id(value: bytes | None, limits: LimitSettings | None = None) -> str | None:
    """The ``id`` of a record that failed validation, when one can be read (for dead letters).

    Never raises: oversized, undecodable or too deeply nested records have no readable id.
    """
    if value is None or len(value) > (limits or LimitSettings()).max_article_bytes:
        return None
    try:
        obj = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    ident = obj.get("id") if isinstance(obj, dict) else None
    return _printable_id(ident) if isinstance(ident, str) and 0 < len(ident) <= 512 else None


def check_output_size(payload: bytes, what: str, limits: LimitSettings) -> bytes:
    """``payload`` unchanged when it fits in ``limits.max_output_bytes``.

    Raises:
        ArticleTooLargeError: It does not; the article is dead-lettered (``too_large``).
    """
    if len(payload) > limits.max_output_bytes:
        raise ArticleTooLargeError(f"{what} record of {len(payload):,} bytes exceeds "
                                   f"limits.max_output_bytes ({limits.max_output_bytes:,})")
    return payload


OfflineRecord = EnrichedArticle | DuplicateNotice | DeadLetter


class OfflineEnricher:
    """The whole pipeline in one process, for ``khabar enrich`` and for tests.

    Same functions as the agents, with the dedup index held in memory.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline or Pipeline(settings)
        # models load now, not inside the first article's stage budget
        self.pipeline.warm()
        self.index = DedupIndex(settings.dedup)

    def process(self, value: bytes, ingested_at: datetime | None = None) -> OfflineRecord:
        """One input record in, one output record out. Never raises on bad input."""
        limits = self.settings.limits
        try:
            article = parse_raw(value, ingested_at or now_utc(), limits)
        except InvalidArticleError as exc:
            return build_deadletter(value, exc, article_id=guess_article_id(value, limits), limits=limits)
        try:
            prepared = prepare(article, self.settings)
            # enriched before the verdict, as the prepare agent does: an article that fails
            # here is dead-lettered and never enters the index, a copy is enriched for nothing
            parts = serialize_checked(enrich(article, self.pipeline, prepared.doc), prepared.probe.content_hash,
                                      limits)
            verdict, _entry = self.index.decide(prepared.probe)
            if verdict.kind != "unique":
                return build_duplicate(article, verdict)
            # the bytes the sequence agent writes, with its size check
            enriched = check_output_size(assemble_enriched(parts, verdict.story_id, now_utc()), "enriched", limits)
            return EnrichedArticle.model_validate_json(enriched)
        except Exception as exc:  # one bad article must not stop the batch
            reason = getattr(exc, "reason", "internal_error")
            return build_deadletter(value, exc, reason=reason, article_id=article.id, limits=limits)
