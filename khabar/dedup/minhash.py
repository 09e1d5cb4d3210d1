"""Word shingles, MinHash signatures and LSH band keys, vectorized with numpy.

Shingles are hashed straight from the bytes of the folded text (``Doc.folded``:
normalized words joined by single spaces), with no Python work per word: one
prefix sum gives a polynomial hash of every byte span, so each word k-gram's
hash is two lookups and a multiply (see :func:`span_hashes`). The MinHash takes
one ``(a*x + b) mod 2**64`` pass over all shingles for all permutations at
once. All functions are pure; the hash parameters are fixed constants or derived
from a fixed seed so every process (and a restored index) agrees.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

U16 = npt.NDArray[np.uint16]
U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
IDX = npt.NDArray[np.intp]

_SEED = 0x6B686162  # "khab": changing it changes every signature (and every stored entry)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
#: Odd multiplier of the polynomial span hash (mod 2**64) and its inverse.
_BASE = 0xD6E8FEB86659FD93
_BASE_INV = pow(_BASE, -1, 1 << 64)
_S30, _S27, _S31, _S4 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(4)
_SPACE = 0x20  # the word separator of the folded text, in UTF-16 code units


def _mix(x: U64) -> U64:
    """splitmix64 finalizer, in place on a fresh array: spreads every input bit over all 64."""
    x ^= x >> _S30
    x *= _MIX1  # uint64 array arithmetic wraps silently (only numpy scalars warn)
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31
    return x


class _Powers:
    """``BASE**i`` and ``BASE**-i`` mod 2**64 for i < n, grown by doubling on demand."""

    def __init__(self) -> None:
        self.pow: U64 = np.empty(0, dtype=np.uint64)
        self.inv: U64 = np.empty(0, dtype=np.uint64)

    def need(self, n: int) -> None:
        if n <= self.pow.size:
            return
        size = max(4096, 1 << (n - 1).bit_length())
        for name, base in (("pow", _BASE), ("inv", _BASE_INV)):
            arr = np.full(size, base, dtype=np.uint64)
            arr[0] = 1
            np.cumprod(arr, out=arr)  # wraps mod 2**64
            setattr(self, name, arr)


_POWERS = _Powers()


class Spans:
    """Prefix hashes and word boundaries of one folded text (UTF-16 code units).

    ``hash(i, j)`` of the code units ``[i, j)`` is ``sum(u[i+m] * BASE**m)`` mod 2**64,
    computed as ``(H[j] - H[i]) * BASE**-i``; identical spans hash identically
    wherever they sit in whichever text.
    """

    __slots__ = ("ends", "prefix", "starts", "units")

    def __init__(self, folded: str) -> None:
        units = np.frombuffer(folded.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
        n = units.size
        _POWERS.need(n + 1)
        prefix = np.empty(n + 1, dtype=np.uint64)
        prefix[0] = 0
        np.cumsum(units * _POWERS.pow[:n], out=prefix[1:])
        seps = np.flatnonzero(units == _SPACE)
        starts = np.empty(seps.size + 1, dtype=np.intp)
        starts[0] = 0
        np.add(seps, 1, out=starts[1:])
        ends = np.empty(seps.size + 1, dtype=np.intp)
        ends[:-1] = seps
        ends[-1] = n
        self.units: U16 = units
        self.prefix: U64 = prefix
        self.starts: IDX = starts
        self.ends: IDX = ends

    @property
    def n_words(self) -> int:
        return int(self.starts.size)

    def hashes(self, starts: IDX, ends: IDX) -> U64:
        """Mixed 64-bit hashes of the spans ``[starts[m], ends[m])`` (length folded in)."""
        h = self.prefix[ends] - self.prefix[starts]
        h *= _POWERS.inv[starts]
        h += (ends - starts).astype(np.uint64) * _GOLD
        return _mix(h)


def _sorted_unique(values: U32) -> U32:
    values.sort()
    if values.size > 1:
        keep = np.empty(values.size, dtype=bool)
        keep[0] = True
        np.not_equal(values[1:], values[:-1], out=keep[1:])
        values = values[keep]
    return values


def shingle_set(folded: str, k: int, spans: Spans | None = None) -> U32:
    """Sorted unique 32-bit hashes of the word k-grams of a folded text.

    Texts shorter than ``k`` words give one shingle of the whole text (or none
    when empty), so short texts still have a set to compare.

    Args:
        folded: Normalized words joined by single spaces (``Doc.folded``).
        k: Shingle size in words.
        spans: ``Spans(folded)`` when the caller already has it.

    Returns:
        Sorted, unique ``uint32`` array.
    """
    if not folded:
        return np.empty(0, dtype=np.uint32)
    sp = spans if spans is not None else Spans(folded)
    k = min(k, sp.n_words)
    h = sp.hashes(sp.starts[: sp.n_words - k + 1], sp.ends[k - 1 :])
    return _sorted_unique((h >> np.uint64(32)).astype(np.uint32))


def word_hashes(spans: Spans) -> U64:
    """Mixed 64-bit hash of every word of the text, in order."""
    return spans.hashes(spans.starts, spans.ends)


@cache
def permutations(num_perm: int) -> tuple[U64, U64]:
    """The shared ``(a, b)`` parameters of ``num_perm`` hash functions (a odd, 64-bit)."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 1 << 63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 1 << 63, size=(num_perm, 1), dtype=np.uint64)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def signature(shingles: U32, num_perm: int) -> U32:
    """MinHash signature: per hash function, the high 32 bits of ``min((a*x + b) mod 2**64)``.

    ``(a*x + b) mod 2**64 >> 32`` with random odd ``a`` is the multiply-add-shift
    universal family for 32-bit keys (Dietzfelbinger): the same ``(a*x+b) mod p``
    scheme with ``p = 2**64``, whose modulo is the free wrap-around of uint64
    arithmetic. One outer product covers all shingles and all hash functions.
    An empty set gets an all-ones signature.
    """
    if shingles.size == 0:
        return np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    a, b = permutations(num_perm)
    values = np.multiply.outer(a, shingles.astype(np.uint64))
    values += b
    return (values.min(axis=1) >> np.uint64(32)).astype(np.uint32)


