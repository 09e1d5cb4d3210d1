"""One normalization pass per article, shared by every stage.

camel-tools supplies the data-free pieces: the ``arclean`` character map, the
diacritic remover and the alef / alef-maksura / teh-marbuta normalizers. The
pass tokenizes the *original* text, so every token keeps its character span in
the article as published, and normalizes each distinct word form once (a cache:
news vocabulary is Zipfian, so most tokens are cache hits).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
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


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """Normalized form of one word: arclean, no diacritics or tatweel, unified alef/ya/teh
    marbuta, ASCII digits, lower-case Latin."""
    w = dediac_ar(arclean(word))
    w = normalize_teh_marbuta_ar(normalize_alef_maksura_ar(normalize_alef_ar(w)))
    return w.replace("\u0640", "").translate(_DIGITS).lower()


def normalize_text(text: str) -> str:
    """The folded form of a text: normalized words joined by single spaces."""
    return " ".join(normalize_word(m.group()) for m in TOKEN_RE.finditer(text))


class Token(NamedTuple):
    """A word of the original text: ``text[start:end]`` and its normalized form.

    A named tuple rather than a dataclass: an article has hundreds of tokens and
    building tuples costs half as much (the whole pass has a 0.3 ms budget).
    """

    start: int
    end: int
    text: str
    norm: str


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the original text and the range of its tokens."""

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
    def sentences(self) -> list[Sentence]:
        """Sentences with their token ranges (computed on first use)."""
        starts = [t.start for t in self.tokens]
        out = []
        for s, e in split_sentences(self.text):
            first = bisect.bisect_left(starts, s)
            last = bisect.bisect_left(starts, e)
            out.append(Sentence(s, e, self.text[s:e], first, last))
        return out

    @cached_property
    def content_tokens(self) -> list[Token]:
        """Tokens outside boilerplate."""
        if not self.excluded:
            return self.tokens
        spans = self.excluded
        return [t for t in self.tokens if not any(s <= t.start < e for s, e in spans)]

    @cached_property
    def folded(self) -> str:
        """Normalized content words joined by spaces: what exact fingerprints hash."""
        return " ".join(t.norm for t in self.content_tokens)

    @cached_property
    def clean(self) -> str:
        """arclean'ed text (presentation forms resolved) for the language detector."""
        return arclean(self.text)


def make_doc(text: str, excluded: list[tuple[int, int]] | None = None) -> Doc:
    """Run the shared normalization pass over one article body."""
    norm = normalize_word
    new = tuple.__new__
    tokens: list[Token] = [
        new(Token, (s, e, w, norm(w)))
        for m in TOKEN_RE.finditer(text)
        for s, e in (m.span(),)
        for w in (text[s:e],)
    ]
    return Doc(text=text, tokens=tokens, excluded=excluded or [])
