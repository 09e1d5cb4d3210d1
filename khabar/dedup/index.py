"""The dedup index the sequencer owns: exact, URL, near-copy and story matching.

A week of news is ~700,000 entries, so the layout is columnar and holds no Python
object per entry (``khabar.dedup.tables``): an entry is a *slot* in typed arrays
(arrival number, time, verdict, content hash, URL key), ids are interned once in
a byte arena, the exact/URL/id maps are open-addressing tables of slot numbers,
and the LSH buckets are chained nodes in numpy arrays. Expired slots are reused.
The bulky part of an entry, its shingle set (and guard sketch), is read only to
verify candidates and sits in a :mod:`blob store <khabar.dedup.blobs>`: in RAM, or
in a RocksDB file when the index is given a ``blob_dir`` (``KHABAR_STORE=rocksdb://``).

Every article the index has decided is kept as one entry; :meth:`DedupIndex.decide`
returns the entry's bytes for the caller to persist (a Faust table keyed by article
id), and :meth:`DedupIndex.restore` rebuilds the same state from them in any order.
"""

from __future__ import annotations

import gc
import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from khabar.config import DedupSettings
from khabar.dedup.blobs import (
    BlobStore,
    MemoryBlobs,
    RocksBlobs,
    blob_guard,
    blob_shingles,
    pack_blob,
)
from khabar.dedup.codec import CorruptEntryError, Reader, Writer
from khabar.dedup.minhash import U16, U32, U64, band_keys_array, jaccard, signature
from khabar.dedup.probe import Probe
from khabar.dedup.slots import Sketch
from khabar.dedup.tables import BandTable, RefTable, Split, StringPool