@cache
def _band_salts(bands: int, rows: int, story_bands: int) -> U64:
    """A random 60-bit salt per band: folded into its key so bands never share keys."""
    rng = np.random.default_rng([_SEED, bands, rows, story_bands])
    salts = rng.integers(0, 1 << 60, size=bands + story_bands, dtype=np.uint64)
    salts.setflags(write=False)
    return salts


_LOW60 = np.uint64((1 << 60) - 1)


def story_key_high(bands: int, rows: int, story_bands: int) -> U64:
    """Bits 32..59 of every key of each story band (:func:`band_keys_array`).

    A story key is one 32-bit signature value XOR its band's salt, so its upper bits
    are the salt's, whatever the article: the LSH table need not store them.
    """
    out: U64 = (_band_salts(bands, rows, story_bands)[bands:] & _LOW60) >> np.uint64(32)
    return out


def band_keys(sig: U32, bands: int, rows: int, story_bands: int = 0) -> list[int]:
    """:func:`band_keys_array` as Python ints."""
    keys: list[int] = band_keys_array(sig, bands, rows, story_bands).tolist()
    return keys


def band_keys_array(sig: U32, bands: int, rows: int, story_bands: int = 0) -> U64:
    """LSH keys: ``bands`` keys of ``rows`` values each, then ``story_bands`` one-value keys.

    A band's values are packed into one 64-bit word (``rows`` <= 2; more rows are
    first combined with :func:`_mix`), XORed with the band's salt and cut to 60 bits:
    keys below 2**60 (the index stores 40 bits a key and buckets by the rest).

    Args:
        sig: MinHash signature with at least ``bands * rows + story_bands`` values.
        bands: Near-copy bands.
        rows: Signature values per near-copy band.
        story_bands: One-row story bands, over the values after the near bands.
    """
    n = bands * rows
    x = sig[: n + story_bands].astype(np.uint64)
    out = np.empty(bands + story_bands, dtype=np.uint64)
    if rows == 1:
        out[:bands] = x[:n]
    elif rows == 2:
        np.bitwise_or(x[0:n:2] << np.uint64(32), x[1:n:2], out=out[:bands])
    else:
        acc = x[0:n:rows] * _GOLD
        for r in range(1, rows):
            acc = _mix(acc ^ x[r:n:rows])
        out[:bands] = acc
    out[bands:] = x[n:]
    out ^= _band_salts(bands, rows, story_bands)
    out &= _LOW60
    return out


def jaccard(a: U32, b: U32) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if a.size == 0 or b.size == 0:
        return 0.0
    if a.size > b.size:
        a, b = b, a
    pos = np.searchsorted(b, a)  # both sorted and unique: a merge by binary search
    np.minimum(pos, b.size - 1, out=pos)
    inter = int(np.count_nonzero(b[pos] == a))
    return inter / (a.size + b.size - inter)
