"""The dedup index's compact tables and its on-disk (RocksDB) blob store.

The on-disk index must give exactly the verdicts, entries and retention of the
in-memory one; the tables must agree with plain Python dicts through growth
and deletions.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from khabar.config import DedupSettings
from khabar.corpus import DEFAULT_CORPUS, read_saudinewsnet_zip
from khabar.dedup import DedupIndex, Probe, make_probe
from khabar.dedup.blobs import (
    Record,
    RocksBlobs,
    blob_guard,
    blob_record,
    blob_shingles,
    pack_blob,
)
from khabar.dedup.codec import CorruptEntryError
from khabar.dedup.slots import Sketch
from khabar.dedup.tables import BandTable, RefTable, StringPool
from khabar.pipeline import prepare_doc

SETTINGS = DedupSettings()


@cache
def day_probes(story_guard: bool = False, limit: int | None = None) -> list[Probe]:
    """Probes of the first day of the real corpus, in order."""
    settings = DedupSettings(story_guard=story_guard)
    articles = list(read_saudinewsnet_zip(DEFAULT_CORPUS / "2015-07-21.zip"))[:limit]
    return [make_probe(a, prepare_doc(a), settings) for a in articles]


def test_rocksdb_index_gives_the_same_verdicts_entries_and_expiry(tmp_path: Path) -> None:
    probes = day_probes()
    memory = DedupIndex(SETTINGS)
    disk = DedupIndex(SETTINGS, blob_dir=tmp_path)
    got = [disk.decide(p) for p in probes]
    want = [memory.decide(p) for p in probes]
    assert got == want  # verdicts and the persisted entry bytes
    kinds = {v.kind for v, _ in want}
    assert {"unique", "exact", "near"} <= kinds
    # the shingle sets are on disk: the disk index holds far fewer bytes in RAM
    assert disk.nbytes() < memory.nbytes() - 300 * len(probes)
    files = list(tmp_path.glob("index-*"))
    assert len(files) == 1 and any(files[0].iterdir())
    # redelivery returns the first verdict and the same entry, read back from disk
    assert disk.decide(probes[5]) == memory.decide(probes[5]) == want[5]
    # expiry at the same stream time drops the same ids and reuses their slots
    last = max(p.timestamp for p in probes)
    dropped = disk.expire(last + 6.5 * 86_400)
    assert dropped == memory.expire(last + 6.5 * 86_400)
    more = disk.expire(last - 3600 + 7 * 86_400)
    assert more and more == memory.expire(last - 3600 + 7 * 86_400)
    assert len(disk) == len(memory) == len({p.article_id for p in probes}) - len(dropped + more)
    again = [Probe(f"{p.article_id}#2", p.content_hash, p.url_key, p.shingles, p.signature,
                   p.n_tokens, p.timestamp + 7 * 86_400) for p in probes[:300]]
    assert [disk.decide(p) for p in again] == [memory.decide(p) for p in again]
    disk.close()
    assert not files[0].exists()


def test_rocksdb_index_restores_from_entries_in_any_order(tmp_path: Path) -> None:
    probes = day_probes()
    first = DedupIndex(SETTINGS, blob_dir=tmp_path)
    entries = [(p.article_id, first.decide(p)[1]) for p in probes[:600]]
    rebuilt = DedupIndex(SETTINGS, blob_dir=tmp_path)
    assert rebuilt.restore_many(reversed(entries)) == 600
    assert rebuilt.nbytes() == first.nbytes()
    rest = probes[600:] + probes[:10]
    assert [rebuilt.decide(p) for p in rest] == [first.decide(p) for p in rest]
    with pytest.raises(CorruptEntryError):
        rebuilt.decide(Probe("odd", "not-a-hash", None, probes[0].shingles, probes[0].signature,
                             probes[0].n_tokens, 1.0))
    first.close()
    rebuilt.close()
    assert not list(tmp_path.glob("index-*"))


def test_story_guard_sketches_round_trip_through_disk(tmp_path: Path) -> None:
    guarded = DedupSettings(story_guard=True)
    probes = day_probes(story_guard=True, limit=400)
    memory = DedupIndex(guarded)
    disk = DedupIndex(guarded, blob_dir=tmp_path)
    assert [disk.decide(p) for p in probes] == [memory.decide(p) for p in probes]
    assert disk.guard_blocks == memory.guard_blocks
    shingles = np.array([3, 9, 70000], dtype=np.uint32)
    sketch = Sketch(np.array([1, 2, 5], dtype=np.uint16), np.array([2], dtype=np.uint16),
                    np.empty(0, dtype=np.uint16))
    rec = Record(1 << 63, 5, 7, 0.75, 120, -1, 3)
    blob = pack_blob(rec, shingles, sketch)
    assert blob_record(blob) == rec and np.array_equal(blob_shingles(blob), shingles)
    back = blob_guard(blob)
    assert back is not None and all(np.array_equal(x, y) for x, y in zip(back, sketch, strict=True))
    assert blob_guard(pack_blob(rec, shingles, None)) is None
    bare = pack_blob(rec)  # an entry that is no near-copy candidate: its record only
    assert blob_record(bare) == rec and blob_shingles(bare).size == 0 and blob_guard(bare) is None
    disk.close()


def test_stale_blob_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / "index-999999999-abc"  # no such pid
    stale.mkdir()
    (stale / "CURRENT").write_text("x")
    blobs = RocksBlobs(tmp_path)
    blobs.put(7, b"abc")
    assert blobs.get(7) == b"abc" and blobs.get_many([7, 7]) == [b"abc", b"abc"]
    assert not stale.exists() and blobs.path.exists()
    blobs.delete(7)
    with pytest.raises(KeyError):
        blobs.get(7)
    blobs.close()
    assert not blobs.path.exists()


def test_ref_table_and_string_pool_match_a_dict() -> None:
    rng = random.Random(7)
    hashes: list[int] = []
    table = RefTable(hashes.__getitem__, bits=2)
    ref: dict[int, int] = {}  # hash -> ref
    for i in range(5000):
        # few distinct low bits: long probe runs that deletion must shift back
        h = rng.getrandbits(64) & ~0xFFF if i % 3 else rng.getrandbits(64)
        hashes.append(h)
        table.add(i, h)
        ref[h] = i
        if i % 4 == 0:
            victim = rng.choice(list(ref))
            table.remove(ref.pop(victim), victim)
    assert len(table) == len(ref)
    for h, r in ref.items():
        def same(x: int, h: int = h) -> bool:
            return hashes[x] == h
        assert table.find(h, same) == r
    pool = StringPool()
    sids = {f"snn-{i}-{'ب' * (i % 5)}": pool.intern(f"snn-{i}-{'ب' * (i % 5)}") for i in range(3000)}
    for s, sid in list(sids.items())[::2]:
        assert pool.intern(s) == sid  # a second reference
        pool.release(sid)
        pool.release(sid)  # freed
        assert pool.find(s) == -1
    for s, sid in list(sids.items())[1::2]:
        assert pool.find(s) == sid and pool.get(sid) == s
    assert len(pool) == 1500


def _story_keys(rng: np.random.Generator, high: np.ndarray) -> np.ndarray:
    # as minhash.band_keys_array makes them: a 32-bit value under the band's fixed bits 32..59
    low = rng.integers(0, 1 << 32, size=high.size, dtype=np.uint64)
    out: np.ndarray = (high << np.uint64(32)) | low
    return out


def test_band_table_matches_a_dict_through_growth_and_removal() -> None:
    rng = np.random.default_rng(3)
    width, near = 6, 4
    high = rng.integers(0, 1 << 28, size=width - near, dtype=np.uint64)
    table = BandTable(width, near, high, max_load=0.02)  # both kinds grow early

    def new_keys() -> np.ndarray:
        return np.concatenate((rng.integers(0, 1 << 60, size=near, dtype=np.uint64),
                               _story_keys(rng, high)))

    shared = new_keys()  # one heavy key per band
    truth: dict[tuple[bool, int], set[int]] = {}
    keys_of: dict[int, np.ndarray] = {}
    for slot in range(12_000):
        keys = new_keys()
        if slot % 40 == 0:
            keys[:] = shared  # chains longer than the numpy lockstep walk
        keys_of[slot] = keys
        table.insert(slot, keys)
        for band, k in enumerate(keys.tolist()):
            truth.setdefault((band < near, k), set()).add(slot)
    assert table.bits[0] > 20 and table.bits[1] > 18
    for slot in range(0, 12_000, 7):
        table.remove(slot, keys_of[slot])
        for band, k in enumerate(keys_of.pop(slot).tolist()):
            truth[(band < near, k)].discard(slot)
    assert len(table) == width * len(keys_of)

    def expected(keys: np.ndarray, cap: int) -> tuple[set[int], set[int]]:
        near_hits: set[int] = set()
        story_hits: set[int] = set()
        for band, k in enumerate(keys.tolist()):
            members = truth.get((band < near, k), set())
            if band < near:
                near_hits |= members
            elif len(members) <= cap:
                story_hits |= members
        return near_hits, story_hits

    collisions = 0
    for slot in [*list(keys_of)[::97], 40, 80]:
        keys = keys_of.get(slot, shared)
        for cap in (1000, 3):
            near_hits, story_hits = expected(keys, cap)
            found = table.lookup(table.split(keys), cap)
            assert found.sure == sorted(story_hits)  # story matches are exact
            assert found.maybe == sorted(set(found.maybe))
            assert near_hits - story_hits <= set(found.maybe)  # no near match is lost
            collisions += len(set(found.maybe) - near_hits)
    assert collisions <= 2  # fingerprint collisions are rare
    # a story key equal to another slot's near key is no match: near and story keys never mix
    cross = new_keys()
    cross[near:] = keys_of[2][: width - near] & np.uint64((1 << 32) - 1) | (high << np.uint64(32))
    assert table.lookup(table.split(cross), 1000) == ([], [])
    cross[:near] = keys_of[2][:near]
    assert table.lookup(table.split(cross), 1000) == ([], [2])
    cross[near:] = keys_of[2][near:]
    assert table.lookup(table.split(cross), 1000) == ([2], [])
    with pytest.raises(ValueError, match=r"bits 32\.\.59"):
        table.insert(20_000, new_keys() ^ np.uint64(1 << 40))


def test_story_keys_of_bands_with_equal_high_bits_match_across_bands() -> None:
    rng = np.random.default_rng(5)
    width, near = 3, 1
    high = np.full(width - near, 12345, dtype=np.uint64)
    table = BandTable(width, near, high)
    a = np.concatenate(([np.uint64(1)], _story_keys(rng, high)))
    b = np.concatenate(([np.uint64(2)], a[2:], _story_keys(rng, high)[:1]))  # a's band 2 in band 1
    table.insert(0, a)
    assert table.lookup(table.split(b), 10) == ([0], [])
    other = high.copy()
    other[1] += 1  # band 2 of another table has other high bits: the same value is another key
    table2 = BandTable(width, near, other)
    a2 = a.copy()
    a2[2] = (a[2] & np.uint64(0xFFFFFFFF)) | (other[1] << np.uint64(32))
    table2.insert(0, a2)
    b2 = b.copy()
    b2[1] = (a[2] & np.uint64(0xFFFFFFFF)) | (other[0] << np.uint64(32))
    assert table2.lookup(table2.split(b2), 10) == ([], [])
