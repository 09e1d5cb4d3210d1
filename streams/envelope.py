"""What the prepare agent sends the dedup sequencer, and how the sequencer reads it.

The envelope carries everything the sequencer writes, already serialized: the
sequencer is one partition, so it must not parse article text or build pydantic
models of it. It is a run of length-prefixed frames (4-byte big-endian length, then
the bytes)::

    header | probe | enriched head | enriched middle | enriched tail | event 1 | ... | event n

The header is a small JSON object (the article's metadata without its text, the
source partition, when it was sent, the language code and each event's id and type);
the probe is :meth:`Probe.to_bytes`; the enriched pieces and the event records are
the bytes :func:`khabar.process.serialize_enriched` made, written out unchanged. A
length prefix rather than JSON strings: the pieces are copied, not escaped and parsed.

The same topic carries *progress markers* (:mod:`khabar.ordering`): a prepare instance
caught up with some raw partitions says up to when each has delivered everything. A
marker is three frames, the first one empty, which no article envelope has (its header
is a JSON object), so the first four bytes tell them apart::

    (empty) | b"progress" | {"progress": [[partition, time], ...], "sent_at": ...}

A marker is never an article: the sequencer feeds it to the reorder window and acks it;
it is not counted, not dead-lettered, and makes no output.

A *batch* carries several envelopes in one Kafka record, with the same empty lead and its own
kind::

    (empty) | b"batch" | envelope 1 | envelope 2 | ...

A worker that has more raw records waiting sends its envelopes this way (:class:`EnvelopeBatch`):
every Kafka record costs the worker, the sequencer and the broker a fixed amount of work (the
client's and Faust's per-message machinery), whatever its size. With nothing else waiting, an
envelope goes out alone, as it always did, so a trickle of articles waits for no batch.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from khabar.dedup import Probe
from khabar.errors import KhabarError
from khabar.pipeline import ArticleContext
from khabar.process import ArticleMeta, EnrichedParts
from schemas.models import PloverType

_FRAME = struct.Struct(">I")
#: RawArticle fields the header keeps (what a duplicate notice and the ordering read).
_META_FIELDS: set[str] = set(ArticleMeta.model_fields)
#: Frames before the event records.
_FIXED_FRAMES = 5
#: How a progress marker begins: an empty first frame.
_MARKER_LEAD = _FRAME.pack(0)
#: The second frame of a progress marker (its kind).
MARKER_KIND = b"progress"
#: Kafka key of the markers (the topic has one partition; the key only names the record).
MARKER_KEY = "~progress"
#: The second frame of a batch of envelopes (its kind).
BATCH_KIND = b"batch"
#: Kafka key of a batch of envelopes.
BATCH_KEY = "~batch"
#: How a batch begins: the empty lead, then its kind as a frame.
_BATCH_LEAD = _MARKER_LEAD + _FRAME.pack(len(BATCH_KIND)) + BATCH_KIND


class EnvelopeHeader(BaseModel):
    """The envelope's JSON frame, validated in one call on the sequencer."""

    model_config = ConfigDict(extra="forbid")

    article: ArticleMeta
    partition: int
    sent_at: float
    language: str | None
    events: list[tuple[str, PloverType]]
    """``(event_id, type)`` of each event record, in frame order (Kafka keys and counters)."""


@dataclass
class ProbeEnvelope:
    """An envelope as the sequencer reads it."""

    header: EnvelopeHeader
    probe: Probe
    enriched: EnrichedParts

    @property
    def article(self) -> ArticleMeta:
        return self.header.article

    def event_records(self) -> list[tuple[str, PloverType, bytes]]:
        """``(event_id, type, record)`` of each event, in order."""
        return [(ev_id, ty, value) for (ev_id, ty), value in zip(self.header.events, self.enriched.events, strict=True)]


class ProgressMarker(BaseModel):
    """A prepare instance's progress marker: each raw partition listed has delivered every
    record stamped (ingest time, epoch seconds) before its time."""

    model_config = ConfigDict(extra="forbid")

    progress: list[tuple[int, float]]
    sent_at: float
    """When it was sent, by the sender's clock (the reorder window's quietness rule)."""


def encode_envelope(ctx: ArticleContext, probe: Probe, parts: EnrichedParts, source_partition: int,
                    sent_at: float) -> bytes:
    """The envelope of one prepared and enriched article (``parts`` made from ``ctx``)."""
    article = ctx.article
    header: dict[str, Any] = {
        # pydantic's serializer for the metadata: datetimes exactly as RawArticle writes them
        "article": orjson.Fragment(article.__pydantic_serializer__.to_json(article, include=_META_FIELDS,
                                                                            exclude_none=True)),
        "partition": int(source_partition), "sent_at": sent_at,
        "language": ctx.language.code if ctx.language is not None else None,
        "events": [(ev.event_id, ev.type.value) for ev in ctx.events],
    }
    frames = (orjson.dumps(header), probe.to_bytes(), parts.head, parts.middle, parts.tail, *parts.events)
    return _pack_frames(frames)


def encode_marker(progress: dict[int, float], sent_at: float) -> bytes:
    """A progress marker: partition → time before which it delivered every record."""
    body = orjson.dumps({"progress": sorted(progress.items()), "sent_at": sent_at})
    return _pack_frames((b"", MARKER_KIND, body))


def _pack_frames(frames: Iterable[bytes]) -> bytes:
    """Length-prefixed frames, as :func:`_frames` reads them."""
    return b"".join(_FRAME.pack(len(f)) + f for f in frames)


