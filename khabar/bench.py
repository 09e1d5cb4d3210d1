"""CPU time per article of each stage, in process, on real articles (``khabar bench``).

Each stage is timed per article with ``time.process_time`` (CPU, not wall clock,
so a busy machine inflates it less). The median and tails over the sample are
reported next to the stage's target, and ``total`` is the median over articles
of the sum of every stage for that article (not the sum of the medians). The
machine is noisy: compare ratios from one run (stage / normalization pass,
measured / target), not absolute times across runs.

The broker half of the benchmark (ceilings, end to end, latency, worker memory)
lives in :mod:`streams.bench`; this module needs no broker.
"""

from __future__ import annotations

import gc
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from khabar.config import Settings
from khabar.corpus import DEFAULT_CORPUS, iter_corpus, iter_sources
from khabar.text.normalize import Doc
from schemas.models import Event, Language, RawArticle

#: Every stage timed in process, in pipeline order.
STAGES = ("normalize", "dedup", "language", "events", "serialize")

#: Stage → target CPU milliseconds per median article (issue 9); ``total`` is all stages together.
TARGETS_MS: dict[str, float] = {"normalize": 0.3, "dedup": 0.25, "language": 0.2, "events": 0.25, "total": 1.0}

# starts only at a word start: without the look-behind a long last word is quadratic
_WORD_GAP = re.compile(r"(?<!\S)(\S+\s+)")


@dataclass
class StageResult:
    """CPU milliseconds per article of one stage."""

    stage: str
    median_ms: float
    #: What a saturated worker's rate depends on: long articles pull it well above the median.
    mean_ms: float
    p90_ms: float
    p99_ms: float
    target_ms: float | None

    @property
    def ratio(self) -> float | None:
        """Median over target (≤ 1 meets the target)."""
        return self.median_ms / self.target_ms if self.target_ms else None


