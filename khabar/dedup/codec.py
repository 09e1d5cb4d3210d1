"""A tiny length-prefixed binary codec for probes and index entries.

Little-endian, no pickle: the bytes travel on Kafka and sit in changelog
topics, so they must be compact, versioned and safe to decode from anywhere.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from khabar.errors import KhabarError


class CorruptEntryError(KhabarError):
    """Bytes that should hold a probe or an index entry cannot be decoded."""


class Writer:
    """Appends typed fields to a byte buffer."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def pack(self, fmt: str, *values: object) -> None:
        """Fixed-size fields in ``struct`` format ``fmt`` (little-endian is implied)."""
        self._parts.append(struct.pack("<" + fmt, *values))

    def text(self, value: str | None) -> None:
        """A string of up to 65,534 UTF-8 bytes, or None (length 0xFFFF)."""
        if value is None:
            self.pack("H", 0xFFFF)
            return
        raw = value.encode("utf-8", "surrogatepass")
        if len(raw) >= 0xFFFF:
            raise CorruptEntryError(f"string field too long ({len(raw)} bytes)")
        self.pack("H", len(raw))
        self._parts.append(raw)

    def u32_array(self, values: npt.NDArray[np.uint32]) -> None:
        """A uint32 array with its length."""
        self.pack("I", values.size)
        self._parts.append(values.astype("<u4", copy=False).tobytes())

    def u16_array(self, values: npt.NDArray[np.uint16]) -> None:
        """A uint16 array with its length."""
        self.pack("I", values.size)
        self._parts.append(values.astype("<u2", copy=False).tobytes())

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Reads the fields a :class:`Writer` wrote, raising :class:`CorruptEntryError` on bad data."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CorruptEntryError(f"expected bytes, got {type(data).__name__}")
        self._data = bytes(data)
        self._pos = 0

    def unpack(self, fmt: str) -> tuple[object, ...]:
        size = struct.calcsize("<" + fmt)
        if self._pos + size > len(self._data):
            raise CorruptEntryError("truncated record")
        values = struct.unpack_from("<" + fmt, self._data, self._pos)
        self._pos += size
        return values

    def text(self) -> str | None:
        (n,) = self.unpack("H")
        assert isinstance(n, int)
        if n == 0xFFFF:
            return None
        if self._pos + n > len(self._data):
            raise CorruptEntryError("truncated string")
        raw = self._data[self._pos : self._pos + n]
        self._pos += n
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise CorruptEntryError(f"bad string field: {exc}") from exc

    def _array(self, dtype: str, itemsize: int) -> npt.NDArray[Any]:
        (n,) = self.unpack("I")
        assert isinstance(n, int)
        end = self._pos + itemsize * n
        if end > len(self._data):
            raise CorruptEntryError("truncated array")
        arr = np.frombuffer(self._data, dtype=dtype, count=n, offset=self._pos)
        self._pos = end
        return arr

    def u32_array(self) -> npt.NDArray[np.uint32]:
        return self._array("<u4", 4).astype(np.uint32)

    def u16_array(self) -> npt.NDArray[np.uint16]:
        return self._array("<u2", 2).astype(np.uint16)

    def done(self) -> None:
        """Check that every byte was consumed."""
        if self._pos != len(self._data):
            raise CorruptEntryError(f"{len(self._data) - self._pos} trailing bytes")
