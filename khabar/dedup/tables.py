"""Compact hash tables for the dedup index: no Python object per indexed article.

A week of news is ~700,000 articles with 24 LSH keys each. As Python dicts of
ints, strings and lists that is ~3.4 KB an article (``eval/dedup/README.md``);
here the same maps live in typed arrays:

* :class:`RefTable`: an open-addressing set of int32 references (linear probing,
  backward-shift deletion, up to 3/4 full). The caller keeps each reference's hash
  and decides equality, so one table serves article ids, content hashes and URL keys.
* :class:`StringPool`: interned strings (article ids, ``duplicate_of``, ``story_id``)
  in one byte arena, with reference counts so expired ids are freed.
* :class:`BandTable`: the LSH multimap, band key -> slots, as chains of nodes in
  numpy arrays. A slot owns ``width`` consecutive nodes (one per band), so a node
  stores no slot number, only its next node and a 16-bit fingerprint: 6 bytes a
  node plus the bucket heads (4 bytes per 4-8 nodes).
* :class:`Column`: a growable typed array for per-entry and per-string data.

Arrays that grow by one item at a time are :class:`Column` s, not ``array.array``
or ``bytearray``: those grow by ``realloc``, in place at the top of the heap until
something else (RocksDB's block cache, a numpy temporary) is allocated above them;
the next growth then moves them and leaves their old copy as a hole of touched
pages. A :class:`Column` grows by allocating a fresh zeroed array 1.5 times larger
(its own mapping from 1 MiB: ``khabar.memory``) and freeing the old one; the spare
capacity is never written, so it is not resident. With 700,000 entries and blobs in
RocksDB, the free heap that ``malloc_trim`` could hand back after the fill went
from 18 to 13 MB and from 23 to 16 MB in two pairs of runs (for the rest, see
:class:`~khabar.dedup.blobs.RocksBlobs`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import xxhash

from khabar.dedup.codec import CorruptEntryError
from khabar.dedup.minhash import U64
from khabar.errors import KhabarError

I32 = npt.NDArray[np.int32]


class IndexStateError(KhabarError):
    """The dedup index's tables disagree with each other (a bug, not bad input)."""


