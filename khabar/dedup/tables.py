"""Compact hash tables for the dedup index: no Python object per indexed article.

A week of news is ~700,000 articles with 24 LSH keys each. As Python dicts of
ints, strings and lists that is ~3.4 KB an article (``eval/dedup/README.md``);
here the same maps live in typed arrays:

* :class:`RefTable`: an open-addressing set of int32 references (linear probing,
  backward-shift deletion). The caller keeps each reference's 64-bit hash and
  decides equality, so one table serves article ids, content hashes and URL keys.
* :class:`StringPool`: interned strings (article ids, ``duplicate_of``, ``story_id``)
  in one byte arena, with reference counts so expired ids are freed.
* :class:`BandTable`: the LSH multimap, 60-bit band key -> slots, as chains of
  nodes in numpy arrays. A slot owns ``width`` consecutive nodes (one per band), so
  a node stores no slot number; it stores 40 bits of the mixed key, and its bucket
  (the top >= 20 bits) holds the rest: 9 bytes a node plus the bucket heads
  (4 bytes per 1-2 nodes).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import xxhash

from khabar.dedup.minhash import U64
from khabar.errors import KhabarError

I32 = npt.NDArray[np.int32]


class IndexStateError(KhabarError):
    """The dedup index's tables disagree with each other (a bug, not bad input)."""


class RefTable:
    """Open-addressing set of non-negative int32 references, keyed by a 64-bit hash.

    Args:
        hash_of: The 64-bit hash of a stored reference (needed to move references
            when one is deleted or the table grows).
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
        if 2 * (self._n + 1) > len(self._cells):
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

    An id costs its UTF-8 bytes plus ~30 bytes of arrays and table cells, against
    ~150 for a ``str`` in a dict. Freed bytes are reclaimed when they outweigh the
    live ones (one pass over the live strings).
    """

    __slots__ = ("_arena", "_dead", "_free", "_hash", "_len", "_off", "_refs", "_table")

    def __init__(self) -> None:
        self._arena = bytearray()
        self._off = array("q")
        self._len = array("i")
        self._refs = array("i")
        self._hash = array("Q")
        self._free = array("i")
        self._dead = 0
        self._table = RefTable(self._hash.__getitem__)

    def __len__(self) -> int:
        return len(self._table)

    @property
    def capacity(self) -> int:
        """One more than the largest id number handed out so far."""
        return len(self._refs)

    @property
    def nbytes(self) -> int:
        arrays = (self._off, self._len, self._refs, self._hash, self._free)
        return len(self._arena) + self._table.nbytes + sum(len(a) * a.itemsize for a in arrays)

    @staticmethod
    def _key(value: str) -> tuple[bytes, int]:
        raw = value.encode("utf-8", "surrogatepass")
        return raw, xxhash.xxh3_64_intdigest(raw)

    def _find(self, raw: bytes, h: int) -> int:
        arena, off, ln, hashes = self._arena, self._off, self._len, self._hash
        return self._table.find(
            h, lambda sid: hashes[sid] == h and arena[off[sid] : off[sid] + ln[sid]] == raw)

    def find(self, value: str) -> int:
        """The number of ``value``, -1 when it is not interned."""
        return self._find(*self._key(value))

    def intern(self, value: str) -> int:
        """The number of ``value``, interning it if needed; adds one reference."""
        raw, h = self._key(value)
        sid = self._find(raw, h)
        if sid >= 0:
            self._refs[sid] += 1
            return sid
        if self._free:
            sid = self._free.pop()
            self._off[sid], self._len[sid] = len(self._arena), len(raw)
            self._refs[sid], self._hash[sid] = 1, h
        else:
            sid = len(self._refs)
            self._off.append(len(self._arena))
            self._len.append(len(raw))
            self._refs.append(1)
            self._hash.append(h)
        self._arena += raw
        self._table.add(sid, h)
        return sid

    def acquire(self, sid: int) -> int:
        """Add a reference to the interned string ``sid``; returns ``sid``."""
        self._refs[sid] += 1
        return sid

    def get(self, sid: int) -> str:
        """The string number ``sid``."""
        start = self._off[sid]
        return self._arena[start : start + self._len[sid]].decode("utf-8", "surrogatepass")

    def release(self, sid: int) -> None:
        """Drop one reference; the string is freed with its last one."""
        self._refs[sid] -= 1
        if self._refs[sid] > 0:
            return
        self._table.remove(sid, self._hash[sid])
        self._dead += self._len[sid]
        self._len[sid] = 0
        self._free.append(sid)
        if self._dead > (1 << 20) and self._dead > len(self._arena) // 2:
            self._compact()

    def _compact(self) -> None:
        arena = bytearray()
        for sid in range(len(self._refs)):
            if self._refs[sid] > 0:
                start = self._off[sid]
                self._off[sid] = len(arena)
                arena += self._arena[start : start + self._len[sid]]
        self._arena = arena
        self._dead = 0


