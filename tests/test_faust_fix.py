"""The fix for Faust's resume-before-seek recovery bug (streams/faust_fixes.py).

The end-to-end proof is tests/test_scale.py (SIGTERM and SIGKILL mid-stream lose
nothing); these tests pin the mechanism and its installation.
"""

from __future__ import annotations

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


@pytest.mark.e2e
async def test_a_seek_back_returns_to_the_start_of_an_uncommitted_partition(broker: EmbeddedBroker,
                                                                             tmp_path: Path) -> None:
    """What Faust's ``getmany`` does when the flow stops: it drops the records just fetched
    and seeks back to the committed offsets. On a partition never committed, aiokafka does
    not move, so the dropped records would never be read again."""
    settings = unique_settings(broker.url, tmp_path, partitions=1)
    topic, changelog = settings.topics.raw, settings.topics.raw + "-changelog"
    await create_topics(broker.url, [TopicSpec(topic, 2), TopicSpec(changelog, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for i in range(20):
            await producer.send_and_wait(topic, b"%d" % i, partition=0)
            await producer.send_and_wait(changelog, b"%d" % i, partition=0)
    finally:
        await producer.stop()
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
