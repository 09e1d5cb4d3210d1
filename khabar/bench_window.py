"""Simulated dedup window: the sequencer's memory with a full retention window.

A full window is ``retention_days`` x articles per day (7 x 100,000 = 700,000 by
default). There are not that many distinct articles in the corpus, and pushing
700,000 texts through the normalization pass would take a quarter of an hour, so
the window is built from the real probes of the corpus articles:
copy ``v`` of an article gets the id ``<id>#w<v>``, and its content hash, URL key,
shingles and sketch words are passed through a bijection salted with ``v`` (a
deterministic edit of every fingerprint). Each copy therefore has the sizes of a
real article (shingle count, tokens, URL, sketch) but content no other copy
shares, so the index stores it as a new story, as it does most real news. Its
MinHash signature is recomputed from the edited shingles, and timestamps are
spread evenly over the window so nothing expires.

Run as ``python -m khabar.bench_window`` (a fresh process, so its resident
memory is the index's plus the loaded models', as in a worker); it prints one
JSON object. ``--blob-dir DIR`` keeps the index's entry blobs (records, shingle
sets) in RocksDB under ``DIR``, as a worker with ``KHABAR_STORE=rocksdb://`` does.

``python -m khabar.bench_window --startup`` measures the other half of a worker's
memory instead: the resident size after each step of what a worker builds before
it connects (:func:`streams.worker.prepare_worker`), with no broker and no article.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import xxhash

from khabar.config import DedupSettings, Settings
from khabar.dedup import DedupIndex, Probe, make_probe
from khabar.dedup.minhash import signature
from khabar.memory import cap_mmap_threshold

_DAY = 86_400.0
#: Start of the simulated window (2015-01-01 UTC; only differences matter).
_T0 = 1_420_070_400.0
_ODD32 = np.uint32(0x9E3779B1)


def _salt(v: int) -> int:
    return xxhash.xxh32_intdigest(v.to_bytes(8, "little"))


def _edit32(values: np.ndarray, v: int) -> np.ndarray:
    # xor then multiply by an odd constant: a bijection on uint32, so the set keeps its size
    out = (values ^ np.uint32(_salt(v))) * _ODD32
    out.sort()
    return out


def _edit16(values: np.ndarray, v: int) -> np.ndarray:
    # xor alone keeps ``names`` and ``numbers`` subsets of ``words``, as in a real sketch
    out = values ^ np.uint16(_salt(v) & 0xFFFF)
    out.sort()
    return out


def _edit_hex(value: str, v: int) -> str:
    # a new hex fingerprint of the same length, whatever width the index uses
    digest = xxhash.xxh3_128_hexdigest(f"{value}~{v}".encode())
    while len(digest) < len(value):
        digest += xxhash.xxh3_128_hexdigest(digest.encode())
    return digest[: len(value)]


def window_timestamp(i: int, per_day: int) -> float:
    """Epoch seconds of the ``i``-th article of a window of ``per_day`` articles a day
    (also where articles that follow a window of ``i`` articles start)."""
    return _T0 + i * _DAY / per_day


def window_probes(base: Sequence[Probe], n: int, per_day: int, num_perm: int) -> Iterator[Probe]:
    """``n`` distinct probes from ``base``, ``per_day`` per simulated day (see the module doc).

    Raises:
        ValueError: ``base`` is empty.
    """
    if not base:
        raise ValueError("no base probes")
    for i in range(n):
        b = base[i % len(base)]
        v = i // len(base)
        ts = window_timestamp(i, per_day)
        if v == 0:
            yield dataclasses.replace(b, timestamp=ts)
            continue
        shingles = _edit32(b.shingles, v)
        yield dataclasses.replace(
            b, article_id=f"{b.article_id}#w{v}", content_hash=_edit_hex(b.content_hash, v),
            url_key=_edit_hex(b.url_key, v) if b.url_key is not None else None,
            shingles=shingles, signature=signature(shingles, num_perm), timestamp=ts,
            words=_edit16(b.words, v), names=_edit16(b.names, v), numbers=_edit16(b.numbers, v),
        )


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fill_window(base: Sequence[Probe], settings: DedupSettings, n: int, per_day: int,
                blob_dir: Path | None = None) -> dict[str, float]:
    """Decide ``n`` window probes into a fresh :class:`DedupIndex`; its size and the RSS growth.

    Args:
        base: Probes of real articles the window's probes are derived from.
        settings: Dedup settings of the index.
        n: Articles in the window.
        per_day: Articles per simulated day (spreads the timestamps).
        blob_dir: Keep the entry blobs in RocksDB under this directory (None: in RAM).
    """
    index = DedupIndex(settings, blob_dir=blob_dir)
    gc.collect()
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    gc.disable()  # millions of long-lived objects: collections would only walk them again
    kinds: dict[str, int] = {}
    try:
        for probe in window_probes(base, n, per_day, settings.num_perm):
            verdict, _ = index.decide(probe)
            kinds[verdict.kind] = kinds.get(verdict.kind, 0) + 1
    finally:
        gc.enable()
    seconds = time.perf_counter() - t0
    gc.collect()
    parts = index.nbytes_by_part()
    nbytes = sum(parts.values())
    rss1 = _rss_mb()
    per_part = {f"bytes_per_article_{k}": v / max(1, len(index)) for k, v in parts.items()}
    index.close()
    return {
        "entries": len(index), "nbytes": nbytes, "bytes_per_article": nbytes / max(1, len(index)),
        **per_part,
        "rss_before_mb": rss0, "rss_mb": rss1, "rss_growth_mb": rss1 - rss0,
        "rss_growth_bytes_per_article": (rss1 - rss0) * 2**20 / max(1, len(index)),
        "fill_seconds": seconds, "unique": kinds.get("unique", 0),
    }


def startup_rss(settings: Settings) -> dict[str, float]:
    """Resident MB after each start-up step of a worker (:func:`streams.worker.prepare_worker`).

    Builds the app, loads the models, freezes the collector and constructs the Faust
    worker, without connecting: ``settings.broker_url`` only has to parse. Call it in a
    fresh process, before anything else is loaded.
    """
    import resource

    out = {"python_mb": _rss_mb()}
    import streams.app  # what a worker imports before building anything
    import streams.cli
    import streams.worker

    out["imports_mb"] = _rss_mb()
    _kapp, _worker = streams.worker.prepare_worker(settings)
    out["ready_mb"] = _rss_mb()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["built_mb"] = out["ready_mb"] - out["imports_mb"]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Load the models as a worker does, build the base probes, fill the window, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--startup", action="store_true",
                    help="only measure a worker's start-up memory (no window)")
    ap.add_argument("--blob-dir", type=Path, default=None,
                    help="keep entry blobs in RocksDB under this directory (KHABAR_STORE=rocksdb://)")
    ap.add_argument("--window-articles", type=int, default=700_000)
    ap.add_argument("--per-day", type=int, default=100_000)
    ap.add_argument("--limit", type=int, default=3000, help="corpus articles the window is built from")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--seeds", type=Path, default=Path(__file__).resolve().parents[1] / "seeds")
    args = ap.parse_args(argv)
    if not args.startup:
        cap_mmap_threshold()  # as a worker does (streams.worker.prepare_worker)
    if args.startup:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="khabar-startup-") as tmp:
            # no connection is made before the worker starts: any broker address will do
            startup = Settings(broker_url=Settings().broker_url or "kafka://127.0.0.1:9",
                               data_dir=Path(tmp))
            print(json.dumps(startup_rss(startup)), flush=True)
        return
    from khabar.bench import load_articles
    from khabar.pipeline import Pipeline, prepare_doc

    settings = Settings()
    Pipeline(settings).warm()  # a worker holds the language and events models next to the index
    articles, source = load_articles(args.corpus, args.limit, args.seeds)
    base = [make_probe(a, prepare_doc(a), settings.dedup) for a in articles]
    out: dict[str, object] = dict(fill_window(base, settings.dedup, args.window_articles, args.per_day,
                                              blob_dir=args.blob_dir))
    out |= {"base_articles": len(base), "source": source, "per_day": args.per_day,
            "days": args.window_articles / args.per_day,
            "blobs": "rocksdb" if args.blob_dir is not None else "memory"}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
