"""The accounting invariant of the end-to-end tests: every input id is accounted for by
exactly one kind of output record (enriched, duplicate notice or dead letter).

Processing is at-least-once, so a redelivered record may repeat its output, but always
with the same verdict: an id is never both enriched and a duplicate, for example.
"""

from __future__ import annotations

from collections.abc import Iterable

from khabar.config import Settings
from streams.replay import Collected


def outcome_ids(c: Collected, settings: Settings) -> dict[str, set[str]]:
    """Ids per outcome: ``enriched``, ``duplicate`` and ``deadletter`` (dead letters with an id)."""
    t = settings.topics
    return {"enriched": c.ids(t.enriched), "duplicate": c.ids(t.duplicates),
            "deadletter": c.ids(t.deadletter, key="article_id")}


def assert_accounting(c: Collected, settings: Settings, inputs: Iterable[str]) -> None:
    """inputs = enriched + duplicates + dead letters, by id: nothing lost, nothing extra,
    no id with two different outcomes."""
    by_outcome = outcome_ids(c, settings)
    expected = set(inputs)
    seen = set().union(*by_outcome.values())
    assert seen == expected, {"lost": sorted(expected - seen)[:20], "extra": sorted(seen - expected)[:20]}
    names = sorted(by_outcome)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = by_outcome[a] & by_outcome[b]
            assert not both, f"ids both {a} and {b}: {sorted(both)[:20]}"
    assert sum(len(v) for v in by_outcome.values()) == len(expected)

