"""glibc heap settings for long-lived processes that grow large arrays (issue 9).

The dedup index grows typed arrays of tens of MB by reallocation. glibc raises its
mmap threshold each time such a block is freed (up to 32 MB), so later blocks come
from the heap, where the freed ones stay as holes the kernel never gets back: a
300,000-article window held ~40 MB of them (``khabar.bench_window``). A fixed
threshold keeps every block of 1 MiB or more in its own mapping, returned on free.
On other C libraries (musl, macOS) these functions do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

#: ``mallopt`` parameter number of M_MMAP_THRESHOLD (glibc ``malloc.h``).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  # glibc only
    except (OSError, AttributeError):
        return None
    return libc


def cap_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Serve blocks of ``threshold`` bytes or more from their own mappings (glibc ``mallopt``).

    Returns:
        Whether the setting was applied.
    """
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, threshold))


def release_free_heap() -> bool:
    """Hand the heap's free pages back to the kernel (glibc ``malloc_trim``).

    Returns:
        Whether any memory was released.
    """
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))
