"""Structured logs: structlog, JSON lines when stderr is not a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


class RedactSaslTokens(logging.Filter):
    """Hides SASL tokens from aiokafka's debug log of each request and response.

    At debug level ``aiokafka.conn`` logs every request it sends, and a PLAIN
    ``SaslAuthenticate`` token is ``\\0user\\0password`` in clear text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if any(type(a).__name__.startswith("SaslAuthenticate") for a in args):
            record.args = tuple("<SASL token hidden>" if type(a).__name__.startswith("SaslAuthenticate")
                                else a for a in args)
        return True


_REDACT = RedactSaslTokens()


def configure(level: str = "info", json: bool | None = None) -> None:
    """Set up structlog (and the stdlib root logger that Faust and aiokafka use).

    Args:
        level: ``debug``, ``info``, ``warn`` or ``error``.
        json: JSON output; ``None`` means JSON unless stderr is a terminal.
    """
    as_json = (not sys.stderr.isatty()) if json is None else json
    numeric = logging.getLevelName("WARNING" if level == "warn" else level.upper())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    conn = logging.getLogger("aiokafka.conn")
    if _REDACT not in conn.filters:
        conn.addFilter(_REDACT)