Kind = Literal["unique", "exact", "url", "near"]
_KINDS: tuple[Kind, ...] = ("unique", "exact", "url", "near")
_ENTRY_MAGIC = b"KE\x02"  # v2: span-hashed shingles, story-guard sketch
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the index decided about one article.

    Attributes:
        kind: ``unique``, or how it copies an earlier article.
        duplicate_of: The earlier article (None when unique).
        similarity: Verified Jaccard for ``near``; 1.0 for ``exact``/``url``; 0.0 when unique.
        story_id: Id of the first article of the story this one belongs to.
    """

    kind: Kind
    duplicate_of: str | None
    similarity: float
    story_id: str


class _Entry(NamedTuple):
    seq: int  # arrival order in this index (restored with the entry)
    timestamp: float
    verdict: Verdict
    content_hash: str
    url_key: str | None
    n_tokens: int
    shingles: U32 | None  # None when the article is not a near-copy candidate
    guard: Sketch | None  # story-guard sketch (None when the guard is off or no shingles)


def _encode(entry: _Entry) -> bytes:
    w = Writer()
    w.pack("3s", _ENTRY_MAGIC)
    v = entry.verdict
    w.pack("BQddI", _KINDS.index(v.kind), entry.seq, entry.timestamp, v.similarity,
           entry.n_tokens)
    w.text(v.duplicate_of)
    w.text(v.story_id)
    w.text(entry.content_hash)
    w.text(entry.url_key)
    w.pack("B", entry.shingles is not None)
    if entry.shingles is not None:
        w.u32_array(entry.shingles)
    w.pack("B", entry.guard is not None)
    if entry.guard is not None:
        for arr in entry.guard:
            w.u16_array(arr)
    return w.getvalue()


def _decode(data: bytes) -> _Entry:
    r = Reader(data)
    if r.unpack("3s")[0] != _ENTRY_MAGIC:
        raise CorruptEntryError("not a khabar dedup index entry (bad magic/version)")
    kind_i, seq, timestamp, similarity, n_tokens = r.unpack("BQddI")
    dup, story, chash, ukey = r.text(), r.text(), r.text(), r.text()
    (has_shingles,) = r.unpack("B")
    shingles = r.u32_array() if has_shingles else None
    (has_guard,) = r.unpack("B")
    guard = Sketch(r.u16_array(), r.u16_array(), r.u16_array()) if has_guard else None
    r.done()
    assert isinstance(kind_i, int) and isinstance(seq, int) and isinstance(n_tokens, int)
    assert isinstance(timestamp, float) and isinstance(similarity, float)
    if kind_i >= len(_KINDS) or story is None or chash is None:
        raise CorruptEntryError("index entry with bad kind, story or hash")
    verdict = Verdict(_KINDS[kind_i], dup, similarity, story)
    return _Entry(seq, timestamp, verdict, chash, ukey, n_tokens, shingles, guard)


def _members(a: U16, b: U16) -> npt.NDArray[np.bool_]:
    """For each value of sorted unique ``a``: is it in sorted unique ``b``?"""
    if b.size == 0:
        return np.zeros(a.size, dtype=bool)
    pos = np.searchsorted(b, a)
    np.minimum(pos, b.size - 1, out=pos)
    return np.asarray(b[pos] == a)


def template_variants(a: Sketch, b: Sketch, min_overlap: float, slot_share: float,
                      min_slots: int) -> bool:
    """Whether two texts look like one template with names, places or numbers swapped.

    True when (1) their distinct words overlap with Jaccard >= ``min_overlap`` (they
    share a template); (2) each side has words the other lacks (a substitution, not
    an addition), among them at least one name or place and at least ``min_slots``
    slot fillers (names, places, numbers); (3) slot fillers make up at least
    ``slot_share`` of all the words they do not share.

    Args:
        a, b: Sketches of the two texts (:func:`khabar.dedup.slots.sketch`).
        min_overlap: Word-set Jaccard the two texts must reach.
        slot_share: Share of slot fillers among the differing words.
        min_slots: Slot fillers each side must have among its own words.
    """
    if a.words.size == 0 or b.words.size == 0:
        return False
    in_b = _members(a.words, b.words)
    common = int(np.count_nonzero(in_b))
    if common / (a.words.size + b.words.size - common) < min_overlap:
        return False
    only_a = a.words[~in_b]
    only_b = b.words[~_members(b.words, a.words)]
    if only_a.size == 0 or only_b.size == 0:
        return False
    slots = 0
    for only, side in ((only_a, a), (only_b, b)):
        names = int(np.count_nonzero(_members(only, side.names)))
        numbers = int(np.count_nonzero(_members(only, side.numbers)))
        if names == 0 or names + numbers < min_slots:
            return False
        slots += names + numbers
    return slots / (only_a.size + only_b.size) >= slot_share



def _hex_int(value: str, digits: int, what: str) -> int:
    # Content hashes and URL keys are fixed-width hex digests (khabar.dedup.probe): kept
    # as integers, and written back in the same form, so any other text is refused.
    if len(value) != digits or not _HEX.issuperset(value):
        raise CorruptEntryError(f"{what} is not {digits} lowercase hex digits: {value!r}")
    return int(value, 16)


_HEX = frozenset("0123456789abcdef")


_KEEP, _GUARD, _URL = 1, 2, 4  # bits of the per-slot flags
_MASK64 = (1 << 64) - 1


class DedupIndex:
    """Exact, URL and near-copy index with story grouping, in arrival order.

    Args:
        settings: Thresholds, shingle/MinHash/LSH parameters and retention.
        blob_dir: Keep shingle sets and guard sketches in a RocksDB file in a fresh
            directory under this one (deleted by :meth:`close`) instead of in RAM.
    """

    def __init__(self, settings: DedupSettings, blob_dir: Path | None = None) -> None:
        self.settings = settings
        self.blob_dir = blob_dir
        self._blobs: BlobStore = RocksBlobs(blob_dir) if blob_dir is not None else MemoryBlobs()
        # per slot; a free slot has id -1
        self._seqs = array("q")
        self._times = array("d")
        self._sims = array("d")
        self._tokens = array("I")
        self._kinds = array("B")
        self._flags = array("B")
        self._ids = array("i")
        self._dups = array("i")  # -1: none
        self._stories = array("i")
        self._hash_hi = array("Q")
        self._hash_lo = array("Q")
        self._urls = array("Q")
        self._free = array("i")
        self._n = 0
        self._strings = StringPool()
        self._slot_of = array("i")  # string number -> slot of the article with that id, -1
        self._by_hash = RefTable(self._hash_lo.__getitem__)
        self._by_url = RefTable(self._urls.__getitem__)
        s = settings
        self._lsh = BandTable(s.bands + s.story_bands, s.bands)
        self._seq = 0
        self._clock = 0.0
        #: Story links the guard blocked (a counter for evaluation and metrics).
        self.guard_blocks = 0
        #: When a list, every blocked link is appended as (article, candidate, Jaccard).
        self.guard_log: list[tuple[str, str, float]] | None = None
        #: When a list, every story link below the near threshold is appended likewise.
        self.link_log: list[tuple[str, str, float]] | None = None

    def close(self) -> None:
        """Release the blob store (deletes its RocksDB file). The index is unusable after."""
        self._blobs.close()

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return self._n

    def _slot(self, article_id: str) -> int:
        sid = self._strings.find(article_id)
        # ids referenced only as duplicate_of or story_id have no slot
        return self._slot_of[sid] if 0 <= sid < len(self._slot_of) else -1

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._slot(article_id) >= 0

    def _verdict_at(self, slot: int) -> Verdict:
        dup = self._dups[slot]
        return Verdict(_KINDS[self._kinds[slot]], self._strings.get(dup) if dup >= 0 else None,
                       self._sims[slot], self._strings.get(self._stories[slot]))

    def verdict(self, article_id: str) -> Verdict | None:
        """The stored verdict of an article, None when not in the index."""
        slot = self._slot(article_id)
        return self._verdict_at(slot) if slot >= 0 else None

    def nbytes(self) -> int:
        """Bytes of state held in RAM: columns, strings, hash tables, LSH nodes, in-RAM blobs."""
        return sum(self.nbytes_by_part().values())

    def nbytes_by_part(self) -> dict[str, int]:
        """:meth:`nbytes` by structure: ``columns``, ``strings``, ``hash_tables``, ``lsh``, ``blobs``."""
        columns = (self._seqs, self._times, self._sims, self._tokens, self._kinds, self._flags,
                   self._ids, self._dups, self._stories, self._hash_hi, self._hash_lo,
                   self._urls, self._free, self._slot_of)
        return {"columns": sum(len(a) * a.itemsize for a in columns),
                "strings": self._strings.nbytes,
                "hash_tables": self._by_hash.nbytes + self._by_url.nbytes,
                "lsh": self._lsh.nbytes, "blobs": self._blobs.nbytes}

    # ------------------------------------------------------------------ decide
    def _keys(self, sig: U32) -> U64:
        s = self.settings
        return band_keys_array(sig, s.bands, s.band_rows, s.story_bands)

    def _hash_eq(self, hi: int, lo: int) -> Callable[[int], bool]:
        his, los = self._hash_hi, self._hash_lo
        return lambda slot: los[slot] == lo and his[slot] == hi

    def _url_eq(self, url: int) -> Callable[[int], bool]:
        urls = self._urls
        return lambda slot: urls[slot] == url

    def _scored(self, probe: Probe, slots: list[int]) -> list[tuple[float, int, int]]:
        """(similarity, arrival, slot) of candidates, best first (earliest among equals)."""
        if not slots:
            return []
        out = [(jaccard(probe.shingles, blob_shingles(blob)), self._seqs[slot], slot)
               for slot, blob in zip(slots, self._blobs.get_many(slots), strict=True)]
        out.sort(key=lambda t: (-t[0], t[1]))
        return out

    def _story_of(self, probe: Probe, scored: list[tuple[float, int, int]]) -> str:
        """Story of the most similar candidate at or above the story threshold that the
        guard (when on) does not take for a template variant; else the probe's own id."""
        s = self.settings
        for sim, _, slot in scored:
            if sim < s.story_threshold:
                break
            if s.story_guard and sim < s.threshold and self._flags[slot] & _GUARD:
                guard = blob_guard(self._blobs.get(slot))
                if guard is not None and template_variants(
                        Sketch(probe.words, probe.names, probe.numbers), guard,
                        s.story_guard_min_overlap, s.story_guard_slot_share,
                        s.story_guard_min_slots):
                    self.guard_blocks += 1
                    if self.guard_log is not None:
                        self.guard_log.append((probe.article_id, self._id(slot), sim))
                    continue
            if self.link_log is not None and sim < s.threshold:
                self.link_log.append((probe.article_id, self._id(slot), sim))
            return self._strings.get(self._stories[slot])
        return probe.article_id

    def _id(self, slot: int) -> str:
        return self._strings.get(self._ids[slot])

    def decide(self, probe: Probe) -> tuple[Verdict, bytes]:
        """Classify ``probe`` against everything indexed so far, then index it.

        A redelivered article (its id already indexed) gets its first verdict
        back and changes nothing.

        Args:
            probe: The article's fingerprints (:func:`~khabar.dedup.probe.make_probe`).

        Returns:
            The verdict and the entry bytes to persist under ``probe.article_id``.

        Raises:
            CorruptEntryError: The probe's content hash or URL key is not a hex digest.
        """
        known = self._slot(probe.article_id)
        if known >= 0:
            return self._verdict_at(known), _encode(self._entry_at(known))
        s = self.settings
        timestamp = probe.timestamp if probe.timestamp > 0 and math.isfinite(probe.timestamp) \
            else self._clock
        nearable = probe.n_tokens >= s.min_tokens and probe.shingles.size > 0
        chash = _hex_int(probe.content_hash, 32, "content hash")
        hi, lo = chash >> 64, chash & _MASK64
        url = _hex_int(probe.url_key, 16, "URL key") if probe.url_key is not None else None
        verdict: Verdict | None = None
        if probe.n_tokens > 0:
            first = self._by_hash.find(lo, self._hash_eq(hi, lo))
            if first >= 0:
                verdict = Verdict("exact", self._id(first), 1.0,
                                  self._strings.get(self._stories[first]))
        if verdict is None and url is not None:
            first = self._by_url.find(url, self._url_eq(url))
            if first >= 0:
                verdict = Verdict("url", self._id(first), 1.0,
                                  self._strings.get(self._stories[first]))
        keys: U64 | None = None
        split: Split | None = None
        if nearable and (verdict is None or verdict.kind == "url"):
            keys = self._keys(probe.signature)
            split = self._lsh.split(keys)
        if verdict is None and split is not None:
            scored = self._scored(probe, self._lsh.lookup(split, s.story_bucket_cap))
            story_id = self._story_of(probe, scored)
            if scored and scored[0][0] >= s.threshold:
                sim, _, slot = scored[0]
                verdict = Verdict("near", self._id(slot), sim, story_id)
            else:
                verdict = Verdict("unique", None, 0.0, story_id)
        if verdict is None:
            verdict = Verdict("unique", None, 0.0, probe.article_id)
        keep = nearable and verdict.kind != "exact"
        guard = Sketch(probe.words, probe.names, probe.numbers) \
            if keep and s.story_guard and probe.words.size > 0 else None
        entry = _Entry(self._seq, timestamp, verdict, probe.content_hash, probe.url_key,
                       probe.n_tokens, probe.shingles if keep else None, guard)
        self._insert(probe.article_id, entry, hi, lo, url, keys if keep else None, split)
        return verdict, _encode(entry)

    def _entry_at(self, slot: int) -> _Entry:
        flags = self._flags[slot]
        shingles: U32 | None = None
        guard: Sketch | None = None
        if flags & _KEEP:
            blob = self._blobs.get(slot)
            shingles, guard = blob_shingles(blob), blob_guard(blob)
        chash = f"{(self._hash_hi[slot] << 64) | self._hash_lo[slot]:032x}"
        url = f"{self._urls[slot]:016x}" if flags & _URL else None
        return _Entry(self._seqs[slot], self._times[slot], self._verdict_at(slot), chash, url,
                      self._tokens[slot], shingles, guard)

    def _new_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = len(self._ids)
        for column in (self._seqs, self._times, self._sims, self._hash_hi, self._hash_lo,
                       self._urls):
            column.append(0)
        for column in (self._tokens, self._kinds, self._flags, self._ids, self._dups,
                       self._stories):
            column.append(0)
        return slot

    def _insert(self, article_id: str, entry: _Entry, hi: int, lo: int, url: int | None,
                keys: U64 | None, split: Split | None = None) -> None:
        slot = self._new_slot()
        v = entry.verdict
        sid = self._strings.intern(article_id)
        if sid >= len(self._slot_of):
            self._slot_of.extend([-1] * (sid + 1 - len(self._slot_of)))
        self._slot_of[sid] = slot
        self._ids[slot] = sid
        strings = self._strings
        self._dups[slot] = strings.intern(v.duplicate_of) if v.duplicate_of is not None else -1
        # most articles start their own story
        self._stories[slot] = strings.acquire(sid) if v.story_id == article_id \
            else strings.intern(v.story_id)
        self._seqs[slot] = entry.seq
        self._times[slot] = entry.timestamp
        self._sims[slot] = v.similarity
        self._tokens[slot] = entry.n_tokens
        self._kinds[slot] = _KINDS.index(v.kind)
        self._hash_hi[slot], self._hash_lo[slot] = hi, lo
        self._urls[slot] = url if url is not None else 0
        flags = _URL if url is not None else 0
        if entry.shingles is not None:
            flags |= _KEEP | (_GUARD if entry.guard is not None else 0)
            self._blobs.put(slot, pack_blob(entry.shingles, entry.guard))
            if keys is None:
                keys, split = self._keys(signature(entry.shingles, self.settings.num_perm)), None
            self._lsh.insert(slot, keys, split)
        self._flags[slot] = flags
        self._n += 1
        self._seq = max(self._seq, entry.seq + 1)
        self._clock = max(self._clock, entry.timestamp)
        if entry.n_tokens > 0:
            self._first(self._by_hash, lo, self._hash_eq(hi, lo), slot)
        if url is not None:
            self._first(self._by_url, url, self._url_eq(url), slot)

    def _first(self, table: RefTable, h: int, eq: Callable[[int], bool], slot: int) -> None:
        # Keep the earliest arrival, whatever order entries are restored in.
        old = table.find(h, eq)
        if old < 0:
            table.add(slot, h)
        elif old != slot and self._seqs[old] > self._seqs[slot]:
            table.replace(old, slot, h)

    # ------------------------------------------------------------------ persistence
    def restore(self, article_id: str, entry: bytes) -> None:
        """Re-add one persisted entry (from :meth:`decide`); order of calls does not matter.

        Raises:
            CorruptEntryError: ``entry`` is not an index entry.
        """
        e = _decode(entry)
        chash = _hex_int(e.content_hash, 32, "content hash")
        url = _hex_int(e.url_key, 16, "URL key") if e.url_key is not None else None
        known = self._slot(article_id)
        if known >= 0:
            self._discard(known)
        self._insert(article_id, e, chash >> 64, chash & _MASK64, url, None)

    def restore_many(self, items: Iterable[tuple[str, bytes]]) -> int:
        """Bulk :meth:`restore` with the GC paused, then ``gc.freeze()`` what is left.

        The index itself holds no objects the collector tracks; freezing moves the
        rest of a freshly recovered worker's long-lived objects out of its way.

        Returns:
            Number of entries restored.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        n = 0
        try:
            for article_id, entry in items:
                self.restore(article_id, entry)
                n += 1
        finally:
            if was_enabled:
                gc.enable()
        gc.collect()
        gc.freeze()
        return n

    # ------------------------------------------------------------------ retention
    def _discard(self, slot: int) -> None:
        hi, lo, url = self._hash_hi[slot], self._hash_lo[slot], self._urls[slot]
        if self._by_hash.find(lo, self._hash_eq(hi, lo)) == slot:
            self._by_hash.remove(slot, lo)
        if self._flags[slot] & _URL and self._by_url.find(url, self._url_eq(url)) == slot:
            self._by_url.remove(slot, url)
        if self._flags[slot] & _KEEP:
            shingles = blob_shingles(self._blobs.get(slot))
            self._lsh.remove(slot, self._keys(signature(shingles, self.settings.num_perm)))
            self._blobs.delete(slot)
        sid = self._ids[slot]
        self._slot_of[sid] = -1
        self._strings.release(sid)
        if self._dups[slot] >= 0:
            self._strings.release(self._dups[slot])
        self._strings.release(self._stories[slot])
        self._ids[slot] = -1
        self._flags[slot] = 0
        self._free.append(slot)
        self._n -= 1

    def expire(self, now: float) -> list[str]:
        """Drop entries older than ``settings.retention_days`` before ``now``; reuse their slots.

        Args:
            now: Epoch seconds (event time of the stream, or wall clock).

        Returns:
            Ids of the removed entries in arrival order (the caller deletes them from
            its table).
        """
        cutoff = now - self.settings.retention_days * _DAY
        if not self._n:
            return []
        times = np.frombuffer(self._times, dtype=np.float64)
        live = np.frombuffer(self._ids, dtype=np.int32) >= 0
        old: list[int] = np.flatnonzero(live & (times < cutoff)).tolist()
        del times, live  # release the views: the arrays grow again later
        old.sort(key=self._seqs.__getitem__)
        ids = [self._id(slot) for slot in old]
        for slot in old:
            self._discard(slot)
        return ids