def is_batch(value: bytes) -> bool:
    """True for a batch of envelopes (looks at its first two frames; decode to validate)."""
    return value[:len(_BATCH_LEAD)] == _BATCH_LEAD


def is_marker(value: bytes) -> bool:
    """True for a progress marker: an empty first frame and not a batch (decode to validate)."""
    return value[:_FRAME.size] == _MARKER_LEAD and not is_batch(value)


def encode_batch(envelopes: Sequence[bytes]) -> bytes:
    """One record holding ``envelopes`` (each as :func:`encode_envelope` made it)."""
    return _pack_frames((b"", BATCH_KIND, *envelopes))


def decode_batch(value: bytes) -> list[bytes]:
    """The envelopes of a batch :func:`encode_batch` wrote (each still to be decoded).

    Raises:
        ValueError: Not a batch, truncated bytes, or a batch of no envelope.
    """
    if not is_batch(value):
        raise ValueError("not a batch of envelopes")
    frames = _frames(value, "batch")
    if len(frames) < 3:
        raise ValueError("batch of no envelope")
    return frames[2:]


def article_ids(value: bytes) -> list[str]:
    """Ids of the articles a record of the dedup topic carries: one for an envelope, each
    envelope's for a batch, none for a progress marker (the bench reads envelopes back).

    Raises:
        ValueError: An unreadable record.
    """
    if is_batch(value):
        return [decode_envelope(part).article.id for part in decode_batch(value)]
    if is_marker(value):
        return []
    return [decode_envelope(value).article.id]


class EnvelopeBatch:
    """Envelopes a prepare instance holds until it sends them as one record.

    Args:
        max_count: Most envelopes in one record.
        max_bytes: Largest record (``limits.max_output_bytes``): an envelope that would take
            the batch past it waits for the next one.
    """

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._envelopes: list[bytes] = []
        self._first_key = ""
        self._size = len(_BATCH_LEAD)

    def fits(self, envelope: bytes) -> bool:
        """Whether ``envelope`` can join the batch (an empty batch takes any envelope)."""
        return not self._envelopes or (
            len(self._envelopes) < self.max_count
            and self._size + _FRAME.size + len(envelope) <= self.max_bytes)

    def add(self, key: str, envelope: bytes) -> None:
        """Hold ``envelope`` (Kafka key ``key``: the article id); call :meth:`fits` first."""
        if not self._envelopes:
            self._first_key = key
        self._envelopes.append(envelope)
        self._size += _FRAME.size + len(envelope)

    @property
    def full(self) -> bool:
        return len(self._envelopes) >= self.max_count

    def take(self) -> tuple[str, bytes] | None:
        """The record to send as ``(key, value)``, and an empty batch: one envelope as it
        is (its own key), several as a batch (:data:`BATCH_KEY`), None when nothing is held."""
        held, self._envelopes, self._size = self._envelopes, [], len(_BATCH_LEAD)
        if not held:
            return None
        return (self._first_key, held[0]) if len(held) == 1 else (BATCH_KEY, encode_batch(held))

    def __len__(self) -> int:
        return len(self._envelopes)


def decode_marker(value: bytes) -> ProgressMarker:
    """Read a marker :func:`encode_marker` wrote.

    Raises:
        ValueError: Not a marker, truncated bytes or a malformed body (pydantic's
            ValidationError is one).
    """
    frames = _frames(value, "marker")
    if len(frames) != 3 or frames[0] or frames[1] != MARKER_KIND:
        raise ValueError(f"not a progress marker: {len(frames)} frames"
                         + (f", kind {frames[1][:20]!r}" if len(frames) > 1 else ""))
    return ProgressMarker.model_validate_json(frames[2])


def _frames(value: bytes, what: str) -> list[bytes]:
    frames: list[bytes] = []
    pos, end = 0, len(value)
    while pos < end:
        if end - pos < _FRAME.size:
            raise ValueError(f"{what} truncated in a frame length at byte {pos}")
        (size,) = _FRAME.unpack_from(value, pos)
        pos += _FRAME.size
        if size > end - pos:
            raise ValueError(f"{what} truncated: a frame of {size:,} bytes at byte {pos}, {end - pos:,} left")
        frames.append(value[pos:pos + size])
        pos += size
    return frames


def decode_envelope(value: bytes) -> ProbeEnvelope:
    """Read an envelope :func:`encode_envelope` wrote.

    Raises:
        ValueError: Truncated bytes, a malformed header or probe, event records that do
            not match the header (pydantic's ValidationError is one), or a progress marker.
    """
    frames = _frames(value, "envelope")
    if frames and not frames[0]:
        raise ValueError("not an article envelope: its header frame is empty (a progress marker's lead)")
    if len(frames) < _FIXED_FRAMES:
        raise ValueError(f"envelope of {len(frames)} frames, expected at least {_FIXED_FRAMES}")
    header = EnvelopeHeader.model_validate_json(frames[0])
    events = tuple(frames[_FIXED_FRAMES:])
    if len(events) != len(header.events):
        raise ValueError(f"envelope holds {len(events)} event records, its header names {len(header.events)}")
    try:
        probe = Probe.from_bytes(frames[1])
    except (KhabarError, IndexError, TypeError, struct.error) as exc:  # CorruptEntryError, mostly
        raise ValueError(f"malformed probe: {exc}") from exc
    return ProbeEnvelope(header, probe, EnrichedParts(frames[2], frames[3], events, frames[4]))
