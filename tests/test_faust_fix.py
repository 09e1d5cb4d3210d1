"""khabar's fixes for Faust bugs that lose messages on a rebalance (streams/faust_fixes.py),
and the offset traces that show them in a worker's log (streams/offset_trace.py).

The end-to-end proof is tests/test_scale.py (SIGTERM and SIGKILL mid-stream lose
nothing); these tests pin each mechanism and its installation, and the sequences of
issue 8 (a held resume released into the next generation; a fetch whose set of active
partitions empties while it waits) step by step.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from streams import faust_fixes
from streams.broker import EmbeddedBroker
from streams.topics import TopicSpec, create_topics
from tests.support.stack import unique_settings


class RecordingConsumer:
    """Stands in for Faust's consumer: records the order of the two calls that matter."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def resume_partitions(self, partitions: set[str]) -> None:
        self.calls.append(f"resume {sorted(partitions)}")

    async def perform_seek(self) -> None:
        self.calls.append("seek")


async def test_resume_waits_for_the_seek() -> None:
    consumer = RecordingConsumer()

    async def faust_order() -> None:  # what Recovery.on_recovery_completed does
        consumer.resume_partitions({"raw-0", "raw-1"})
        await consumer.perform_seek()
        consumer.calls.append("resume_flow")

    await faust_fixes.seek_before_resume(consumer, faust_order)
    assert consumer.calls == ["seek", "resume ['raw-0', 'raw-1']", "resume_flow"]
    # the consumer's own methods are back
    assert "resume_partitions" not in vars(consumer) and "perform_seek" not in vars(consumer)


async def test_resume_still_happens_when_there_is_nothing_to_seek() -> None:
    consumer = RecordingConsumer()

    async def no_seek() -> None:
        consumer.resume_partitions({"raw-0"})

    await faust_fixes.seek_before_resume(consumer, no_seek)
    assert consumer.calls == ["resume ['raw-0']"]


def test_apply_patches_recovery_once() -> None:
    faust_fixes.apply()
    patched = Recovery.on_recovery_completed
    faust_fixes.apply()
    assert Recovery.on_recovery_completed is patched
    assert getattr(patched, "_khabar_seek_before_resume", False)
    # the code we wrap still resumes before it seeks: if Faust fixes this upstream,
    # this fails and the patch can go
    import faust.tables.recovery as module

    source = inspect.getsource(module)
    body = source[source.index("async def on_recovery_completed"):]
    body = body[:body.index("\n    async def ", 10)]
    assert body.index("resume_partitions") < body.index("perform_seek")


class _Msg:
    def __init__(self, tp: str, offset: int, acked: bool = False) -> None:
        self.tp, self.offset, self.acked = tp, offset, acked


class CommitState:
    """The attributes of Faust's consumer that its commit computation reads."""

    def __init__(self, acked: list[int], unacked: list[int], committed: int | None = None) -> None:
        from collections import defaultdict

        from intervaltree import IntervalTree

        self._acked: dict[str, list[int]] = defaultdict(list, {"tp": sorted(acked)})
        self._acked_index: dict[str, set[int]] = defaultdict(set, {"tp": set(acked)})
        self._gap: dict[str, IntervalTree] = defaultdict(IntervalTree)
        self._committed_offset: dict[str, int | None] = defaultdict(lambda: None, {"tp": committed})
        self._held = [_Msg("tp", o) for o in unacked]  # strong refs, as a stream's events are
        self._unacked_messages = set(self._held)

    def _should_commit(self, tp: str, offset: int) -> bool:
        return True


def _faust_new_offset(state: CommitState) -> int | None:
    return Consumer._new_offset(state, "tp")  # type: ignore[arg-type]


def test_faust_commits_past_unacked_messages() -> None:
    # no commit yet since the assignment: the head-gap check is skipped
    assert _faust_new_offset(CommitState(acked=[3, 4, 5], unacked=[0, 1, 2])) == 6
    # off by one: a single missing offset after the last commit slips through
    assert _faust_new_offset(CommitState(acked=[32, 33], unacked=[31], committed=31)) == 34
    # if either assertion fails, Faust fixed it upstream and the second fix can go


