"""Word lists a linguist edits: function words and dialect markers (TSV files in ``data/``).

Files are read lazily, once per process, through cached loaders; nothing is read at import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from khabar.text.normalize import normalize_word

#: Varieties a dialect marker can point to (``Variety.code`` minus "unknown").
VARIETIES = ("msa", "egy", "lev", "glf", "mag")
#: Languages the function-word list discriminates between.
FW_LANGUAGES = ("ar", "fa", "ur")

# Diacritics and tatweel: removed from the surface key of Persian/Urdu words, which
# otherwise keeps the letters exactly as typed.
_SURFACE_DROP = {c: None for c in range(0x064B, 0x0660)} | {0x0670: None, 0x0640: None}


def surface_key(word: str) -> str:
    """Letter-preserving key for Persian/Urdu function words: no diacritics or tatweel.

    Unlike :func:`~khabar.text.normalize.normalize_word` it keeps ی ک گ پ ہ ے ٹ ں as they
    are: arclean folds them into Arabic letters, which would erase the evidence.
    """
    return word.translate(_SURFACE_DROP)


def parse_tsv(lines: Iterable[str], labels: tuple[str, ...]) -> list[tuple[str, str, float]]:
    """Rows ``(word, label, weight)`` of a ``word<TAB>label<TAB>weight`` file.

    Blank lines and ``#`` comments are skipped; rows with an unknown label, a missing or
    non-numeric weight are skipped too (a typo in a data file must not stop the worker).
    """
    rows = []
    for raw in lines:
        line = raw.strip("\n").strip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) < 3 or parts[1] not in labels or not parts[0]:
            continue
        try:
            weight = float(parts[2])
        except ValueError:
            continue
        rows.append((parts[0], parts[1], weight))
    return rows


def _read_data(name: str) -> list[str]:
    return resources.files("khabar.language").joinpath("data", name).read_text("utf-8").splitlines()


@dataclass(frozen=True)
class Lexicon:
    """Lookup tables built from the data files.

    Attributes:
        norm_words: ``Token.norm`` → {label: weight}; labels are Arabic varieties
            (from ``markers.tsv``) and ``"ar"`` (Arabic function words).
        surface_words: letter-preserving surface form → {"fa" | "ur": weight}.
    """

    norm_words: dict[str, dict[str, float]]
    surface_words: dict[str, dict[str, float]]


def build_lexicon(
    function_words: list[tuple[str, str, float]], markers: list[tuple[str, str, float]]
) -> Lexicon:
    """Build lookup tables; a word listed twice for one label keeps its highest weight."""
    norm: dict[str, dict[str, float]] = {}
    surface: dict[str, dict[str, float]] = {}
    for word, label, weight in function_words:
        if label == "ar":
            entry = norm.setdefault(normalize_word(word), {})
        else:
            entry = surface.setdefault(surface_key(word), {})
        entry[label] = max(weight, entry.get(label, weight))
    for word, label, weight in markers:
        entry = norm.setdefault(normalize_word(word), {})
        entry[label] = max(weight, entry.get(label, weight))
    return Lexicon(norm_words=norm, surface_words=surface)


@cache
def get_lexicon() -> Lexicon:
    """The lexicon shipped with khabar (``data/function_words.tsv``, ``data/markers.tsv``)."""
    return build_lexicon(
        parse_tsv(_read_data("function_words.tsv"), FW_LANGUAGES),
        parse_tsv(_read_data("markers.tsv"), VARIETIES),
    )
