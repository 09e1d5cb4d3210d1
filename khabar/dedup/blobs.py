"""Where the dedup index keeps what it rarely reads: one blob per entry.

A blob holds the entry's :class:`Record` (full content hash and URL key,
similarity, token count, ``duplicate_of`` and ``story_id``), then its shingle set
and guard sketch when it is a near-copy candidate. They are read only to verify
candidates (exact Jaccard, full hashes), to re-encode an entry and to unlink it
from the LSH buckets, so they can live outside RAM. :class:`MemoryBlobs` keeps
them as ``bytes`` in a list; :class:`RocksBlobs` keeps them in a RocksDB file
(rocksdict) under the worker's data directory, for indexes larger than memory.

The file is scratch space, not the source of truth: the ``dedup_index`` table
(changelog) holds every entry, and an index rebuilt after recovery writes a
fresh file. So the file skips the write-ahead log, and is deleted when its
index is closed (or, after a crash, by the next index created in that directory).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import weakref
from pathlib import Path
from typing import NamedTuple, Protocol, cast

import numpy as np
import rocksdict

from khabar.dedup.minhash import U16, U32
from khabar.dedup.slots import Sketch
from khabar.memory import release_free_heap


class Record(NamedTuple):
    """The fields of an index entry that stay out of RAM.

    Attributes:
        hash_hi: High 64 bits of the content hash.
        hash_lo: Low 64 bits of the content hash.
        url: The URL key (0 without one).
        similarity: The verdict's similarity.
        n_tokens: Content tokens of the article.
        dup: String number of ``duplicate_of`` in the index's pool, -1 for none.
        story: String number of ``story_id``.
    """

    hash_hi: int
    hash_lo: int
    url: int
    similarity: float
    n_tokens: int
    dup: int
    story: int


_RECORD = struct.Struct("<QQQdIii")
_HEAD = struct.Struct("<I")
_GUARD = struct.Struct("<III")


def pack_blob(record: Record, shingles: U32 | None = None, guard: Sketch | None = None) -> bytes:
    """A record, then the shingles and guard sketch when there are some, as one string."""
    parts = [_RECORD.pack(*record)]
    if shingles is not None:
        parts += [_HEAD.pack(shingles.size), shingles.astype("<u4", copy=False).tobytes()]
        if guard is not None:
            parts.append(_GUARD.pack(guard.words.size, guard.names.size, guard.numbers.size))
            parts.extend(a.astype("<u2", copy=False).tobytes() for a in guard)
    return b"".join(parts)


def blob_record(blob: bytes) -> Record:
    """The record of a :func:`pack_blob` string."""
    return Record._make(_RECORD.unpack_from(blob))


def blob_shingles(blob: bytes) -> U32:
    """The shingle set of a :func:`pack_blob` string (a read-only view; empty without one)."""
    if len(blob) == _RECORD.size:
        return np.empty(0, dtype=np.uint32)
    (n,) = _HEAD.unpack_from(blob, _RECORD.size)
    return np.frombuffer(blob, dtype=np.uint32, count=n, offset=_RECORD.size + _HEAD.size)


def blob_guard(blob: bytes) -> Sketch | None:
    """The guard sketch of a :func:`pack_blob` string, None when it has none."""
    if len(blob) == _RECORD.size:
        return None
    (n,) = _HEAD.unpack_from(blob, _RECORD.size)
    pos = _RECORD.size + _HEAD.size + 4 * n
    if pos == len(blob):
        return None
    sizes = _GUARD.unpack_from(blob, pos)
    pos += _GUARD.size
    arrays: list[U16] = []
    for size in sizes:
        arrays.append(np.frombuffer(blob, dtype=np.uint16, count=size, offset=pos))
        pos += 2 * size
    return Sketch(*arrays)


class BlobStore(Protocol):
    """Blobs by index slot."""

    def put(self, slot: int, blob: bytes) -> None: ...
    def get(self, slot: int) -> bytes: ...
    def get_many(self, slots: list[int]) -> list[bytes]: ...
    def delete(self, slot: int) -> None: ...
    def close(self) -> None: ...
    @property
    def nbytes(self) -> int:
        """Bytes held in RAM."""
        ...


class MemoryBlobs:
    """Blobs as ``bytes`` objects (not tracked by the garbage collector)."""

    def __init__(self) -> None:
        self._blobs: list[bytes | None] = []
        self._bytes = 0
        self._live = 0

    def put(self, slot: int, blob: bytes) -> None:
        if slot >= len(self._blobs):
            self._blobs.extend([None] * (slot + 1 - len(self._blobs)))
        self.delete(slot)
        self._blobs[slot] = blob
        self._bytes += len(blob)
        self._live += 1

    def get(self, slot: int) -> bytes:
        blob = self._blobs[slot]
        if blob is None:
            raise KeyError(slot)
        return blob

    def get_many(self, slots: list[int]) -> list[bytes]:
        return [self.get(s) for s in slots]

    def delete(self, slot: int) -> None:
        blob = self._blobs[slot]
        if blob is not None:
            self._bytes -= len(blob)
            self._live -= 1
            self._blobs[slot] = None

    def close(self) -> None:
        self._blobs.clear()
        self._bytes = self._live = 0

    @property
    def nbytes(self) -> int:
        # a bytes object is 33 bytes of header plus its data; the list holds a pointer
        return self._bytes + 33 * self._live + 8 * len(self._blobs)


def _remove_stale(parent: Path) -> None:
    # a worker killed with SIGKILL leaves its file behind: drop those of dead processes
    for path in parent.glob("index-*-*"):
        try:
            pid = int(path.name.split("-")[1])
        except ValueError:
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


class RocksBlobs:
    """Blobs in a fresh RocksDB file under ``parent`` (deleted on :meth:`close`).

    Memory is bounded by small write buffers and a small block cache; values are
    random hashes, so they are stored uncompressed.

    Args:
        parent: Directory for the file (created if missing).
        cache_bytes: LRU block cache size.
    """

    def __init__(self, parent: Path, cache_bytes: int = 8 << 20) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent)
        self.path = Path(tempfile.mkdtemp(prefix=f"index-{os.getpid()}-", dir=parent))
        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        opts.set_write_buffer_size(4 << 20)
        opts.set_max_write_buffer_number(2)
        # Memtable arena blocks default to 1/8 of the write buffer (512 KiB): below the
        # mmap threshold (khabar.memory), so freed memtables leave holes in the heap
        # (700,000 puts of ~1.5 KB: 25 MB of RSS, 20 MB with this). At 1 MiB each block
        # is its own mapping, returned on free.
        opts.set_arena_block_size(1 << 20)
        opts.set_compression_type(rocksdict.DBCompressionType.none())
        table = rocksdict.BlockBasedOptions()
        table.set_block_cache(rocksdict.Cache(cache_bytes))
        table.set_bloom_filter(10, False)
        opts.set_block_based_table_factory(table)
        self._db = rocksdict.Rdict(str(self.path), opts)
        write = rocksdict.WriteOptions()
        write.disable_wal = True  # type: ignore[assignment,method-assign]  # a property at run time; scratch data
        self._db.set_write_options(write)
        self._finalizer = weakref.finalize(self, RocksBlobs._destroy, self._db, self.path)
        self._writes = 0

    @staticmethod
    def _destroy(db: rocksdict.Rdict, path: Path) -> None:
        try:
            db.close()
        finally:
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def _key(slot: int) -> bytes:
        return slot.to_bytes(4, "big")

    # With blobs in RocksDB, free pages pile up inside the heap (RocksDB's blocks and
    # the index's temporaries interleave there). Handing them back every 4,096 writes
    # (glibc malloc_trim, ~0.8 ms a time: 0.2 us a write) took 10 MB off the RSS of a
    # 700,000-entry window (khabar.bench_window --blob-dir).
    _TRIM_EVERY = 4096

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self._TRIM_EVERY == 0:
            release_free_heap()

    def put(self, slot: int, blob: bytes) -> None:
        self._db[self._key(slot)] = blob
        self._wrote()

    def get(self, slot: int) -> bytes:
        blob = self._db.get(self._key(slot))
        if blob is None:
            raise KeyError(slot)
        assert isinstance(blob, bytes)
        return blob

    def get_many(self, slots: list[int]) -> list[bytes]:
        if len(slots) == 1:
            return [self.get(slots[0])]
        blobs = cast("list[object]", self._db[[self._key(s) for s in slots]])  # one multi-get
        out = [b for b in blobs if isinstance(b, bytes)]
        if len(out) != len(slots):
            raise KeyError(slots)
        return out

    def delete(self, slot: int) -> None:
        del self._db[self._key(slot)]
        self._wrote()

    def close(self) -> None:
        self._finalizer()

    @property
    def nbytes(self) -> int:
        return 0  # on disk; RocksDB's own buffers are bounded by the options above
