"""Arabic variety (MSA or dialect group) of Arabic text.

Two methods, chosen by :func:`get_variety_identifier`:

* ``camel-did`` — camel-tools' dialect identifier (26 city dialects + MSA, Salameh et
  al. 2018) when its model data is installed; city labels are summed into khabar's
  five groups with camel-tools' own region map (:mod:`khabar.language.camel`).
* ``markers`` — always available: weighted dialect-marker words from
  ``data/markers.tsv``; MSA-only words (سوف، لقد، ماذا...) compete on the same scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from khabar.language.lexicon import VARIETIES, Lexicon
from schemas.models import Variety

#: Score MSA starts with: with no marker at all a long text is read as MSA.
MSA_PRIOR = 0.5
#: Below this many content words and with no marker, the variety is ``unknown``.
MIN_WORDS_FOR_MSA_DEFAULT = 6


class VarietyIdentifier(Protocol):
    """Anything that names the variety of Arabic words."""

    method: str

    def identify(self, norms: Sequence[str], text: str) -> Variety:
        """Variety of a text given its normalized words (``Token.norm``) and its raw text."""
        ...


def marker_scores(norms: Sequence[str], lexicon: Lexicon) -> dict[str, float]:
    """Sum of marker weights per variety over ``norms``."""
    scores = dict.fromkeys(VARIETIES, 0.0)
    table = lexicon.norm_words
    for norm in norms:
        entry = table.get(norm)
        if entry is None:
            continue
        for label, weight in entry.items():
            if label in scores:
                scores[label] += weight
    return scores


def decide_variety(scores: dict[str, float], n_words: int, method: str = "markers") -> Variety:
    """Turn per-variety scores into a :class:`Variety`.

    MSA gets a small prior so that a news paragraph with one quoted dialect word
    stays MSA; a short text with no evidence at all is ``unknown``.
    """
    evidence = sum(scores.values())
    if evidence <= 0.0:
        if n_words >= MIN_WORDS_FOR_MSA_DEFAULT:
            return Variety(code="msa", confidence=0.5, method=method)
        return Variety(code="unknown", confidence=0.0, method=method)
    boosted = dict(scores)
    boosted["msa"] = boosted.get("msa", 0.0) + MSA_PRIOR
    code = max(boosted, key=lambda k: boosted[k])
    total = sum(boosted.values())
    confidence = boosted[code] / (total + 0.5)
    return Variety(code=code, confidence=round(min(1.0, max(0.0, confidence)), 4), method=method)


class MarkerVariety:
    """Variety from the marker lexicon shipped with khabar."""

    method = "markers"

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon

    def identify(self, norms: Sequence[str], text: str) -> Variety:
        """Variety of ``norms`` (``text`` is not needed by this method)."""
        return decide_variety(marker_scores(norms, self._lexicon), len(norms))
