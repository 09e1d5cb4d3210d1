"""Evaluate the event extractor on a gold set (``eval/events/gold.jsonl``).

Gold format: one JSON object a line with ``article_id``, ``split``, ``text``,
``published_at`` and ``events`` (``type``, ``trigger_start``, ``trigger_end``,
``source``, ``target``, ...). Offsets refer to ``text``.

Matching rule (documented here because every number depends on it):

* A predicted event and a gold event of the same article **match on type** when
  they have the same PLOVER type and either their trigger spans overlap or both
  triggers lie in the same sentence (sentences from
  :func:`khabar.text.sentences.split_sentences` over the gold text).
* Matching is one-to-one and greedy: first every pair with overlapping triggers
  (closest first), then same-sentence pairs (closest trigger first).
* **Type + source + target** additionally needs both actor codes to agree on
  their root, the first word of the code (``UKR GOV`` ~ ``UKR``; ``IGOUNO``,
  ``NATO`` and ``IMG`` are roots). A null gold actor matches only a null
  prediction. This is a separate one-to-one matching with the stricter test.
* Precision = matched / predicted, recall = matched / gold, F1 their harmonic
  mean, per type and micro-averaged overall.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from khabar.config import EventSettings
from khabar.errors import KhabarError
from khabar.text.sentences import split_sentences
from schemas.models import Event, PloverType, RawArticle


class GoldFormatError(KhabarError):
    """The gold file cannot be read or a line is not a gold record."""


@dataclass(frozen=True, slots=True)
class Item:
    """An event reduced to what the evaluation compares."""

    type: str
    start: int
    end: int
    sentence: int
    source: str | None
    target: str | None
    #: The extractor's confidence (None for gold items).
    confidence: float | None = None


@dataclass
class Score:
    """Counts and derived measures for one type (or overall)."""

    tp: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    """Scores per type and overall, for both matching levels."""

    by_type: dict[str, Score] = field(default_factory=dict)
    by_type_actors: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    overall_actors: Score = field(default_factory=Score)
    articles: int = 0
    #: Filled only when :func:`evaluate` is asked for them.
    errors: list[Miss] = field(default_factory=list)
    #: ``(confidence, matched a gold event of its type)`` of every predicted event that has a
    #: confidence (the extractor's, not a second annotator's): :func:`calibration`.
    confidence: list[tuple[float, bool]] = field(default_factory=list)


def root(code: str | None) -> str | None:
    """The root of an actor code: its first word (``'UKR GOV'`` -> ``'UKR'``)."""
    if not code:
        return None
    return code.split()[0]


def _sentence_index(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1


def to_items(events: Iterable[tuple[str, int, int, str | None, str | None]
                              | tuple[str, int, int, str | None, str | None, float]],
             text: str) -> list[Item]:
    """``(type, start, end, source, target[, confidence])`` tuples as :class:`Item` with
    sentence numbers."""
    starts = [s for s, _e in split_sentences(text)]
    return [Item(t, s, e, _sentence_index(starts, s), src, tgt, *rest) for t, s, e, src, tgt, *rest in events]


def match(gold: list[Item], pred: list[Item], actors: bool) -> int:
    """Number of one-to-one matches between gold and predicted items of one article."""
    return len(match_pairs(gold, pred, actors))


def match_pairs(gold: list[Item], pred: list[Item], actors: bool) -> list[tuple[int, int]]:
    """The one-to-one matches ``(gold index, predicted index)`` of one article."""

    def ok(g: Item, p: Item) -> bool:
        if g.type != p.type:
            return False
        return not (actors and (root(g.source) != root(p.source) or root(g.target) != root(p.target)))

    pairs: list[tuple[int, int, int, int]] = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if not ok(g, p):
                continue
            overlap = g.start < p.end and p.start < g.end
            if overlap or g.sentence == p.sentence:
                pairs.append((0 if overlap else 1, abs(g.start - p.start), gi, pi))
    pairs.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    out = []
    for _level, _dist, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


@dataclass(frozen=True, slots=True)
class Miss:
    """One error of one article: a gold event not found, a predicted one not in the gold,
    or a type match whose actors differ."""

    article_id: str
    kind: str  # "missed", "spurious" or "actors"
    type: str
    trigger: str
    sentence: str
    gold_actors: tuple[str | None, str | None] | None = None
    predicted_actors: tuple[str | None, str | None] | None = None
    #: The trigger's character span in the article.
    span: tuple[int, int] | None = None

    def line(self) -> str:
        """One line for a reader: what, where, and the sentence (cut at 160 characters)."""
        actors = ""
        if self.kind == "actors":
            actors = f" gold {_pair(self.gold_actors)} got {_pair(self.predicted_actors)}"
        elif self.gold_actors is not None or self.predicted_actors is not None:
            actors = f" {_pair(self.gold_actors or self.predicted_actors)}"
        sentence = " ".join(self.sentence.split())
        if len(sentence) > 160:
            sentence = sentence[:157] + "..."
        return f"{self.article_id}  {self.kind:<8} {self.type:<9} «{self.trigger}»{actors}  | {sentence}"


def _pair(actors: tuple[str | None, str | None] | None) -> str:
    src, tgt = actors or (None, None)
    return f"{src or '-'} → {tgt or '-'}"


def read_gold(path: Path, split: str | None = None) -> list[dict[str, object]]:
    """Gold records of ``path`` (optionally only one split).

    Raises:
        GoldFormatError: unreadable file or a line without the required fields.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFormatError(f"cannot read {path}: {exc}") from exc
    out = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or "text" not in rec or "events" not in rec:
                raise ValueError("needs text and events")
        except ValueError as exc:
            raise GoldFormatError(f"{path}:{lineno}: {exc}") from exc
        if split is None or rec.get("split") == split:
            out.append(rec)
    return out