class Column:
    """A growable typed array without heap holes (see the module doc).

    Read and write items through :attr:`at`, a memoryview of the storage (as fast as
    an ``array.array``; it is replaced when the column grows, so do not keep it).

    Args:
        dtype: numpy type code of the items (``"u4"``, ``"f8"`` ...).
        fill: Value of the items :meth:`resize` adds.
    """

    __slots__ = ("_data", "at", "fill", "size")

    def __init__(self, dtype: str, fill: int = 0) -> None:
        self._data: npt.NDArray[Any] = np.zeros(0, dtype=dtype)
        self.at: memoryview[Any] = self._data.data  # int or float items, by dtype
        self.fill = fill
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes of the items in use (the spare capacity is not resident)."""
        return self.size * self._data.itemsize

    def view(self) -> npt.NDArray[Any]:
        """The items in use as a numpy array (a view: do not keep it across growth)."""
        return self._data[: self.size]

    def _reserve(self, n: int) -> None:
        if n <= self._data.size:
            return
        new = np.zeros(max(n, 1024, self._data.size * 3 // 2), dtype=self._data.dtype)
        new[: self.size] = self._data[: self.size]
        self._data, self.at = new, new.data

    def resize(self, n: int) -> None:
        """Grow to ``n`` items (new ones hold ``fill``); never shrinks."""
        if n <= self.size:
            return
        self._reserve(n)
        if self.fill:
            self._data[self.size : n] = self.fill
        self.size = n

    def append(self, value: float) -> None:
        """Add one item at the end."""
        if self.size == self._data.size:
            self._reserve(self.size + 1)
        self.at[self.size] = value
        self.size += 1

    def extend(self, raw: bytes | memoryview) -> None:
        """Add the items in ``raw`` (bytes of this column's type) at the end."""
        n = len(raw) // self._data.itemsize
        self._reserve(self.size + n)
        self.at[self.size : self.size + n] = raw
        self.size += n

    def set(self, i: int, value: int, wide: str) -> None:
        """``self.at[i] = value``, first widening the items to type ``wide`` if they must."""
        try:
            self.at[i] = value
        except ValueError:  # out of range for the item type
            new = np.zeros(self._data.size, dtype=wide)
            new[: self.size] = self._data[: self.size]
            self._data, self.at = new, new.data
            self.at[i] = value


class RefTable:
    """Open-addressing set of non-negative int32 references, keyed by a hash.

    Kept between 3/8 and 3/4 full: a cell costs 4 bytes, so 5.3-10.7 bytes a
    reference, and linear probing stays short (at 3/4 full, ~2.5 cells probed for a
    hit and ~8.5 for a miss).

    Args:
        hash_of: The hash of a stored reference (needed to move references when one
            is deleted or the table grows); only its low bits are used.
        bits: log2 of the initial number of cells.
    """

    __slots__ = ("_cells", "_hash_of", "_mask", "_n")

    def __init__(self, hash_of: Callable[[int], int], bits: int = 8) -> None:
        self._cells = array("i", [-1]) * (1 << bits)
        self._mask = (1 << bits) - 1
        self._n = 0
        self._hash_of = hash_of

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        return len(self._cells) * self._cells.itemsize

    def find(self, h: int, eq: Callable[[int], bool]) -> int:
        """The stored reference with hash ``h`` for which ``eq`` holds, else -1."""
        cells, mask = self._cells, self._mask
        pos = h & mask
        while True:
            ref = cells[pos]
            if ref < 0:
                return -1
            if eq(ref):
                return ref
            pos = (pos + 1) & mask

    def run(self, h: int) -> Iterator[int]:
        """The references in the probe run of hash ``h``, in probe order: a superset of
        those stored under ``h``, for callers that check candidates themselves."""
        cells, mask = self._cells, self._mask
        pos = h & mask
        while (ref := cells[pos]) >= 0:
            yield ref
            pos = (pos + 1) & mask

    def holds(self, ref: int, h: int) -> bool:
        """Whether ``ref`` is stored (under hash ``h``)."""
        cells, mask = self._cells, self._mask
        pos = h & mask
        while (cell := cells[pos]) >= 0:
            if cell == ref:
                return True
            pos = (pos + 1) & mask
        return False

    def _position(self, ref: int, h: int) -> int:
        cells, mask = self._cells, self._mask
        pos = h & mask
        while cells[pos] != ref:
            if cells[pos] < 0:
                raise IndexStateError(f"reference {ref} is not in the table")
            pos = (pos + 1) & mask
        return pos

    def add(self, ref: int, h: int) -> None:
        """Store ``ref`` (which must not be stored yet) under hash ``h``."""
        if 4 * (self._n + 1) > 3 * len(self._cells):
            self._grow()
        cells, mask = self._cells, self._mask
        pos = h & mask
        while cells[pos] >= 0:
            pos = (pos + 1) & mask
        cells[pos] = ref
        self._n += 1

    def replace(self, old: int, new: int, h: int) -> None:
        """Put ``new`` in the cell of ``old`` (both have hash ``h``)."""
        self._cells[self._position(old, h)] = new

    def remove(self, ref: int, h: int) -> None:
        """Delete ``ref``; later references of its probe run shift back (no tombstones)."""
        cells, mask, hash_of = self._cells, self._mask, self._hash_of
        hole = self._position(ref, h)
        pos = hole
        while True:
            pos = (pos + 1) & mask
            other = cells[pos]
            if other < 0:
                break
            home = hash_of(other) & mask
            # `other` may fill the hole unless its home lies cyclically in (hole, pos]
            if (hole < pos and (home <= hole or home > pos)) or \
                    (hole > pos and (home <= hole and home > pos)):
                cells[hole] = other
                hole = pos
        cells[hole] = -1
        self._n -= 1

    def _grow(self) -> None:
        old = self._cells
        self._cells = array("i", [-1]) * (2 * len(old))
        self._mask = len(self._cells) - 1
        self._n = 0
        for ref in old:
            if ref >= 0:
                self.add(ref, self._hash_of(ref))


class StringPool:
    """Interned strings with reference counts, in one byte arena.

    An id costs its UTF-8 bytes plus ~16 bytes of arrays and table cells (offset 4,
    length 2, count 4, cells 5-11), against ~150 for a ``str`` in a dict. No hash is
    kept: the table recomputes one (xxh3 of the bytes) only to move a string, when
    another is freed or the table grows. Freed bytes are reclaimed when they outweigh
    the live ones (one pass over the live strings).
    """

    __slots__ = ("_arena", "_dead", "_free", "_len", "_off", "_refs", "_table")

    def __init__(self) -> None:
        self._arena = Column("u1")
        self._off = Column("u4")  # the arena stays far below 4 GiB (ids are < 64 KiB each)
        self._len = Column("u2")  # ids are at most 65,534 UTF-8 bytes (the entry codec's limit)
        self._refs = Column("i4")
        self._free = array("i")
        self._dead = 0
        self._table = RefTable(self._hash_of)

    def __len__(self) -> int:
        return len(self._table)

    @property
    def capacity(self) -> int:
        """One more than the largest id number handed out so far."""
        return len(self._refs)

    @property
    def nbytes(self) -> int:
        columns = (self._arena, self._off, self._len, self._refs)
        return (sum(c.nbytes for c in columns) + self._table.nbytes
                + len(self._free) * self._free.itemsize)

    @staticmethod
    def _key(value: str) -> tuple[bytes, int]:
        raw = value.encode("utf-8", "surrogatepass")
        return raw, xxhash.xxh3_64_intdigest(raw)

    def _hash_of(self, sid: int) -> int:
        start = self._off.at[sid]
        return xxhash.xxh3_64_intdigest(self._arena.at[start : start + self._len.at[sid]])

    def _find(self, raw: bytes, h: int) -> int:
        arena, off, ln, size = self._arena.at, self._off.at, self._len.at, len(raw)
        return self._table.find(
            h, lambda sid: ln[sid] == size and arena[off[sid] : off[sid] + size] == raw)

    def find(self, value: str) -> int:
        """The number of ``value``, -1 when it is not interned."""
        return self._find(*self._key(value))

    def intern(self, value: str) -> int:
        """The number of ``value``, interning it if needed; adds one reference.

        Raises:
            CorruptEntryError: ``value`` is 65,535 UTF-8 bytes or longer (no index entry
                could hold it).
        """
        raw, h = self._key(value)
        sid = self._find(raw, h)
        if sid >= 0:
            self._refs.at[sid] += 1
            return sid
        if len(raw) >= 0xFFFF:
            raise CorruptEntryError(f"string too long for the index ({len(raw)} bytes)")
        if self._free:
            sid = self._free.pop()
            self._off.at[sid], self._len.at[sid] = len(self._arena), len(raw)
            self._refs.at[sid] = 1
        else:
            sid = len(self._refs)
            self._off.append(len(self._arena))
            self._len.append(len(raw))
            self._refs.append(1)
        self._arena.extend(raw)
        self._table.add(sid, h)
        return sid

    def acquire(self, sid: int) -> int:
        """Add a reference to the interned string ``sid``; returns ``sid``."""
        self._refs.at[sid] += 1
        return sid

    def get(self, sid: int) -> str:
        """The string number ``sid``."""
        start = self._off.at[sid]
        return str(self._arena.at[start : start + self._len.at[sid]], "utf-8", "surrogatepass")

    def release(self, sid: int) -> None:
        """Drop one reference; the string is freed with its last one."""
        refs = self._refs.at
        refs[sid] -= 1
        if refs[sid] > 0:
            return
        self._table.remove(sid, self._hash_of(sid))
        self._dead += self._len.at[sid]
        self._len.at[sid] = 0
        self._free.append(sid)
        if self._dead > (1 << 20) and self._dead > len(self._arena) // 2:
            self._compact()

    def _compact(self) -> None:
        arena = Column("u1")
        old, off, ln, refs = self._arena.at, self._off.at, self._len.at, self._refs.at
        for sid in range(len(self._refs)):
            if refs[sid] > 0:
                start = off[sid]
                off[sid] = len(arena)
                arena.extend(old[start : start + ln[sid]])
        self._arena = arena
        self._dead = 0


# Two odd multipliers and two xorshifts: a bijection of the 60-bit keys in which every
# output bit depends on every key bit (raw keys hold MinHash minima: skewed bits).
_M60 = np.uint64((1 << 60) - 1)
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_S20, _S29, _S32 = np.uint64(20), np.uint64(29), np.uint64(32)
_ODD32 = np.uint32(0x9E3779B1)  # Knuth's multiplicative hash: a bijection of uint32
_LOCKSTEP = 8  # chain steps walked with numpy before the rest go one by one
# Near-copy buckets: the low ``bits`` bits of the mixed key; a node's fingerprint holds
# mixed bits 20..35. Doubling from b to b + 1 bits splits each chain by bit b, which the
# fingerprint keeps (its bit b - 20) for b < 36.
_NEAR_BITS, _NEAR_MAX_BITS = 20, 36
# Story buckets: the top ``bits`` bits of the hashed 32-bit value; the fingerprint is its
# low 16 bits, so with b >= 16 the two hold the whole value (matches are exact). Doubling
# splits by bit 31 - b, which the fingerprint keeps.
_STORY_BITS, _STORY_MAX_BITS = 18, 32


def mix60(keys: U64) -> U64:
    """A bijection of 60-bit keys that spreads every bit over all 60."""
    x = keys * _C1
    x &= _M60
    x ^= x >> _S29
    x *= _C2
    x &= _M60
    x ^= x >> _S32
    return x


class Split(NamedTuple):
    """A slot's band keys as :class:`BandTable` files them.

    Attributes:
        near: Bucket of each near-copy key.
        story: Bucket of each story key.
        fp: 16-bit fingerprint of each key (near keys, then story keys).
        high: Bits 32..59 of each story key.
    """

    near: npt.NDArray[np.intp]
    story: npt.NDArray[np.intp]
    fp: npt.NDArray[np.uint16]
    high: U64


class Candidates(NamedTuple):
    """What :meth:`BandTable.lookup` found, as ascending slot lists.

    Attributes:
        sure: Slots sharing a story key (exact match) in a bucket within the cap.
        maybe: The other slots with a near-copy node of a query key's bucket and
            fingerprint: a key match, or (rarely) a fingerprint collision that the
            caller must rule out with the slot's real keys.
    """

    sure: list[int]
    maybe: list[int]


class _Buckets:
    """Chain heads of one kind of band (near-copy or story).

    ``high`` says where a bucket number sits in the hashed key: its top bits (story)
    or its low bits (near-copy); doubling then appends or prepends one bit.
    """

    __slots__ = ("bits", "head", "high", "linked", "max_bits")

    def __init__(self, bits: int, max_bits: int, high: bool) -> None:
        self.bits = bits
        self.max_bits = max_bits
        self.high = high
        self.head: I32 = np.zeros(1 << bits, dtype=np.int32)
        self.linked = 0

    def split_bit(self) -> int:
        """The fingerprint bit that splits a bucket in two when ``bits`` grows by one."""
        return 31 - self.bits if self.high else self.bits - 20


class BandTable:
    """LSH buckets: band key -> slots, as chained nodes in numpy arrays.

    Slot ``s`` owns nodes ``1 + s * width ...`` (``width`` of them, one per band;
    node 0 is the end-of-chain sentinel); bands ``< near`` are near-copy bands, the
    others story bands. A node holds the next node of its chain (4 bytes) and a
    16-bit fingerprint of its key (2 bytes): no slot number, no full key. Near-copy
    and story nodes hang from separate bucket heads (their keys never match each
    other), and are filed differently:

    * A **story** key is one 32-bit signature value XOR its band's salt, so its bits
      32..59 are the band's (``story_high``, :func:`khabar.dedup.minhash.story_key_high`)
      and the node need not store them: bucket (>= 16 bits) and fingerprint hold all of
      the low 32. Story matches are exact, so the bucket sizes that
      ``DedupSettings.story_bucket_cap`` bounds are exact too.
    * A **near-copy** key has 60 bits of content, of which bucket and fingerprint
      hold ~36: a match is a candidate (:attr:`Candidates.maybe`) that the caller
      checks against the slot's real keys.

    Args:
        width: Keys per slot (near bands + story bands).
        near: How many of them are near-copy bands.
        story_high: Bits 32..59 of the keys of each story band (``width - near`` values).
        max_load: Linked nodes per bucket before a kind's bucket count doubles. At 8
            the heads cost 0.5-1 byte a node. Measured on 700,000 slots of
            ``khabar.bench_window`` keys: ~35 us a lookup, against ~25 us at 4, which
            needs 12 MB more of heads.

    Raises:
        ValueError: ``story_high`` does not have ``width - near`` values.
    """

    def __init__(self, width: int, near: int, story_high: U64, max_load: float = 8.0) -> None:
        self.width = width
        self.near = near
        self.story_high: U64 = np.array(story_high, dtype=np.uint64)
        if self.story_high.size != width - near:
            raise ValueError(f"story_high needs {width - near} values, got {self.story_high.size}")
        self._high_bytes = self.story_high.tobytes()
        self.max_load = max_load
        self._near = _Buckets(_NEAR_BITS, _NEAR_MAX_BITS, high=False)
        self._story = _Buckets(_STORY_BITS, _STORY_MAX_BITS, high=True)
        self._next: I32 = np.zeros(1, dtype=np.int32)
        self._fp: npt.NDArray[np.uint16] = np.zeros(1, dtype=np.uint16)
        self._slots = 0  # slots whose nodes exist (high-water mark)

    def __len__(self) -> int:
        """Linked nodes."""
        return self._near.linked + self._story.linked

    @property
    def bits(self) -> tuple[int, int]:
        """log2 of the bucket counts (near-copy, story)."""
        return self._near.bits, self._story.bits

    @property
    def nbytes(self) -> int:
        per_node = self._next.itemsize + self._fp.itemsize
        heads = int(self._near.head.nbytes) + int(self._story.head.nbytes)
        return heads + (1 + self._slots * self.width) * per_node

    def _ensure(self, slot: int) -> None:
        self._slots = max(self._slots, slot + 1)
        need = 1 + self._slots * self.width
        if need <= self._next.size:
            return
        # 1.5x: the unused tail is never written, so it costs address space, not RAM
        cap = max(need, 1024 * self.width, int(self._next.size * 1.5))
        for name in ("_next", "_fp"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[: old.size] = old
            setattr(self, name, new)

    def split(self, keys: U64) -> Split:
        """Where ``keys`` (a slot's ``width`` band keys) go in this table."""
        near = self.near
        m = mix60(keys[:near])
        x = keys[near:].astype(np.uint32)  # the low 32 bits: all a story key holds
        x *= _ODD32
        fp = np.concatenate(((m >> _S20).astype(np.uint16), x.astype(np.uint16)))
        m &= np.uint64((1 << self._near.bits) - 1)
        x >>= np.uint32(32 - self._story.bits)
        return Split(m.astype(np.intp), x.astype(np.intp), fp, keys[near:] >> _S32)

    def insert(self, slot: int, keys: U64, split: Split | None = None) -> None:
        """Link the ``width`` keys of ``slot`` (not linked yet).

        Args:
            slot: The entry's slot.
            keys: Its band keys.
            split: ``self.split(keys)`` when the caller has it (from :meth:`lookup`).

        Raises:
            ValueError: A story key does not hold its band's ``story_high`` bits.
        """
        if split is None:
            split = self.split(keys)
        if split.high.tobytes() != self._high_bytes:
            raise ValueError("story keys must hold their band's bits 32..59 (story_high)")
        self._ensure(slot)
        first = 1 + slot * self.width
        self._fp[first : first + self.width] = split.fp
        self._link(self._near, split.near, first)
        self._link(self._story, split.story, first + self.near)

    def _link(self, kind: _Buckets, bucket: npt.NDArray[np.intp], first: int) -> None:
        n = bucket.size
        if not n:
            return
        head = kind.head
        buckets = bucket.tolist()
        if len(set(buckets)) == n:
            self._next[first : first + n] = head[bucket]
            head[bucket] = np.arange(first, first + n, dtype=np.int32)
        else:  # two keys share a bucket: link them one by one
            for i, b in enumerate(buckets):
                self._next[first + i] = head[b]
                head[b] = first + i
        kind.linked += n
        if kind.linked > self.max_load * head.size and kind.bits < kind.max_bits:
            self._grow(kind)

    def remove(self, slot: int, keys: U64) -> None:
        """Unlink the nodes of ``slot`` (``keys`` are the keys it was inserted with)."""
        split = self.split(keys)
        nxt = self._next
        first = 1 + slot * self.width
        for kind, bucket, offset in ((self._near, split.near, 0),
                                     (self._story, split.story, self.near)):
            head = kind.head
            for i, b in enumerate(bucket.tolist()):
                node = first + offset + i
                prev, cur = 0, int(head[b])
                while cur != node:
                    if cur == 0:
                        raise IndexStateError(
                            f"LSH node {node} of slot {slot} is not in its bucket")
                    prev, cur = cur, int(nxt[cur])
                if prev == 0:
                    head[b] = nxt[node]
                else:
                    nxt[prev] = nxt[node]
            kind.linked -= bucket.size

    def lookup(self, split: Split, cap: int) -> Candidates:
        """Slots sharing a band key with ``split``, story buckets over ``cap`` skipped."""
        qfp = split.fp
        fp, nxt = self._fp, self._next
        cur = np.concatenate((self._near.head.take(split.near),
                              self._story.head.take(split.story)))
        node_parts: list[npt.NDArray[np.int32]] = []
        query_parts: list[npt.NDArray[np.intp]] = []
        # Walk all chains at once (an ended chain sits on the sentinel, node 0) for a
        # few steps: most chains are that short, and each step costs the same numpy calls
        # whatever the number of chains still walking.
        for _ in range(_LOCKSTEP):
            same = fp.take(cur) == qfp
            if np.count_nonzero(same):
                at = np.flatnonzero(same & (cur != 0))
                node_parts.append(cur[at])
                query_parts.append(at)
            cur = nxt.take(cur)
            if not np.count_nonzero(cur):
                break
        else:
            # The long chains left are mostly one key shared by many articles (a stock
            # phrase in a story band, a cluster of copies): one chain at a time in Python.
            nodes: list[int] = []
            queries: list[int] = []
            fps, links = fp.data, nxt.data  # memoryviews: items as Python ints, fast
            for q in np.flatnonzero(cur).tolist():
                want = int(qfp[q])
                link = int(cur[q])
                while link:
                    if fps[link] == want:
                        nodes.append(link)
                        queries.append(q)
                    link = links[link]
            if nodes:
                node_parts.append(np.array(nodes, dtype=np.int32))
                query_parts.append(np.array(queries, dtype=np.intp))
        if not node_parts:
            return Candidates([], [])
        node = np.concatenate(node_parts) if len(node_parts) > 1 else node_parts[0]
        query = np.concatenate(query_parts) if len(query_parts) > 1 else query_parts[0]
        slot = (node - 1) // self.width
        story = query >= self.near
        if not np.count_nonzero(story):
            return Candidates([], sorted(set(slot.tolist())))
        s_node, s_query = node[story], query[story] - self.near
        # the node's band gives its key's bits 32..59: a match must have the query's
        keep = self.story_high[(s_node - 1) % self.width - self.near] == split.high[s_query]
        s_slot, s_query = slot[story][keep], s_query[keep]
        sizes = np.bincount(s_query)
        sure = set(s_slot[sizes[s_query] <= cap].tolist())
        maybe = set(slot[~story].tolist()) - sure
        return Candidates(sorted(sure), sorted(maybe))

    def _grow(self, kind: _Buckets) -> None:
        """Double one kind's buckets: each chain splits by one fingerprint bit, without a sort."""
        shift = np.uint16(kind.split_bit())
        old = kind.head
        new = np.zeros(2 * old.size, dtype=np.int32)
        nxt, fp = self._next, self._fp
        step = 1 << 18  # old buckets per pass: bounds the temporary arrays
        for start in range(0, old.size, step):
            b = np.arange(start, min(old.size, start + step), dtype=np.intp)
            cur = old[b]
            tail = np.zeros(2 * b.size, dtype=np.int32)  # last node of each new chain
            while True:
                live = cur != 0
                cur, b = cur[live], b[live]
                if cur.size == 0:
                    break
                bit = ((fp[cur] >> shift) & np.uint16(1)).astype(np.intp)
                # top bits: bucket b -> 2b + bit; low bits: b -> b + bit * (old buckets)
                to = (b << 1) | bit if kind.high else b + bit * old.size
                at = ((b - start) << 1) | bit  # the new chain's place in ``tail``
                prev = tail[at]
                following = nxt[cur]
                first = prev == 0
                new[to[first]] = cur[first]
                nxt[prev[~first]] = cur[~first]
                tail[at] = cur
                cur = following
            nxt[tail[tail != 0]] = 0
        kind.head = new
        kind.bits += 1
