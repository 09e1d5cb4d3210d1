"""End to end on the real embedded broker: the seeds twice, plus malformed input."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from khabar.process import guess_article_id
from tests.conftest import MALFORMED, SeededWorker
from tests.support.accounting import assert_accounting
from tests.support.stack import accounted_ids

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url, timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_seeds_twice_give_five_originals_and_five_copies(seeded_worker: SeededWorker) -> None:
    t = seeded_worker.stack.settings.topics
    c = seeded_worker.collected
    enriched = {r["id"]: r for r in c.of(t.enriched)}
    assert set(enriched) == set(seeded_worker.seed_ids)
    dups = {r["id"]: r for r in c.of(t.duplicates)}
    assert {(i, r["duplicate_of"]) for i, r in dups.items()} == {(f"{s}#r2", s) for s in seeded_worker.seed_ids}
    assert all(r["duplicate_kind"] == "exact" and r["similarity"] == 1.0 for r in dups.values())
    assert {r["language"]["code"] for r in enriched.values()} == {"ar"}
    assert all(r["language"]["confidence"] > 0.5 for r in enriched.values())
    assert "ASSAULT" in {e["type"] for e in enriched["000_02b480f61992c5b6"]["events"]}
    # every copy shares its original's story
    assert all(dups[f"{s}#r2"]["story_id"] == enriched[s]["story_id"] for s in seeded_worker.seed_ids)


def test_every_input_is_accounted_for_once(seeded_worker: SeededWorker) -> None:
    """inputs = enriched + duplicates + dead letters: by id for the replayed articles and
    for malformed records with a readable id, by the original bytes for the rest."""
    stack = seeded_worker.stack
    t = stack.settings.topics
    c = seeded_worker.collected
    assert_accounting(c, stack.settings, seeded_worker.replayed_ids
                      + [i for i in (guess_article_id(v) for v, _ in MALFORMED) if i is not None])
    anonymous = [base64.b64decode(r["original_b64"]) for r in c.of(t.deadletter) if r["article_id"] is None]
    assert Counter(anonymous) == Counter(v for v, _ in MALFORMED if guess_article_id(v) is None)


def test_events_topic_carries_each_event_once(seeded_worker: SeededWorker) -> None:
    stack = seeded_worker.stack
    t = stack.settings.topics
    expected = {e["event_id"] for r in seeded_worker.collected.of(t.enriched) for e in r["events"]}
    got = stack.collect(lambda c: expected <= c.ids(t.events, key="event_id"), timeout=60, topics=[t.events])
    assert Counter(r["event_id"] for r in got.of(t.events)) == Counter(expected)


def test_malformed_records_reach_the_deadletter_topic(seeded_worker: SeededWorker) -> None:
    t = seeded_worker.stack.settings.topics
    dead = seeded_worker.collected.of(t.deadletter)
    by_bytes = {base64.b64decode(r["original_b64"]): r for r in dead}
    for value, reason in MALFORMED:
        assert value in by_bytes, f"{value!r} missing from the dead-letter topic"
        record = by_bytes[value]
        assert record["reason"] == reason and record["error"]
        assert record["topic"] == t.raw and record["partition"] is not None and record["offset"] is not None


def test_worker_keeps_going_after_bad_input(seeded_worker: SeededWorker) -> None:
    stack = seeded_worker.stack
    text = (REPO / "seeds" / "001_b72378a2988bda73.txt").read_text(encoding="utf-8")
    fresh = text.replace("\n", " ")[::-1]  # same letters, new content: unique
    import json

    stack.produce([("after-bad", json.dumps({"id": "after-bad", "text": fresh}).encode())])
    got = stack.collect(lambda c: "after-bad" in accounted_ids(c, stack.settings), timeout=60)
    assert "after-bad" in got.ids(stack.settings.topics.enriched)
    assert stack.workers[0].proc.poll() is None


def test_metrics_agree_with_the_topics(seeded_worker: SeededWorker) -> None:
    t = seeded_worker.stack.settings.topics
    c = seeded_worker.collected
    deadline = time.monotonic() + 10
    while True:  # counters are updated right after the sends the collector saw
        s = _samples(seeded_worker.metrics_url)
        if _value(s, "khabar_duplicates_total", kind="exact") >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert _value(s, "khabar_unique_articles_total") >= 5
    assert _value(s, "khabar_duplicates_total", kind="exact") == 5
    assert _value(s, "khabar_duplicates_total", kind="near") == 0
    assert _value(s, "khabar_records_out_total", topic=t.enriched) >= 5
    assert _value(s, "khabar_records_out_total", topic=t.duplicates) == 5
    events = Counter(e["type"] for r in c.of(t.enriched) if r["id"] in seeded_worker.seed_ids for e in r["events"])
    assert _value(s, "khabar_events_total", type="ASSAULT") >= events["ASSAULT"] > 0
    for _, reason in MALFORMED:
        assert _value(s, "khabar_deadletters_total", reason=reason) >= 1
    assert sum(_value(s, "khabar_deadletters_total", reason=r) for _, r in set(MALFORMED)) >= len(MALFORMED)
    assert _value(s, "khabar_languages_total", code="ar") >= 5
    assert _value(s, "khabar_end_to_end_latency_seconds_count", topic=t.enriched) >= 5
    assert _value(s, "faust_messages_received_total") > 0  # Faust's own sensors, same registry


def test_up_once_runs_the_whole_job(tmp_path: Path) -> None:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "KHABAR_DATA_DIR": str(tmp_path),
           "KHABAR_WEB_PORT": "0", "HOME": str(Path.home())}
    out = subprocess.run([sys.executable, "-m", "streams.cli", "up", "--once", "--timeout", "150"],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=280)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "metrics at http://" in out.stdout
    for seed in (REPO / "seeds").glob("*.txt"):
        assert seed.stem in out.stdout
    assert out.stdout.count("exact copy of") == 5
    assert "ASSAULT" in out.stdout