Extract = Callable[[RawArticle], list[Event]]


def default_extract(settings: EventSettings | None = None) -> Extract:
    """The production path: shared normalization pass, then the extractor."""
    from khabar.events.extract import get_extractor
    from khabar.pipeline import prepare_doc

    extractor = get_extractor(settings or EventSettings())
    return lambda article: extractor.extract(prepare_doc(article), article)


def evaluate(records: list[dict[str, object]], extract: Extract | None = None,
             errors: bool = False) -> Report:
    """Score the extractor against gold records (see the module docstring for the rule).

    Args:
        records: Gold records (:func:`read_gold`).
        extract: The extractor to score (the production path by default).
        errors: Also list every miss, spurious event and actor mismatch in ``Report.errors``.
    """
    run = extract or default_extract()

    def predicted(rec: dict[str, object]) -> list[Item]:
        article = _article(rec)
        return to_items(((e.type.value, e.trigger_span.start, e.trigger_span.end,
                          e.source.code if e.source else None,
                          e.target.code if e.target else None, e.confidence) for e in run(article)),
                        article.text)

    return _score(records, predicted, errors)


def _article(rec: dict[str, object]) -> RawArticle:
    published = rec.get("published_at")
    return RawArticle(
        id=str(rec.get("article_id") or "gold"), text=str(rec["text"]),
        source=rec.get("source") if isinstance(rec.get("source"), str) else None,
        published_at=datetime.fromisoformat(published) if isinstance(published, str) else None,
    )


#: Why a gold event was missed, as :func:`miss_causes` counts it.
MISS_CAUSES = ("no trigger word", "filtered or merged", "other type only")


def miss_causes(records: list[dict[str, object]], report: Report | None = None) -> Counter[str]:
    """The extractor's missed gold events (type match), counted by cause, and ``"found"``.

    The cause is read off the lexicon's view of the gold trigger's words: no trigger entry
    covers them (``"no trigger word"``: vocabulary); an entry of the gold type does, but no
    event came of it (``"filtered or merged"``: a sense filter, a ``needs`` cue, a clause rule,
    or merged with a neighbour of its type); only other types' entries do (``"other type
    only"``). Counts only, no sentence: safe to run on a held-out set.

    Args:
        records: Gold records.
        report: Their :func:`evaluate` report made with ``errors=True`` (made here when not given):
            its misses are classified, so the extractor does not run twice.
    """
    from khabar.events.lexicon import TriggerEntry, get_lexicon
    from khabar.pipeline import prepare_doc

    report = report if report is not None else evaluate(records, errors=True)
    missed: dict[str, list[Miss]] = {}
    for m in report.errors:
        if m.kind == "missed":
            missed.setdefault(m.article_id, []).append(m)
    lexicon = get_lexicon()
    out: Counter[str] = Counter({"found": report.overall.tp})
    for rec in records:
        article = _article(rec)
        if article.id not in missed:
            continue
        doc = prepare_doc(article)
        covering = [(doc.tokens[first].start, doc.tokens[first + n - 1].end,
                     {h.entry.type.value for h in hits if isinstance(h.entry, TriggerEntry)})
                    for first, n, hits, has_trigger in lexicon.scan(doc.norms) if has_trigger]
        for m in missed[article.id]:
            assert m.span is not None
            start, end = m.span
            types = set().union(*(ts for s, e, ts in covering if s < end and start < e))
            out[MISS_CAUSES[0] if not types else MISS_CAUSES[1] if m.type in types else MISS_CAUSES[2]] += 1
    return out