# Two odd multipliers and two xorshifts: a bijection of the 60-bit keys whose top bits
# depend on every key bit (raw keys hold MinHash minima, whose top bits are mostly 0).
_M60 = np.uint64((1 << 60) - 1)
_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_S29, _S32 = np.uint64(29), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_LOW8 = np.uint64(0xFF)
_LOCKSTEP = 6  # chain steps walked with numpy before the rest go one by one
_MIN_BITS = 20  # the bucket must hold key bits 40..59: nodes store only bits 0..39


def mix60(keys: U64) -> U64:
    """A bijection of 60-bit keys that spreads every bit into the top ones."""
    x = keys * _C1
    x &= _M60
    x ^= x >> _S29
    x *= _C2
    x &= _M60
    x ^= x >> _S32
    return x


class Split(NamedTuple):
    """A slot's band keys as the table stores them: bucket, key bits 0..31 and 32..39."""

    bucket: npt.NDArray[np.intp]
    lo: npt.NDArray[np.uint32]
    mid: npt.NDArray[np.uint8]


class BandTable:
    """LSH buckets: 60-bit band key -> slots, as chained nodes in numpy arrays.

    Slot ``s`` owns nodes ``1 + s * width ...`` (``width`` of them, one per band;
    node 0 is the end-of-chain sentinel); bands ``< near`` are near-copy bands, the
    others story bands, whose oversized buckets are skipped as
    ``DedupSettings.story_bucket_cap`` says. A node holds the next node of its chain
    and bits 0..39 of its mixed key; the bucket is the top ``bits`` (>= 20) bits, so
    a match is exact on all 60 bits.

    Args:
        width: Keys per slot (near bands + story bands).
        near: How many of them are near-copy bands.
        max_load: Nodes per bucket before the bucket count doubles.
    """

    def __init__(self, width: int, near: int, max_load: float = 2.0) -> None:
        self.width = width
        self.near = near
        self.max_load = max_load
        self._bits = _MIN_BITS
        self._head: I32 = np.zeros(1 << self._bits, dtype=np.int32)
        self._next: I32 = np.zeros(1, dtype=np.int32)
        self._lo: npt.NDArray[np.uint32] = np.zeros(1, dtype=np.uint32)
        self._mid: npt.NDArray[np.uint8] = np.zeros(1, dtype=np.uint8)
        self._linked = 0
        self._slots = 0  # slots whose nodes exist (high-water mark)

    def __len__(self) -> int:
        """Linked nodes."""
        return self._linked

    @property
    def nbytes(self) -> int:
        per_node = self._next.itemsize + self._lo.itemsize + self._mid.itemsize
        return int(self._head.nbytes) + (1 + self._slots * self.width) * per_node

    def _ensure(self, slot: int) -> None:
        self._slots = max(self._slots, slot + 1)
        need = 1 + self._slots * self.width
        if need <= self._next.size:
            return
        cap = max(need, 1024 * self.width, int(self._next.size * 1.5))
        for name in ("_next", "_lo", "_mid"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=old.dtype)
            new[: old.size] = old
            setattr(self, name, new)

    def split(self, keys: U64) -> Split:
        """Where ``keys`` (a slot's ``width`` band keys) go in this table."""
        m = mix60(keys)
        return Split((m >> np.uint64(60 - self._bits)).astype(np.intp), m.astype(np.uint32),
                     (m >> _S32).astype(np.uint8))

    def insert(self, slot: int, keys: U64, split: Split | None = None) -> None:
        """Link the ``width`` keys of ``slot`` (not linked yet).

        Args:
            slot: The entry's slot.
            keys: Its band keys.
            split: ``self.split(keys)`` when the caller has it (from :meth:`lookup`).
        """
        self._ensure(slot)
        bucket, lo, mid = split if split is not None else self.split(keys)
        first = 1 + slot * self.width
        end = first + self.width
        self._lo[first:end] = lo
        self._mid[first:end] = mid
        buckets = bucket.tolist()
        if len(set(buckets)) == self.width:
            self._next[first:end] = self._head[bucket]
            self._head[bucket] = np.arange(first, end, dtype=np.int32)
        else:  # two keys share a bucket: link them one by one
            for i, b in enumerate(buckets):
                self._next[first + i] = self._head[b]
                self._head[b] = first + i
        self._linked += self.width
        if self._linked > self.max_load * self._head.size:
            self._grow()

    def remove(self, slot: int, keys: U64) -> None:
        """Unlink the nodes of ``slot`` (``keys`` are the keys it was inserted with)."""
        head, nxt = self._head, self._next
        first = 1 + slot * self.width
        for i, b in enumerate(self.split(keys).bucket.tolist()):
            node = first + i
            prev, cur = 0, int(head[b])
            while cur != node:
                if cur == 0:
                    raise IndexStateError(f"LSH node {node} of slot {slot} is not in its bucket")
                prev, cur = cur, int(nxt[cur])
            if prev == 0:
                head[b] = nxt[node]
            else:
                nxt[prev] = nxt[node]
        self._linked -= self.width

    def lookup(self, split: Split, cap: int) -> list[int]:
        """Slots sharing a band key with ``split``, story buckets over ``cap`` skipped."""
        bucket, qlo, qmid = split
        lo, nxt = self._lo, self._next
        cur = self._head.take(bucket)
        node_parts: list[npt.NDArray[np.int32]] = []
        query_parts: list[npt.NDArray[np.intp]] = []
        # Walk all chains at once (an ended chain sits on the sentinel, node 0) for a
        # few steps: most chains are that short, and each step costs the same numpy calls
        # whatever the number of chains still walking.
        for _ in range(_LOCKSTEP):
            same = lo.take(cur) == qlo
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
            for q in np.flatnonzero(cur).tolist():
                want = int(qlo[q])
                link = int(cur[q])
                while link:
                    if int(lo[link]) == want:
                        nodes.append(link)
                        queries.append(q)
                    link = int(nxt[link])
            if nodes:
                node_parts.append(np.array(nodes, dtype=np.int32))
                query_parts.append(np.array(queries, dtype=np.intp))
        if not node_parts:
            return []
        node = np.concatenate(node_parts)
        query = np.concatenate(query_parts)
        band = (node - 1) % self.width
        keep = (self._mid[node] == qmid[query]) & ((band < self.near) == (query < self.near))
        node, query = node[keep], query[keep]
        story = query >= self.near
        if np.count_nonzero(story):
            sizes = np.bincount(query[story], minlength=self.width)
            node = node[~story | (sizes[query] <= cap)]
        slots: list[int] = np.unique((node - 1) // self.width).tolist()
        return slots

    def _grow(self) -> None:
        """Double the buckets: each chain splits by the next key bit, without a sort."""
        bits = self._bits
        bit = np.uint64(59 - bits)  # the key bit that picks 2b or 2b + 1 (<= 39: stored)
        old = self._head
        new = np.zeros(2 * old.size, dtype=np.int32)
        nxt = self._next
        step = 1 << 18  # old buckets per pass: bounds the temporary arrays
        for start in range(0, old.size, step):
            b = np.arange(start, min(old.size, start + step), dtype=np.intp)
            cur = old[b]
            tail = np.zeros(2 * b.size, dtype=np.int32)
            while True:
                live = cur != 0
                cur, b = cur[live], b[live]
                if cur.size == 0:
                    break
                key_bits = ((self._mid[cur].astype(np.uint64) << _S32)
                            | self._lo[cur].astype(np.uint64))
                to = (b << 1) | ((key_bits >> bit) & np.uint64(1)).astype(np.intp)
                prev = tail[to - 2 * start]
                following = nxt[cur]
                first = prev == 0
                new[to[first]] = cur[first]
                nxt[prev[~first]] = cur[~first]
                tail[to - 2 * start] = cur
                cur = following
            nxt[tail[tail != 0]] = 0
        self._head = new
        self._bits = bits + 1