@dataclass
class StageReport:
    """What :func:`measure_stages` found."""

    articles: int
    results: list[StageResult]
    #: ``total`` (the per-article sum of all stages) when every stage was measured.
    total: StageResult | None = None
    dedup_entries: int = 0
    dedup_bytes: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def by_stage(self) -> dict[str, StageResult]:
        return {r.stage: r for r in self.results}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` by nearest rank; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarize(stage: str, times_ms: Sequence[float]) -> StageResult:
    """Median, mean, p90 and p99 of per-article times, with the stage's target."""
    return StageResult(stage, statistics.median(times_ms), statistics.fmean(times_ms), percentile(times_ms, 0.9),
                       percentile(times_ms, 0.99), TARGETS_MS.get(stage))


def _time_each(items: Sequence[RawArticle], fn: Callable[[RawArticle], object]) -> list[float]:
    out = []
    clock = time.process_time
    gc.disable()  # collection pauses belong to no single article
    try:
        for item in items:
            t0 = clock()
            fn(item)
            out.append((clock() - t0) * 1000)
    finally:
        gc.enable()
    return out


def replicate_with_edits(articles: Sequence[RawArticle], n: int) -> list[RawArticle]:
    """``n`` distinct articles from a few: copy ``r`` of each gets id ``<id>~<r>`` and the
    number ``r`` inserted after every fourth word.

    The inserted numbers change every word 5-gram, so dedup sees new stories (the
    articles go through enrichment, as most real news does) while the words,
    language and events of the text stay those of the original.

    Raises:
        ValueError: ``articles`` is empty.
    """
    if not articles:
        raise ValueError("nothing to replicate")
    out: list[RawArticle] = []
    r = 0
    while len(out) < n:
        for a in articles:
            if len(out) >= n:
                break
            if r == 0:
                out.append(a)
                continue
            parts = _WORD_GAP.split(a.text)
            words = [p for p in parts if p]
            text = "".join(w + (f"{r} " if i % 4 == 3 else "") for i, w in enumerate(words))
            out.append(a.model_copy(update={"id": f"{a.id}~{r}", "text": text,
                                            "url": f"{a.url}?r={r}" if a.url else None}))
        r += 1
    return out


def load_articles(corpus: Path | None, limit: int, seeds: Path) -> tuple[list[RawArticle], str]:
    """The benchmark's articles (empty texts left out) and a label of where they came from.

    Args:
        corpus: SaudiNewsNet folder of zips, JSON Lines, or seeds; ``None`` uses the shared
            SaudiNewsNet copy, else ``seeds`` replicated with small edits.
        limit: How many articles.
        seeds: The seed directory of the fallback.

    Raises:
        ReplaySourceError: ``corpus`` cannot be read.
    """
    def nonempty(items: Iterable[RawArticle]) -> list[RawArticle]:
        return list(islice((a for a in items if a.text.strip()), limit))

    if corpus is not None:
        return nonempty(iter_sources([corpus])), str(corpus)
    if any(DEFAULT_CORPUS.glob("*.zip")):
        return nonempty(iter_corpus(DEFAULT_CORPUS)), f"SaudiNewsNet ({DEFAULT_CORPUS})"
    return replicate_with_edits(list(iter_sources([seeds])), limit), f"{seeds} replicated with small edits"


def _language_footprint() -> dict[str, float]:
    """Ready time and resident-memory growth of the language detector, in a fresh process."""
    code = (
        "import json,time\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024\n"
        "from khabar.config import LanguageSettings\n"
        "from khabar.text.normalize import make_doc\n"
        "doc=make_doc('هذا نص عربي قصير للتجربة. This is English.')\n"
        "r0=rss(); t0=time.perf_counter()\n"
        "from khabar.language.detect import get_detector\n"
        "d=get_detector(LanguageSettings()); d.load(); d.detect(doc)\n"
        "t1=time.perf_counter(); r1=rss()\n"
        "print(json.dumps({'ready_s':t1-t0,'rss_mb':r1-r0}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure_stages(articles: Sequence[RawArticle], settings: Settings,
                   stages: Sequence[str] = STAGES) -> StageReport:
    """CPU milliseconds per article of each stage in ``stages``, on ``articles``.

    Stages run over the whole sample one after the other, as a worker would run
    them, each on the outputs of the ones before (computed untimed when that
    stage is not asked for). ``serialize`` is what the prepare agent does after
    the components: build the enriched record and JSON-encode it and its events.

    Raises:
        ValueError: An unknown stage, or no articles.
    """
    from khabar.dedup import DedupIndex, Verdict, make_probe
    from khabar.events.extract import get_extractor
    from khabar.language.detect import get_detector
    from khabar.pipeline import ArticleContext, prepare_doc
    from khabar.process import build_enriched

    unknown = set(stages) - set(STAGES)
    if unknown or not articles:
        raise ValueError(f"unknown stages {sorted(unknown)}" if unknown else "no articles to measure")

    def shared_pass(a: RawArticle) -> Doc:
        # the normalization pass every stage shares: tokens, boilerplate, sentences, folded text
        doc = prepare_doc(a)
        _ = doc.sentences, doc.folded
        return doc

    docs = {a.id: shared_pass(a) for a in articles}  # also warms the word cache
    times: dict[str, list[float]] = {}
    report = StageReport(len(articles), [])
    if "normalize" in stages:
        # steady state: a worker's word cache is warm after its first few hundred articles
        times["normalize"] = _time_each(articles, shared_pass)
    hashes: dict[str, str] = {}
    if "dedup" in stages or "serialize" in stages:
        index = DedupIndex(settings.dedup)

        def dedup(a: RawArticle) -> None:
            probe = make_probe(a, docs[a.id], settings.dedup)
            index.decide(probe)
            hashes[a.id] = probe.content_hash

        dedup_times = _time_each(articles, dedup)
        if "dedup" in stages:
            times["dedup"] = dedup_times
            report.dedup_entries, report.dedup_bytes = len(index), index.nbytes()
    languages: dict[str, Language] = {}
    if "language" in stages or "serialize" in stages:
        detector = get_detector(settings.language)

        def language(a: RawArticle) -> None:
            languages[a.id] = detector.detect(docs[a.id], hint=a.language_hint)

        language_times = _time_each(articles, language)
        if "language" in stages:
            times["language"] = language_times
            fp = _language_footprint()
            report.extra |= {"language_ready_s": fp["ready_s"], "language_rss_mb": fp["rss_mb"]}
    events: dict[str, list[Event]] = {}
    if "events" in stages or "serialize" in stages:
        extractor = get_extractor(settings.events)

        def extract(a: RawArticle) -> None:
            events[a.id] = extractor.extract(docs[a.id], a)

        events_times = _time_each(articles, extract)
        if "events" in stages:
            times["events"] = events_times
    if "serialize" in stages:
        def serialize(a: RawArticle) -> None:
            ctx = ArticleContext(article=a, doc=docs[a.id], language=languages[a.id], events=events[a.id],
                                 stages=["language", "events"])
            record = build_enriched(ctx, Verdict("unique", None, 1.0, a.id), hashes[a.id])
            for ev in record.events:
                ev.model_dump_json().encode()
            record.model_dump_json().encode()

        times["serialize"] = _time_each(articles, serialize)
    report.results = [summarize(s, times[s]) for s in STAGES if s in times]
    if all(s in times for s in STAGES):
        report.total = summarize("total", [sum(per) for per in zip(*(times[s] for s in STAGES), strict=True)])
    return report


def stage_table(report: StageReport, source: str) -> Table:
    """The stage table ``khabar bench`` prints."""
    table = Table(title=f"CPU ms per article, in process, {report.articles} articles of {source}")
    for col in ("stage", "median ms", "mean ms", "p90 ms", "p99 ms", "target ms", "median / target"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    rows = [*report.results, *([report.total] if report.total else [])]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        table.add_row(r.stage, f"{r.median_ms:.3f}", f"{r.mean_ms:.3f}", f"{r.p90_ms:.3f}", f"{r.p99_ms:.3f}",
                      f"{r.target_ms}" if r.target_ms else "", ratio)
    return table


def stage_notes(report: StageReport) -> list[str]:
    """One line each for the dedup state and the language detector's footprint."""
    lines = []
    if report.dedup_entries:
        lines.append(f"dedup state: {report.dedup_bytes / report.dedup_entries:.0f} bytes per article "
                     f"({report.dedup_entries} articles, {report.dedup_bytes / 1e6:.1f} MB)")
    if "language_ready_s" in report.extra:
        lines.append(f"language detector: ready in {report.extra['language_ready_s']:.2f} s (target 3), "
                     f"resident memory +{report.extra['language_rss_mb']:.0f} MB (target 150)")
    return lines


def run_bench(what: str = "all", limit: int = 3000, console: Console | None = None,
              corpus: Path | None = None, seeds: Path | None = None) -> int:
    """Measure the in-process stages (all, or one) and print the table. Returns 0.

    Figures are reported, not asserted.
    """
    console = console or Console()
    seeds = seeds or Path(__file__).resolve().parents[1] / "seeds"
    articles, source = load_articles(corpus, limit, seeds)
    report = measure_stages(articles, Settings(), STAGES if what == "all" else [what])
    console.print(stage_table(report, source))
    for line in stage_notes(report):
        console.print(line)
    return 0
