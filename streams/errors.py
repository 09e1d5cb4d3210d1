"""Exceptions of the streaming side. Catch :class:`StreamsError` to catch them all."""

from __future__ import annotations

from khabar.errors import KhabarError


class StreamsError(KhabarError):
    """Base class of the errors of :mod:`streams`."""


class BrokerError(StreamsError):
    """The broker could not be started, reached or used."""


class BrokerNotFoundError(BrokerError):
    """No Tansu binary could be found for the embedded broker."""


class TopicSetupError(BrokerError):
    """Topics could not be created or have the wrong partition count."""


class WorkerError(StreamsError):
    """A worker process failed to start or died."""
