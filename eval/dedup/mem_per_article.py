"""Bytes of dedup state per article: ``DedupIndex.nbytes()`` and tracemalloc.

Usage: ``.venv/bin/python eval/dedup/mem_per_article.py N [setting=value ...]``
(first N corpus articles; probes are encoded first, then decided from their bytes
under tracemalloc, so only what the index keeps is counted).
"""

import gc
import sys
import tracemalloc

from khabar.config import DedupSettings
from khabar.corpus import iter_corpus
from khabar.dedup import DedupIndex, Probe, make_probe
from khabar.pipeline import prepare_doc


def main() -> None:
    n_articles = int(sys.argv[1])
    overrides = dict(arg.split("=", 1) for arg in sys.argv[2:])
    settings = DedupSettings.model_validate(overrides)
    probes = [make_probe(a, prepare_doc(a), settings).to_bytes()
              for a in iter_corpus(limit=n_articles)]
    gc.collect()
    tracemalloc.start()
    index = DedupIndex(settings)
    before = tracemalloc.get_traced_memory()[0]
    for raw in probes:
        index.decide(Probe.from_bytes(raw))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n = len(index)
    print(f"articles {n}  nbytes/article {index.nbytes() / n:.0f}  "
          f"tracemalloc/article {(after - before) / n:.0f}")


if __name__ == "__main__":
    main()