def format_causes(causes: Counter[str]) -> str:
    """One line: the missed gold events by cause, with their share of all gold events."""
    total = sum(causes.values()) or 1
    parts = [f"{c} {causes[c]} ({causes[c] / total:.0%})" for c in MISS_CAUSES]
    return f"missed gold events by cause: {', '.join(parts)}; found {causes['found']} of {sum(causes.values())}"


def agreement(records: list[dict[str, object]], other: list[dict[str, object]],
              errors: bool = False) -> Report:
    """Score a second annotation of the same texts against the gold, as if it were the
    extractor: its F1 is the inter-annotator agreement, the ceiling an extractor can be
    expected to reach on what the two annotators share.

    Only the articles both files hold are scored.

    Raises:
        GoldFormatError: An article's text differs between the two files.
    """
    by_id = {str(rec["article_id"]): rec for rec in other}
    shared = [rec for rec in records if str(rec["article_id"]) in by_id]
    for rec in shared:
        if by_id[str(rec["article_id"])]["text"] != rec["text"]:
            raise GoldFormatError(f"{rec['article_id']}: the two annotations have different texts")
    return _score(shared, lambda rec: _gold_items(by_id[str(rec["article_id"])]), errors)


def _gold_items(rec: dict[str, object]) -> list[Item]:
    events = rec["events"]
    assert isinstance(events, list)
    return to_items(((g["type"], int(g["trigger_start"]), int(g["trigger_end"]),
                      g.get("source"), g.get("target")) for g in events), str(rec["text"]))


def _score(records: list[dict[str, object]], predicted: Callable[[dict[str, object]], list[Item]],
           errors: bool) -> Report:
    """Match each record's gold events with what ``predicted`` gives for it."""
    report = Report()
    types = [t.value for t in PloverType]
    for t in types:
        report.by_type[t] = Score()
        report.by_type_actors[t] = Score()
    for rec in records:
        gold = _gold_items(rec)
        pred = predicted(rec)
        report.articles += 1
        for t in types:
            g_t = [g for g in gold if g.type == t]
            p_t = [p for p in pred if p.type == t]
            matched = {pi for _gi, pi in match_pairs(g_t, p_t, actors=False)}
            report.confidence.extend((p.confidence, pi in matched) for pi, p in enumerate(p_t)
                                     if p.confidence is not None)
            for scores, actors in ((report.by_type, False), (report.by_type_actors, True)):
                s = scores[t]
                s.tp += len(matched) if not actors else match(g_t, p_t, actors)
                s.predicted += len(p_t)
                s.gold += len(g_t)
            if errors:
                report.errors.extend(_errors(str(rec.get("article_id") or "gold"), str(rec["text"]), g_t, p_t))
    for src, dst in ((report.by_type, report.overall), (report.by_type_actors, report.overall_actors)):
        for s in src.values():
            dst.tp += s.tp
            dst.predicted += s.predicted
            dst.gold += s.gold
    return report


def _errors(article_id: str, text: str, gold: list[Item], pred: list[Item]) -> list[Miss]:
    """The misses, spurious events and actor mismatches among one type's items of an article."""
    spans = split_sentences(text)

    def miss(kind: str, item: Item, gold_actors: Item | None, pred_actors: Item | None) -> Miss:
        s, e = spans[item.sentence] if 0 <= item.sentence < len(spans) else (item.start, item.end)
        return Miss(article_id, kind, item.type, text[item.start:item.end], text[s:e],
                    (gold_actors.source, gold_actors.target) if gold_actors else None,
                    (pred_actors.source, pred_actors.target) if pred_actors else None,
                    (item.start, item.end))

    pairs = match_pairs(gold, pred, actors=False)
    matched_g = {gi for gi, _ in pairs}
    matched_p = {pi for _, pi in pairs}
    out = [miss("missed", g, g, None) for gi, g in enumerate(gold) if gi not in matched_g]
    out += [miss("spurious", p, None, p) for pi, p in enumerate(pred) if pi not in matched_p]
    for gi, pi in pairs:
        g, p = gold[gi], pred[pi]
        if root(g.source) != root(p.source) or root(g.target) != root(p.target):
            out.append(miss("actors", g, g, p))
    return out


