"""The sequencer's reorder buffer: a per-source watermark over the senders' clocks."""

from __future__ import annotations

import pytest

from khabar.ordering import FetchState, ProgressTracker, ReorderBuffer


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


# ---------------------------------------------------------------- progress markers


def test_a_marker_releases_what_a_silent_source_held_back() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, clock=Clock(), sources=[0, 1])
    buf.push(10.0, "a10", "a10", source=0)
    buf.push(12.0, "a12", "a12", source=0)
    assert buf.pop_ready() == []  # source 1 has said nothing yet
    buf.advance(1, 11.0)  # "source 1 delivered everything stamped before 11"
    assert buf.pop_ready() == ["a10"]  # a12 waits: source 1 may still send 11.x
    buf.advance(1, 9.0)  # an older marker (another instance's, reordered) moves nothing back
    buf.advance(0, 20.0)
    buf.advance(1, 20.0)
    assert buf.pop_ready() == ["a12"]


def test_an_item_stamped_below_a_marker_is_late_but_released_and_counted() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, clock=Clock(), sources=[0, 1])
    buf.push(10.0, "a10", "a10", source=0)
    buf.advance(0, 15.0)
    buf.advance(1, 15.0)
    assert buf.pop_ready() == ["a10"]
    # the marker was wrong (a producer stamped a record long before appending it)
    assert buf.push(9.0, "b9", "b9", source=1) is True
    assert buf.late == 1 and buf.pop_ready() == ["b9"]


def test_markers_alone_do_not_hold_off_the_idle_release() -> None:
    clock = Clock()
    buf: ReorderBuffer[str] = ReorderBuffer(idle=1.0, clock=clock, sources=[0, 1])
    buf.push(10.0, "a", "a", source=0)
    clock.now = 0.6
    buf.advance(0, 11.0)  # source 1 stalls (its worker busy): no marker from it
    clock.now = 1.2  # a second without items: released as before markers existed
    assert buf.pop_ready() == ["a"]


def test_a_marker_counts_as_sending_for_the_quiet_rule() -> None:
    buf: ReorderBuffer[str] = ReorderBuffer(idle=60.0, max_wait=1.0, clock=Clock(), sources=[0, 1, 2])
    buf.push(1.0, "a", "a", source=0, sent_at=100.0)
    buf.advance(1, 5.0, sent_at=100.2)
    assert buf.pop_ready() == []  # source 2 not heard from, and not quiet yet
    buf.advance(1, 6.0, sent_at=101.5)  # source 2 sent nothing for 1.5 s of the senders' clock
    buf.advance(0, 6.0, sent_at=101.5)
    assert buf.pop_ready() == ["a"]


def _state(position: int | None, fetched_at: float | None, processed: int = 1, offset: int | None = None,
           buffered: bool = False, committed: int | None = None) -> FetchState:
    if offset is None and position is not None and processed:
        offset = position - 1
    return FetchState(position=position, fetched_at=fetched_at, buffered=buffered, processed=processed,
                      processed_offset=offset, committed=committed)


def _tracker(margin: float = 0.01, interval: float = 0.005, heartbeat: float = 0.0) -> ProgressTracker:
    return ProgressTracker(margin=margin, interval=interval, heartbeat=heartbeat)


def test_an_empty_fetch_after_an_earlier_one_proves_the_earlier_time_minus_the_margin() -> None:
    tr = _tracker()
    tr.sent(99.0)
    tr.observe(0, _state(5, 100.00))
    assert tr.due(100.01) == {}  # one observation proves nothing
    tr.observe(0, _state(5, 100.00))
    assert tr.due(100.015) == {}  # no newer fetch response
    tr.observe(0, _state(5, 100.02))
    assert tr.due(100.021) == {0: pytest.approx(99.99)}  # after 100.00, less 10 ms
    tr.observe(0, _state(5, 100.04))
    assert tr.due(100.041) == {}  # 99.99 covered the article sent (99.0): nothing is owed any more
    assert not tr.wants_observation(100.05)


