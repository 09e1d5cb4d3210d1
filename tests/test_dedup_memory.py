"""The dedup index's RAM layout: what it keeps per entry, and the checks that keep it exact.

Per entry the index keeps ~29 bytes of columns, its id in the string pool and 24
LSH nodes of 6 bytes; the rest of the entry is a blob (in RocksDB with
``KHABAR_STORE=rocksdb://``). Near-copy LSH nodes keep a 16-bit fingerprint, not
the key, so a fingerprint match must be confirmed before it counts.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from khabar.config import DedupSettings
from khabar.dedup import CorruptEntryError, DedupIndex, Probe
from khabar.dedup.index import _encode, _Entry
from khabar.dedup.minhash import band_keys_array, jaccard, signature
from khabar.dedup.tables import Candidates, RefTable, StringPool

SETTINGS = DedupSettings()
HEX32 = "0123456789abcdef" * 2


def synthetic(aid: str, shingles: np.ndarray, n: int, ts: float = 1.4e9) -> Probe:
    """A probe with the given shingles and a content hash and URL key derived from ``n``."""
    s = np.unique(shingles.astype(np.uint32))
    return Probe(aid, f"{n:032x}", f"{n:016x}", s, signature(s, SETTINGS.num_perm),
                 max(SETTINGS.min_tokens, s.size), ts)


def near_keys(p: Probe) -> np.ndarray:
    keys = band_keys_array(p.signature, SETTINGS.bands, SETTINGS.band_rows, SETTINGS.story_bands)
    return keys[: SETTINGS.bands]


def test_columns_widen_for_huge_arrival_numbers_and_token_counts() -> None:
    idx = DedupIndex(SETTINGS)
    p = synthetic("big", np.arange(100), 1)
    entry = _Entry(seq=(1 << 40) + 5, timestamp=1.4e9, verdict=idx.decide(p)[0],
                   content_hash=f"{2:032x}", url_key=None, n_tokens=70_000,
                   shingles=p.shingles, guard=None)
    raw = _encode(entry)
    idx.restore("huge", raw)
    assert idx.decide(synthetic("huge", np.arange(5), 9))[1] == raw  # redelivery: same bytes
    v, _ = idx.decide(synthetic("next", np.arange(7), 3))
    assert v.kind == "unique" and idx._seq == (1 << 40) + 7


def test_ids_too_long_for_an_entry_are_refused_before_anything_changes() -> None:
    idx = DedupIndex(SETTINGS)
    with pytest.raises(CorruptEntryError):
        idx.decide(synthetic("x" * 70_000, np.arange(50), 1))
    assert len(idx) == 0 and idx.nbytes_by_part()["columns"] == 0
    pool = StringPool()
    with pytest.raises(CorruptEntryError):
        pool.intern("ب" * 40_000)


def test_ref_table_runs_and_membership() -> None:
    keys = [5, 5 + 16, 6, 5 + 32]  # three share a home cell
    table = RefTable(keys.__getitem__, bits=4)
    for ref, h in enumerate(keys):
        table.add(ref, h)
    assert list(table.run(5)) == [0, 1, 2, 3]  # the run crosses ref 2's own cell
    assert table.holds(3, 5 + 32) and not table.holds(7, 5)
    table.remove(1, keys[1])
    assert not table.holds(1, keys[1]) and sorted(table.run(5)) == [0, 2, 3]


def pair_without_near_key(similarity_floor: float) -> tuple[Probe, Probe]:
    """Two synthetic texts with Jaccard >= ``similarity_floor`` and no near-copy key in
    common: the LSH never pairs them through a near-copy band."""
    a = synthetic("a", np.arange(1000), 1)
    for shift in itertools.count(400):
        b = synthetic("b", np.arange(shift, shift + 1000), 2, ts=1.4e9 + 60)
        if jaccard(a.shingles, b.shingles) < similarity_floor:
            break
        if not np.isin(near_keys(a), near_keys(b)).any():
            return a, b
    raise AssertionError("no such pair")


def test_a_near_fingerprint_match_counts_only_with_a_real_key_match() -> None:
    a, b = pair_without_near_key(SETTINGS.story_threshold)
    idx = DedupIndex(SETTINGS)
    idx.decide(a)
    real = idx._lsh.lookup
    slot = idx._slot("a")

    def collide(split: object, cap: int) -> Candidates:
        # as if a's near-copy node shared b's bucket and fingerprint by chance
        found = real(split, cap)  # type: ignore[arg-type]
        return Candidates([s for s in found.sure if s != slot], [slot])

    idx._lsh.lookup = collide  # type: ignore[method-assign]
    v, _ = idx.decide(b)
    assert v.story_id == "b"  # not linked: a shares no near-copy key with b
    # a real near-copy key match reported the same way is kept
    twin = synthetic("twin", a.shingles, 3, ts=1.4e9 + 120)
    v, _ = idx.decide(twin)
    assert (v.kind, v.duplicate_of, v.story_id) == ("near", "a", "a")


def test_ram_per_entry_with_blobs_on_disk(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    idx = DedupIndex(SETTINGS, blob_dir=tmp_path)
    n = 4000
    for i in range(n):
        shingles = rng.integers(0, 1 << 32, size=300, dtype=np.uint64)
        idx.decide(synthetic(f"snn-2015-07-21-{i:04d}", shingles, i + 10, ts=1.4e9 + i))
    parts = idx.nbytes_by_part()
    # seq 4, time 8, state 1, id 4, hash and URL keys 4 + 4, id -> slot 4 (+ array slack)
    assert parts["columns"] / n < 31
    # 24 nodes of 4 + 2 bytes, plus the bucket heads (fixed at this size: 2**20 + 2**18)
    assert parts["lsh"] - 4 * ((1 << 20) + (1 << 18)) <= (1 + n * 24) * 6
    assert parts["blobs"] == 0
    idx.close()
