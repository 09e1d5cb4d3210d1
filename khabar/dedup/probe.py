"""What the dedup sequencer needs to know about one article: a :class:`Probe`.

Probes are computed next to the shared normalization pass (any partition, in
parallel) and travel on an internal topic to the single sequencer that owns the
:class:`~khabar.dedup.index.DedupIndex`, so they are compact bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import xxhash

from khabar.config import DedupSettings
from khabar.dedup.codec import CorruptEntryError, Reader, Writer
from khabar.dedup.minhash import U16, U32, Spans, shingle_set, signature
from khabar.dedup.slots import sketch
from khabar.dedup.url import canonical_url
from khabar.text.normalize import Doc
from schemas.models import RawArticle

_MAGIC = b"KP\x02"  # v2: span-hashed shingles, story-guard sketch


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # the corpus and many feeds give naive times: read them as UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def content_hash(folded: str) -> str:
    """Exact fingerprint of a normalized text (128-bit xxh3, hex)."""
    return xxhash.xxh3_128_hexdigest(folded.encode("utf-8", "surrogatepass"))


def url_key(url: str | None) -> str | None:
    """Fingerprint of the canonical URL (64-bit xxh3, hex), or None without a usable URL."""
    canon = canonical_url(url)
    if canon is None:
        return None
    return xxhash.xxh3_64_hexdigest(canon.encode("utf-8", "surrogatepass"))


@dataclass(eq=False)
class Probe:
    """Fingerprints of one article.

    Attributes:
        article_id: The article's id.
        content_hash: Hash of ``Doc.folded`` (normalized content words).
        url_key: Hash of the canonical URL, None without a URL.
        shingles: Sorted unique uint32 hashes of word shingles of the content tokens.
        signature: MinHash signature (uint32, ``num_perm`` values).
        n_tokens: Number of content tokens (boilerplate excluded).
        timestamp: ``published_at``, else ``ingested_at``, as epoch seconds; 0.0 when
            neither is known (the index then uses the latest time it has seen).
        words: Story-guard sketch: sorted unique 16-bit hashes of the distinct content
            words (empty unless ``DedupSettings.story_guard``; see :mod:`khabar.dedup.slots`).
        names: The subset of ``words`` that are names or places; ``numbers``: with a digit.
    """

    article_id: str
    content_hash: str
    url_key: str | None
    shingles: U32 = field(repr=False)
    signature: U32 = field(repr=False)
    n_tokens: int
    timestamp: float
    words: U16 = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.uint16))
    names: U16 = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.uint16))
    numbers: U16 = field(repr=False, default_factory=lambda: np.empty(0, dtype=np.uint16))

    def to_bytes(self) -> bytes:
        """Compact binary form (about 4 bytes a shingle plus 4 a signature value)."""
        w = Writer()
        w.pack("3s", _MAGIC)
        w.text(self.article_id)
        w.text(self.content_hash)
        w.text(self.url_key)
        w.pack("Id", self.n_tokens, self.timestamp)
        w.u32_array(np.asarray(self.shingles, dtype=np.uint32))
        w.u32_array(np.asarray(self.signature, dtype=np.uint32))
        w.u16_array(np.asarray(self.words, dtype=np.uint16))
        w.u16_array(np.asarray(self.names, dtype=np.uint16))
        w.u16_array(np.asarray(self.numbers, dtype=np.uint16))
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Probe:
        """Decode :meth:`to_bytes` output.

        Raises:
            CorruptEntryError: The bytes are not a probe of this version.
        """
        r = Reader(data)
        if r.unpack("3s")[0] != _MAGIC:
            raise CorruptEntryError("not a khabar dedup probe (bad magic/version)")
        article_id, chash, ukey = r.text(), r.text(), r.text()
        n_tokens, timestamp = r.unpack("Id")
        shingles, sig = r.u32_array(), r.u32_array()
        words, names, numbers = r.u16_array(), r.u16_array(), r.u16_array()
        r.done()
        if article_id is None or chash is None:
            raise CorruptEntryError("probe without article id or content hash")
        assert isinstance(n_tokens, int) and isinstance(timestamp, float)
        return cls(article_id, chash, ukey, shingles, sig, n_tokens, timestamp, words, names,
                   numbers)


def make_probe(article: RawArticle, doc: Doc, settings: DedupSettings) -> Probe:
    """Fingerprint an article after the shared normalization pass.

    Args:
        article: The article (id, url, times).
        doc: ``prepare_doc(article)``: tokens with boilerplate excluded.
        settings: Shingle size and number of MinHash permutations.

    Returns:
        The probe; texts under ``settings.min_tokens`` content tokens get empty
        shingle sets (they are only ever matched exactly).
    """
    # the shared pass's cached forms: the events stage reads ``doc.folded`` too
    norms = doc.content_norms
    folded = doc.folded
    words = names = numbers = np.empty(0, dtype=np.uint16)
    if len(norms) >= settings.min_tokens:
        spans = Spans(folded)
        shingles = shingle_set(folded, settings.shingle_size, spans)
        if settings.story_guard:
            words, names, numbers = sketch(spans)
    else:
        shingles = np.empty(0, dtype=np.uint32)
    ts = _epoch(article.published_at)
    if ts is None:
        ts = _epoch(article.ingested_at)
    return Probe(
        article_id=article.id,
        content_hash=content_hash(folded),
        url_key=url_key(article.url),
        shingles=shingles,
        signature=signature(shingles, settings.num_perm),
        n_tokens=len(norms),
        timestamp=ts if ts is not None else 0.0,
        words=words,
        names=names,
        numbers=numbers,
    )