def test_the_commit_stops_below_the_lowest_unacked_message() -> None:
    faust_fixes.apply()
    state = CommitState(acked=[0, 1, 3, 4, 5], unacked=[2])
    assert Consumer._filter_committable_offsets(state, ["tp"]) == {"tp": 2}  # type: ignore[arg-type]
    assert state._acked["tp"] == [3, 4, 5]  # held back for later, not forgotten
    state._held[0].acked = True  # offset 2 is decided and acked
    state._acked["tp"] = [2, 3, 4, 5]
    state._committed_offset["tp"] = 2
    assert Consumer._filter_committable_offsets(state, ["tp"]) == {"tp": 6}  # type: ignore[arg-type]

    assert Consumer._filter_committable_offsets(CommitState(acked=[3, 4, 5], unacked=[0, 1, 2]),  # type: ignore[arg-type]
                                                ["tp"]) == {}
    assert Consumer._filter_committable_offsets(CommitState(acked=[32, 33], unacked=[31], committed=31),  # type: ignore[arg-type]
                                                ["tp"]) == {}
    # nothing held: Faust's own answer
    assert Consumer._filter_committable_offsets(CommitState(acked=[7, 8], unacked=[], committed=7),  # type: ignore[arg-type]
                                                ["tp"]) == {"tp": 9}


# --------------------------------------------------- 3. seek back on uncommitted partitions

def test_reset_plan_covers_what_aiokafka_leaves_out() -> None:
    tp = TopicPartition
    committed = {tp("raw", 0): None, tp("raw", 1): 0, tp("raw", 2): 57, tp("app-table-changelog", 0): None}
    plan = faust_fixes.reset_plan(committed, {"app-table-changelog"}, "earliest")
    assert plan.to_beginning == [tp("raw", 0)] and plan.to_zero == [tp("raw", 1)] and not plan.to_end
    latest = faust_fixes.reset_plan(committed, {"app-table-changelog"}, "latest")
    assert latest.to_end == [tp("raw", 0)] and not latest.to_beginning
    assert not faust_fixes.reset_plan({tp("raw", 2): 57}, set(), "earliest")


class _ThreadStandIn:
    """The parts of Faust's ``AIOKafkaConsumerThread`` that ``seek_to_committed`` uses,
    around a real aiokafka consumer."""

    def __init__(self, consumer: AIOKafkaConsumer, changelogs: set[str]) -> None:
        self._consumer = consumer
        self.app = SimpleNamespace(conf=SimpleNamespace(consumer_auto_offset_reset="earliest"),
                                   tables=SimpleNamespace(changelog_topics=changelogs))

    def _ensure_consumer(self) -> AIOKafkaConsumer:
        return self._consumer

    async def call_thread(self, fun: Callable[..., Any], *args: Any) -> Any:
        return await fun(*args)


async def _fill(bootstrap: str, topics: list[str], n: int = 20) -> None:
    """Records ``b"0"`` ... ``b"n-1"`` on partition 0 of each of ``topics``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(n):
            for topic in topics:
                await producer.send_and_wait(topic, b"%d" % i, partition=0)
    finally:
        await producer.stop()


@pytest.mark.e2e
async def test_a_seek_back_returns_to_the_start_of_an_uncommitted_partition(broker: EmbeddedBroker,
                                                                             tmp_path: Path) -> None:
    """What Faust's ``getmany`` does when the flow stops: it drops the records just fetched
    and seeks back to the committed offsets. On a partition never committed, aiokafka does
    not move, so the dropped records would never be read again."""
    settings = unique_settings(broker.url, tmp_path, partitions=1)
    topic, changelog = settings.topics.raw, settings.topics.raw + "-changelog"
    await create_topics(broker.url, [TopicSpec(topic, 2), TopicSpec(changelog, 1)])
    await _fill(broker.bootstrap, [topic, changelog])
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=settings.app_id + "-seek",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        fresh, log = TopicPartition(topic, 0), TopicPartition(changelog, 0)
        consumer.assign([fresh, log])
        for tp in (fresh, log):  # fetched, then dropped by the stopped flow
            assert next(r.offset for r in (await consumer.getmany(tp, timeout_ms=5000))[tp]) == 0
        await consumer.seek_to_committed()  # what Faust's perform_seek gets from aiokafka alone
        assert await consumer.position(fresh) > 0
        thread = _ThreadStandIn(consumer, {changelog})
        faust_fixes.apply()
        committed = await AIOKafkaConsumerThread.seek_to_committed(thread)  # type: ignore[arg-type]
        assert committed[fresh] is None
        assert await consumer.position(fresh) == 0  # aiokafka alone leaves it past the dropped records
        assert await consumer.position(log) > 0  # changelogs are recovery's business
    finally:
        await consumer.stop()


def test_aiokafka_still_skips_uncommitted_partitions() -> None:
    # if aiokafka starts seeking these itself, fix 3 can go
    source = inspect.getsource(AIOKafkaConsumer.seek_to_committed)
    assert "if offset and offset > 0:" in source


def test_faust_still_hard_codes_the_fetch_wait() -> None:
    """When Faust grows a setting for it, khabar's override can go."""
    import faust.transport.drivers.aiokafka as driver
    assert "fetch_max_wait_ms=1500" in inspect.getsource(driver)


