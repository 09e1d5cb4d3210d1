"""Word-sense models for trigger words with a frequent non-event sense.

Some trigger words mean the event in one context and something common in another: طالب
"demanded" / "student", دعوة "call" / "invitation, preaching", حكم "court ruling" / "rule,
referee", مسيرة "march" / "career, drone". Word lists and cue windows did not separate them
(the misses they left are listed in ``eval/events/README.md``), so an entry of
``triggers.tsv`` whose ``needs`` is ``SENSE:<family>`` hands the decision to a small
logistic-regression model of that family: sparse binary features of the sentence around the
word (:func:`sense_features`), one weight per feature, and a threshold chosen by
cross-validation. Inference is a dictionary look-up per feature and one exponential, in
pure Python; the weights ship in ``data/senses.json``, written by ``khabar senses train``
(:mod:`khabar.eval.senses`) from contexts labeled under ``eval/events/GUIDELINES.md``.

A family without a model never fires: the entry is then as if it were not in the lexicon.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

from khabar.events.clauses import _core
from khabar.events.lexicon import LexiconError
from khabar.events.mentions import Mention
from khabar.text.normalize import Doc

#: Feature set version: a model trained on another version is refused at load.
FEATURES_VERSION = 1

#: Words looked at on each side of the trigger, inside its sentence.
WINDOW = 4

#: Tokens within which an actor counts as a participant next to the trigger.
ACTOR_REACH = 6


class SenseModelError(LexiconError):
    """``senses.json`` is unreadable, of another feature version, or malformed."""


def _sentence_bounds(doc: Doc | None, start: int, n_tokens: int) -> tuple[int, int]:
    """Token range ``[lo, hi)`` of the sentence holding token ``start``."""
    if doc is None:
        return 0, n_tokens
    sentences = doc.sentences
    si = bisect_right([s.first_token for s in sentences], start) - 1
    if si < 0:
        return 0, n_tokens
    return sentences[si].first_token, sentences[si].last_token


def sense_features(m: Mention, norms: Sequence[str], cues: dict[str, list[Mention]],
                   actors: Sequence[Mention], doc: Doc | None) -> list[str]:
    """The binary features of a trigger mention for its family's model.

    The word itself and its clitic, the words next to it (as written and without
    proclitics and article), the words within :data:`WINDOW` tokens on each side, the cue
    classes of ``cues.tsv`` near it and in its sentence, and whether an actor stands close
    before or after it. Nothing crosses the sentence: a model trained on sentences alone
    sees what the extractor sees in an article.

    Args:
        m: The trigger mention (tokens ``[m.start, m.end)`` of the document).
        norms: The document's normalized tokens.
        cues: The sentence's cue mentions by class.
        actors: The sentence's actor mentions.
        doc: The document, for the sentence's bounds (``None``: all of ``norms``).
    """
    lo, hi = _sentence_bounds(doc, m.start, len(norms))
    i, j = m.start, m.end
    word = norms[i]
    feats = [f"w={word}", f"c={m.hit.clitic or '-'}", f"core={_core(word)}"]
    if i - lo <= 1:
        feats.append("pos=first")
    for k in (1, 2):
        left = norms[i - k] if i - k >= lo else "<s>"
        right = norms[j + k - 1] if j + k - 1 < hi else "</s>"
        feats.append(f"L{k}={left}")
        feats.append(f"R{k}={right}")
        if k == 1:
            feats.append(f"L1c={_core(left)}")
            feats.append(f"R1c={_core(right)}")
            # the preposition fused to the next word: طالب بـ, دعوة إلى/لـ
            feats.append(f"R1p={right[:1] if right[:1] in 'بل' and len(right) > 3 else '-'}")
    feats.extend(f"l={_core(w)}" for w in norms[max(lo, i - WINDOW):i])
    feats.extend(f"r={_core(w)}" for w in norms[j:min(hi, j + WINDOW)])
    for kind, ms in cues.items():
        feats.append(f"scue={kind}")
        if any(c.end >= i - WINDOW and c.start <= j + WINDOW for c in ms):
            feats.append(f"cue={kind}")
    if any(i - ACTOR_REACH <= a.end <= i for a in actors):
        feats.append("actor=before")
    if any(j <= a.start <= j + ACTOR_REACH for a in actors):
        feats.append("actor=after")
    return feats


@dataclass(frozen=True, slots=True)
class SenseModel:
    """One family's logistic-regression model.

    Attributes:
        family: The family name (``needs`` is ``SENSE:<family>``).
        weights: Weight of each feature (features without a weight count 0).
        bias: The intercept.
        threshold: The probability at or above which the word is the event.
    """

    family: str
    weights: dict[str, float]
    bias: float
    threshold: float

    def probability(self, features: Iterable[str]) -> float:
        """P(event sense | features); a feature listed twice counts twice (bags of words)."""
        w = self.weights
        z = self.bias + sum(w.get(f, 0.0) for f in features)
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


class SenseJudge(Protocol):
    """Decides whether a sense-classified trigger mention is the event (see :class:`Senses`)."""

    def __call__(self, family: str, features: list[str], m: Mention, doc: Doc | None) -> bool: ...


class Senses:
    """The packaged models by family; the judge the extractor uses by default."""

    def __init__(self, models: dict[str, SenseModel]) -> None:
        self.models = models

    def __call__(self, family: str, features: list[str], m: Mention, doc: Doc | None) -> bool:
        model = self.models.get(family)
        return model is not None and model.probability(features) >= model.threshold


def parse_models(data: dict[str, Any]) -> dict[str, SenseModel]:
    """Models from the parsed JSON of ``senses.json``.

    Raises:
        SenseModelError: another feature version or a malformed family.
    """
    if data.get("features_version") != FEATURES_VERSION:
        raise SenseModelError(f"senses.json: features_version {data.get('features_version')!r}, "
                              f"this code computes version {FEATURES_VERSION}: retrain the models "
                              "(khabar senses train)")
    models = {}
    try:
        for family, spec in data["families"].items():
            models[family] = SenseModel(family, {str(k): float(v) for k, v in spec["weights"].items()},
                                        float(spec["bias"]), float(spec["threshold"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SenseModelError(f"senses.json: malformed family: {exc!r}") from exc
    return models


@cache
def get_senses() -> Senses:
    """The packaged sense models, read once (lazily: nothing is read at import).

    Raises:
        SenseModelError: the file is missing, not JSON, or malformed.
    """
    try:
        text = resources.files("khabar.events").joinpath("data/senses.json").read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise SenseModelError(f"cannot read khabar/events/data/senses.json: {exc}") from exc
    return Senses(parse_models(data))
