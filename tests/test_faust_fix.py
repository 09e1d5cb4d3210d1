"""The fix for Faust's resume-before-seek recovery bug (streams/faust_fixes.py).

The end-to-end proof is tests/test_scale.py (SIGTERM and SIGKILL mid-stream lose
nothing); these tests pin the mechanism and its installation.
"""

from __future__ import annotations

import inspect

from faust.tables.recovery import Recovery

from streams import faust_fixes


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