@pytest.mark.parametrize("second", [
    _state(5, 100.02, buffered=True),  # the newer response brought records not handed out yet
    _state(6, 100.02, processed=2),  # it brought records, handed out and processed: no proof of emptiness
    _state(5, 100.02, processed=2),  # something was processed in between (a seek back and a replay)
    _state(5, 100.02, offset=3),  # records handed out but not processed yet (in the stream's queue)
    _state(None, 100.02),  # no valid position (resetting)
    _state(5, None),
])
def test_no_proof_without_an_empty_fetch_at_an_unchanged_position_with_everything_delivered(
        second: FetchState) -> None:
    tr = _tracker()
    tr.sent(99.0)
    tr.observe(0, _state(5, 100.00))
    tr.observe(0, second)
    assert tr.due(100.03) == {}


def test_a_partition_never_read_proves_progress_at_offset_zero_or_at_its_committed_offset() -> None:
    tr = _tracker(margin=0.0)
    tr.sent(50.0)
    for partition, committed, position in ((0, None, 0), (1, 7, 7), (2, None, 7)):
        tr.observe(partition, _state(position, 100.0, processed=0, committed=committed))
        tr.observe(partition, _state(position, 100.1, processed=0, committed=committed))
    # partition 2: records below 7 may exist that nobody delivered yet
    assert tr.due(100.2) == {0: 100.0, 1: 100.0}


def test_markers_are_owed_by_articles_sent_and_kept_at_the_interval() -> None:
    tr = _tracker(margin=0.0, interval=0.05)
    tr.observe(0, _state(5, 100.0))
    tr.observe(0, _state(5, 100.1))
    assert not tr.wants_observation(100.1) and tr.due(100.1) == {}  # nothing sent: nothing owed
    tr.sent(100.2)
    assert tr.due(100.11) == {0: 100.0}  # owed, though it does not cover 100.2 yet
    tr.observe(0, _state(5, 100.3))
    assert tr.due(100.12) == {}  # 10 ms after the last marker: under the interval
    assert tr.due(100.31) == {0: 100.1}
    tr.observe(0, _state(5, 100.4))
    assert tr.due(100.41) == {0: 100.3}  # past 100.2: the debt is paid
    tr.observe(0, _state(5, 100.5))
    assert tr.due(100.6) == {}


def test_a_heartbeat_speaks_for_the_other_workers_articles() -> None:
    tr = _tracker(margin=0.0, interval=0.01, heartbeat=0.5)
    tr.observe(3, _state(5, 100.0))
    tr.observe(3, _state(5, 100.1))
    assert tr.due(100.1) == {3: 100.0}  # the first heartbeat is due at once
    assert not tr.wants_observation(100.3) and tr.due(100.3) == {}
    tr.observe(3, _state(5, 100.62))  # the first look after half a second: its anchor is stale
    assert tr.wants_observation(100.62) and tr.due(100.62) == {}
    tr.observe(3, _state(5, 100.64))
    assert tr.due(100.64) == {3: 100.62}


def test_a_rebalance_forgets_every_observation_and_proof() -> None:
    tr = _tracker(margin=0.0)
    tr.sent(99.0)
    for p in (0, 1):
        tr.observe(p, _state(5, 100.0))
        tr.observe(p, _state(5, 100.1))
    epoch = tr.epoch
    tr.forget()
    assert tr.epoch == epoch + 1
    tr.sent(101.0)
    tr.observe(0, _state(5, 100.2))  # the first observation after the rebalance anchors only
    assert tr.due(100.25) == {}
    tr.observe(0, _state(5, 100.3))
    assert tr.due(100.35) == {0: 100.2}  # partition 1 speaks again only once observed anew


def test_next_check_sleeps_until_owed_or_the_heartbeat() -> None:
    woken: list[bool] = []
    tr = _tracker(margin=0.0, interval=0.01, heartbeat=0.0)
    tr.on_owed = lambda: woken.append(True)
    assert tr.next_check(100.0) is None  # nothing sent and no heartbeat: wait for an article
    tr.sent(99.9)
    tr.sent(99.95)  # still the same debt: woken once
    assert woken == [True] and tr.next_check(100.0) == 0.0
    hb = _tracker(margin=0.0, interval=0.01, heartbeat=0.5)
    hb.observe(0, _state(5, 100.0))
    hb.observe(0, _state(5, 100.1))
    assert hb.next_check(100.1) == 0.0 and hb.due(100.1) == {0: 100.0}
    assert hb.next_check(100.105) == pytest.approx(0.005)  # under the interval since that marker
    assert hb.next_check(100.2) == pytest.approx(0.4)  # then the heartbeat
