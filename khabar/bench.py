"""``khabar bench``: CPU time per article for each stage, on real SaudiNewsNet articles.

Each stage is timed per article with ``time.process_time`` (CPU, not wall clock,
so a busy machine inflates it less), and the median over the sample is
reported next to its target. The machine is noisy: compare ratios from one
run (stage / normalization pass, measured / target), not absolute times across
runs.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from khabar.config import Settings
from khabar.corpus import iter_corpus
from khabar.text.normalize import Doc
from schemas.models import RawArticle

#: Stage → target CPU milliseconds per median article (from the issues).
TARGETS_MS = {"normalize": 0.3, "dedup": 0.25, "language": 0.2, "events": 0.25}


@dataclass
class StageResult:
    stage: str
    median_ms: float
    p90_ms: float
    target_ms: float | None

    @property
    def ratio(self) -> float | None:
        return self.median_ms / self.target_ms if self.target_ms else None


def _time_each(items: list[RawArticle], fn: Callable[[RawArticle], object]) -> list[float]:
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


def _summary(stage: str, times: list[float]) -> StageResult:
    times = sorted(times)
    return StageResult(stage, statistics.median(times), times[int(len(times) * 0.9)], TARGETS_MS.get(stage))


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


def run_bench(what: str = "all", limit: int = 3000, console: Console | None = None) -> int:
    """Run the benchmark and print a table. Returns 0 (figures are reported, not asserted)."""
    from khabar.dedup import DedupIndex, make_probe
    from khabar.events.extract import get_extractor
    from khabar.language.detect import get_detector
    from khabar.pipeline import prepare_doc

    console = console or Console()
    settings = Settings()
    articles = [a for a in iter_corpus(limit=limit) if a.text.strip()]
    def shared_pass(a: RawArticle) -> Doc:
        # the normalization pass every stage shares: tokens, boilerplate, sentences, folded text
        doc = prepare_doc(a)
        _ = doc.sentences, doc.folded
        return doc

    docs = {a.id: shared_pass(a) for a in articles}  # also warms the word cache
    results: list[StageResult] = []
    stages = ["normalize", "dedup", "language", "events"] if what == "all" else [what]
    extra: list[str] = []
    if "normalize" in stages:
        # steady state: a worker's word cache is warm after its first few hundred articles
        results.append(_summary("normalize", _time_each(articles, shared_pass)))
    if "dedup" in stages:
        index = DedupIndex(settings.dedup)
        results.append(_summary("dedup", _time_each(
            articles, lambda a: index.decide(make_probe(a, docs[a.id], settings.dedup)))))
        extra.append(f"dedup state: {index.nbytes() / max(1, len(index)):.0f} bytes per article "
                     f"({len(index)} articles, {index.nbytes() / 1e6:.1f} MB)")
    if "language" in stages:
        detector = get_detector(settings.language)
        results.append(_summary("language", _time_each(articles, lambda a: detector.detect(docs[a.id]))))
        fp = _language_footprint()
        extra.append(f"language detector: ready in {fp['ready_s']:.2f} s (target 3), "
                     f"resident memory +{fp['rss_mb']:.0f} MB (target 150)")
    if "events" in stages:
        extractor = get_extractor(settings.events)
        results.append(_summary("events", _time_each(articles, lambda a: extractor.extract(docs[a.id], a))))

    table = Table(title=f"khabar bench: CPU ms per article, {len(articles)} SaudiNewsNet articles")
    for col in ("stage", "median ms", "p90 ms", "target ms", "median / target"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for r in results:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        table.add_row(r.stage, f"{r.median_ms:.3f}", f"{r.p90_ms:.3f}",
                      f"{r.target_ms}" if r.target_ms else "", ratio)
    console.print(table)
    for line in extra:
        console.print(line)
    return 0