@pytest.mark.e2e
async def test_the_worker_consumer_fetches_with_khabars_wait(broker: EmbeddedBroker, tmp_path: Path) -> None:
    from streams.app import create_app

    settings = unique_settings(broker.url, tmp_path, partitions=1).model_copy(update={"fetch_max_wait_ms": 37})
    kapp = create_app(settings)
    thread = kapp.app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(kapp.app.transport)
    assert consumer._fetch_max_wait_ms == 37
    await consumer.start()  # builds the fetcher from the consumer's settings
    try:
        assert consumer._fetcher._fetch_max_wait_ms == 37
    finally:
        await consumer.stop()


# ------------------------------ 1b. a held resume must not outlive its generation (issue 8)

from faust.types import TP  # noqa: E402  (Faust's own partition type: its consumer asserts it)


class _PauseState:
    """Faust's consumer bookkeeping of which partitions it fetches (its own pause/resume
    methods, bound to this object), plus a seek that takes as long as the test wants."""

    pause_partitions = Consumer.pause_partitions
    resume_partitions = Consumer.resume_partitions
    _get_active_partitions = Consumer._get_active_partitions
    _set_active_tps = Consumer._set_active_tps

    def __init__(self, assigned: set[TP]) -> None:

        self.assigned = assigned
        self._active_partitions: set[TP] | None = set()
        self._paused_partitions: set[TP] = set()
        self._buffered_partitions: set[TP] = set()
        self.flow_active = False
        self.seek_started = asyncio.Event()
        self.seek_may_finish = asyncio.Event()
        self.seeks = 0

    def assignment(self) -> set[TP]:
        return self.assigned

    def fetched(self) -> set[TP]:
        """The partitions Faust's fetcher would ask aiokafka for now."""
        return set(self._get_active_partitions())

    async def perform_seek(self) -> None:
        self.seek_started.set()
        await self.seek_may_finish.wait()  # the OffsetFetch round trips, slow on a loaded machine
        self.seeks += 1

    def resume_flow(self) -> None:
        self.flow_active = True


def _recovery_stand_in(consumer: _PauseState, generation: int) -> Any:
    """A ``Recovery`` with the attributes its ``on_recovery_completed`` reads, Faust's own
    ``_wait`` (the seek raced against the next rebalance) and mode's ``wait_first``."""

    from mode import Service

    class Stub:
        _wait = Recovery._wait
        wait_first = Service.wait_first

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    stub: Any = Stub()
    stub.loop = asyncio.get_running_loop()
    stub._stopped, stub._crashed = asyncio.Event(), asyncio.Event()
    stub.signal_recovery_start = asyncio.Event()
    stub.completed = asyncio.Event()
    stub.log = SimpleNamespace(info=lambda *a, **k: None, dev=lambda *a, **k: None, warning=lambda *a, **k: None)
    stub.tables = SimpleNamespace(values=lambda: [], on_actives_ready=lambda: None, on_standbys_ready=lambda: None)
    stub.actives_for_table, stub.standbys_for_table = {}, {}
    stub._set_recovery_ended = lambda: None
    stub._is_changelog_tp = lambda tp: tp.topic.endswith("-changelog")
    stub.app = SimpleNamespace(
        consumer=consumer, consumer_generation_id=generation, conf=SimpleNamespace(broker_request_timeout=90.0),
        on_rebalance_complete=SimpleNamespace(send=nothing), _fetcher=SimpleNamespace(maybe_start=nothing),
        flow_control=SimpleNamespace(resume=lambda: None), assignor=SimpleNamespace(assigned_standbys=lambda: []),
        on_rebalance_end=lambda: None, consumer_generation=generation)
    return stub


