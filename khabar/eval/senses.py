"""Labeled contexts for the sense models (:mod:`khabar.events.senses`): sampling, training,
cross-validation.

The three steps of ``khabar senses``:

1. ``sample``: run the extractor over a corpus with a judge that records every question it
   is asked (which sense-classified word, in which sentence) and answers "no", then draw a
   random sample per family, at most one context per article. The sample is what a person
   labels, ``EVENT`` or ``NONE``, under ``eval/events/GUIDELINES.md``.
2. ``train``: recompute each labeled context's features by running the extractor over the
   sentence (so training sees exactly the features the extractor computes), fit one
   L2-regularized logistic regression per family (scikit-learn, needed only here), choose
   the threshold that maximizes F1 on cross-validated probabilities at a precision of at
   least ``min_precision``, and
   write the weights to ``senses.json``.
3. ``check``: cross-validated precision, recall and F1 per family, and the sampled positive
   rate.

Label record (JSON Lines): ``family``, ``type`` (the entry's PLOVER type), ``article_id``,
``text`` (the sentence), ``start``/``end`` (the trigger word's characters in ``text``),
``trigger``, ``label`` (``EVENT``, ``NONE``, or ``null`` before labeling) and an optional
``note``.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from khabar.errors import KhabarError
from khabar.events.mentions import Mention
from khabar.events.senses import FEATURES_VERSION, SenseModel, parse_models
from khabar.text.normalize import Doc
from schemas.models import RawArticle

#: Label values.
EVENT, NONE = "EVENT", "NONE"


class SenseLabelsError(KhabarError):
    """A label file is unreadable or a record lacks a field; or a family has too few labels."""


@dataclass(slots=True)
class Asked:
    """One question the extractor put to the sense judge."""

    family: str
    type: str
    features: list[str]
    sentence_start: int
    text: str  # the sentence
    start: int  # the trigger's characters in ``text``
    end: int


@dataclass
class Recorder:
    """A sense judge that records every question and answers ``answer``."""

    answer: bool = False
    asked: list[Asked] = field(default_factory=list)

    def __call__(self, family: str, features: list[str], m: Mention, doc: Doc | None) -> bool:
        if doc is not None:
            tokens = doc.tokens
            a, b = tokens[m.start].start, tokens[m.end - 1].end
            sent = next((s for s in doc.sentences if s.start <= a < s.end), None)
            s0, text = (sent.start, sent.text) if sent is not None else (0, doc.text)
            self.asked.append(Asked(family, m.hit.entry.type.value, features, s0, text, a - s0, b - s0))
        return self.answer


def _extractor(recorder: Recorder) -> Any:
    from khabar.config import EventSettings
    from khabar.events.extract import EventExtractor

    return EventExtractor(EventSettings(), senses=recorder)


def asked_in(articles: Iterable[RawArticle]) -> Iterator[tuple[RawArticle, list[Asked]]]:
    """Each article with the sense questions the extractor asks about it."""
    from khabar.pipeline import prepare_doc

    recorder = Recorder()
    extractor = _extractor(recorder)
    for article in articles:
        recorder.asked = []
        extractor.extract(prepare_doc(article), article)
        # one question per trigger occurrence (a form with two entries of one family asks twice)
        seen: set[tuple[str, int, int]] = set()
        unique = []
        for q in recorder.asked:
            key = (q.family, q.sentence_start + q.start, q.sentence_start + q.end)
            if key not in seen:
                seen.add(key)
                unique.append(q)
        yield article, unique


def sample(articles: Iterable[RawArticle], per_family: int, seed: int = 13,
           exclude_ids: set[str] | frozenset[str] = frozenset(),
           exclude_texts: Sequence[str] = (), families: set[str] | None = None,
           ) -> list[dict[str, Any]]:
    """A random sample of sense questions, ``per_family`` of each family, one per article.

    Args:
        articles: The corpus.
        per_family: Contexts to draw per family (fewer when the corpus has fewer).
        seed: The random seed (the sample is reproducible).
        exclude_ids: Article ids to skip (the gold sets' articles).
        exclude_texts: Texts whose sentences must not be drawn (held-out gold texts:
            a copy of their sentence in another article is skipped too).
        families: Only these families (default: every family asked about).
    """
    rng = random.Random(seed)
    pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article, asked in asked_in(a for a in articles if a.id not in exclude_ids):
        by_family: dict[str, list[Asked]] = defaultdict(list)
        for q in asked:
            if families is None or q.family in families:
                by_family[q.family].append(q)
        for family, qs in by_family.items():
            q = rng.choice(qs)
            if any(q.text.strip() in t for t in exclude_texts):
                continue
            pool[family].append({"family": family, "type": q.type, "article_id": article.id,
                                 "text": q.text, "start": q.start, "end": q.end,
                                 "trigger": q.text[q.start:q.end], "label": None})
    out = []
    for family in sorted(pool):
        found = pool[family]
        out.extend(rng.sample(found, min(per_family, len(found))))
    return out


def gold_contexts(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Labeled contexts from gold event records (development sets only): every sense question
    in a gold text, ``EVENT`` when a gold event of the entry's type has its trigger on the
    word, else ``NONE`` (a gold set annotates every event of its texts)."""
    from khabar.eval.events import _article

    recs = list(records)
    out = []
    for rec, (_, asked) in zip(recs, asked_in(_article(r) for r in recs), strict=True):
        for q in asked:
            a, b = q.sentence_start + q.start, q.sentence_start + q.end
            hit = any(ev["type"] == q.type and ev["trigger_start"] < b and a < ev["trigger_end"]
                      for ev in rec["events"])
            out.append({"family": q.family, "type": q.type, "article_id": str(rec.get("article_id")),
                        "text": q.text, "start": q.start, "end": q.end,
                        "trigger": q.text[q.start:q.end], "label": EVENT if hit else NONE,
                        "note": "from a gold set"})
    return out


def read_labels(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Labeled records of JSON Lines files (unlabeled ones, ``label`` null, are left out).

    Raises:
        SenseLabelsError: an unreadable file, a record without the required fields, or a
            label other than ``EVENT``/``NONE``.
    """
    out = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SenseLabelsError(f"cannot read {path}: {exc}") from exc
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                missing = {"family", "text", "start", "end", "label"} - set(rec)
            except (ValueError, TypeError) as exc:
                raise SenseLabelsError(f"{path}:{lineno}: {exc}") from exc
            if missing:
                raise SenseLabelsError(f"{path}:{lineno}: missing {sorted(missing)}")
            if rec["label"] is None:
                continue
            if rec["label"] not in (EVENT, NONE):
                raise SenseLabelsError(f"{path}:{lineno}: label {rec['label']!r} is not EVENT or NONE")
            out.append(rec)
    return out


def features_of(records: Sequence[dict[str, Any]]) -> list[list[str] | None]:
    """Each labeled context's features, as the extractor computes them on its sentence
    (``None`` when the extractor no longer asks about that word there: the lexicon changed)."""
    articles = (RawArticle(id=str(rec.get("article_id") or "label"), text=rec["text"]) for rec in records)
    return [next((q.features for q in asked if q.family == rec["family"] and q.start == rec["start"]),
                 None)
            for rec, (_, asked) in zip(records, asked_in(articles), strict=True)]


@dataclass
class FamilyReport:
    """Cross-validated figures of one family's model."""

    family: str
    n: int
    positives: int
    threshold: float
    precision: float
    recall: float
    f1: float
    skipped: int = 0

    def line(self) -> str:
        return (f"{self.family:<10} {self.n:>5} {self.positives:>5} {self.positives / max(self.n, 1):>6.2f}"
                f" {self.threshold:>6.2f} {self.precision:>6.3f} {self.recall:>6.3f} {self.f1:>6.3f}"
                + (f"   ({self.skipped} no longer asked)" if self.skipped else ""))


HEADER = f"{'family':<10} {'n':>5} {'pos':>5} {'rate':>6} {'thr':>6} {'P':>6} {'R':>6} {'F1':>6}"

#: The fewest labels, and the fewest of each class, a family is trained on.
MIN_LABELS, MIN_CLASS = 30, 5


def _prf(y: Sequence[int], p: Sequence[float], thr: float) -> tuple[float, float, float]:
    tp = sum(1 for yi, pi in zip(y, p, strict=True) if yi and pi >= thr)
    fp = sum(1 for yi, pi in zip(y, p, strict=True) if not yi and pi >= thr)
    fn = sum(1 for yi, pi in zip(y, p, strict=True) if yi and pi < thr)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def train(records: Sequence[dict[str, Any]], c: float = 1.0, folds: int = 5, seed: int = 13,
          min_precision: float = 0.7) -> tuple[dict[str, Any], list[FamilyReport]]:
    """Fit one model per family and measure it by cross-validation.

    The threshold is the one (from 0.15 up, in steps of 0.05) with the best cross-validated
    F1 among those whose precision reaches ``min_precision``; a family none reaches gets no
    model (it never fires) and its report says threshold 1.01.

    Returns:
        The content of ``senses.json`` and one report per family.

    Raises:
        SenseLabelsError: scikit-learn is missing.
    """
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
    except ImportError as exc:  # pragma: no cover - scikit-learn comes with camel-tools
        raise SenseLabelsError("training needs scikit-learn (pip install scikit-learn)") from exc
    feats = features_of(records)
    by_family: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    skipped: Counter[str] = Counter()
    for rec, f in zip(records, feats, strict=True):
        if f is None:
            skipped[rec["family"]] += 1
            continue
        by_family[rec["family"]].append((f, int(rec["label"] == EVENT)))
    families: dict[str, Any] = {}
    reports = []
    for family in sorted(by_family):
        rows = by_family[family]
        y = [label for _, label in rows]
        pos = sum(y)
        if len(rows) < MIN_LABELS or min(pos, len(rows) - pos) < MIN_CLASS:
            reports.append(FamilyReport(family, len(rows), pos, 1.01, 0.0, 0.0, 0.0, skipped[family]))
            continue
        vec = DictVectorizer()
        x = vec.fit_transform([dict(Counter(f)) for f, _ in rows])
        model = LogisticRegression(C=c, max_iter=2000)
        k = min(folds, pos, len(rows) - pos)
        probs = cross_val_predict(model, x, y, cv=StratifiedKFold(k, shuffle=True, random_state=seed),
                                  method="predict_proba")[:, 1]
        best = (1.01, 0.0, 0.0, 0.0)
        for step in range(17):
            thr = round(0.15 + 0.05 * step, 2)
            prec, rec_, f1 = _prf(y, probs, thr)
            if prec >= min_precision and f1 > best[3]:
                best = (thr, prec, rec_, f1)
        reports.append(FamilyReport(family, len(rows), pos, *best, skipped=skipped[family]))
        if best[0] > 1:
            continue  # no threshold is precise enough: the family ships no model, never fires
        model.fit(x, y)
        weights = {name: round(float(w), 4) for name, w in zip(vec.get_feature_names_out(), model.coef_[0],
                                                                strict=True) if abs(w) >= 1e-3}
        families[family] = {"bias": round(float(model.intercept_[0]), 4), "threshold": best[0],
                            "weights": dict(sorted(weights.items())),
                            "trained_on": {"labels": len(rows), "events": pos},
                            "cv": {"precision": round(best[1], 3), "recall": round(best[2], 3),
                                   "f1": round(best[3], 3)}}
    data = {"features_version": FEATURES_VERSION, "regularization_c": c,
            "min_precision": min_precision, "families": families}
    return data, reports


def _gold_exclusions(gold_dir: Path) -> tuple[set[str], list[str]]:
    """Article ids and texts of every gold set in ``gold_dir`` (never sampled)."""
    from khabar.eval.events import read_gold

    ids: set[str] = set()
    texts: list[str] = []
    for path in sorted(gold_dir.glob("gold*.jsonl")):
        for rec in read_gold(path):
            ids.add(str(rec.get("article_id")))
            texts.append(str(rec["text"]))
    return ids, texts


def main_sample(out: Path, corpus: Path | None = None, per_family: int = 220, seed: int = 13,
                gold_dir: Path = Path("eval/events")) -> int:
    """``khabar senses sample``: write an unlabeled sample (see :func:`sample`)."""
    from khabar.corpus import DEFAULT_CORPUS, iter_corpus

    ids, texts = _gold_exclusions(gold_dir)
    rows = sample(iter_corpus(corpus or DEFAULT_CORPUS), per_family, seed, ids, texts)
    # copies of one sentence in several papers would count twice in cross-validation
    seen: set[tuple[str, str]] = set()
    kept = []
    for r in rows:
        key = (r["family"], " ".join(r["text"].split()))
        if key not in seen:
            seen.add(key)
            kept.append(r)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    counts = Counter(r["family"] for r in kept)
    print(f"{len(kept)} contexts to {out}: " + ", ".join(f"{f} {n}" for f, n in sorted(counts.items())))
    return 0


def validate(models: dict[str, SenseModel], records: Sequence[dict[str, Any]]) -> list[FamilyReport]:
    """Precision, recall and F1 of ``models`` at their thresholds on other labeled contexts
    (for example :func:`gold_contexts` of the development gold sets)."""
    by_family: dict[str, list[tuple[float, int]]] = defaultdict(list)
    skipped: Counter[str] = Counter()
    for rec, f in zip(records, features_of(records), strict=True):
        model = models.get(rec["family"])
        if model is None or f is None:
            skipped[rec["family"]] += 1
            continue
        by_family[rec["family"]].append((model.probability(f), int(rec["label"] == EVENT)))
    reports = []
    for family in sorted(by_family):
        probs, y = [p for p, _ in by_family[family]], [label for _, label in by_family[family]]
        thr = models[family].threshold
        reports.append(FamilyReport(family, len(y), sum(y), thr, *_prf(y, probs, thr),
                                    skipped=skipped[family]))
    return reports


def main_train(labels: Sequence[Path], out: Path | None, c: float = 1.0,
               min_precision: float = 0.7, gold: Sequence[Path] = ()) -> int:
    """``khabar senses train`` / ``check``: cross-validated report, and the models' figures on
    the contexts of ``gold`` sets when given; write the models when ``out`` is given."""
    from khabar.eval.events import read_gold

    data, reports = train(read_labels(labels), c=c, min_precision=min_precision)
    print("cross-validated on the labeled contexts (thresholds chosen on the same predictions):")
    print(HEADER)
    for r in reports:
        note = "" if r.family in data["families"] else "   (no model: too few labels or no precise threshold)"
        print(r.line() + note)
    if gold:
        contexts = gold_contexts(rec for path in gold for rec in read_gold(path))
        print(f"on the {len(contexts)} contexts of the gold sets {', '.join(p.name for p in gold)}:")
        print(HEADER)
        for r in validate(parse_models(data), contexts):
            print(r.line())
    if out is not None:
        out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"models of {len(data['families'])} families written to {out}")
    return 0
