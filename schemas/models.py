"""Records khabar reads and writes, one pydantic model per topic.

Every record carries ``schema_version``; :mod:`schemas.export` writes their JSON
Schema next to this file. Field names here are a public contract: other tools
read ``language.code``, ``events[].type``, ``duplicate_of``, ``similarity``,
``reason`` and the top-level ``kind``.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

SCHEMA_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class RawArticle(_Record):
    """An article as it arrives on ``khabar.articles.raw``."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    id: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    text: StrictStr
    title: StrictStr | None = None
    source: StrictStr | None = None
    url: StrictStr | None = None
    published_at: datetime | None = None
    language_hint: StrictStr | None = None
    ingested_at: datetime | None = None
    """Set by the producer (replay) or, when missing, from the Kafka record timestamp."""


class Alternative(_Record):
    code: str
    confidence: float


class Variety(_Record):
    code: Literal["msa", "egy", "lev", "glf", "mag", "unknown"]
    confidence: float = Field(ge=0, le=1)
    method: str = Field(description="'camel-did' or 'markers'")


class Language(_Record):
    """Language of an article."""

    code: str = Field(description="ISO 639-1, or 'und'")
    confidence: float = Field(ge=0, le=1)
    script: str = Field(description="ISO 15924 of the dominant script, e.g. 'Arab', 'Latn'")
    alternatives: list[Alternative] = Field(default_factory=list)
    variety: Variety | None = None
    mixed: bool = False
    """True when paragraphs disagree on the language (for example scraper junk inside an Arabic body)."""
    method: str = ""


class PloverType(StrEnum):
    """The 16 PLOVER event types."""

    AGREE = "AGREE"
    CONSULT = "CONSULT"
    SUPPORT = "SUPPORT"
    CONCEDE = "CONCEDE"
    COOPERATE = "COOPERATE"
    AID = "AID"
    RETREAT = "RETREAT"
    REQUEST = "REQUEST"
    ACCUSE = "ACCUSE"
    REJECT = "REJECT"
    THREATEN = "THREATEN"
    PROTEST = "PROTEST"
    SANCTION = "SANCTION"
    MOBILIZE = "MOBILIZE"
    COERCE = "COERCE"
    ASSAULT = "ASSAULT"


class Span(_Record):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Actor(_Record):
    text: str
    name: str
    code: str = Field(description="CAMEO-style code such as 'RUS', 'UKR GOV', 'NATO'")
    span: Span | None = None


class Location(_Record):
    name: str
    text: str
    country_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    span: Span | None = None


class EventDate(_Record):
    value: date
    text: str
    resolution: Literal["day", "month", "year"] = "day"
    calendar: Literal["gregorian", "hijri", "relative"] = "gregorian"


class Quantity(_Record):
    value: float
    unit: str = Field(description="e.g. killed, injured, drones, missiles, km2")
    text: str
    approximate: bool = False
    qualifier: Literal["exact", "at_least", "more_than", "about", "up_to", "tens", "hundreds", "thousands"] = "exact"


class Event(_Record):
    """One event found in an article, as on ``khabar.events``."""

    schema_version: int = SCHEMA_VERSION
    event_id: str
    article_id: str
    type: PloverType
    mode: str | None = None
    trigger: str
    trigger_span: Span
    sentence: str
    sentence_span: Span
    negated: bool = False
    modality: Literal["reported", "planned", "denied", "claimed"] = "reported"
    source: Actor | None = None
    target: Actor | None = None
    locations: list[Location] = Field(default_factory=list)
    date: EventDate | None = None
    quantities: list[Quantity] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)


def event_id(article_id: str, sentence_start: int, trigger_start: int, trigger_end: int, type_: str) -> str:
    """Deterministic event id: the same article always yields the same ids."""
    key = f"{article_id}\x1f{sentence_start}\x1f{trigger_start}\x1f{trigger_end}\x1f{type_}"
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


class DedupInfo(_Record):
    content_hash: str
    url_key: str | None = None
    story_id: str


class EnrichedArticle(_Record):
    """A unique article with its language and events, as on ``khabar.articles.enriched``."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["enriched"] = "enriched"
    id: str
    title: str | None = None
    text: str
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    ingested_at: datetime | None = None
    processed_at: datetime
    story_id: str
    content_hash: str
    language: Language | None = None
    events: list[Event] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list, description="Components that ran, in order")


class DuplicateNotice(_Record):
    """A later copy of an article already seen, as on ``khabar.articles.duplicates``.

    ``duplicate_kind`` says how it matched; the top-level ``kind`` is the record type.
    """

    schema_version: int = SCHEMA_VERSION
    kind: Literal["duplicate"] = "duplicate"
    id: str
    duplicate_of: str
    similarity: float = Field(ge=0, le=1)
    duplicate_kind: Literal["exact", "url", "near"]
    story_id: str
    source: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    ingested_at: datetime | None = None
    processed_at: datetime


class DeadLetter(_Record):
    """Bad input with the reason, as on ``khabar.deadletter``."""

    schema_version: int = SCHEMA_VERSION
    kind: Literal["deadletter"] = "deadletter"
    reason: str
    error: str
    article_id: str | None = None
    original_b64: str = Field(description="The original bytes, base64")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    processed_at: datetime


OutputRecord = Annotated[EnrichedArticle | DuplicateNotice | DeadLetter, Field(discriminator="kind")]

#: Models whose JSON Schema is exported, by file stem.
EXPORTED_MODELS: dict[str, type[BaseModel]] = {
    "raw_article": RawArticle,
    "enriched_article": EnrichedArticle,
    "event": Event,
    "duplicate_notice": DuplicateNotice,
    "dead_letter": DeadLetter,
}
