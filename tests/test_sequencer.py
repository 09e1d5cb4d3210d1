"""The sequencer's state: ordering, verdicts, rebuild after recovery."""

from __future__ import annotations

from pathlib import Path

from khabar.config import DedupSettings
from khabar.dedup import make_probe
from khabar.pipeline import prepare_doc
from schemas.models import RawArticle
from streams.sequencer import Sequencer

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))


def _feed(seq: Sequencer[str], article: RawArticle, ts: float) -> None:
    seq.push(article.id, article, make_probe(article, prepare_doc(article), seq.settings), ts)


def test_the_earlier_ingest_wins_whatever_the_arrival_order() -> None:
    seq: Sequencer[str] = Sequencer(DedupSettings(reorder_grace_seconds=5.0))
    text = SEEDS[0].read_text(encoding="utf-8")
    late_copy = RawArticle(id="copy", text=text)
    original = RawArticle(id="orig", text=text)
    _feed(seq, late_copy, ts=100.0)   # reaches the sequencer first (from partition 0)...
    _feed(seq, original, ts=99.0)     # ...but was ingested a second earlier
    decisions = seq.ready(flush=True)
    assert [(d.article.id, d.verdict.kind, d.verdict.duplicate_of) for d in decisions] == [
        ("orig", "unique", None), ("copy", "exact", "orig")]


def test_rebuilt_index_gives_the_same_verdicts() -> None:
    settings = DedupSettings(reorder_grace_seconds=0.0)
    first: Sequencer[str] = Sequencer(settings)
    articles = [RawArticle(id=p.stem, text=p.read_text(encoding="utf-8")) for p in SEEDS]
    for i, a in enumerate(articles):
        _feed(first, a, ts=float(i))
    entries = [(d.article.id, d.entry) for d in first.ready(flush=True)]
    rebuilt: Sequencer[str] = Sequencer(settings)
    rebuilt.rebuild(entries)
    assert len(rebuilt.index) == len(articles)
    for s in (first, rebuilt):
        _feed(s, RawArticle(id="again", text=articles[2].text), ts=99.0)
    verdicts = [s.ready(flush=True)[0].verdict for s in (first, rebuilt)]
    assert verdicts[0] == verdicts[1]
    assert (verdicts[0].kind, verdicts[0].duplicate_of) == ("exact", articles[2].id)


def test_revoke_drops_queued_articles() -> None:
    seq: Sequencer[str] = Sequencer(DedupSettings(reorder_grace_seconds=60.0))
    _feed(seq, RawArticle(id="q", text=SEEDS[1].read_text(encoding="utf-8")), ts=1.0)
    assert len(seq) == 1 and seq.revoke() == 1 and len(seq) == 0


def test_progress_markers_release_an_article_without_waiting_for_later_ones() -> None:
    seq: Sequencer[str] = Sequencer(DedupSettings(reorder_grace_seconds=60.0), sources=3)
    text = SEEDS[0].read_text(encoding="utf-8")
    _feed_from(seq, RawArticle(id="a", text=text), ts=100.0, source=1)
    assert seq.ready() == []  # partitions 0 and 2 could still send something older
    assert seq.progress(0, 100.5) and seq.progress(2, 100.5)
    assert seq.ready() == []  # partition 1 itself may still send another article stamped 100.0
    seq.progress(1, 100.001)
    assert [d.article.id for d in seq.ready()] == ["a"]
    assert seq.progress(3, 200.0) is False  # no such partition: ignored, holds nothing back
    assert seq.progress(-1, 200.0) is False


def test_a_copy_behind_a_marker_is_late_and_the_verdict_follows_arrival() -> None:
    seq: Sequencer[str] = Sequencer(DedupSettings(reorder_grace_seconds=60.0), sources=2)
    text = SEEDS[1].read_text(encoding="utf-8")
    _feed_from(seq, RawArticle(id="second", text=text), ts=100.0, source=0)
    seq.progress(0, 101.0)
    seq.progress(1, 101.0)  # wrong: partition 1 still had an older copy in flight
    assert [d.article.id for d in seq.ready()] == ["second"]
    late = _feed_from(seq, RawArticle(id="first", text=text), ts=99.0, source=1)
    (d,) = seq.ready()
    assert late and seq.buffer.late == 1
    assert (d.article.id, d.verdict.kind, d.verdict.duplicate_of) == ("first", "exact", "second")


def _feed_from(seq: Sequencer[str], article: RawArticle, ts: float, source: int) -> bool:
    return seq.push(article.id, article, make_probe(article, prepare_doc(article), seq.settings), ts, source)
