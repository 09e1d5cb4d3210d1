"""Language and Arabic-variety identification: :func:`get_detector`, :func:`detect_text`.

How a text is decided (figures and the reasons for each choice: ``README.md`` here):

1. **Plain-Arabic fast path.** One regex search tells whether the text holds any
   letter other than the 36 core Arabic letters. If not (most Arabic news), only
   function words can still say Persian typed with Arabic ي/ك; they are counted
   on the first ``max_tokens`` tokens. No Persian/Urdu evidence → Arabic, and the
   statistical model is not run at all.
2. **Segments.** Otherwise the text is cut into paragraphs, and paragraphs into
   runs of one script (so CSS inside an Arabic paragraph is its own segment).
   Runs that look like code are junk: they make the article ``mixed`` but do not
   vote.
3. **Arabic-script segments**: fastText lid.176 on a bounded sample, restricted to
   Arabic-script languages, plus log-odds evidence from function words, Persian /
   Urdu letters, and an Arabic prior when no Persian/Urdu letter occurs.
4. **Other scripts**: fastText lid.176 on a bounded sample.
5. The article's language is the letter-weighted vote of its segments.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from khabar.config import LanguageSettings
from khabar.errors import KhabarError
from khabar.language.fasttext_lid import FastTextLid, load_fasttext
from khabar.language.lexicon import Lexicon, get_lexicon
from khabar.language.script import (
    FA_UR_LETTERS,
    NOT_PLAIN_ARABIC,
    OTHER_ARABIC_SCRIPT,
    UR_LETTERS,
    lid_text,
    looks_like_code,
    word_script,
)
from khabar.language.variety import MarkerVariety, VarietyIdentifier, decide_variety
from khabar.text.normalize import Doc, Token, make_doc
from schemas.models import Alternative, Language, Variety

#: Languages written in Arabic script that lid.176 knows; Arabic-script text is
#: restricted to these (lid.176 otherwise answers e.g. Egyptian Arabic → Sindhi).
ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "sd", "ku", "ug", "pa", "az", "ks", "bal"})
#: A script that identifies its language without a model.
SCRIPT_LANGUAGE = {"Hebr": "he", "Grek": "el", "Armn": "hy", "Geor": "ka", "Thai": "th",
                   "Hang": "ko", "Hira": "ja", "Kana": "ja", "Thaa": "dv"}
#: Evidence per token with a Persian/Urdu-only letter (ی ک گ پ چ ژ), per language.
_FA_UR_LETTER_WEIGHT = {"fa": 0.6, "ur": 0.4}
#: Evidence per token with an Urdu-only letter (ٹ ڈ ڑ ں ے ہ ھ).
_UR_LETTER_WEIGHT = 1.0
#: Evidence for Arabic per token with teh marbuta or the definite article.
_AR_TEH_MARBUTA = 0.5
_AR_DEFINITE = 0.3
_SPECIAL_LETTERS = FA_UR_LETTERS | UR_LETTERS | OTHER_ARABIC_SCRIPT
_TEXT = attrgetter("text")
_SPECIAL_RE = re.compile(f"[{''.join(sorted(_SPECIAL_LETTERS))}]")
#: A segment needs this many tokens and letters to stand apart from its paragraph.
_MIN_RUN_TOKENS = 3
_MIN_RUN_LETTERS = 12


@dataclass
class _Segment:
    """A paragraph, or a run of one script inside a paragraph."""

    script: str
    tokens: list[Token]
    start: int
    end: int
    letters: int = 0
    junk: bool = False
    scores: dict[str, float] = field(default_factory=dict)


def _letters_below(tokens: Sequence[Token], minimum: int) -> bool:
    """True when ``tokens`` hold fewer than ``minimum`` letters (stops counting early)."""
    seen = 0
    for tk in tokens:
        seen += sum(1 for c in tk.text if c.isalpha())
        if seen >= minimum:
            return False
    return True


def _clearly_arabic(ev: dict[str, float]) -> bool:
    """Arabic words dominate so clearly that no statistical model is needed.

    Persian and Urdu share a few spellings with Arabic (من، ولي، اين), so a trace
    of Persian evidence must not send every Arabic article to the slow path.
    """
    return ev["ar"] >= 2.0 and 4.0 * (ev["fa"] + ev["ur"] + ev["other"]) < ev["ar"]


def _softmax(logits: dict[str, float]) -> dict[str, float]:
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def arabic_script_evidence(
    tokens: Sequence[Token], lexicon: Lexicon, *, letter_checks: bool = True,
    varieties: dict[str, float] | None = None,
) -> dict[str, float]:
    """Log-odds evidence for ar / fa / ur / other from the words of an Arabic-script text.

    Function words and dialect markers (Arabic: on ``Token.norm``; Persian and Urdu:
    on the letters as typed), tokens with Persian/Urdu-only letters, teh marbuta and
    the Arabic article. A token with a Persian/Urdu letter is never read as an Arabic
    word: after folding, Urdu میں would otherwise look like Egyptian مين.

    Args:
        tokens: The words to read.
        lexicon: Function words and markers.
        letter_checks: False when the caller knows no Persian/Urdu/other letter occurs
            (the plain-Arabic fast path), which skips the per-token letter sets.
        varieties: When given, dialect-marker weights are added to it per variety, so
            the fast path reads each token once for language and variety.
    """
    ev = {"ar": 0.0, "fa": 0.0, "ur": 0.0, "other": 0.0}
    norm_words = lexicon.norm_words
    surface_words = lexicon.surface_words
    special = FA_UR_LETTERS | UR_LETTERS | OTHER_ARABIC_SCRIPT
    for tk in tokens:
        text = tk.text
        surface = surface_words.get(text)
        if surface is not None:
            for label, weight in surface.items():
                ev[label] += weight
        if letter_checks and not special.isdisjoint(text):
            letters = set(text)
            if letters & UR_LETTERS:
                ev["ur"] += _UR_LETTER_WEIGHT
            elif letters & FA_UR_LETTERS:
                for label, weight in _FA_UR_LETTER_WEIGHT.items():
                    ev[label] += weight
            else:
                ev["other"] += 1.0
            continue
        entry = norm_words.get(tk.norm)
        if entry is not None:
            best = 0.0
            for label, weight in entry.items():
                if label == "ar":
                    ev["ar"] += weight
                    continue
                if weight > best:
                    best = weight
                if varieties is not None:
                    varieties[label] = varieties.get(label, 0.0) + weight
            ev["ar"] += 0.7 * best
        elif text[-1] == "\u0629":
            ev["ar"] += _AR_TEH_MARBUTA
        elif len(text) > 3 and text[0] == "\u0627" and text[1] == "\u0644":
            ev["ar"] += _AR_DEFINITE
    return ev


class LanguageDetector:
    """Language and Arabic variety of documents. Build with :func:`get_detector`.

    Models load on first use (thread-safe), so constructing a detector is free.
    """

    def __init__(self, settings: LanguageSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._fasttext: FastTextLid | None = None
        self._variety: VarietyIdentifier | None = None

    # -- lazy parts -------------------------------------------------------------------------

    def load(self) -> LanguageDetector:
        """Load every model now (for a worker that wants to be ready before traffic)."""
        self._ft()
        self._variety_identifier()
        get_lexicon()
        return self

    def _ft(self) -> FastTextLid:
        if self._fasttext is None:
            with self._lock:
                if self._fasttext is None:
                    self._fasttext = load_fasttext(self.settings.fasttext_model)
        return self._fasttext

    def _variety_identifier(self) -> VarietyIdentifier:
        if self._variety is None:
            with self._lock:
                if self._variety is None:
                    from khabar.language.camel import get_variety_identifier

                    self._variety = get_variety_identifier(self.settings)
        return self._variety

    # -- public -----------------------------------------------------------------------------

    def detect(self, doc: Doc, hint: str | None = None) -> Language:
        """Language of ``doc``, with the Arabic variety when the language is Arabic.

        Args:
            doc: The article after the shared normalization pass.
            hint: The producer's language hint (ISO 639-1), used only to break a
                close call between candidates the text itself supports.

        Returns:
            The :class:`~schemas.models.Language` record. Never raises on odd input:
            empty, digit-only or punctuation-only text gets ``und``.
        """
        try:
            return self._detect(doc, hint)
        except KhabarError:
            raise
        except Exception as exc:  # a detector bug must not kill the stage with a raw trace
            raise KhabarError(f"language detection failed: {exc!r}") from exc

    def _detect(self, doc: Doc, hint: str | None) -> Language:
        s = self.settings
        text = doc.text
        if NOT_PLAIN_ARABIC.search(text) is None:
            return self._plain_arabic(doc, hint)
        segments = self._segments(doc)
        letters = sum(seg.letters for seg in segments)
        if letters < s.min_letters:
            script = max(segments, key=lambda g: g.letters).script if segments else "Zyyy"
            return Language(code="und", confidence=1.0, script=script, method="too-short")
        voting = [g for g in segments if not g.junk]
        if not voting:
            return Language(code="und", confidence=0.9, script=segments[0].script, method="junk")
        methods: set[str] = set()
        for seg in voting:
            seg.scores = self._score_segment(doc, seg, methods)
        votes: dict[str, float] = {}
        total = sum(g.letters for g in voting) or 1
        for seg in voting:
            for code, p in seg.scores.items():
                votes[code] = votes.get(code, 0.0) + p * seg.letters / total
        code, confidence = max(votes.items(), key=lambda kv: kv[1])
        code, method_hint = self._apply_hint(code, confidence, votes, hint)
        script_letters: dict[str, int] = {}
        for seg in voting:
            script_letters[seg.script] = script_letters.get(seg.script, 0) + seg.letters
        script = max(script_letters, key=lambda k: script_letters[k])
        disagree = any(
            g.letters >= s.mixed_min_letters
            and (g.junk or max(g.scores, key=lambda k: g.scores[k]) != code)
            for g in segments
        )
        if code != "und" and votes.get(code, 0.0) < s.min_confidence and script != "Arab":
            code = "und"
        variety = None
        if code == "ar":
            arabic_tokens = [t for g in voting if g.script == "Arab" for t in g.tokens]
            variety = self._variety_of(arabic_tokens[: s.max_tokens], doc)
        method = "+".join(sorted(methods)) + method_hint
        return Language(
            code=code,
            confidence=round(min(1.0, votes.get(code, confidence)), 4),
            script=script,
            alternatives=self._alternatives(votes, code),
            variety=variety,
            mixed=disagree,
            method=method,
        )

    # -- fast path --------------------------------------------------------------------------

    def _plain_arabic(self, doc: Doc, hint: str | None) -> Language:
        s = self.settings
        tokens = doc.tokens[: s.max_tokens]
        if _letters_below(tokens, s.min_letters):
            return Language(code="und", confidence=1.0,
                            script="Arab" if tokens else "Zyyy", method="too-short")
        var_scores: dict[str, float] = {}
        ev = arabic_script_evidence(tokens, get_lexicon(), letter_checks=False,
                                    varieties=var_scores)
        method = "script+words"
        if _clearly_arabic(ev):
            probs = {"ar": 1.0 - math.exp(-1.0 - ev["ar"]) / 2}
        else:
            probs = self._arabic_script_probs(lid_text(doc.text), ev, plain=True)
            method = "fasttext+script+words"
        code, conf = max(probs.items(), key=lambda kv: kv[1])
        code, method_hint = self._apply_hint(code, conf, probs, hint)
        variety = self._variety_of(tokens, doc, var_scores) if code == "ar" else None
        return Language(
            code=code, confidence=round(min(1.0, probs.get(code, conf)), 4), script="Arab",
            alternatives=self._alternatives(probs, code), variety=variety, mixed=False,
            method=method + method_hint,
        )

    # -- segments ---------------------------------------------------------------------------

    def _segments(self, doc: Doc) -> list[_Segment]:
        """Paragraphs split into single-script runs; short runs stay with their neighbours."""
        text = doc.text
        out: list[_Segment] = []
        budget = self.settings.max_tokens * 4  # bounded work on huge bodies
        para_start = 0
        tokens = doc.tokens[:budget]
        i = 0
        while i < len(tokens):
            para_end = text.find("\n", tokens[i].start)
            para_end = len(text) if para_end < 0 else para_end
            para: list[Token] = []
            while i < len(tokens) and tokens[i].start < para_end:
                para.append(tokens[i])
                i += 1
            out.extend(self._runs(text, para))
            para_start = para_end
        del para_start
        for seg in out:
            texts = list(map(_TEXT, seg.tokens))
            seg.letters = sum(map(len, texts)) - sum(map(len, filter(str.isdigit, texts)))
            seg.junk = looks_like_code(text[seg.start:seg.end], seg.letters)
        return [seg for seg in out if seg.letters > 0 or seg.junk]

    @staticmethod
    def _runs(text: str, para: list[Token]) -> list[_Segment]:
        scripts = list(map(word_script, map(_TEXT, para)))
        runs: list[_Segment] = []
        for tk, script in zip(para, scripts, strict=True):
            if runs and (script == "Zyyy" or script == runs[-1].script):
                runs[-1].tokens.append(tk)
                runs[-1].end = tk.end
            else:
                runs.append(_Segment(script=script, tokens=[tk], start=tk.start, end=tk.end))
        if len(runs) == 1:
            return runs
        # Short runs (a Latin brand name inside Arabic prose) join the run before them.
        merged: list[_Segment] = []
        absorbed: set[int] = set()  # ids of runs that took in tokens of another script
        for run in runs:
            small = (len(run.tokens) < _MIN_RUN_TOKENS
                     or sum(map(len, map(_TEXT, run.tokens))) < _MIN_RUN_LETTERS)
            if merged and (small or run.script == "Zyyy"):
                merged[-1].tokens.extend(run.tokens)
                merged[-1].end = run.end
                if run.script != "Zyyy":
                    absorbed.add(id(merged[-1]))
            elif merged and merged[-1].script == "Zyyy":
                run.tokens[:0] = merged[-1].tokens
                run.start = merged[-1].start
                if id(merged[-1]) in absorbed:
                    absorbed.add(id(run))
                merged[-1] = run
            else:
                merged.append(run)
        if len(merged) > 1 and (len(merged[0].tokens) < _MIN_RUN_TOKENS):
            # a short leading run ("Next Previous") joins the run after it
            merged[1].tokens[:0] = merged[0].tokens
            merged[1].start = merged[0].start
            if merged[0].script != "Zyyy" or id(merged[0]) in absorbed:
                absorbed.add(id(merged[1]))
            merged.pop(0)
        if not absorbed:
            return merged  # each run holds one script (and script-neutral tokens): settled
        # A merged run takes the script most of its letters are written in.
        script_of = dict(zip(map(id, para), scripts, strict=True))
        for run in merged:
            if id(run) not in absorbed:
                continue
            counts: dict[str, int] = {}
            for t in run.tokens:
                sc = script_of[id(t)]
                counts[sc] = counts.get(sc, 0) + len(t.text)
            counts.pop("Zyyy", None)
            if counts:
                run.script = max(counts, key=lambda k: counts[k])
        return merged

    def _score_segment(self, doc: Doc, seg: _Segment, methods: set[str]) -> dict[str, float]:
        s = self.settings
        sample = lid_text(doc.text[seg.start:min(seg.end, seg.start + 2 * s.sample_chars)])
        sample = sample[: s.sample_chars]
        if seg.script == "Arab":
            tokens = seg.tokens[: s.max_tokens]
            # one search in C over the segment's text instead of a letter-set test per token
            # (most Arabic segments of a mixed article hold no Persian/Urdu/other letter)
            end = tokens[-1].end if tokens else seg.start
            special = _SPECIAL_RE.search(doc.text, seg.start, end) is not None
            ev = arabic_script_evidence(tokens, get_lexicon(), letter_checks=special)
            if _clearly_arabic(ev):
                methods.add("script+words")
                return {"ar": 1.0 - math.exp(-1.0 - ev["ar"]) / 2}
            methods.add("fasttext+script+words")
            plain = ev["fa"] + ev["ur"] + ev["other"] == 0.0 or not special
            return self._arabic_script_probs(sample, ev, plain=plain)
        if seg.script in SCRIPT_LANGUAGE:
            methods.add("script")
            return {SCRIPT_LANGUAGE[seg.script]: 1.0}
        methods.add("fasttext")
        probs = self._ft().predict(sample, k=5)
        if seg.script == "Latn":
            probs = {k: v for k, v in probs.items() if k not in ARABIC_SCRIPT_LANGS - {"az", "ku"}}
        return probs or {"und": 1.0}

    def _arabic_script_probs(self, sample: str, ev: dict[str, float], *, plain: bool) -> dict[str, float]:
        """Combine fastText (restricted to Arabic-script languages) with word evidence."""
        raw = self._ft().predict(sample[: self.settings.sample_chars], k=10)
        ft = {k: v for k, v in raw.items() if k in ARABIC_SCRIPT_LANGS}
        total = sum(ft.values())
        ft = {k: v / total for k, v in ft.items()} if total > 0 else {"ar": 1.0}
        candidates = set(ft) | {"ar", "fa", "ur"}
        logits: dict[str, float] = {}
        for code in candidates:
            logit = math.log(ft.get(code, 0.0) + 0.01) + ev.get(code, 0.0)
            if code == "ar" and plain:
                # The prior says "Arabic letters only, in an Arabic news stream, is Arabic";
                # Persian or Urdu function words are exactly what that reasoning misses,
                # so two points of such evidence cancel it.
                persian_urdu = ev.get("fa", 0.0) + ev.get("ur", 0.0)
                logit += self.settings.arabic_prior * max(0.0, 1.0 - persian_urdu / 2.0)
            if code not in ("ar", "fa", "ur"):
                logit += ev.get("other", 0.0)
            logits[code] = logit
        return _softmax(logits)

    # -- helpers ----------------------------------------------------------------------------

    def _variety_of(self, tokens: Sequence[Token], doc: Doc,
                    marker_totals: dict[str, float] | None = None) -> Variety:
        identifier = self._variety_identifier()
        if isinstance(identifier, MarkerVariety):
            if marker_totals is None:
                return identifier.identify([t.norm for t in tokens], doc.text)
            return decide_variety(marker_totals, len(tokens))
        return identifier.identify([t.norm for t in tokens], doc.text[: self.settings.sample_chars * 2])

    def _alternatives(self, probs: dict[str, float], code: str) -> list[Alternative]:
        ranked = sorted(((c, p) for c, p in probs.items() if c != code and p >= 0.005),
                        key=lambda kv: -kv[1])
        return [Alternative(code=c, confidence=round(min(1.0, p), 4))
                for c, p in ranked[: self.settings.alternatives]]

    @staticmethod
    def _apply_hint(code: str, confidence: float, probs: dict[str, float],
                    hint: str | None) -> tuple[str, str]:
        if not hint:
            return code, ""
        wanted = hint.strip().lower().split("-")[0].split("_")[0]
        if wanted != code and confidence < 0.6 and probs.get(wanted, 0.0) >= 0.25:
            return wanted, "+hint"
        return code, ""


_DETECTORS: dict[str, LanguageDetector] = {}
_DETECTORS_LOCK = threading.Lock()


def get_detector(settings: LanguageSettings | None = None) -> LanguageDetector:
    """The process-wide detector for ``settings`` (one per distinct settings value).

    Nothing is loaded here; models load on the first :meth:`LanguageDetector.detect`
    or on :meth:`LanguageDetector.load`.
    """
    settings = settings if settings is not None else LanguageSettings()
    key = settings.model_dump_json()
    with _DETECTORS_LOCK:
        detector = _DETECTORS.get(key)
        if detector is None:
            detector = _DETECTORS[key] = LanguageDetector(settings)
    return detector


def detect_text(text: str, hint: str | None = None) -> Language:
    """Language of a bare string with default settings (runs the shared normalization)."""
    return get_detector().detect(make_doc(text), hint=hint)