#: Upper edges of the confidence bins of :func:`calibration` (the extractor keeps events of
#: confidence 0.3 and up by default).
CONFIDENCE_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True, slots=True)
class ConfidenceBin:
    """Predicted events whose confidence is in ``[low, high)`` (the last bin includes 1.0)."""

    low: float
    high: float
    events: int
    correct: int
    mean_confidence: float

    @property
    def precision(self) -> float:
        return self.correct / self.events if self.events else 0.0


def calibration(points: Sequence[tuple[float, bool]],
                edges: Sequence[float] = CONFIDENCE_EDGES) -> tuple[list[ConfidenceBin], float]:
    """How well the extractor's confidence predicts that an event is right (its type matches a
    gold event): the bins, and the expected calibration error (the events' weighted mean of
    ``|precision - mean confidence|`` over the bins; 0 is perfect).

    Args:
        points: ``(confidence, correct)`` of each predicted event (``Report.confidence``).
        edges: Upper bin edges, ascending; the first bin starts at 0.
    """
    bins: list[ConfidenceBin] = []
    low = 0.0
    for i, high in enumerate(edges):
        last = i == len(edges) - 1
        inside = [(c, ok) for c, ok in points if low <= c and (c < high or (last and c <= high))]
        mean = sum(c for c, _ in inside) / len(inside) if inside else 0.0
        bins.append(ConfidenceBin(low, high, len(inside), sum(ok for _, ok in inside), mean))
        low = high
    total = sum(b.events for b in bins)
    ece = sum(b.events * abs(b.precision - b.mean_confidence) for b in bins) / total if total else 0.0
    return bins, ece


def format_calibration(points: Sequence[tuple[float, bool]]) -> str:
    """A plain-text table of :func:`calibration`."""
    bins, ece = calibration(points)
    lines = [f"confidence of predicted events (correct = its type matches a gold event); "
             f"expected calibration error {ece:.3f}",
             f"{'confidence':<12} {'events':>6} {'mean':>6} {'P':>6}"]
    lines += [f"{b.low:.1f}-{b.high:.1f}{'':<5} {b.events:>6} {b.mean_confidence:>6.3f} {b.precision:>6.3f}"
              for b in bins if b.events]
    return "\n".join(lines)


def format_report(report: Report) -> str:
    """A plain-text table of the report."""
    lines = [f"articles: {report.articles}",
             f"{'type':<10} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F1':>6}"
             f"   {'P+act':>6} {'R+act':>6} {'F1+act':>6}"]
    rows = [*report.by_type.items(), ("OVERALL", report.overall)]
    for name, s in rows:
        a = report.overall_actors if name == "OVERALL" else report.by_type_actors[name]
        if name != "OVERALL" and not s.gold and not s.predicted:
            continue
        lines.append(f"{name:<10} {s.gold:>5} {s.predicted:>5} {s.precision:>6.3f} {s.recall:>6.3f}"
                     f" {s.f1:>6.3f}   {a.precision:>6.3f} {a.recall:>6.3f} {a.f1:>6.3f}")
    return "\n".join(lines)


def main(gold: Path, split: str | None = None, errors: bool = False, against: Path | None = None,
         causes: bool = False, confidence: bool = False) -> int:
    """Print precision, recall and F1 per type and overall; return a process exit code.

    Args:
        gold: The gold JSON Lines file.
        split: ``"dev"``, ``"test"`` or None for all records.
        errors: Also print every missed and spurious event and every actor mismatch, one a
            line (for error analysis: never on a held-out set you tune against).
        against: A second annotation of (some of) the same texts, scored instead of the
            extractor: inter-annotator agreement (:func:`agreement`).
        causes: Also print the extractor's misses counted by cause (:func:`miss_causes`).
        confidence: Also print the precision of the predicted events by confidence
            (:func:`calibration`; counts only, safe on held-out sets).

    Returns:
        0 on success, 2 when a gold file is unusable.
    """
    try:
        records = read_gold(gold, split)
        other = read_gold(against) if against is not None else None
        print(f"gold: {gold}  split: {split or 'all'}" + (f"  against: {against}" if against else ""))
        report = (evaluate(records, errors=errors or causes) if other is None
                  else agreement(records, other, errors=errors))
    except GoldFormatError as exc:
        print(f"error: {exc}")
        return 2
    print(format_report(report))
    if causes and against is None:
        print(format_causes(miss_causes(records, report)))
    if confidence and against is None:
        print(format_calibration(report.confidence))
    if errors:
        print(f"\nerrors ({len(report.errors)}): article, kind, type, trigger, actors, sentence")
        for m in report.errors:
            print(m.line())
    return 0


if __name__ == "__main__":  # pragma: no cover - manual runs
    import sys

    sys.exit(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