async def test_a_rebalance_during_the_seek_leaves_the_new_generation_paused() -> None:
    """Faust's recovery for generation 1 holds the stream partitions paused, seeks them, then
    resumes them (fix 1). If the next rebalance (generation 2) starts during that seek, Faust
    cancels the seek and starts over; generation 2 has already paused every partition it was
    given, and only its own recovery may resume them, after its own seek. Before this fix the
    cancelled seek still released the held resume: generation 2 then fetched and processed
    from wherever aiokafka stood, before its seek, and the seek's read offsets then dropped
    the records re-fetched after it (the loss fix 1 was made for)."""

    from faust.tables.recovery import RebalanceAgain

    faust_fixes.apply()
    raw = {TP("raw", 0), TP("raw", 1)}
    consumer = _PauseState(raw)
    consumer.pause_partitions(raw)  # _on_partitions_assigned of generation 1
    recovery = _recovery_stand_in(consumer, generation=1)
    completing = asyncio.ensure_future(Recovery.on_recovery_completed(recovery, 1))
    await asyncio.wait_for(consumer.seek_started.wait(), 5)
    assert consumer.fetched() == set()  # fix 1: nothing resumed before the seek is done

    # the next rebalance: aiokafka's listener sets the generation, then Faust's
    # _on_partitions_assigned pauses the new assignment and signals the recovery
    recovery.app.consumer_generation_id = 2
    consumer._set_active_tps(raw)
    consumer.pause_partitions(raw)
    recovery.signal_recovery_start.set()
    with pytest.raises(RebalanceAgain):
        await asyncio.wait_for(completing, 5)
    assert consumer.seeks == 0
    assert consumer.fetched() == set(), "generation 2 fetches before its own seek"
    assert not consumer.flow_active

    # generation 2's own recovery then resumes them, after its seek
    consumer.seek_may_finish.set()
    recovery.signal_recovery_start.clear()
    await asyncio.wait_for(Recovery.on_recovery_completed(recovery, 2), 5)
    assert consumer.seeks == 1 and consumer.fetched() == raw and consumer.flow_active


async def test_the_held_resume_is_released_after_a_seek_in_the_same_generation() -> None:

    faust_fixes.apply()
    raw = {TP("raw", 0)}
    consumer = _PauseState(raw)
    consumer.pause_partitions(raw)
    recovery = _recovery_stand_in(consumer, generation=3)
    consumer.seek_may_finish.set()
    await asyncio.wait_for(Recovery.on_recovery_completed(recovery, 3), 5)
    assert consumer.seeks == 1 and consumer.fetched() == raw and consumer.flow_active


# ---------------------------------------------------- the offset traces (streams.offset_trace)

def test_the_offset_watch_reports_records_skipped_after_a_seek() -> None:
    from structlog.testing import capture_logs

    from streams.offset_trace import OffsetWatch

    raw, dedup = TP("t.khabar.articles.raw", 3), TP("t.khabar.internal.dedup", 0)
    watch = OffsetWatch()
    with capture_logs() as logs:
        watch.seeked({raw: 40, dedup: 61})
        for offset in (40, 41, 42):
            watch.delivered(raw, offset)
        watch.delivered(dedup, 75)  # 61-74 never reached the agent
        watch.delivered(raw, 44)  # 43 neither
        watch.seeked({raw: 41})  # a seek back: records are owed again from 41
        watch.delivered(raw, 41)
    assert [(e["event"], e["partition"]) for e in logs] == [
        ("first_delivery", "raw:3"), ("first_delivery", "dedup:0"), ("offsets_skipped", "dedup:0"),
        ("offsets_skipped", "raw:3"), ("first_delivery", "raw:3")]
    skipped = [e for e in logs if e["event"] == "offsets_skipped"]
    assert (skipped[0]["expected"], skipped[0]["got"], skipped[0]["skipped"]) == (61, 75, 14)
    assert (skipped[1]["expected"], skipped[1]["got"]) == (43, 44)
    assert skipped[0]["log_level"] == "warning"


