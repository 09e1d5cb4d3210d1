"""``khabar eval dedup``: dedup verdicts against exact Jaccard ground truth on SaudiNewsNet.

Definitions (``t`` is the near threshold, default ``DedupSettings.threshold`` = 0.7):

* ``J(a, b)``: exact Jaccard of the two articles' word 5-gram shingle sets
  (content tokens after boilerplate removal, 32-bit shingle hashes); two
  articles with identical non-empty normalized text (``Doc.folded``) have J = 1.
  Texts under ``min_tokens`` content tokens have no shingles: only identical
  text relates them (the index never calls them near copies, by design).
* A **true copy** is an article ``a`` with at least one *earlier* article ``b``
  (corpus order = arrival order) such that ``J(a, b) >= t``.
* A **flagged pair** is ``(a, duplicate_of(a))`` for every article whose verdict
  is not ``unique``. It is **correct** when ``J(a, duplicate_of) >= t``.
* **Recall** = true copies flagged (any kind) / true copies.
* **Precision** = correct flagged pairs / flagged pairs, over content verdicts
  (``exact`` and ``near``). ``url`` verdicts say "the same page", not "the same
  text"; they are counted and their Jaccard reported separately.

Ground truth is exact, not sampled: all pairs with ``J >= t`` are found with
prefix filtering (Chaudhuri et al. 2006; Bayardo et al. 2007). Shingles are
ordered by corpus document frequency, rarest first; if ``J(a, b) >= t`` then
``|a ∩ b| >= t·max(|a|,|b|)``, so the first ``|a| - ceil(t·|a|) + 1`` shingles
of ``a`` and the matching prefix of ``b`` must share a shingle. Pairs sharing a
prefix shingle are a provable superset of the true pairs; each is verified by
exact Jaccard.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from khabar.config import DedupSettings
from khabar.corpus import DEFAULT_CORPUS, iter_corpus
from khabar.dedup import DedupIndex, Probe, Verdict, make_probe
from khabar.dedup.minhash import U32, jaccard
from khabar.pipeline import prepare_doc
from schemas.models import RawArticle


@dataclass
class DedupReport:
    """Numbers from one evaluation run (see the module docstring for definitions)."""

    articles: int
    threshold: float
    kinds: dict[str, int]
    true_copies: int
    flagged_true: int
    content_flags: int
    content_correct: int
    url_pairs: list[float]
    stories: int
    probe_ms_median: float
    decide_ms_median: float
    state_bytes: int
    seconds: float
    near_pairs: list[tuple[str, str, float]] = field(default_factory=list)
    missed: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.flagged_true / self.true_copies if self.true_copies else 1.0

    @property
    def precision(self) -> float:
        return self.content_correct / self.content_flags if self.content_flags else 1.0


def true_pairs(shingles: list[U32], threshold: float) -> dict[int, tuple[int, float]]:
    """For each article, its most similar earlier article with ``J >= threshold``.

    Exact all-pairs search by prefix filtering (see module docstring).

    Args:
        shingles: Sorted unique shingle arrays in arrival order (empty = no near matching).
        threshold: Jaccard threshold, > 0.

    Returns:
        ``{later index: (earlier index, J)}`` for every true near copy.
    """
    nonempty = [s for s in shingles if s.size]
    if not nonempty:
        return {}
    values, counts = np.unique(np.concatenate(nonempty), return_counts=True)
    prefix_tok: list[np.ndarray] = []
    prefix_doc: list[np.ndarray] = []
    for i, s in enumerate(shingles):
        if not s.size:
            continue
        df = counts[np.searchsorted(values, s)]
        order = np.lexsort((s, df))  # rarest first, ties by value: one global order
        plen = s.size - math.ceil(threshold * s.size) + 1
        prefix_tok.append(s[order[:plen]])
        prefix_doc.append(np.full(plen, i, dtype=np.int64))
    tok = np.concatenate(prefix_tok)
    doc = np.concatenate(prefix_doc)
    order = np.lexsort((doc, tok))
    tok, doc = tok[order], doc[order]
    bounds = np.flatnonzero(np.diff(tok)) + 1
    candidates: set[tuple[int, int]] = set()
    for group in np.split(doc, bounds):
        if group.size < 2:
            continue
        g = group.tolist()
        for x in range(len(g)):
            for y in range(x + 1, len(g)):
                candidates.add((g[x], g[y]))
    best: dict[int, tuple[int, float]] = {}
    for a, b in candidates:  # a < b: b is the later article
        j = jaccard(shingles[a], shingles[b])
        if j >= threshold and (b not in best or j > best[b][1]):
            best[b] = (a, j)
    return best


def evaluate(articles: list[RawArticle], settings: DedupSettings,
             sample_pairs: int = 0) -> DedupReport:
    """Run the index over ``articles`` in order and compare with exact ground truth.

    Args:
        articles: Articles in arrival order.
        settings: Dedup settings (``threshold`` is also the ground-truth threshold).
        sample_pairs: Keep up to this many flagged near pairs (spread evenly) for reading.
    """
    t0 = time.perf_counter()
    probes: list[Probe] = []
    probe_t: list[float] = []
    for a in articles:
        doc = prepare_doc(a)  # the shared pass: not part of the dedup cost
        c0 = time.process_time()
        probes.append(make_probe(a, doc, settings))
        probe_t.append(time.process_time() - c0)
    index = DedupIndex(settings)
    verdicts: list[Verdict] = []
    decide_t: list[float] = []
    for p in probes:
        c0 = time.process_time()
        verdicts.append(index.decide(p)[0])
        decide_t.append(time.process_time() - c0)
    pos = {p.article_id: i for i, p in enumerate(probes)}

    # Ground truth: identical folded text, or an earlier article with J >= t.
    first_hash: dict[str, int] = {}
    truth: dict[int, tuple[int, float]] = {}
    for i, p in enumerate(probes):
        if p.n_tokens == 0:
            continue
        if p.content_hash in first_hash:
            truth[i] = (first_hash[p.content_hash], 1.0)
        else:
            first_hash[p.content_hash] = i
    for i, pair in true_pairs([p.shingles for p in probes], settings.threshold).items():
        truth.setdefault(i, pair)

    def pair_j(i: int, j: int) -> float:
        if probes[i].n_tokens and probes[i].content_hash == probes[j].content_hash:
            return 1.0
        return jaccard(probes[i].shingles, probes[j].shingles)

    kinds: Counter[str] = Counter(v.kind for v in verdicts)
    flagged_true = sum(1 for i in truth if verdicts[i].kind != "unique")
    content = [(i, v) for i, v in enumerate(verdicts) if v.kind in ("exact", "near")]
    correct = sum(1 for i, v in content
                  if v.duplicate_of is not None
                  and pair_j(i, pos[v.duplicate_of]) >= settings.threshold)
    url_pairs = [pair_j(i, pos[v.duplicate_of]) for i, v in enumerate(verdicts)
                 if v.kind == "url" and v.duplicate_of is not None]
    near = [(probes[i].article_id, v.duplicate_of, v.similarity)
            for i, v in enumerate(verdicts) if v.kind == "near" and v.duplicate_of is not None]
    if sample_pairs and near:
        step = max(1, len(near) // sample_pairs)
        near = near[::step][:sample_pairs]
    missed = [(probes[i].article_id, probes[j].article_id, jv) for i, (j, jv) in truth.items()
              if verdicts[i].kind == "unique"]
    return DedupReport(
        articles=len(articles), threshold=settings.threshold, kinds=dict(kinds),
        true_copies=len(truth), flagged_true=flagged_true,
        content_flags=len(content), content_correct=correct, url_pairs=url_pairs,
        stories=len({v.story_id for v in verdicts}),
        probe_ms_median=float(np.median(probe_t)) * 1e3 if probe_t else 0.0,
        decide_ms_median=float(np.median(decide_t)) * 1e3 if decide_t else 0.0,
        state_bytes=index.nbytes(), seconds=time.perf_counter() - t0,
        near_pairs=near if sample_pairs else [], missed=missed,
    )


def main(corpus: Path | None = None, threshold: float | None = None,
         limit: int | None = None) -> int:
    """CLI entry: evaluate on the whole corpus (or ``limit`` articles) and print the numbers.

    Returns:
        0 when recall >= 0.95 and precision >= 0.98, else 1.
    """
    settings = DedupSettings()
    if threshold is not None:
        settings = DedupSettings(**{**settings.model_dump(), "threshold": threshold,
                                    "story_threshold": min(settings.story_threshold, threshold)})
    articles = list(iter_corpus(corpus or DEFAULT_CORPUS, limit=limit))
    r = evaluate(articles, settings)
    n = max(r.articles, 1)
    print(f"articles            {r.articles}")
    print(f"threshold           {r.threshold}")
    for kind in ("unique", "exact", "url", "near"):
        print(f"verdict {kind:<11} {r.kinds.get(kind, 0):>6}  ({r.kinds.get(kind, 0) / n:.2%})")
    print(f"near-duplicate rate {r.kinds.get('near', 0) / n:.2%}")
    print(f"true copies         {r.true_copies}")
    print(f"recall              {r.recall:.4f}  ({r.flagged_true}/{r.true_copies})")
    print(f"precision           {r.precision:.4f}  ({r.content_correct}/{r.content_flags}, exact+near)")
    if r.url_pairs:
        print(f"url pairs           {len(r.url_pairs)}  Jaccard min {min(r.url_pairs):.2f} "
              f"median {float(np.median(r.url_pairs)):.2f}")
    print(f"stories             {r.stories}")
    print(f"probe ms (median)   {r.probe_ms_median:.3f}  decide ms (median) {r.decide_ms_median:.3f}")
    print(f"state bytes         {r.state_bytes}  ({r.state_bytes / n:.0f} per article)")
    print(f"wall seconds        {r.seconds:.1f}")
    ok = r.recall >= 0.95 and r.precision >= 0.98
    return 0 if ok else 1


def _differing_words(a: RawArticle, b: RawArticle) -> tuple[list[str], list[str]]:
    """Distinct content words only in ``a`` and only in ``b`` (for reading guard decisions)."""
    wa, wb = set(prepare_doc(a).content_norms), set(prepare_doc(b).content_norms)
    return sorted(wa - wb), sorted(wb - wa)


def story_guard_pairs(articles: list[RawArticle], settings: DedupSettings, sample: int = 20,
                      ) -> tuple[int, int, list[dict[str, object]], list[dict[str, object]]]:
    """Run the index with the story guard on and collect its blocked and kept story links.

    A *story link* joins an article to the story of an earlier one with
    ``story_threshold <= J < threshold``; the guard *blocks* a link (the article then
    tries its next candidate) or *keeps* it.

    Returns:
        (blocked links, kept links, evenly spaced sample of blocked, of kept), samples
        as dicts with both ids, J, headlines-as-opening and the words only in each.
    """
    guarded = settings.model_copy(update={"story_guard": True})
    index = DedupIndex(guarded)
    index.guard_log = []
    index.link_log = []
    by_id = {a.id: a for a in articles}
    for a in articles:
        index.decide(make_probe(a, prepare_doc(a), guarded))
    blocked, kept = index.guard_log, index.link_log

    def show(rows: list[tuple[str, str, float]]) -> list[dict[str, object]]:
        step = max(1, len(rows) // sample) if rows else 1
        out: list[dict[str, object]] = []
        for aid, other, sim in rows[::step][:sample]:
            a, b = by_id[aid], by_id[other]
            only_a, only_b = _differing_words(a, b)
            out.append({"article": aid, "other": other, "jaccard": round(sim, 3),
                        "article_opening": a.text[:300], "other_opening": b.text[:300],
                        "only_in_article": only_a[:40], "only_in_other": only_b[:40]})
        return out

    return len(blocked), len(kept), show(blocked), show(kept)


def guard_main(out: Path | None = None, limit: int | None = None) -> int:
    """``python -c "from khabar.eval.dedup import guard_main; guard_main()"``: guard counts.

    Prints how many story links the guard blocks and keeps over the corpus, and
    writes the reading samples (20 + 20) as JSON lines to ``out`` when given.
    """
    import json

    settings = DedupSettings()
    articles = list(iter_corpus(DEFAULT_CORPUS, limit=limit))
    n_blocked, n_kept, blocked, kept = story_guard_pairs(articles, settings)
    print(f"articles            {len(articles)}")
    print(f"story links blocked {n_blocked}")
    print(f"story links kept    {n_kept}  (story_threshold <= J < threshold)")
    if out is not None:
        with out.open("w", encoding="utf-8") as fh:
            for group, rows in (("blocked", blocked), ("kept", kept)):
                for row in rows:
                    fh.write(json.dumps({"group": group, **row}, ensure_ascii=False) + "\n")
    return 0
