"""Exceptions of the khabar core. Catch :class:`KhabarError` to catch them all."""

from __future__ import annotations


class KhabarError(Exception):
    """Base class of every error khabar raises on purpose."""


class InvalidArticleError(KhabarError):
    """An input record is not a valid article. ``reason`` is the dead-letter reason code."""

    reason = "invalid_article"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class UndecodableInputError(InvalidArticleError):
    """The bytes are not UTF-8."""

    reason = "invalid_utf8"


class MalformedJsonError(InvalidArticleError):
    """The bytes are UTF-8 but not a JSON object."""

    reason = "invalid_json"


class SchemaViolationError(InvalidArticleError):
    """The JSON object does not match ``RawArticle`` (missing or mistyped fields)."""

    reason = "schema_violation"


class ArticleTooLargeError(InvalidArticleError):
    """The record, its text or a record khabar would write for it exceeds a size limit."""

    reason = "too_large"


class JsonTooDeepError(InvalidArticleError):
    """The JSON nests deeper than ``limits.max_json_depth`` (checked without recursion)."""

    reason = "too_deep"


class InvalidUnicodeError(InvalidArticleError):
    """A JSON string holds a lone UTF-16 surrogate (``\\ud800``), which no UTF-8 output can carry."""

    reason = "invalid_unicode"


class TooManySentencesError(InvalidArticleError):
    """The text has more sentences than ``limits.max_sentences``."""

    reason = "too_many_sentences"


class StageError(KhabarError):
    """An enrichment stage failed on one article."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.reason = f"stage_failed:{stage}"


class StageTimeoutError(StageError):
    """A stage ran past its time budget (``limits.stage_budget_ms``) on one article."""

    def __init__(self, stage: str, budget_ms: float) -> None:
        super().__init__(stage, f"over its time budget of {budget_ms:g} ms")
        self.reason = f"stage_timeout:{stage}"


class ModelDataMissingError(KhabarError):
    """An optional model (camel-tools data) was asked for but is not installed."""


class ReplaySourceError(KhabarError):
    """A replay input cannot be read."""
