"""A simulated full retention window: resident memory of the dedup index at N articles.

Usage::

    .venv/bin/python eval/dedup/sim_week.py [--articles 700000] [--per-day 100000]
        [--blobs DIR] [--probes CACHE.pkl] [setting=value ...]

The corpus (31,030 SaudiNewsNet articles) is fingerprinted once (cached in
``--probes``), then replayed in rounds until ``--articles`` have been decided,
``--per-day`` articles per day of ``published_at``. Every round applies a
deterministic edit so that its articles are distinct from every other round's:
each shingle hash goes through a round-specific bijection of the 32-bit values
(as if every word had been respelled), and the content hash, URL key and id get
the round number. Within a round the corpus's own exact, URL and near copies stay
copies, so each round has the real mix of verdicts, shingle-set sizes and bucket
occupancy. Retention runs as in the sequencer (every 1/100 of the window).

Prints RSS (``VmRSS``) before the index exists and after, peak RSS (``VmHWM``),
``nbytes()`` per article and the verdict counts. ``--blobs DIR`` keeps shingle sets
in a RocksDB file under DIR (``DedupIndex(..., blob_dir=DIR)``), as a worker with
``KHABAR_STORE=rocksdb://`` does.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import pickle
import time
from collections import Counter
from pathlib import Path

import numpy as np
import xxhash

from khabar.config import DedupSettings
from khabar.dedup import DedupIndex, Probe
from khabar.dedup.minhash import signature

_DAY = 86_400.0
_T0 = 1_435_708_800.0  # 2015-07-01: the corpus's own era


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process in MB (``field`` of /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def corpus_probes(cache: Path, settings: DedupSettings) -> list[bytes]:
    """Probe bytes of every corpus article, in corpus order (cached in ``cache``)."""
    if cache.exists():
        out: list[bytes] = pickle.loads(cache.read_bytes())
        return out
    from khabar.corpus import iter_corpus
    from khabar.dedup import make_probe
    from khabar.pipeline import prepare_doc

    out = [make_probe(a, prepare_doc(a), settings).to_bytes() for a in iter_corpus()]
    cache.write_bytes(pickle.dumps(out))
    return out


def _bijection(values: np.ndarray, salt: int) -> np.ndarray:
    """A round-specific permutation of the 32-bit values (xor, odd multiply, xorshift)."""
    x = values.astype(np.uint64)
    x ^= np.uint64(salt & 0xFFFFFFFF)
    x = (x * np.uint64((salt >> 32) | 1)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    out = np.sort(x.astype(np.uint32))
    return out


def edited(p: Probe, rnd: int, ts: float, settings: DedupSettings) -> Probe:
    """The round-``rnd`` variant of probe ``p`` (see the module docstring)."""
    if rnd == 0:
        shingles = p.shingles
        sig = p.signature
    else:
        salt = xxhash.xxh3_64_intdigest(f"round-{rnd}".encode())
        shingles = _bijection(p.shingles, salt)
        sig = signature(shingles, settings.num_perm)
    tag = f"#{rnd}".encode()
    chash = xxhash.xxh3_128_hexdigest(p.content_hash.encode() + tag) if rnd else p.content_hash
    ukey = None if p.url_key is None else (
        xxhash.xxh3_64_hexdigest(p.url_key.encode() + tag) if rnd else p.url_key)
    return Probe(f"{p.article_id}#{rnd}", chash, ukey, shingles, sig, p.n_tokens, ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=700_000)
    ap.add_argument("--per-day", type=int, default=100_000)
    ap.add_argument("--blobs", type=Path, default=None)
    ap.add_argument("--probes", type=Path, default=Path("/tmp/khabar-corpus-probes.pkl"))
    ap.add_argument("settings", nargs="*", help="DedupSettings overrides, name=value")
    args = ap.parse_args()
    settings = DedupSettings.model_validate(dict(a.split("=", 1) for a in args.settings))
    raw = corpus_probes(args.probes, settings)
    base = [Probe.from_bytes(b) for b in raw]
    del raw
    gc.collect()
    before = rss_mb()
    kwargs = {}
    if args.blobs is not None:
        if "blob_dir" not in inspect.signature(DedupIndex).parameters:
            raise SystemExit("this DedupIndex has no blob_dir (on-disk shingle sets)")
        kwargs["blob_dir"] = args.blobs
    index = DedupIndex(settings, **kwargs)
    kinds: Counter[str] = Counter()
    step = settings.retention_days * _DAY / 100
    expired_at = float("-inf")
    expired = 0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for i in range(args.articles):
        rnd, j = divmod(i, len(base))
        ts = _T0 + i / args.per_day * _DAY
        verdict, _entry = index.decide(edited(base[j], rnd, ts, settings))
        kinds[verdict.kind] += 1
        if ts - expired_at >= step:
            expired += len(index.expire(ts))
            expired_at = ts
        if (i + 1) % 100_000 == 0:
            print(f"  {i + 1:>9,} decided  live {len(index):>9,}  RSS {rss_mb():7.0f} MB  "
                  f"{time.perf_counter() - t0:6.0f} s", flush=True)
    cpu = time.process_time() - cpu0
    gc.collect()
    after = rss_mb()
    n = len(index)
    print(f"articles decided {args.articles:,}, live entries {n:,}, expired {expired:,}")
    print(f"verdicts {dict(kinds)}")
    print(f"RSS before index {before:.0f} MB, after {after:.0f} MB: index {after - before:.0f} MB "
          f"= {(after - before) * 2**20 / max(1, n):.0f} bytes per live article; "
          f"peak RSS {rss_mb('VmHWM'):.0f} MB")
    print(f"nbytes {index.nbytes() / 1e6:.0f} MB = {index.nbytes() / max(1, n):.0f} per article")
    print(f"CPU {cpu:.0f} s ({cpu / args.articles * 1000:.3f} ms per article incl. the edit)")


if __name__ == "__main__":
    main()
