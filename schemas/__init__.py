"""pydantic models of khabar's records and their exported JSON Schema (``schemas/json``)."""

from schemas.models import (
    SCHEMA_VERSION,
    Actor,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Event,
    EventDate,
    Language,
    Location,
    PloverType,
    Quantity,
    RawArticle,
    Span,
    Variety,
    event_id,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "DeadLetter",
    "DuplicateNotice",
    "EnrichedArticle",
    "Event",
    "EventDate",
    "Language",
    "Location",
    "PloverType",
    "Quantity",
    "RawArticle",
    "Span",
    "Variety",
    "event_id",
]
