"""The dedup index the sequencer owns: exact, URL, near-copy and story matching.

A week of news is ~700,000 entries, so the layout is columnar and holds no Python
object per entry (``khabar.dedup.tables``): an entry is a *slot* in typed arrays
holding what deciding reads for every article (arrival number, time, verdict kind
and flags, id, low 32 bits of the content hash and URL key: 29 bytes), ids are
interned once in a byte arena, the exact/URL/id maps are open-addressing tables of
slot numbers, and the LSH buckets are chained 6-byte nodes in numpy arrays. Expired
slots are reused. The rest of an entry (full hashes, similarity, token count,
``duplicate_of``, ``story_id``, shingle set and guard sketch) is read only for
candidates, matches, redelivery and expiry, and sits in a :mod:`blob store
<khabar.dedup.blobs>`: in RAM, or in a RocksDB file when the index is given a
``blob_dir`` (``KHABAR_STORE=rocksdb://``).

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
from types import EllipsisType
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from khabar.config import DedupSettings
from khabar.dedup.blobs import (
    BlobStore,
    MemoryBlobs,
    Record,
    RocksBlobs,
    blob_guard,
    blob_record,
    blob_shingles,
    pack_blob,
)
from khabar.dedup.codec import CorruptEntryError, Reader, Writer
from khabar.dedup.minhash import (
    U16,
    U32,
    U64,
    band_keys_array,
    jaccard,
    signature,
    story_key_high,
)
from khabar.dedup.probe import Probe
from khabar.dedup.slots import Sketch
from khabar.dedup.tables import BandTable, Candidates, Column, RefTable, Split, StringPool

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


# The per-slot state byte: the verdict kind (index into _KINDS) in bits 0-1, then flags.
_KIND = 3
_KEEP, _GUARD, _URL = 4, 8, 16
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1
_Match = tuple[int, Record] | None  # an entry's slot and record, or none


class DedupIndex:
    """Exact, URL and near-copy index with story grouping, in arrival order.

    Args:
        settings: Thresholds, shingle/MinHash/LSH parameters and retention.
        blob_dir: Keep entry records, shingle sets and guard sketches in a RocksDB file
            in a fresh directory under this one (deleted by :meth:`close`) instead of
            in RAM.
    """

    def __init__(self, settings: DedupSettings, blob_dir: Path | None = None) -> None:
        self.settings = settings
        self.blob_dir = blob_dir
        self._blobs: BlobStore = RocksBlobs(blob_dir) if blob_dir is not None else MemoryBlobs()
        # Per slot, what deciding an article reads for every other one: 29 bytes. The
        # rest of an entry is its blob's Record, read for candidates, matches, expiry.
        # A free slot has id -1.
        self._seqs = Column("u4")  # arrival numbers: 4 bytes for decades; widened if not
        self._times = Column("f8")
        self._state = Column("u1")  # kind | flags
        self._ids = Column("i4")
        # Low 32 bits of the content hash and URL key: the keys of the two tables below;
        # a match on them is confirmed against the full values in the Record.
        self._hash32 = Column("u4")
        self._url32 = Column("u4")
        self._free = array("i")
        self._n = 0
        self._strings = StringPool()
        # string number -> slot of the article with that id, -1
        self._slot_of = Column("i4", fill=-1)
        # (late-bound: a column's memoryview changes when it grows)
        self._by_hash = RefTable(lambda slot: self._hash32.at[slot])
        self._by_url = RefTable(lambda slot: self._url32.at[slot])
        self._lsh_table: BandTable | None = None
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

    @property
    def _lsh(self) -> BandTable:
        # Built on first use: its story salts come from numpy.random, which a worker
        # otherwise loads with its first article (~2 MB; khabar.bench_window --startup).
        if self._lsh_table is None:
            s = self.settings
            self._lsh_table = BandTable(s.bands + s.story_bands, s.bands,
                                        story_key_high(s.bands, s.band_rows, s.story_bands))
        return self._lsh_table

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return self._n

    def _slot(self, article_id: str) -> int:
        sid = self._strings.find(article_id)
        # ids referenced only as duplicate_of or story_id have no slot
        return self._slot_of.at[sid] if 0 <= sid < len(self._slot_of) else -1

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and self._slot(article_id) >= 0

    def _record(self, slot: int) -> Record:
        return blob_record(self._blobs.get(slot))

    def _verdict_at(self, slot: int, rec: Record) -> Verdict:
        strings = self._strings
        return Verdict(_KINDS[self._state.at[slot] & _KIND],
                       strings.get(rec.dup) if rec.dup >= 0 else None,
                       rec.similarity, strings.get(rec.story))

    def verdict(self, article_id: str) -> Verdict | None:
        """The stored verdict of an article, None when not in the index."""
        slot = self._slot(article_id)
        return self._verdict_at(slot, self._record(slot)) if slot >= 0 else None

    def nbytes(self) -> int:
        """Bytes of state held in RAM: columns, strings, hash tables, LSH nodes, in-RAM blobs."""
        return sum(self.nbytes_by_part().values())

    def nbytes_by_part(self) -> dict[str, int]:
        """:meth:`nbytes` by structure: ``columns``, ``strings``, ``hash_tables``, ``lsh``, ``blobs``."""
        columns = (self._seqs, self._times, self._state, self._ids, self._hash32, self._url32,
                   self._slot_of)
        return {"columns": sum(c.nbytes for c in columns)
                + len(self._free) * self._free.itemsize,
                "strings": self._strings.nbytes,
                "hash_tables": self._by_hash.nbytes + self._by_url.nbytes,
                "lsh": self._lsh_table.nbytes if self._lsh_table is not None else 0,
                "blobs": self._blobs.nbytes}

    # ------------------------------------------------------------------ decide
    def _keys(self, sig: U32) -> U64:
        s = self.settings
        return band_keys_array(sig, s.bands, s.band_rows, s.story_bands)

    def _match(self, table: RefTable, column: Column, key: int,
               same: Callable[[Record], bool]) -> _Match:
        """The slot in ``table`` whose 32-bit ``column`` value is ``key`` and whose record
        is ``same``, with that record; None when there is none."""
        values = column.at
        for slot in table.run(key):
            if values[slot] == key:
                rec = self._record(slot)
                if same(rec):
                    return slot, rec
        return None

    def _hash_match(self, hi: int, lo: int) -> _Match:
        """The earliest live entry with content hash ``hi, lo`` (and its record)."""
        return self._match(self._by_hash, self._hash32, lo & _MASK32,
                           lambda r: r.hash_lo == lo and r.hash_hi == hi)

    def _url_match(self, url: int) -> _Match:
        """The earliest live entry with URL key ``url`` (and its record)."""
        return self._match(self._by_url, self._url32, url & _MASK32, lambda r: r.url == url)

    def _scored(self, probe: Probe, found: Candidates, keys: U64
                ) -> tuple[list[tuple[float, int, int]], dict[int, bytes]]:
        """(similarity, arrival, slot) of candidates, best first (earliest among equals),
        and the candidates' blobs.

        A candidate found only by a near-copy fingerprint is kept when one of its
        near-copy keys really is one of ``keys``' (recomputed from its shingles, as
        :meth:`restore` and :meth:`_discard` do: a probe's signature is that of its
        shingles). Only candidates at or above the story threshold are checked: below
        it a candidate changes no verdict and no story (:meth:`_story_of` stops
        there), so the check, a signature, is rare.
        """
        slots = sorted(found.sure + found.maybe)
        if not slots:
            return [], {}
        unsure = set(found.maybe)
        floor = self.settings.story_threshold
        blobs = dict(zip(slots, self._blobs.get_many(slots), strict=True))
        out = []
        for slot, blob in blobs.items():
            shingles = blob_shingles(blob)
            sim = jaccard(probe.shingles, shingles)
            if slot in unsure and (sim < floor or not self._shares_near_key(shingles, keys)):
                continue
            out.append((sim, self._seqs.at[slot], slot))
        out.sort(key=lambda t: (-t[0], t[1]))
        return out, blobs

    def _shares_near_key(self, shingles: U32, keys: U64) -> bool:
        """Whether the entry with ``shingles`` has a near-copy band key among ``keys``'."""
        near = self.settings.bands
        theirs = self._keys(signature(shingles, self.settings.num_perm))[:near]
        return bool(np.isin(theirs, keys[:near]).any())

    def _story_of(self, probe: Probe, scored: list[tuple[float, int, int]],
                  blobs: dict[int, bytes]) -> str:
        """Story of the most similar candidate at or above the story threshold that the
        guard (when on) does not take for a template variant; else the probe's own id."""
        s = self.settings
        for sim, _, slot in scored:
            if sim < s.story_threshold:
                break
            if s.story_guard and sim < s.threshold and self._state.at[slot] & _GUARD:
                guard = blob_guard(blobs[slot])
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
            return self._strings.get(blob_record(blobs[slot]).story)
        return probe.article_id

    def _id(self, slot: int) -> str:
        return self._strings.get(self._ids.at[slot])

    def decide(self, probe: Probe) -> tuple[Verdict, bytes]:
        """Classify ``probe`` against everything indexed so far, then index it.

        A redelivered article (its id already indexed) gets its first verdict
        back and changes nothing.

        Args:
            probe: The article's fingerprints (:func:`~khabar.dedup.probe.make_probe`).

        Returns:
            The verdict and the entry bytes to persist under ``probe.article_id``.

        Raises:
            CorruptEntryError: The probe's content hash or URL key is not a hex digest,
                or its id is 65,535 UTF-8 bytes or longer.
        """
        known = self._slot(probe.article_id)
        if known >= 0:
            entry = self._entry_at(known)
            return entry.verdict, _encode(entry)
        s = self.settings
        timestamp = probe.timestamp if probe.timestamp > 0 and math.isfinite(probe.timestamp) \
            else self._clock
        nearable = probe.n_tokens >= s.min_tokens and probe.shingles.size > 0
        chash = _hex_int(probe.content_hash, 32, "content hash")
        hi, lo = chash >> 64, chash & _MASK64
        url = _hex_int(probe.url_key, 16, "URL key") if probe.url_key is not None else None
        verdict: Verdict | None = None
        by_hash: _Match | EllipsisType = ...  # ...: not looked up
        by_url: _Match | EllipsisType = ...
        if probe.n_tokens > 0:
            by_hash = self._hash_match(hi, lo)
            if by_hash is not None:
                first, rec = by_hash
                verdict = Verdict("exact", self._id(first), 1.0, self._strings.get(rec.story))
        if verdict is None and url is not None:
            by_url = self._url_match(url)
            if by_url is not None:
                first, rec = by_url
                verdict = Verdict("url", self._id(first), 1.0, self._strings.get(rec.story))
        keys: U64 | None = None
        split: Split | None = None
        if nearable and (verdict is None or verdict.kind == "url"):
            keys = self._keys(probe.signature)
            split = self._lsh.split(keys)
        if verdict is None and split is not None and keys is not None:
            scored, blobs = self._scored(probe, self._lsh.lookup(split, s.story_bucket_cap),
                                         keys)
            story_id = self._story_of(probe, scored, blobs)
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
        self._insert(probe.article_id, entry, hi, lo, url, keys if keep else None, split,
                     by_hash, by_url)
        return verdict, _encode(entry)

    def _entry_at(self, slot: int) -> _Entry:
        blob = self._blobs.get(slot)
        rec = blob_record(blob)
        state = self._state.at[slot]
        shingles: U32 | None = None
        guard: Sketch | None = None
        if state & _KEEP:
            shingles, guard = blob_shingles(blob), blob_guard(blob)
        chash = f"{(rec.hash_hi << 64) | rec.hash_lo:032x}"
        url = f"{rec.url:016x}" if state & _URL else None
        return _Entry(self._seqs.at[slot], self._times.at[slot], self._verdict_at(slot, rec),
                      chash, url, rec.n_tokens, shingles, guard)

    def _new_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = len(self._ids)
        for column in (self._seqs, self._times, self._state, self._ids, self._hash32,
                       self._url32):
            column.append(0)
        return slot

    def _insert(self, article_id: str, entry: _Entry, hi: int, lo: int, url: int | None,
                keys: U64 | None, split: Split | None = None,
                by_hash: _Match | EllipsisType = ..., by_url: _Match | EllipsisType = ...
                ) -> None:
        # by_hash, by_url: the earliest entries with this hash and URL when the caller
        # has looked them up (decide), else ... (the tables have not changed since).
        strings = self._strings
        sid = strings.intern(article_id)  # first: it refuses over-long ids
        slot = self._new_slot()
        v = entry.verdict
        self._slot_of.resize(sid + 1)
        self._slot_of.at[sid] = slot
        self._ids.at[slot] = sid
        dup = strings.intern(v.duplicate_of) if v.duplicate_of is not None else -1
        # most articles start their own story
        story = strings.acquire(sid) if v.story_id == article_id else strings.intern(v.story_id)
        self._seqs.set(slot, entry.seq, "u8")
        self._times.at[slot] = entry.timestamp
        self._hash32.at[slot] = lo & _MASK32
        self._url32.at[slot] = url & _MASK32 if url is not None else 0
        state = _KINDS.index(v.kind) | (_URL if url is not None else 0)
        rec = Record(hi, lo, url if url is not None else 0, v.similarity, entry.n_tokens, dup,
                     story)
        if entry.shingles is not None:
            state |= _KEEP | (_GUARD if entry.guard is not None else 0)
            self._blobs.put(slot, pack_blob(rec, entry.shingles, entry.guard))
            if keys is None:
                keys, split = self._keys(signature(entry.shingles, self.settings.num_perm)), None
            self._lsh.insert(slot, keys, split)
        else:
            self._blobs.put(slot, pack_blob(rec))
        self._state.at[slot] = state
        self._n += 1
        self._seq = max(self._seq, entry.seq + 1)
        self._clock = max(self._clock, entry.timestamp)
        if entry.n_tokens > 0:
            self._first(self._by_hash, lo & _MASK32,
                        self._hash_match(hi, lo) if by_hash is ... else by_hash, slot)
        if url is not None:
            self._first(self._by_url, url & _MASK32,
                        self._url_match(url) if by_url is ... else by_url, slot)

    def _first(self, table: RefTable, key: int, match: _Match, slot: int) -> None:
        # Keep the earliest arrival, whatever order entries are restored in.
        if match is None:
            table.add(slot, key)
        elif match[0] != slot and self._seqs.at[match[0]] > self._seqs.at[slot]:
            table.replace(match[0], slot, key)

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
        blob = self._blobs.get(slot)
        rec = blob_record(blob)
        state = self._state.at[slot]
        h, u = self._hash32.at[slot], self._url32.at[slot]
        if self._by_hash.holds(slot, h):
            self._by_hash.remove(slot, h)
        if state & _URL and self._by_url.holds(slot, u):
            self._by_url.remove(slot, u)
        if state & _KEEP:
            shingles = blob_shingles(blob)
            self._lsh.remove(slot, self._keys(signature(shingles, self.settings.num_perm)))
        self._blobs.delete(slot)
        sid = self._ids.at[slot]
        self._slot_of.at[sid] = -1
        self._strings.release(sid)
        if rec.dup >= 0:
            self._strings.release(rec.dup)
        self._strings.release(rec.story)
        self._ids.at[slot] = -1
        self._state.at[slot] = 0
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
        old: list[int] = np.flatnonzero(
            (self._ids.view() >= 0) & (self._times.view() < cutoff)).tolist()
        old.sort(key=self._seqs.at.__getitem__)
        ids = [self._id(slot) for slot in old]
        for slot in old:
            self._discard(slot)
        return ids
