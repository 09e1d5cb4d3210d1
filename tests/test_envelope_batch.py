"""Batches of envelopes on the dedup topic: framing, limits, telling them from markers, shared acks."""

from __future__ import annotations

import asyncio

import pytest

from streams.envelope import (
    BATCH_KEY,
    EnvelopeBatch,
    article_ids,
    decode_batch,
    decode_envelope,
    encode_batch,
    encode_marker,
    is_batch,
    is_marker,
)
from streams.outbox import SharedAck
from tests.support.envelopes import envelope as _envelope


def test_a_batch_round_trips_its_envelopes_byte_for_byte() -> None:
    envelopes = [_envelope("a", 0), _envelope("b", 2), _envelope("ج", 1)]
    value = encode_batch(envelopes)
    assert is_batch(value) and not is_marker(value)
    assert decode_batch(value) == envelopes
    assert [decode_envelope(e).article.id for e in decode_batch(value)] == ["a", "b", "ج"]
    assert article_ids(value) == ["a", "b", "ج"]


def test_envelopes_markers_and_batches_are_told_apart() -> None:
    envelope, marker = _envelope("a"), encode_marker({0: 1.0}, 2.0)
    assert (is_batch(envelope), is_marker(envelope)) == (False, False)
    assert (is_batch(marker), is_marker(marker)) == (False, True)
    assert article_ids(envelope) == ["a"] and article_ids(marker) == []
    with pytest.raises(ValueError, match="progress marker"):
        decode_envelope(encode_batch([envelope]))  # an old reader refuses a batch, never misreads it


@pytest.mark.parametrize("junk", [
    encode_batch([b"x"])[:9],  # the lead and a cut kind
    encode_batch([]),  # no envelope
    encode_batch([b"abc"])[:-1],  # truncated frame
])
def test_a_bad_batch_is_a_value_error(junk: bytes) -> None:
    with pytest.raises(ValueError):
        for part in decode_batch(junk):
            decode_envelope(part)


def test_the_batch_sends_one_envelope_alone_and_several_together() -> None:
    batch = EnvelopeBatch(max_count=3, max_bytes=1_000_000)
    assert batch.take() is None
    a, b, c = _envelope("a"), _envelope("b"), _envelope("c")
    batch.add("a", a)
    assert batch.take() == ("a", a)  # alone: its own key, the envelope unchanged
    assert len(batch) == 0
    for key, env in (("a", a), ("b", b)):
        assert batch.fits(env)
        batch.add(key, env)
    assert not batch.full
    batch.add("c", c)
    assert batch.full and not batch.fits(a)
    key, value = batch.take() or ("", b"")
    assert key == BATCH_KEY and decode_batch(value) == [a, b, c]


def test_the_batch_stays_under_the_record_size_limit() -> None:
    a = _envelope("a")
    limit = len(encode_batch([a, a])) + 10
    batch = EnvelopeBatch(max_count=100, max_bytes=limit)
    batch.add("a", a)
    assert batch.fits(a)
    batch.add("a2", a)
    assert not batch.fits(a)  # a third would pass the limit: it waits for the next record
    _, value = batch.take() or ("", b"")
    assert len(value) <= limit
    big = b"x" * (2 * limit)
    assert batch.fits(big)  # an empty batch takes any envelope (its size was checked upstream)


def test_a_shared_ack_acks_the_record_once_every_part_is_done() -> None:
    acked: list[int] = []

    async def ack() -> None:
        acked.append(1)

    async def run() -> None:
        shared = SharedAck(ack, 3)
        await shared()
        await shared()
        assert acked == []  # a crash now redelivers the whole record
        await shared()
        assert acked == [1]

    asyncio.run(run())
    with pytest.raises(ValueError):
        SharedAck(ack, 0)
