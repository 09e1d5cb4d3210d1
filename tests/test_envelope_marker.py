"""Progress markers on the dedup topic: told apart from article envelopes, round trip, refusals."""

from __future__ import annotations

import pytest

from streams.envelope import MARKER_KIND, decode_envelope, decode_marker, encode_marker, is_marker


def test_a_marker_round_trips_and_is_not_an_envelope() -> None:
    value = encode_marker({2: 1700000000.125, 0: 1700000000.5}, sent_at=1700000000.75)
    assert is_marker(value)
    marker = decode_marker(value)
    assert marker.progress == [(0, 1700000000.5), (2, 1700000000.125)]
    assert marker.sent_at == 1700000000.75
    with pytest.raises(ValueError, match="progress marker"):
        decode_envelope(value)  # an old reading of the topic refuses it instead of misreading it


def test_an_article_envelope_is_never_taken_for_a_marker() -> None:
    # an envelope starts with its JSON header's length, never 0
    assert not is_marker(b"\x00\x00\x00\x02{}" + b"\x00" * 20)
    assert not is_marker(b"")


@pytest.mark.parametrize("junk", [
    b"\x00\x00\x00\x00",  # the lead alone
    b"\x00\x00\x00\x00\x00\x00\x00\x05other\x00\x00\x00\x02{}",  # another kind
    b"\x00\x00\x00\x00\x00\x00\x00\x08" + MARKER_KIND + b"\x00\x00\x00\x02{}",  # no fields
    b"\x00\x00\x00\x00\x00\x00\x00\x08" + MARKER_KIND + b"\x00\x00\x00\x09{\"progr",  # truncated
    encode_marker({0: 1.0}, 2.0)[:-3],
    encode_marker({0: 1.0}, 2.0).replace(b'"sent_at"', b'"sent_by"'),
])
def test_a_bad_marker_is_a_value_error(junk: bytes) -> None:
    assert is_marker(junk)
    with pytest.raises(ValueError):
        decode_marker(junk)
