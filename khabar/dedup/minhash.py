"""Word shingles, MinHash signatures and LSH band keys, vectorized with numpy.

Every token's normalized form is hashed once (xxh3, cached: news vocabulary is
Zipfian), the k-gram shingles are combined from those hashes in numpy, and the
MinHash takes one ``(a*x + b) mod 2**64`` pass over all shingles for all
permutations at once. All functions are pure; the permutation parameters are
derived from a fixed seed so every process (and a restored index) agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt
import xxhash

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

_SEED = 0x6B686162  # "khab": changing it changes every signature (and every stored entry)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_POLY = np.uint64(0x100000001B3)


@lru_cache(maxsize=400_000)
def token_hash(norm: str) -> int:
    """64-bit hash of one normalized word (cached)."""
    return xxhash.xxh3_64_intdigest(norm.encode("utf-8", "surrogatepass"), seed=_SEED)


def _mix(x: U64) -> U64:
    """splitmix64 finalizer: spreads the polynomial combination over all 64 bits."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _MIX1
        x = x ^ (x >> np.uint64(27))
        x = x * _MIX2
        return x ^ (x >> np.uint64(31))


def shingle_set(norms: Sequence[str], k: int) -> U32:
    """Sorted unique 32-bit hashes of the word k-grams of ``norms``.

    Texts shorter than ``k`` words give one shingle of the whole text (or none
    when empty), so short texts still have a set to compare.

    Args:
        norms: Normalized content words in order.
        k: Shingle size in words.

    Returns:
        Sorted, unique ``uint32`` array.
    """
    if not norms:
        return np.empty(0, dtype=np.uint32)
    h = np.fromiter(map(token_hash, norms), dtype=np.uint64, count=len(norms))
    k = min(k, len(h))
    n = len(h) - k + 1
    # Polynomial combination of independent 64-bit token hashes: every bit of the
    # result depends on every word, so the top 32 bits are a good shingle hash.
    acc = h[:n] * _POLY
    for i in range(1, k - 1):
        acc += h[i : i + n]
        acc *= _POLY
    if k > 1:
        acc += h[k - 1 : k - 1 + n]
    out = (acc >> np.uint64(32)).astype(np.uint32)
    out.sort()
    if out.size > 1:
        keep = np.empty(out.size, dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


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
    arithmetic. One outer product covers all shingles and all hash functions;
    an explicit ``% (2**61-1)`` made it three times slower (242 vs 78 µs on a
    604-word article). An empty set gets an all-ones signature.
    """
    if shingles.size == 0:
        return np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    a, b = permutations(num_perm)
    values = np.multiply.outer(a, shingles.astype(np.uint64))
    values += b
    return (values.min(axis=1) >> np.uint64(32)).astype(np.uint32)


def band_keys(sig: U32, bands: int) -> list[int]:
    """One 64-bit key per LSH band (band index folded in, so bands never collide).

    Args:
        sig: MinHash signature; its length must be a multiple of ``bands``.
        bands: Number of bands.
    """
    rows = sig.reshape(bands, -1).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = np.arange(1, bands + 1, dtype=np.uint64) * _MIX2
        for r in range(rows.shape[1]):
            acc = acc * _POLY + rows[:, r]
        keys: list[int] = _mix(acc).tolist()
        return keys


def jaccard(a: U32, b: U32) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
