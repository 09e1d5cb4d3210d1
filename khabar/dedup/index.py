"""The in-memory dedup index the sequencer owns: exact, URL, near-copy and story matching.

State is a handful of dicts whose values are strings, ints and numpy arrays, so
the garbage collector has few objects to walk even with a week of news in it
(see ``eval/dedup/README.md`` for measured GC pauses). Every article the index
has decided is kept as one entry; :meth:`DedupIndex.decide` returns the
entry's bytes for the caller to persist (a Faust table keyed by article id),
and :meth:`DedupIndex.restore` rebuilds the same state from them in any order.
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from khabar.config import DedupSettings
from khabar.dedup.codec import CorruptEntryError, Reader, Writer
from khabar.dedup.minhash import U16, U32, band_keys, jaccard, signature
from khabar.dedup.probe import Probe
from khabar.dedup.slots import Sketch

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


def _add(table: dict[int, str | list[str]], key: int, article_id: str) -> None:
    # A bucket holds a bare string until a second article lands in it: most
    # buckets have one member, and strings are not objects the GC tracks.
    old = table.get(key)
    if old is None:
        table[key] = article_id
    elif isinstance(old, str):
        if old != article_id:
            table[key] = [old, article_id]
    elif article_id not in old:
        old.append(article_id)


def _remove(table: dict[int, str | list[str]], key: int, article_id: str) -> None:
    old = table.get(key)
    if old is None:
        return
    if isinstance(old, str):
        if old == article_id:
            del table[key]
        return
    if article_id in old:
        old.remove(article_id)
    if len(old) == 1:
        table[key] = old[0]
    elif not old:
        del table[key]


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


class DedupIndex:
    """Exact, URL and near-copy index with story grouping, in arrival order.

    Args:
        settings: Thresholds, shingle/MinHash/LSH parameters and retention.
    """

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self._entries: dict[str, _Entry] = {}
        self._by_hash: dict[str, str] = {}
        self._by_url: dict[str, str] = {}
        # Near-copy bands (16 x 2 rows) and one-row story bands (8) in separate tables:
        # only story buckets are capped (see DedupSettings.story_bucket_cap).
        self._near: dict[int, str | list[str]] = {}
        self._story: dict[int, str | list[str]] = {}
        self._seq = 0
        self._clock = 0.0
        #: Story links the guard blocked (a counter for evaluation and metrics).
        self.guard_blocks = 0
        #: When a list, every blocked link is appended as (article, candidate, Jaccard).
        self.guard_log: list[tuple[str, str, float]] | None = None
        #: When a list, every story link below the near threshold is appended likewise.
        self.link_log: list[tuple[str, str, float]] | None = None

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def verdict(self, article_id: str) -> Verdict | None:
        """The stored verdict of an article, None when not in the index."""
        entry = self._entries.get(article_id)
        return entry.verdict if entry is not None else None

    def nbytes(self) -> int:
        """Approximate bytes of state: entries, arrays, strings, hash maps and LSH tables."""
        total = sum(sys.getsizeof(d) for d in
                    (self._entries, self._by_hash, self._by_url, self._near, self._story))
        for table in (self._near, self._story):
            total += 32 * len(table)  # the int key objects (60-bit: two digits, 32 bytes)
            total += sum(sys.getsizeof(v) for v in table.values() if isinstance(v, list))
        for article_id, e in self._entries.items():
            total += sys.getsizeof(e) + sys.getsizeof(article_id) + sys.getsizeof(e.verdict)
            total += sys.getsizeof(e.content_hash)
            if e.url_key is not None:
                total += sys.getsizeof(e.url_key)
            if e.shingles is not None:
                total += sys.getsizeof(e.shingles)  # header + data for an owning array
            if e.guard is not None:
                total += sys.getsizeof(e.guard) + sum(sys.getsizeof(x) for x in e.guard)
        return total

    # ------------------------------------------------------------------ decide
    def _keys(self, sig: U32) -> tuple[list[int], list[int]]:
        s = self.settings
        keys = band_keys(sig, s.bands, s.band_rows, s.story_bands)
        return keys[: s.bands], keys[s.bands :]

    def _candidates(self, near: list[int], story: list[int]) -> set[str]:
        found: set[str] = set()
        _gather(self._near, near, found)
        # one-row story buckets of stock phrases grow large: skip those over the cap
        _gather(self._story, story, found, cap=self.settings.story_bucket_cap)
        return found

    def _scored(self, probe: Probe, ids: set[str]) -> list[tuple[float, int, str]]:
        """(similarity, arrival, id) of candidates, best first (earliest among equals)."""
        out = []
        for cid in ids:
            entry = self._entries.get(cid)
            if entry is None or entry.shingles is None:
                continue
            out.append((jaccard(probe.shingles, entry.shingles), entry.seq, cid))
        out.sort(key=lambda t: (-t[0], t[1]))
        return out

    def _story_of(self, probe: Probe, scored: list[tuple[float, int, str]]) -> str:
        """Story of the most similar candidate at or above the story threshold that the
        guard (when on) does not take for a template variant; else the probe's own id."""
        s = self.settings
        for sim, _, cid in scored:
            if sim < s.story_threshold:
                break
            entry = self._entries[cid]
            if (s.story_guard and sim < s.threshold and entry.guard is not None
                    and template_variants(Sketch(probe.words, probe.names, probe.numbers),
                                          entry.guard, s.story_guard_min_overlap,
                                          s.story_guard_slot_share, s.story_guard_min_slots)):
                self.guard_blocks += 1
                if self.guard_log is not None:
                    self.guard_log.append((probe.article_id, cid, sim))
                continue
            if self.link_log is not None and sim < s.threshold:
                self.link_log.append((probe.article_id, cid, sim))
            return entry.verdict.story_id
        return probe.article_id

    def decide(self, probe: Probe) -> tuple[Verdict, bytes]:
        """Classify ``probe`` against everything indexed so far, then index it.

        A redelivered article (its id already indexed) gets its first verdict
        back and changes nothing.

        Args:
            probe: The article's fingerprints (:func:`~khabar.dedup.probe.make_probe`).

        Returns:
            The verdict and the entry bytes to persist under ``probe.article_id``.
        """
        known = self._entries.get(probe.article_id)
        if known is not None:
            return known.verdict, _encode(known)
        s = self.settings
        timestamp = probe.timestamp if probe.timestamp > 0 and math.isfinite(probe.timestamp) \
            else self._clock
        nearable = probe.n_tokens >= s.min_tokens and probe.shingles.size > 0
        verdict: Verdict | None = None
        if probe.n_tokens > 0 and probe.content_hash in self._by_hash:
            first = self._by_hash[probe.content_hash]
            verdict = Verdict("exact", first, 1.0, self._entries[first].verdict.story_id)
        elif probe.url_key is not None and probe.url_key in self._by_url:
            first = self._by_url[probe.url_key]
            verdict = Verdict("url", first, 1.0, self._entries[first].verdict.story_id)
        near: list[int] = []
        story: list[int] = []
        if nearable and (verdict is None or verdict.kind == "url"):
            near, story = self._keys(probe.signature)
        if verdict is None and nearable:
            scored = self._scored(probe, self._candidates(near, story))
            story_id = self._story_of(probe, scored)
            if scored and scored[0][0] >= s.threshold:
                sim, _, cid = scored[0]
                verdict = Verdict("near", cid, sim, story_id)
            else:
                verdict = Verdict("unique", None, 0.0, story_id)
        if verdict is None:
            verdict = Verdict("unique", None, 0.0, probe.article_id)
        keep = nearable and verdict.kind != "exact"
        guard = Sketch(probe.words, probe.names, probe.numbers) \
            if keep and s.story_guard and probe.words.size > 0 else None
        entry = _Entry(self._seq, timestamp, verdict, probe.content_hash, probe.url_key,
                       probe.n_tokens, probe.shingles if keep else None, guard)
        self._insert(probe.article_id, entry, near, story)
        return verdict, _encode(entry)

    def _insert(self, article_id: str, entry: _Entry, near: list[int], story: list[int]) -> None:
        self._entries[article_id] = entry
        self._seq = max(self._seq, entry.seq + 1)
        self._clock = max(self._clock, entry.timestamp)
        if entry.n_tokens > 0:
            self._first(self._by_hash, entry.content_hash, article_id, entry.seq)
        if entry.url_key is not None:
            self._first(self._by_url, entry.url_key, article_id, entry.seq)
        if entry.shingles is not None:
            for key in near:
                _add(self._near, key, article_id)
            for key in story:
                _add(self._story, key, article_id)

    def _first(self, table: dict[str, str], key: str, article_id: str, seq: int) -> None:
        # Keep the earliest arrival, whatever order entries are restored in.
        old = table.get(key)
        if old is None or (old != article_id and self._entries[old].seq > seq):
            table[key] = article_id

    # ------------------------------------------------------------------ persistence
    def restore(self, article_id: str, entry: bytes) -> None:
        """Re-add one persisted entry (from :meth:`decide`); order of calls does not matter.

        Raises:
            CorruptEntryError: ``entry`` is not an index entry.
        """
        e = _decode(entry)
        if article_id in self._entries:
            self._discard(article_id)
        near: list[int] = []
        story: list[int] = []
        if e.shingles is not None:
            near, story = self._keys(signature(e.shingles, self.settings.num_perm))
        self._insert(article_id, e, near, story)

    def restore_many(self, items: Iterable[tuple[str, bytes]]) -> int:
        """Bulk :meth:`restore` with the GC paused, then ``gc.freeze()`` the result.

        Freezing moves the restored (long-lived) objects out of the collector's
        generations, so later full collections do not walk them again.

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
    def _discard(self, article_id: str) -> None:
        e = self._entries.pop(article_id)
        if self._by_hash.get(e.content_hash) == article_id:
            del self._by_hash[e.content_hash]
        if e.url_key is not None and self._by_url.get(e.url_key) == article_id:
            del self._by_url[e.url_key]
        if e.shingles is not None:
            near, story = self._keys(signature(e.shingles, self.settings.num_perm))
            for key in near:
                _remove(self._near, key, article_id)
            for key in story:
                _remove(self._story, key, article_id)

    def expire(self, now: float) -> list[str]:
        """Drop entries older than ``settings.retention_days`` before ``now``.

        Args:
            now: Epoch seconds (event time of the stream, or wall clock).

        Returns:
            Ids of the removed entries (the caller deletes them from its table).
        """
        cutoff = now - self.settings.retention_days * _DAY
        old = [aid for aid, e in self._entries.items() if e.timestamp < cutoff]
        for aid in old:
            self._discard(aid)
        return old


def _gather(buckets: dict[int, str | list[str]], keys: list[int], found: set[str], cap: int | None = None) -> None:
    """Add the ids in ``buckets[key]`` for every key (a bucket is one id or a list of ids)."""
    for key in keys:
        hit = buckets.get(key)
        if hit is None:
            continue
        if isinstance(hit, str):
            found.add(hit)
        elif cap is None or len(hit) <= cap:
            found.update(hit)
