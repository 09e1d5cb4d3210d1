"""One normalization pass per article, shared by every stage.

camel-tools supplies the data-free pieces: the ``arclean`` character map, the
diacritic remover and the alef / alef-maksura / teh-marbuta normalizers. The
pass tokenizes the *original* text, so every token keeps its character span in
the article as published, and normalizes each distinct word form once (a cache:
news vocabulary is Zipfian, so most tokens are cache hits).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import accumulate, repeat
from typing import NamedTuple

from camel_tools.utils.charmap import CharMapper
from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
)

from khabar.text.sentences import split_sentences

# Arabic diacritics (harakat, tanwin, shadda, sukun, dagger alef, Quranic marks) are
# category Mn, which ``\w`` does not match: include them so a diacritized word stays one token.
_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
TOKEN_RE = re.compile(rf"[\w{_MARKS}]+(?:[.,٫][0-9٠-٩]+)*")
# The same pattern as one capturing group: ``split`` then returns separators and words
# alternately, all in C, and the words' offsets are the running sum of the pieces' lengths.
_SPLIT_RE = re.compile(f"({TOKEN_RE.pattern})")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class _CharmapTable(dict[int, "str | int | None"]):
    """A ``str.translate`` table with camel-tools' CharMapper semantics.

    CharMapper keeps characters mapped to ``None``, replaces mapped ones, and
    replaces every character it does not list with its default (``""`` for
    ``arclean``: such characters are dropped). ``__missing__`` gives that
    default, and remembers it, so each new character costs one Python call.
    """

    def __init__(self, charmap: dict[str, str | None], default: str | None) -> None:
        super().__init__()
        for src, dst in charmap.items():
            if len(src) == 1:
                self[ord(src)] = ord(src) if dst is None else dst
        self._default = default

    def __missing__(self, key: int) -> str | int | None:
        value: str | int | None = key if self._default is None else self._default
        self[key] = value
        return value


@cache
def arclean_table() -> dict[int, str | int | None]:
    """camel-tools' ``arclean`` character map as a ``str.translate`` table.

    ``CharMapper.map_string`` walks the string in Python, one character at a
    time (about 0.3 ms for a 3 KB article); ``str.translate`` with the same map
    is C code. ``tests/test_normalize.py`` checks the two agree.
    """
    mapper = CharMapper.builtin_mapper("arclean")
    # the expanded map and default camel-tools built (private: pinned by the equality test)
    return _CharmapTable(mapper._charmap, mapper._default)


def arclean(text: str) -> str:
    """camel-tools ``arclean``: presentation forms to base letters, junk characters removed."""
    return text.translate(arclean_table())


def _fold_steps(text: str) -> str:
    """camel-tools' steps, one after the other: arclean, no diacritics, unified alef / alef
    maksura / teh marbuta, no tatweel, ASCII digits (everything but lower-casing)."""
    w = dediac_ar(arclean(text))
    w = normalize_teh_marbuta_ar(normalize_alef_maksura_ar(normalize_alef_ar(w)))
    return w.replace("\u0640", "").translate(_DIGITS)


def normalize_word_reference(word: str) -> str:
    """The word normalization spelled out step by step.

    :func:`normalize_word` computes the same with one ``str.translate``
    (``tests/test_normalize.py`` checks the two agree, character by character over the BMP).
    """
    return _fold_steps(word).lower()


class _FoldTable(dict[int, "str | int | None"]):
    """A ``str.translate`` table doing :func:`_fold_steps`, filled one character at a time
    on first sight.

    Every step maps characters independently of their neighbours, so the composition is a
    character map too: a word unseen by the word cache costs one C call instead of seven
    passes (about a dozen such words per article: the Zipf tail of news vocabulary).
    Lower-casing stays a separate pass over the word: Greek capital sigma lowers by its
    context.
    """

    def __missing__(self, key: int) -> str | int | None:
        value = self[key] = _fold_steps(chr(key))
        return value


_FOLD = _FoldTable()


def _normalize_uncached(word: str) -> str:
    return word.translate(_FOLD).lower()


class _WordCache(dict[str, str]):
    """Word → normalized form, filled on first sight.

    A dict with ``__missing__`` rather than ``lru_cache``: ``map(cache.__getitem__, words)``
    looks every word of an article up in C, and only new words cost a Python call. The
    bound is crude (forget everything when full) because refilling is cheap and news
    vocabulary is Zipfian: the common words come back within a few articles.
    """

    max_size = 200_000

    def __missing__(self, word: str) -> str:
        if len(self) >= self.max_size:
            self.clear()
        norm = self[word] = _normalize_uncached(word)
        return norm


_WORDS = _WordCache()


def normalize_word(word: str) -> str:
    """Normalized form of one word: arclean, no diacritics or tatweel, unified alef/ya/teh
    marbuta, ASCII digits, lower-case Latin."""
    return _WORDS[word]


def normalize_text(text: str) -> str:
    """The folded form of a text: normalized words joined by single spaces."""
    return " ".join(map(_WORDS.__getitem__, TOKEN_RE.findall(text)))


class Token(NamedTuple):
    """A word of the original text: ``text[start:end]`` and its normalized form.

    A named tuple rather than a dataclass: an article has hundreds of tokens and
    building tuples costs half as much (the whole pass has a 0.3 ms budget).
    """

    start: int
    end: int
    text: str
    norm: str


class Sentence(NamedTuple):
    """A sentence of the original text and the range of its tokens.

    A named tuple, like :class:`Token`, because building one is cheap.
    """

    start: int
    end: int
    text: str
    first_token: int
    last_token: int  # exclusive


@dataclass
class Doc:
    """An article after the shared normalization pass.

    Attributes:
        text: The article body exactly as received; every span refers to it.
        tokens: Words with spans and normalized forms, in order.
        excluded: Character spans of boilerplate (footers, share lines) that
            fingerprinting and extraction skip.
    """

    text: str
    tokens: list[Token]
    excluded: list[tuple[int, int]] = field(default_factory=list)

    @cached_property
    def starts(self) -> list[int]:
        """``[t.start for t in tokens]``: sorted, for binary search."""
        return [t.start for t in self.tokens]

    @cached_property
    def norms(self) -> list[str]:
        """``[t.norm for t in tokens]``."""
        return [t.norm for t in self.tokens]

    @cached_property
    def sentences(self) -> list[Sentence]:
        """Sentences with their token ranges (computed on first use)."""
        starts, text = self.starts, self.text
        return [Sentence(s, e, text[s:e], bisect_left(starts, s), bisect_left(starts, e))
                for s, e in split_sentences(text)]

    @cached_property
    def _content_mask(self) -> bytearray | None:
        """1 per token outside boilerplate, 0 inside; ``None`` when nothing is excluded."""
        if not self.excluded:
            return None
        # a token is excluded when a span holds its start; tokens are in text order, so
        # each span cuts one range of token indexes, found by binary search
        starts = self.starts
        keep = bytearray(b"\x01") * len(starts)
        for s, e in self.excluded:
            lo, hi = bisect_left(starts, s), bisect_left(starts, e)
            if hi > lo:
                keep[lo:hi] = bytes(hi - lo)
        return keep

    @cached_property
    def content_tokens(self) -> list[Token]:
        """Tokens outside boilerplate."""
        keep = self._content_mask
        if keep is None:
            return self.tokens
        return [t for t, k in zip(self.tokens, keep, strict=True) if k]

    @cached_property
    def content_norms(self) -> list[str]:
        """Normalized forms of the tokens outside boilerplate."""
        keep = self._content_mask
        if keep is None:
            return self.norms
        return [n for n, k in zip(self.norms, keep, strict=True) if k]

    @cached_property
    def folded(self) -> str:
        """Normalized content words joined by spaces: what exact fingerprints hash."""
        return " ".join(self.content_norms)

    @cached_property
    def clean(self) -> str:
        """arclean'ed text (presentation forms resolved) for the language detector."""
        return arclean(self.text)


_new_tuple = tuple.__new__


def make_doc(text: str, excluded: list[tuple[int, int]] | None = None) -> Doc:
    """Run the shared normalization pass over one article body."""
    # Every step below is one C call over the whole article (the pass has a 0.3 ms
    # budget and an article has hundreds of tokens, so a Python step per token is too
    # dear): parts alternate separator, word, ..., separator.
    parts = _SPLIT_RE.split(text)
    words = parts[1::2]
    bounds = list(accumulate(map(len, parts)))
    starts = bounds[0:-1:2]
    norms = list(map(_WORDS.__getitem__, words))
    tokens: list[Token] = list(map(_new_tuple, repeat(Token), zip(starts, bounds[1::2], words, norms, strict=True)))
    doc = Doc(text=text, tokens=tokens, excluded=excluded or [])
    # seed the cached properties with what the pass already has
    doc.__dict__["starts"] = starts
    doc.__dict__["norms"] = norms
    return doc
