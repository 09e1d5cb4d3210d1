"""Topic layout and explicit creation.

Topics are created before any client touches them: Tansu auto-creates an
unknown topic with 4 partitions on the first metadata request, and a sequencer
topic with 4 partitions would silently break the total order dedup relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from khabar.config import KafkaSecurity, Settings
from streams.errors import TopicSetupError
from streams.security import aiokafka_kwargs

DEDUP_TABLE = "dedup_index"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic khabar needs, with its partition count."""
    t, p = settings.topics, settings.partitions
    return [
        TopicSpec(t.raw, p),
        TopicSpec(t.enriched, p),
        TopicSpec(t.events, p),
        TopicSpec(t.duplicates, p),
        TopicSpec(t.deadletter, p),
        # One partition: the dedup sequencer needs one total order and one writer.
        TopicSpec(t.dedup, 1),
        # Faust internals, created here so Tansu does not invent 4 partitions for them.
        TopicSpec(f"{settings.app_id}-{DEDUP_TABLE}-changelog", 1, compacted=True),
        TopicSpec(f"{settings.app_id}-__assignor-__leader", 1, compacted=True),
    ]


def bootstrap_servers(broker_url: str) -> str:
    """``kafka://a:9092;kafka://b:9092`` → ``a:9092,b:9092``."""
    return ",".join(part.removeprefix("kafka://") for part in broker_url.split(";"))


async def create_topics(broker_url: str, specs: list[TopicSpec], replication_factor: int = 1,
                        timeout: float = 30.0, security: KafkaSecurity | None = None,
                        create_missing: bool = True) -> list[str]:
    """Create missing topics and check that existing ones have the expected partitions.

    Args:
        security: Protocol, TLS and SASL of the connection (``settings.kafka``); PLAINTEXT when unset.
        create_missing: False only checks: a missing topic is an error, as is a wrong count.

    Returns:
        Names of the topics created by this call.

    Raises:
        TopicSetupError: The broker is unreachable, or a topic exists with another
            partition count.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers(broker_url), request_timeout_ms=int(timeout * 1000),
                                **aiokafka_kwargs(security))
    try:
        await asyncio.wait_for(admin.start(), timeout)
    except (TimeoutError, KafkaError, OSError) as exc:
        with contextlib.suppress(Exception):  # a failed start (refused login) leaves connections open
            await admin.close()
        raise TopicSetupError(f"cannot reach the broker at {broker_url}: {exc!r}") from exc
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing and not create_missing:
            raise TopicSetupError("missing topics: " + ", ".join(s.name for s in missing))
        # single-partition topics first: after a Tansu restart they race the clients'
        # metadata requests, which would auto-create them with 4 partitions
        for spec in sorted(missing, key=lambda s: s.partitions):
            configs = {"cleanup.policy": "compact"} if spec.compacted else {}
            try:
                await admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=configs)]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        described = await admin.describe_topics([s.name for s in specs])
        counts = {d["topic"]: len(d["partitions"]) for d in described}
        wrong = [f"{s.name} has {counts.get(s.name)} partitions, expected {s.partitions}"
                 for s in specs if counts.get(s.name) != s.partitions]
        if wrong:
            raise TopicSetupError("; ".join(wrong))
    except KafkaError as exc:
        raise TopicSetupError(f"topic setup failed: {exc!r}") from exc
    finally:
        await admin.close()
    return created
