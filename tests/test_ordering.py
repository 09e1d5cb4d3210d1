"""The sequencer's reorder buffer: a per-source watermark over the senders' clocks."""

from __future__ import annotations

from khabar.ordering import ReorderBuffer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_waits_until_every_active_source_has_moved_past() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=5.0, clock=Clock())
    # source 0 delivers a burst reaching t=20 before source 1 has passed t=8
    buf.push(10.0, "a10", "a10", source=0)
    buf.push(20.0, "a20", "a20", source=0)
    buf.push(8.0, "b8", "b8", source=1)
    assert buf.pop_ready() == []  # watermark = min(20, 8); only what is strictly before goes
    buf.push(9.0, "b9", "b9", source=1)
    assert buf.pop_ready() == ["b8"]
    buf.push(15.0, "b15", "b15", source=1)
    assert buf.pop_ready() == ["b9", "a10"]
    assert len(buf) == 2


def test_total_silence_releases_everything() -> None:
    clock = Clock()
    buf: ReorderBuffer[str] = ReorderBuffer(idle=1.0, clock=clock)
    buf.push(1.0, "b", "b", source=1)
    buf.push(5.0, "a", "a", source=0)
    assert buf.pop_ready() == []
    clock.now = 2.0  # nothing arrived for longer than `idle`
    assert buf.pop_ready() == ["b", "a"]


def test_a_stall_of_the_caller_is_not_silence() -> None:
    clock = Clock()
    buf: ReorderBuffer[str] = ReorderBuffer(idle=1.0, clock=clock)
    buf.push(1.0, "b", "b", source=1)
    buf.push(5.0, "a", "a", source=0)
    clock.now = 3.0  # the caller's loop was busy for 3 s: it says so before asking
    buf.touch()
    assert buf.pop_ready() == []  # source 1 may still have items before t=5 in flight
    buf.push(2.0, "b2", "b2", source=1)
    assert buf.pop_ready() == ["b"] and buf.late == 0
    clock.now = 4.5  # now a real second of silence
    assert buf.pop_ready() == ["b2", "a"]


def test_ties_break_by_key_and_late_arrivals_are_counted() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=1.0, clock=Clock())
    buf.push(1.0, "b", "b")
    buf.push(1.0, "a", "a")
    buf.push(2.0, "c", "c")
    assert buf.pop_ready() == ["a", "b"]
    assert buf.push(0.5, "old", "old") is True  # behind what was already released
    assert buf.late == 1
    assert buf.pop_ready() == ["old"]


def test_flush_and_clear() -> None:
    buf: ReorderBuffer[int] = ReorderBuffer(idle=100.0, clock=Clock())
    for i in range(3):
        buf.push(float(i), str(i), i, source=0)
    assert buf.pop_ready() == [0, 1]
    assert buf.pop_ready(flush=True) == [2]
    buf.push(1.0, "z", 9)
    assert buf.clear() == [9] and len(buf) == 0


def test_quietness_is_judged_by_the_senders_clock_not_by_a_paused_consumer() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, max_wait=1.0, clock=Clock())
    buf.push(1.0, "a1", "a1", source=0, sent_at=100.0)
    buf.push(1.5, "b1", "b1", source=1, sent_at=100.0)
    buf.push(2.0, "a2", "a2", source=0, sent_at=100.5)
    assert buf.pop_ready() == ["a1"]  # source 1 still holds the watermark at 1.5
    buf.push(3.0, "a3", "a3", source=0, sent_at=101.2)  # source 1 now 1.2 s behind: quiet
    assert buf.pop_ready() == ["b1", "a2"]


def test_expected_sources_hold_back_the_first_items() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, max_wait=2.0, clock=Clock(), sources=[0, 1])
    buf.push(3.0, "a", "a", source=0, sent_at=10.0)
    buf.push(4.0, "a2", "a2", source=0, sent_at=10.1)
    assert buf.pop_ready() == []  # partition 1 has not been heard from
    buf.push(2.0, "b", "b", source=1, sent_at=10.2)
    buf.push(5.0, "b2", "b2", source=1, sent_at=10.3)
    assert buf.pop_ready() == ["b", "a"]


def test_an_expected_source_that_never_speaks_stops_holding_after_max_wait() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, max_wait=2.0, clock=Clock(), sources=[0, 1])
    buf.push(3.0, "a", "a", source=0, sent_at=10.0)
    buf.push(4.0, "a2", "a2", source=0, sent_at=12.5)
    assert buf.pop_ready() == ["a"]