def test_the_fetch_check_reports_a_partition_faust_never_fetches() -> None:
    from structlog.testing import capture_logs

    from streams.offset_trace import FetchCheck

    raw = [TP("t.khabar.articles.raw", p) for p in range(3)]
    changelog = TP("khabar-x-dedup_index-changelog", 0)
    consumer = SimpleNamespace(flow_active=True, _active_partitions={raw[0]}, _buffered_partitions={raw[1]},
                               _paused_partitions={raw[2], changelog},
                               assignment=lambda: {*raw, changelog})
    app = SimpleNamespace(consumer=consumer, rebalancing=False, consumer_generation_id=4)
    check = FetchCheck()
    with capture_logs() as logs:
        check.check(app)  # a first look may catch a resume in progress
        assert logs == []
        check.check(app)
        check.check(app)  # once per partition and generation
    assert [(e["event"], e["partition"], e["paused"]) for e in logs] == [("partition_not_fetched", "raw:2", True)]
    app.rebalancing = True
    with capture_logs() as logs:
        check.check(app)
        check.check(app)
    assert logs == []


# ------------------------- 4. an empty set of active partitions fetches nothing (issue 8)

def test_the_active_view_is_the_live_set_and_never_means_all() -> None:
    live = {TP("raw", 0)}
    view = faust_fixes.ActiveOnly(live)
    assert view and TP("raw", 0) in view and TP("raw", 1) not in view
    live.clear()  # the worker paused the last active partition while a fetch waits
    assert view and TP("raw", 0) not in view  # aiokafka: `if partitions and tp not in partitions`
    live.add(TP("raw", 1))
    assert TP("raw", 1) in view


def test_aiokafka_still_reads_an_empty_partition_set_as_all() -> None:
    # if aiokafka stops treating an empty collection as "every partition", fix 4 can go
    from aiokafka.consumer.fetcher import Fetcher

    assert "if partitions and tp not in partitions:" in inspect.getsource(Fetcher.fetched_records)


@pytest.mark.e2e
async def test_a_fetch_outliving_its_last_active_partition_hands_out_nothing(broker: EmbeddedBroker,
                                                                            tmp_path: Path) -> None:
    """The loss of issue 8, step by step. The survivor of a failover reads the dedup table's
    changelog with the flow running and only the changelog partition active; Faust's fetch
    (``_fetch_records``, in the consumer's thread, waiting up to 1 s for records) holds the
    very set of active partitions the worker mutates. "Done reading from changelog topics"
    pauses the changelog partition: the set becomes empty, and aiokafka's ``fetched_records``
    reads an empty set as *every* partition (``if partitions and tp not in partitions``). It
    hands out the stream partitions' records, still paused, and moves their positions to the
    end; Faust's ``getmany`` throws them away (not active) and never seeks back. Traced in a
    loaded run: after the final seek the survivor stood at 349, 360 and 329 on the raw
    partitions committed at 74, 84 and 67, and at 192 on ``internal.dedup`` committed at 96:
    896 articles without an outcome."""

    settings = unique_settings(broker.url, tmp_path, partitions=1)
    stream, changelog = settings.topics.raw, settings.topics.raw + "-changelog"
    await create_topics(broker.url, [TopicSpec(stream, 1), TopicSpec(changelog, 1)])
    await _fill(broker.bootstrap, [stream])
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        raw, log = TopicPartition(stream, 0), TopicPartition(changelog, 0)
        consumer.assign([raw, log])
        await consumer.seek_to_beginning(raw, log)
        assert await consumer.position(raw) == 0
        thread: Any = SimpleNamespace(consumer=SimpleNamespace(flow_active=True))
        active = {log}  # recovery: only the changelog is read; the stream partition is paused
        faust_fixes.apply()
        fetch = asyncio.ensure_future(AIOKafkaConsumerThread._fetch_records(
            thread, consumer, active, timeout=3.0, max_records=2000))  # type: ignore[arg-type]
        await asyncio.sleep(0.3)  # the changelog is empty: the fetch waits
        active.discard(log)  # "Done reading from changelog topics": the changelog is paused too
        consumer.seek(raw, 0)  # the recovery's seek to the committed offsets; the fetcher reads again
        records = await asyncio.wait_for(fetch, 10)
        assert raw not in records, "records of a paused partition handed out (and dropped by Faust's getmany)"
        assert await consumer.position(raw) == 0
        active.add(raw)  # the recovery's end resumes the stream partition: it starts where it stood
        records = await AIOKafkaConsumerThread._fetch_records(
            thread, consumer, active, timeout=3.0, max_records=2000)  # type: ignore[arg-type]
        assert records[raw][0].offset == 0
    finally:
        await consumer.stop()
