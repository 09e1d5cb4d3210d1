"""PLOVER event extraction from Arabic news.

One pass per article: the shared :class:`~khabar.text.normalize.Doc` gives the
normalized token stream; one word table (:mod:`khabar.events.lexicon`, one look-up a token)
finds every trigger, cue, actor, place, unit, number word and calendar word in it.
Only sentences holding a trigger are looked at further, with small, tested
heuristics:

* overlapping triggers: the longest wins (شن هجوما over شن); triggers of one type
  a few words apart in a clause are one event (شنت روسيا أكبر غاراتها).
* source = subject: the actor right after a verbal trigger (VSO), else the
  nearest actor before it in the same clause, else the actor right after a
  nominal trigger (هجوم روسي); target = the next actor after the trigger with a
  different root (بين X و Y, على Y, ضد Y, مع Y).
* negation, modality, mode, locations, date and quantities from cues in the clause.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from typing import Any

from khabar.budget import check_budget
from khabar.config import EventSettings
from khabar.events.camel import CamelNER
from khabar.events.dates import resolve_date
from khabar.events.lexicon import (
    Found,
    Hit,
    Lexicon,
    TriggerEntry,
    alpha2_of,
    get_lexicon,
)
from khabar.events.quantities import find_quantities
from khabar.text.normalize import Doc, Sentence, Token, normalize_word
from schemas.models import (
    Event,
    Location,
    PloverType,
    Quantity,
    RawArticle,
    event_id,
)

#: Type names by type: an enum member's ``.value`` is a descriptor call, this a dict look-up
#: (it is read for every blocking cue and every event).
_NAME: dict[PloverType, str] = {t: t.value for t in PloverType}
#: Prepositions (normalized) after which an actor is an oblique object, not the subject.
_OBLIQUE = frozenset({"علي", "ضد", "مع", "الي", "بين", "في", "من", "عن", "نحو", "تجاه", "لدي",
                      "عبر", "داخل"})
#: Proclitics that make a word oblique (ب "with/by", ل "to/for").
_OBLIQUE_CLITICS = ("ب", "ل", "وب", "ول", "فب", "فل", "لل")
#: Punctuation that ends a clause.
_CLAUSE_MARKS = "،,؛;:"
#: Window sizes in tokens.
_MERGE_GAP = 6
_SUBJECT_BACK = 12
_TARGET_AHEAD = 12
_MAX_LOCATIONS = 3
#: Below this lexicon weight a trigger is a weak reading (ضرب "hit" or "give an example").
_WEAK = 0.6
_FAILED_TALKS = TriggerEntry("فشل", PloverType.SANCTION, None, 0.8, None, True)
#: ASSAULT modes a weapon named in the clause replaces (the weapon is more specific).
_WEAPON_MODES = frozenset({None, "aerial weapons", "shelling/artillery", "firearms/small arms"})
_FINAL = frozenset(".!?؟»\"")
_NO_MARKS = {c: None for c in range(0x064B, 0x0653)}
#: Proclitics left out of trigger spans (GUIDELINES: وفشلت -> فشلت, بانفجار -> انفجار).
_SPAN_CLITICS = "وفبل"
#: Words (normalized) after which a city is where something happened, not who it happened to.
_LOCATIVE = frozenset({"في", "من", "قرب", "بالقرب", "داخل", "شمال", "جنوب", "شرق", "غرب",
                       "شمالي", "جنوبي", "شرقي", "غربي", "وسط", "ضواحي", "محيط"})


@dataclass(slots=True)
class Mention:
    """A lexicon hit on tokens ``[start, end)`` of the document."""

    start: int
    end: int
    hit: Hit


@dataclass(slots=True)
class ActorMention:
    """An actor in a sentence after sector and apposition merging."""

    start: int
    end: int
    code: str
    name: str
    oblique: bool
    country: bool = False  # a country or demonym, usable as a location with في
    locative: bool = False  # a seat after في / قرب: a place here, not a participant
    prev: str = ""  # the normalized word before the mention
    conj: bool = False  # attached و: the second of a coordination (روسيا وأوكرانيا)
    implicit: bool = False  # not named: implied by the act (تم القبض: the police)
    adjective: bool = False  # a demonym (روسية): it qualifies the noun before it

    @property
    def root(self) -> str:
        return self.code.split()[0]


@dataclass(slots=True)
class Candidate:
    """A trigger (or merged triggers) in a sentence, before it becomes an :class:`Event`."""

    start: int
    end: int
    entry: TriggerEntry
    clitic: str
    weight: float
    mode: str | None
    parts: list[Mention] = field(default_factory=list)


class EventExtractor:
    """Finds PLOVER events in articles. Thread-safe; build it with :func:`get_extractor`.

    Args:
        settings: Confidence floor and cap on events per article.
        lexicon: The compiled lexicons (the packaged ones by default).
        lemmatizer: Optional camel-tools lemmatizer (see :mod:`khabar.events.camel`); when
            given, tokens the lexicon missed are looked up by lemma.
        ner: Optional camel-tools NER (:class:`khabar.events.camel.CamelNER`); when given,
            person and organization names the gazetteer lacks become actors and unknown
            locations become places, in sentences holding a trigger.
    """

    def __init__(self, settings: EventSettings, lexicon: Lexicon | None = None,
                 lemmatizer: object | None = None, ner: CamelNER | None = None) -> None:
        self.settings = settings
        self.lexicon = lexicon if lexicon is not None else get_lexicon()
        self.lemmatizer = lemmatizer
        self.ner = ner

    # ------------------------------------------------------------------ public API
    def extract(self, doc: Doc, article: RawArticle) -> list[Event]:
        """Events of one article, sorted by trigger position.

        Args:
            doc: The article after the shared normalization pass (``prepare_doc``).
            article: The article (id and ``published_at`` are used).

        Returns:
            At most ``settings.max_events_per_article`` events whose confidence is at
            least ``settings.min_confidence``. Never raises on odd text.
        """
        if not doc.tokens:
            return []
        by_sentence, triggered, raw, link_line = self._scan(doc)
        if not triggered:
            return []
        home = _Home(raw)
        sentences = doc.sentences
        # a link line is rare: look for its cue only when its first word is in the content
        # text (a substring test on the folded text; مرابط also passes, and is then looked at)
        # or a link line was found in the boilerplate (its mentions are kept, see _scan)
        maybe_link = link_line or _LINK_WORD in doc.folded
        events: list[Event] = []
        seen: set[PloverType] = set()  # types found so far: a later الزيارة may repeat one
        for si, ms in by_sentence.items():
            check_budget()  # input decides how many sentences (limits.stage_budget_ms)
            if si in triggered:
                parts = _split_links(doc, sentences[si], ms) if maybe_link else [
                    (sentences[si], ms)]
                for sent, part in parts:
                    found = self._sentence_events(doc, article, sent, part, home, seen)
                    events.extend(found)
                    seen.update(e.type for e in found)
        events.sort(key=lambda e: (e.trigger_span.start, e.trigger_span.end, _NAME[e.type]))
        _fill_actors(events)
        return events[: self.settings.max_events_per_article]

    # ------------------------------------------------------------------ scanning
    def _scan(self, doc: Doc) -> tuple[dict[int, list[Mention]], set[int], list[Found], bool]:
        """The mentions of the sentences holding a trigger, by sentence index (in text order,
        each sentence's in :meth:`Lexicon.scan` order); the indexes of those holding a
        trigger mention; every lexicon hit of the document (for the article's home
        country, computed only when a rule needs it); and whether the boilerplate holds a
        link line (see :meth:`_boilerplate`).

        A mention belongs to the sentence its first token is in, and is left out when it
        runs past the sentence's end or starts in boilerplate.
        """
        raw = self.lexicon.scan(doc.norms)
        if self.lemmatizer is not None:
            # lemma triggers may be in any sentence: every hit is a mention, grouped after
            mentions, link_line = self._lemma_scan(doc, raw)
            grouped = _by_sentence(mentions, doc.sentences)
            return grouped, {si for si, ms in grouped.items()
                             if any(m.hit.kind == "trigger" for m in ms)}, raw, link_line
        # only sentences holding a trigger are looked at: give their tokens the sentence's
        # index and end, and build mentions for those alone (most hits are actors, cues and
        # places elsewhere). One slice per sentence here, then one list index per hit below:
        # no binary search per mention.
        trig = [f[0] for f in raw if f[3]]
        if not trig:
            return {}, set(), raw, False
        sentences = doc.sentences
        firsts = [s.first_token for s in sentences]
        owner: list[tuple[int, int] | None] = [None] * len(doc.tokens)
        done: set[int] = set()
        for pos in trig:
            si = bisect.bisect_right(firsts, pos) - 1
            if si >= 0 and si not in done:
                done.add(si)
                a, b = sentences[si].first_token, sentences[si].last_token
                owner[a:b] = [(si, b)] * (b - a)
        # a trigger in boilerplate still marks its sentence above (its mentions are dropped)
        dropped, link_line = self._boilerplate(doc)
        for lo, hi in dropped:
            owner[lo:hi] = [None] * (hi - lo)
        by_sentence: dict[int, list[Mention]] = {}
        triggered: set[int] = set()
        for first, n, hits, has_trigger in raw:
            place = owner[first]
            if place is None:
                continue
            si, last = place
            end = first + n
            if end > last:
                continue  # runs into the next sentence
            ms = by_sentence.get(si)
            if ms is None:
                ms = by_sentence[si] = []
            for hit in hits:
                ms.append(Mention(first, end, hit))
            if has_trigger:
                triggered.add(si)
        return by_sentence, triggered, raw, link_line

    def _boilerplate(self, doc: Doc) -> tuple[list[tuple[int, int]], bool]:
        """Token ranges ``[lo, hi)`` of boilerplate whose mentions are dropped, and whether
        a range was kept as a link line.

        All boilerplate except a closing link line (رابط الخبر ...: <headline>): boilerplate to
        fingerprints, but its headline is an event mention like any other (GUIDELINES).
        """
        out: list[tuple[int, int]] = []
        link_line = False
        if not doc.excluded:
            return out, link_line
        starts, norms = doc.starts, doc.norms
        for s, e in doc.excluded:
            lo, hi = bisect.bisect_left(starts, s), bisect.bisect_left(starts, e)
            if hi > lo:
                if self._link_at(norms, lo):
                    link_line = True
                else:
                    out.append((lo, hi))
        return out, link_line

    def _lemma_scan(self, doc: Doc, raw: list[Found]) -> tuple[list[Mention], bool]:
        """Every mention outside boilerplate, and after them the triggers found by lemma;
        whether the boilerplate holds a link line."""
        tokens = doc.tokens
        keep = bytearray(b"\x01") * (len(tokens) + 8)
        dropped, link_line = self._boilerplate(doc)
        for lo, hi in dropped:
            keep[lo:hi] = bytes(hi - lo)
        out = [Mention(first, first + n, hit) for first, n, hits, _t in raw if keep[first]
               for hit in hits]
        covered = {i for m in out if m.hit.kind == "trigger" for i in range(m.start, m.end)}
        covered.update(i for i in range(len(tokens)) if not keep[i])
        out.extend(self._lemma_mentions(tokens, covered))
        return out, link_line

    def _link_at(self, norms: list[str], i: int) -> bool:
        """Whether a LINK cue (رابط الخبر) starts at token ``i``."""
        return any(first == 0 and any(h.kind == "cue" and h.entry[2] == "LINK" for h in hits)
                   for first, _n, hits, _t in self.lexicon.scan(norms[i:i + 4]))

    def _lemma_mentions(self, tokens: list[Token], covered: set[int]) -> list[Mention]:
        """Triggers found by lemma (camel-tools) among words the lexicon missed."""
        table = _lemma_table()
        out = []
        lemmas = self.lemmatizer.lemmas  # type: ignore[union-attr]
        for i, tok in enumerate(tokens):
            if i in covered or not tok.norm or tok.norm[0] < "\u0621":
                continue
            for lemma in lemmas(tok.text):
                entry = table.get(lemma)
                if entry is not None:
                    out.append(Mention(i, i + 1, Hit("trigger", entry, 1, "")))
                    break
        return out

    # ------------------------------------------------------------------ one sentence
    def _sentence_events(self, doc: Doc, article: RawArticle, sent: Sentence,
                         ms: list[Mention], home: _Home | None = None,
                         seen: set[PloverType] | None = None) -> list[Event]:
        tokens = doc.tokens
        # one pass sorts the sentence's mentions by lexicon
        cues: dict[str, list[Mention]] = {}
        trig: list[Mention] = []
        actor_ms: list[Mention] = []
        places: list[Mention] = []
        calendar: list[Mention] = []  # dates: most sentences name none, then none is looked for
        has_unit = False
        for m in ms:
            hit = m.hit
            kind = hit.kind
            if kind == "cue":
                # get-then-append: setdefault would build a throw-away list for every cue
                name = hit.entry[2]
                same = cues.get(name)
                if same is None:
                    cues[name] = [m]
                else:
                    same.append(m)
            elif kind == "trigger":
                trig.append(m)
            elif kind == "actor":
                actor_ms.append(m)
            elif kind == "place":
                places.append(m)
            elif kind == "unit":
                has_unit = True
            elif kind == "calendar":
                calendar.append(m)
        if "SPORT" in cues or "COND" in cues:
            _disambiguate(cues, doc.norms)
        kept = _kept_triggers(trig, actor_ms, cues, doc.norms, seen or set(), places, doc)
        if not kept:
            # a third of trigger sentences end here (زيارة with no actor, تقدم with no troops):
            # skip the clause analysis, the costliest part of a sentence
            return []
        breaks = _clause_breaks(doc.text, doc.starts, sent, cues)
        if calendar and len(breaks) >= 2:
            breaks = _bridge_time_asides(breaks, calendar)
        candidates = self._candidates(kept, cues, breaks, doc.norms)
        if sent.last_token - sent.first_token <= 3 and sent.text.rstrip()[-1:] not in _FINAL:
            # a section heading (مفاوضات أوكرانيا): a bare topic label, not an event mention
            candidates = [c for c in candidates if c.entry.verbal]
        if not candidates:
            return []
        actors = _actors(actor_ms, tokens, home, places)
        if self.ner is not None:
            actors, places = _with_entities(self.ner, tokens, sent, actors, places, home)
        speakers = _speakers(cues, actors)
        published = article.published_at
        quantities: dict[tuple[int, int], list[Quantity]] = {}
        out: list[Event] = []
        for cand in candidates:
            check_budget()  # one sentence can hold thousands of triggers
            negated = cand.entry is not _FAILED_TALKS and _negated(cand, cues, candidates, breaks)
            etype = cand.entry.type
            if negated and (etype is PloverType.CONCEDE or cand.entry.phrase in _ACCEPT) and \
                    _cue_before(cues, ("NEG",), cand.start, 2):
                # "لن يخفف من مطالباته", "لن نقبله" are refusals: REJECT, not negated concessions
                etype, negated = PloverType.REJECT, False
            modality, modal_factor = _modality(cand, cues, breaks)
            source, target, actor_factor = _roles(cand, actors, breaks, cues, speakers, places,
                                                  home)
            if etype is PloverType.ASSAULT and cand.mode in _WEAPON_MODES:
                mode = _mode_from_cues(cand, cues, breaks, first=True) or cand.mode
            elif etype is cand.entry.type:
                mode = cand.mode or _mode_from_cues(cand, cues, breaks)
            else:
                mode = None
            confidence = max(0.0, min(1.0, cand.weight * modal_factor * actor_factor))
            if confidence < self.settings.min_confidence:
                continue
            t_start, t_end = _trigger_span(tokens, cand)
            used = {(a.start, a.end) for a in (source, target) if a is not None and a in actors}
            # spans and actors as plain dicts: the Event's validator builds the same models
            # from them in C, without a Python BaseModel.__init__ call each
            out.append(Event(
                event_id=event_id(article.id, sent.start, t_start, t_end, _NAME[etype]),
                article_id=article.id,
                type=etype,
                mode=mode,
                trigger=doc.text[t_start:t_end],
                trigger_span={"start": t_start, "end": t_end},
                sentence=sent.text,
                sentence_span={"start": sent.start, "end": sent.end},
                negated=negated,
                modality=modality,
                source=_actor_data(doc, source),
                target=_actor_data(doc, target),
                locations=_locations(doc, places, actors, used),
                date=resolve_date(doc, sent, calendar, published, near=cand.start)
                if calendar else None,
                quantities=_cached_quantities(quantities, doc, sent, ms, cand, breaks)
                if has_unit else [],
                confidence=round(confidence, 3),
            ))
        return out

    def _candidates(self, kept: list[Mention], cues: dict[str, list[Mention]],
                    breaks: set[int], norms: Sequence[str] = ()) -> list[Candidate]:
        """Events-to-be of a sentence from its kept triggers (:func:`_kept_triggers`)."""
        # failed outcomes are not events: "فشل في التوصل إلى اتفاق" after talks
        consult_seen = False
        pruned: list[Mention] = []
        for m in kept:
            if m.hit.entry.type is PloverType.CONSULT:
                consult_seen = True
            elif consult_seen and (_cue_before(cues, ("FAIL", "WITHOUT"), m.start, 3)):
                continue
            pruned.append(m)
        out: list[Candidate] = []
        for m in pruned:
            entry = m.hit.entry
            prev = out[-1] if out else None
            same = [c for c in out if c.entry.type is entry.type]
            last = same[-1] if same else None
            if (last is not None and m.start - last.end <= _MERGE_GAP
                    and not any(last.end <= b <= m.start for b in breaks)
                    and (prev is last or prev is None or prev.end <= last.end)
                    and (entry.verbal != last.entry.verbal or entry.weight < _WEAK
                         or last.weight < _WEAK or m.start - last.end <= 1)
                    and not (entry.type is PloverType.COERCE and entry.mode != last.mode)):
                # (a raid and the arrests it led to are two COERCE events: modes differ)
                if last.entry.phrase in _LIGHT and len(last.parts) == 1 and not entry.verbal:
                    # a light verb and its event noun: the noun is the trigger (GUIDELINES:
                    # شنت القوات، فجر اليوم، هجوما -> هجوما)
                    last.start, last.entry, last.clitic, last.mode = (m.start, entry, m.hit.clitic,
                                                                     entry.mode or last.mode)
                last.end = max(last.end, m.end)
                last.weight = max(last.weight, entry.weight)
                last.mode = last.mode or entry.mode
                last.parts.append(m)
                if entry.weight > last.entry.weight and entry.verbal == last.entry.verbal:
                    last.entry = entry
                continue
            out.append(Candidate(m.start, m.end, entry, m.hit.clitic, entry.weight, entry.mode,
                                 [m]))
        # failed talks are also SANCTION (manual: "code failed negotiations" there), at the
        # failure word: فشلت المحادثات، اجتماع ... والذي فشل في التوصل إلى اتفاق
        talks = [c for c in out if c.entry.type is PloverType.CONSULT]
        seen_fail: set[tuple[int, int]] = set()
        for f in cues.get("FAIL", ()):
            if (f.start, f.end) in seen_fail:
                continue
            seen_fail.add((f.start, f.end))
            if any(c.start - 3 <= f.start < c.start or c.end <= f.start <= c.end + 14
                   for c in talks):
                out.append(Candidate(f.start, f.end, _FAILED_TALKS, f.hit.clitic, 0.8, None, [f]))
        out.sort(key=lambda c: c.start)
        # a weak reading (ضرب، أصاب، شن) next to a firm trigger of its type is the same event;
        # deploying weapons (نشر) in the clause of an attack is the attack
        types = {c.entry.type for c in out if c.weight >= _WEAK}
        assault_clauses = [c for c in out if c.entry.type is PloverType.ASSAULT]
        final = []
        for c in out:
            if c.weight < _WEAK and c.entry.type in types:
                continue
            if c.entry.type is PloverType.MOBILIZE and c.entry.needs and any(
                    abs(a.start - c.start) <= 12 and not _crosses(breaks, min(a.start, c.start),
                                                                  max(a.start, c.start))
                    for a in assault_clauses):
                continue
            final.append(c)
        return _context_rules(final, cues, breaks, norms)


# ---------------------------------------------------------------------- helpers
#: League words that are also the adjective "periodic" (الاجتماع الدوري، الفحص الدوري).
_LEAGUE = frozenset({"الدوري", "دوري"})


def _disambiguate(cues: dict[str, list[Mention]], norms: Sequence[str]) -> None:
    """Drop cue readings their neighbours rule out (in place).

    * في حالة followed by a state (في حالة حرجة، في حالة تأهب) is no condition;
    * الدوري right after a noun with the article (الاجتماع الدوري للجنة) is "periodic",
      not a football league: it neither marks a sports report nor blocks the events there.
    """
    states = cues.get("STATE")
    if states and "COND" in cues:
        cues["COND"] = [c for c in cues["COND"]
                        if not any(c.start < st.start < c.end for st in states)]
    for kind in ("SPORT", "SPORTS"):
        found = cues.get(kind)
        if not found:
            continue
        kept = [c for c in found if not (norms[c.start] in _LEAGUE and c.start > 0
                                         and _after_article_noun(norms[c.start - 1]))]
        if kept:
            cues[kind] = kept
        else:
            del cues[kind]


def _after_article_noun(word: str) -> bool:
    """Whether ``word`` (normalized) is a noun with the article (التنسيق، والاجتماع، بالتشاور)."""
    for clitic in ("", "و", "ف", "ب", "وب"):
        if word.startswith(clitic + "ال") and len(word) > len(clitic) + 3:
            return True
    return word.startswith(("لل", "ولل")) and len(word) > 4


def _by_sentence(mentions: list[Mention], sentences: list[Sentence]) -> dict[int, list[Mention]]:
    """Mentions by the index of the sentence their first token is in (those running past its
    end left out), sentences in order of their first mention."""
    firsts = [s.first_token for s in sentences]
    by_sentence: dict[int, list[Mention]] = {}
    si, lo, hi = -1, 0, -1  # the last sentence found: mentions come in runs of one
    for m in mentions:
        if not lo <= m.start < hi:
            si = bisect.bisect_right(firsts, m.start) - 1
            lo, hi = (firsts[si], sentences[si].last_token) if si >= 0 else (0, -1)
        if si >= 0 and m.end <= hi:
            by_sentence.setdefault(si, []).append(m)
    return by_sentence


#: Types a condition (إذا، لو) does not cancel: a conditional threat is still a threat.
_ACCEPT = frozenset({"قبل"})
_COND_OK = frozenset({PloverType.THREATEN, PloverType.REQUEST, PloverType.REJECT})
#: Cooperative verbs that become SUPPORT when their object is an agreement or resolution
#: (وافق مجلس الأمن على الاتفاق: approval of an agreement, manual §SUPPORT).
_APPROVE = frozenset({"وافق", "موافقة"})


def _kept_triggers(trig: list[Mention], actor_ms: list[Mention],
                   cues: dict[str, list[Mention]], norms: Sequence[str] = (),
                   seen: set[PloverType] | frozenset[PloverType] = frozenset(),
                   places: Sequence[Mention] = (),
                   doc: Doc | None = None,
                   ) -> list[Mention]:
    """The trigger mentions of a sentence that may be events, in order, before any clause
    analysis: the longest of overlapping triggers, one reading per span, with the context
    their ``needs`` asks for, not blocked, and no attack words in a football report.

    Args:
        trig: The sentence's trigger mentions (sorted here, in place).
        actor_ms: Its actor mentions (for ``needs`` ACTOR).
        cues: Its cue mentions by cue class.
        norms: The document's normalized tokens (is a noun definite?).
        seen: Types of the events found earlier in the article: a definite noun that needs
            an actor (الزيارة، الاجتماع) and names none repeats the earlier mention
            (GUIDELINES: repeat mentions are annotated at their own trigger).
        places: Its place mentions (for ``needs`` PLACE: a place or city right next to the
            trigger, معركة عدن، سقطت المدينة، عدن سقطت).
        doc: The document, for the punctuation between tokens: a blocking word before a
            clause mark does not reach the trigger after it (لم يستبعد المواجهة، متوعدا خصومه).
    """
    sport = "SPORT" in cues and "MIL" not in cues
    # a sports report (an unambiguous sports word, no military one) codes no political event but
    # a court's or the police's; a sermon quoting scripture (قال تعالى) codes none at all
    sports = sport and "SPORTS" in cues
    if "RELIG" in cues:
        return []
    # longest match first; a trigger inside a longer one is dropped (شن < شن هجوما)
    trig.sort(key=lambda m: (m.start, -(m.end - m.start), -m.hit.entry.weight))
    kept: list[Mention] = []
    reach = -1  # the furthest end of a kept trigger
    for m in trig:
        check_budget()  # one pass over the triggers of one sentence
        if m.end <= reach:
            # inside a kept trigger (all start at or before m), or on its span: one reading
            # per span, the first (heaviest) entry
            continue
        entry: TriggerEntry = m.hit.entry
        if entry.needs == "ACTOR":
            # a participant named close by: زيارة الرئيس / زيارة السوق
            if not _near(actor_ms, m.start, m.end, 6) and not (
                    entry.type in seen and _definite(norms, m)):
                continue
        elif entry.needs == "PLACE":
            # after the word (معركة عدن، سقوط المدينة); before it only for a verb (عدن سقطت):
            # a city before a noun ends the phrase before it (في اليمن، سقوط قتلى)
            if not any(p.start == m.end or (entry.verbal and p.end == m.start)
                       for p in (*places, *actor_ms, *cues.get("CITY", ()))):
                continue
        elif entry.needs and not _needs_met(cues.get(entry.needs, ()), entry.needs, m):
            continue
        if _blocked(cues, entry.type, m.start, m.end, doc):
            continue
        if not entry.verbal and m.start and norms and (
                norms[m.start - 1] in _ANY or (norms[m.start - 1] in _THIS and _generic(norms, m.start))):
            continue  # أي هجوم، لأي تهديد، مثل هذه الغارات: no specific occurrence
        if entry.type is PloverType.ASSAULT and sport:
            continue  # الهجوم، المهاجم in a football report
        if sports and entry.type is not PloverType.COERCE:
            continue  # رفض اللاعب، طالب النادي، اجتماع الاتحاد: sport business, not politics
        kept.append(m)
        reach = max(reach, m.end)
    return kept


#: How far (tokens before, after) the context a trigger ``needs`` may stand, by cue class;
#: four words either side for the others. An agreement is the object of a signing verb whose
#: subject and a time phrase may stand between (وقع الوزيران، صباح اليوم ...، على مذكرة تفاهم);
#: an emphasis verb governs a demand across an adverbial (شدد الرئيس، في كلمته أمام
#: البرلمان ...، على ضرورة); a description's condemning word ends it (وصف المتحدث التقرير الذي ... بأنه كاذب).
_NEEDS_REACH = {"AGMT": (4, 12), "EMPH": (16, 4), "NEGEVAL": (0, 30)}


def _needs_met(ms: Sequence[Mention], kind: str, m: Mention) -> bool:
    """Whether a cue of class ``kind`` stands within the reach the class allows of ``m``."""
    before, after = _NEEDS_REACH.get(kind, (4, 4))
    return any(c.end >= m.start - before and c.start <= m.end + after for c in ms)


def _definite(norms: Sequence[str], m: Mention) -> bool:
    """Whether the trigger's first word has the article ال (الزيارة، بالزيارة، للزيارة)."""
    if m.start >= len(norms):
        return False
    word = norms[m.start][len(m.hit.clitic):]
    return word.startswith("ال") or (m.hit.clitic.endswith("ل") and word.startswith("ل"))


#: The first word of the LINK cue (cues.tsv: رابط الخبر), normalized.
_LINK_WORD = "رابط"


def _split_links(doc: Doc, sent: Sentence,
                 ms: list[Mention]) -> list[tuple[Sentence, list[Mention]]]:
    """Split a sentence at a closing link line (رابط الخبر ...: <headline>), which repeats the
    headline: its events are mentions of their own (GUIDELINES), not parts of the sentence before."""
    cut = next((m.start for m in ms if m.hit.kind == "cue" and m.hit.entry[2] == "LINK"
                and m.start > sent.first_token), None)
    if cut is None:
        return [(sent, ms)]
    at = doc.tokens[cut].start
    head = Sentence(sent.start, at, doc.text[sent.start:at], sent.first_token, cut)
    tail = Sentence(at, sent.end, doc.text[at:sent.end], cut, sent.last_token)
    return [(head, [m for m in ms if m.end <= cut]), (tail, [m for m in ms if m.start >= cut])]


def _marked(doc: Doc | None, a: int, b: int) -> bool:
    """Whether a clause mark (، , ؛ ; :) stands between the end of token ``a`` and the start of
    token ``b`` (a < b) of ``doc``."""
    if doc is None:
        return False
    tokens = doc.tokens
    if not 0 <= a < b < len(tokens):
        return False
    gap = doc.text[tokens[a].end:tokens[b].start]
    return any(c in gap for c in _CLAUSE_MARKS)


def _blocked(cues: dict[str, list[Mention]], etype: PloverType, start: int, end: int,
             doc: Doc | None = None) -> bool:
    """A BLOCKPRE word right before or a BLOCKPOST word just after the trigger (cues.tsv),
    in its clause (``doc`` given: not across a clause mark)."""
    name = _NAME[etype]
    for m in cues.get("BLOCKPRE", ()):
        if start - 2 <= m.end <= start and _cue_types(m, name) and not _marked(
                doc, m.end - 1, start):
            return True
    return any(end <= m.start <= end + 1 and _cue_types(m, name)
               and not _marked(doc, end - 1, m.start)
               for m in cues.get("BLOCKPOST", ()))


def _cue_types(m: Mention, name: str) -> bool:
    value: str = m.hit.entry[3]
    # a substring test, not a split: no type name is part of another (AID, AGREE, ...)
    return value == "*" or name in value


def _context_rules(cands: list[Candidate], cues: dict[str, list[Mention]],
                   breaks: set[int], norms: Sequence[str] = ()) -> list[Candidate]:
    """Sentence-level conventions of the guidelines, applied to the merged candidates.

    * conditional events (إذا انتهكت ... فرض عقوبات) are not events, threats excepted;
    * what is demanded (دعا إلى وقف ...، الحاجة إلى فرض عقوبات) and the purpose of a protest
      (تجمعوا للتنديد) are not separate events;
    * exchanging fire (تبادل ... الهجمات) is fighting, not cooperation;
    * a verbal attack (هجوم لاذع) is ACCUSE; approving an agreement is SUPPORT;
    * a death next to an accident word (لقي مصرعه في حادث مروري) is no attack: only weak
      casualty triggers are dropped, an attack word stays;
    * an agreement with the ل of purpose (للتوصل إلى اتفاق) is a goal, not an agreement;
    * a habitual statement (يقصف الجيش القرى بشكل متكرر) names no specific occurrence;
    * the call or meeting framing a discussion is not an event of its own (GUIDELINES: ناقشا خلال
      اتصال -> ناقشا; أجرى اتصالا ... ناقشا خلاله -> اتصالا);
    * the light verb شن of an attack noun later in its sentence is that attack (شن الجيش، صباح
      اليوم، هجوما);
    * violence whose doers are protesters (حاول المحتجون اقتحام الوزارة، أحرقوا الإطارات) is a riot.
    """
    out: list[Candidate] = []
    # one visit, one trigger (GUIDELINES: استقبل ... يقوم بزيارة -> only استقبل): a visit noun
    # in the sentence of a reception verb names the visit received (other meeting verbs may report
    # a different meeting of the visit: في إطار زيارته ... اجتمع، خلال زيارة ... التقى)
    meets = any(c.entry.type is PloverType.CONSULT and c.entry.phrase in _HOSTS for c in cands)
    requests = [c for c in cands if c.entry.type is PloverType.REQUEST]
    protests = [c for c in cands if c.entry.type is PloverType.PROTEST]
    assaults = [c for c in cands if c.entry.type is PloverType.ASSAULT]
    coerces = [c for c in cands if c.entry.type is PloverType.COERCE]
    releases = [c for c in cands if c.entry.type is PloverType.RETREAT]
    consults = [c for c in cands if c.entry.type is PloverType.CONSULT]
    framed = {id(c) for c in consults if len(consults) > 1 and _framing(c, consults, norms)}
    habits = cues.get("HABIT", ())
    protesters = cues.get("PROTESTER", ())
    for c in cands:
        etype = c.entry.type
        if habits and any(c.start - 3 <= h.start and h.end <= c.end + 4
                          and not _crosses(breaks, min(h.start, c.start), max(h.start, c.start))
                          for h in habits):
            continue
        if etype is PloverType.CONSULT and len(consults) > 1 and (
                id(c) in framed or (c.entry.phrase in _DISCUSS and any(
                    k is not c and k.end <= c.start
                    and (k.entry.phrase in _DISCUSS or not _crosses(breaks, k.start, c.start))
                    for k in consults if id(k) not in framed))):
            # (one meeting whose topics several verbs list, بحث ... إضافة إلى استعراض, or a
            # meeting verb and its discussion verb in one clause, التقى نظيره وبحث معه)
            continue
        if etype is PloverType.ASSAULT and c.entry.phrase in _LIGHT and len(c.parts) == 1 and any(
                k is not c and 0 < k.start - c.end <= 8 and not k.entry.verbal for k in assaults):
            continue
        if etype is PloverType.ASSAULT and protesters and any(
                0 <= c.start - p.end <= 8 and not _crosses(breaks, p.start, c.start)
                and not _oblique_at(p, norms) for p in protesters):
            c.entry = replace(c.entry, type=PloverType.PROTEST, mode="riot")
            c.mode = "riot"
            etype = PloverType.PROTEST
        if meets and c.entry.phrase in _VISIT_NOUNS and len(c.parts) == 1:
            continue
        if etype is PloverType.ASSAULT and c.weight < _WEAK and any(
                abs(m.start - c.start) <= 10 for m in cues.get("ACCIDENT", ())):
            continue
        if etype is PloverType.AGREE and not c.entry.verbal and "ل" in c.clitic:
            continue
        if etype is PloverType.ASSAULT and c.entry.phrase in _LIGHT and any(
                0 < k.start - c.end <= 5 and not _crosses(breaks, c.end - 1, k.start)
                for k in coerces):
            continue  # شنت قوات الاحتلال حملة اعتقالات: the sweep is COERCE, not an attack
        if etype is PloverType.ASSAULT and c.weight < _WEAK and any(
                0 < k.start - c.end <= 4 and not _crosses(breaks, c.end - 1, k.start)
                for k in releases):
            continue  # أطلق الحوثيون سراح ...: the light verb of a release
        if (etype is PloverType.ASSAULT and c.entry.mode == "execute"
                and not c.entry.verbal and _sentenced(cues, c.start, breaks)):
            # حكم عليه بالإعدام، عوقب بالإعدام: a death sentence is COERCE (GUIDELINES);
            # an execution carried out (نفذت حكم الإعدام، أعدم) stays ASSAULT
            c.entry = replace(c.entry, type=PloverType.COERCE, mode=None)
            c.mode = None
            etype = PloverType.COERCE
        if etype not in _COND_OK and any(
                (c.start - 8 <= m.start < c.start or c.end <= m.start <= c.end + 8)
                and not _crosses(breaks, min(m.start, c.start), max(m.start, c.start))
                for m in cues.get("COND", ())):
            continue
        if etype not in _COND_OK and c.clitic.startswith("ف") and c.entry.verbal and any(
                c.start - 16 <= m.start < c.start for m in cues.get("COND", ())):
            continue  # the ف-clause of a condition: إذا هوجمنا، فسنرد بقوة
        if not c.entry.verbal and _word_at(norms, c.start - 1) in _THIS and any(
                k is not c and k.entry.type is etype and k.end <= c.start for k in cands):
            continue  # رفض الخطة ...، وجدد الرئيس هذا الرفض: the same refusal
        if (etype is PloverType.CONSULT and not c.entry.verbal and c.clitic.startswith("و")
                and any(k is not c and k.entry.type is PloverType.CONSULT
                        and 0 < c.start - k.end <= 5 and not _crosses(breaks, k.end - 1, c.start)
                        for k in cands)):
            continue  # زيارة ولي العهد ومحادثاته مع المسؤولين: one visit, one trigger
        if etype in _POSSIBLE_TYPES and any(
                0 <= c.start - m.end <= 4 and not _crosses(breaks, m.start, c.start)
                for m in cues.get("POSSIBLE", ())):
            continue  # إمكانية أن يشن الإرهابيون هجمات: a possibility, not an attack
        if etype is not PloverType.REQUEST and not c.clitic.startswith("ف") and any(
                0 <= c.start - r.end <= 5 and not _crosses(breaks, r.end - 1, c.start)
                for r in requests):
            # what is demanded is no event; a verb with ف is what followed (طلب منهم ... فوافقوا)
            continue
        if (etype is not PloverType.PROTEST and "ل" in c.clitic
                and any(0 <= c.start - p.end <= 8 for p in protests)):
            continue
        if etype is PloverType.COOPERATE and any(0 <= a.start - c.end <= 3 for a in assaults):
            continue
        if (etype is not PloverType.CONSULT and _word_at(norms, c.start - 1) in _ABOUT
                and any(0 < c.start - k.end <= 2 for k in consults)):
            # what talks are about is no event of its own (محادثات حول الانسحاب، مباحثات
            # بشأن العقوبات): like a demand's object
            continue
        if etype is PloverType.COOPERATE and (
                _bare(_word_at(norms, c.start - 1)) in _COOP_FRAME
                or not _COOP_OBJECT.isdisjoint(norms[c.end:c.end + 2])):
            # cooperation named as an agreement's content or a field (اتفاق تعاون أمني،
            # مجالات التعاون، في إطار التعاون), an exchange of views (talk: تبادل الرؤى) or of
            # prisoners (a release: تبادل الأسرى) is no act of cooperating. Looked up here, only
            # for a COOPERATE candidate, rather than as cues on these frequent words
            continue
        if (etype is PloverType.ASSAULT and c.entry.phrase.split()[0] in _LAUNCH
                and c.entry.mode is None and cues.get("WTEST")
                and not any(w in _AIMED for w in norms[c.end:c.end + 8])):
            # a missile launched with no target named (أطلق الجيش صاروخا باليستيا في
            # البحر، أجرت تجربة لإطلاق صاروخ) in a test context is a weapons test: MOBILIZE weapons
            c.entry = replace(c.entry, type=PloverType.MOBILIZE, mode="weapons")
            c.mode = "weapons"
        elif etype is PloverType.ASSAULT and _cue_after(cues, "VERBAL", c.end, 1):
            c.entry = replace(c.entry, type=PloverType.ACCUSE, mode=None)
            c.mode = None
        elif (etype is PloverType.AGREE and c.entry.phrase in _APPROVE
              and any((c.end <= m.start <= c.end + 6 and not _crosses(breaks, c.end - 1, m.start))
                      or (c.end <= m.start <= c.end + 16 and 0 < m.start < len(norms)
                          and norms[m.start - 1] == "علي")
                      for m in cues.get("AGMT", ()))):
            # (the object after على may follow the subject and a time phrase: ووافق البرلمان،
            # بعد جلسة طويلة، على الاتفاقية)
            c.entry = replace(c.entry, type=PloverType.SUPPORT)
        out.append(c)
    return out


def _framing(c: Candidate, consults: list[Candidate], norms: Sequence[str]) -> bool:
    """Whether CONSULT ``c`` only frames another CONSULT close by: a call or meeting noun right
    after خلال (ناقشا خلال اتصال هاتفي، وجرى خلال الاتصال بحث), or a discussion verb right before
    خلاله when the call was named earlier (أجرى اتصالا ... ناقشا خلاله)."""
    if not c.entry.verbal:
        return (c.entry.phrase not in _VISIT_NOUNS and _word_at(norms, c.start - 1) in _FRAME
                and any(k is not c and (0 < c.start - k.end <= _FRAME_REACH
                                        or 0 < k.start - c.end <= _FRAME_REACH)
                        for k in consults))
    return _word_at(norms, c.end) in _FRAME_BACK and any(
        not k.entry.verbal and 0 < c.start - k.end <= _FRAME_REACH for k in consults)


def _word_at(norms: Sequence[str], i: int) -> str:
    """The normalized token at ``i``, or "" outside the document."""
    return norms[i] if 0 <= i < len(norms) else ""


def _generic(norms: Sequence[str], start: int) -> bool:
    """Whether "any" or "such" stands right before the noun at ``start`` (أي هجوم، لأي تهديد،
    مثل هذه الغارات): a generic or hypothetical mention, not an occurrence."""
    before = _word_at(norms, start - 1)
    if before in _ANY:
        return True
    return before in _THIS and _word_at(norms, start - 2) in _SUCH


#: "Any" with its clitics (normalized: أي -> اي).
_ANY = frozenset({"اي", "لاي", "باي", "واي", "فاي"})
#: "Such" (مثل هذه، بمثل هذا) and the demonstratives (هذا الرفض: a repeat within the sentence).
_SUCH = frozenset({"مثل", "بمثل", "لمثل", "ومثل"})
_THIS = frozenset({"هذا", "هذه", "ذلك", "تلك"})
#: Words framing a discussion by its call or meeting (خلال اتصال، ناقشا خلاله).
_FRAME = frozenset({"خلال", "وخلال"})
_FRAME_BACK = frozenset({"خلاله", "خلالها", "خلالهما"})


#: Discussion predicates: what a meeting or call covered (GUIDELINES: annotated at the predicate).
_DISCUSS = frozenset({"بحث", "استعرض", "استعراض", "تناول", "ناقش", "تباحث"})
#: How far (tokens) a discussion verb and the call framing it may stand apart.
_FRAME_REACH = 16


def _oblique_at(m: Mention, norms: Sequence[str]) -> bool:
    """Whether mention ``m`` is a prepositional object (ضد متظاهرين، على المحتجين، بالمتظاهرين)."""
    if m.hit.clitic.endswith(("ب", "ل")):
        return True
    return m.start > 0 and m.start - 1 < len(norms) and norms[m.start - 1] in _OBLIQUE


#: Honorifics (normalized) between من and a caller's name (من جلالة الملك، من فخامة الرئيس).
_HONORIFICS = frozenset({"جلاله", "فخامه", "سمو", "دوله", "معالي"})
#: Material types a possibility word before them (إمكانية، احتمال) makes hypothetical.
_POSSIBLE_TYPES = frozenset({PloverType.ASSAULT, PloverType.COERCE, PloverType.MOBILIZE,
                             PloverType.SANCTION})
#: Visit nouns that repeat the meeting a CONSULT verb of their sentence reports.
_VISIT_NOUNS = frozenset({"زيارة"})
#: "About": after talks, the topic follows (محادثات حول الانسحاب، مباحثات بشأن العقوبات).
_ABOUT = frozenset(normalize_word(w) for w in ("حول", "بشأن"))
#: Words right before a cooperation noun that make it a topic or a document's content.
_COOP_FRAME = frozenset(normalize_word(w) for w in (
    "اتفاق", "اتفاقا", "اتفاقية", "مجال", "مجالات", "إطار", "إطارا"))
#: Words right after تبادل that make it an exchange of views or of prisoners.
_COOP_OBJECT = frozenset(normalize_word(w) for w in (
    "الرؤى", "وجهات", "الآراء", "الأسرى", "الرهائن", "المحتجزين"))


def _bare(word: str) -> str:
    """``word`` without one proclitic و/ف/ب/ل (وفي مجالات -> مجالات)."""
    return word[1:] if len(word) > 3 and word[0] in "وفبل" else word


#: Launch triggers (أطلق، يطلق، إطلاق صواريخ): an attack only when aimed at something.
_LAUNCH = frozenset({"أطلق", "طلق", "إطلاق"})
#: Words after a launch that name its aim (أطلق صاروخا على جازان، باتجاه إسرائيل).
_AIMED = frozenset({"علي", "باتجاه", "اتجاه", "نحو", "صوب", "ضد", "تجاه", "مستهدفا",
                    "مستهدفه", "استهدف", "استهدفت"})
#: Bare light verbs of attack (شن) whose object may be a non-violent campaign.
_LIGHT = frozenset({"شن"})


def _sentenced(cues: dict[str, list[Mention]], start: int, breaks: set[int]) -> bool:
    """A sentencing word (حكم، عقوبة، عوقب) shortly before ``start`` and no execution word
    (تنفيذ، نفذ) before it in the clause."""
    def near(kind: str, window: int, clause: bool) -> bool:
        return any(start - window <= m.start < start
                   and not (clause and _crosses(breaks, m.start, start))
                   for m in cues.get(kind, ()))
    # the executor and a time phrase may stand between: نفذت السلطات، صباح اليوم، حكم الإعدام
    return near("SENTENCE", 4, True) and not near("EXECUTE", 10, False)


#: Types whose unnamed participants are, in news prose, those of the story's other mentions.
_INHERIT = frozenset({PloverType.ASSAULT, PloverType.CONSULT, PloverType.SANCTION})


def _fill_actors(events: list[Event]) -> None:
    """Give events without a source the participants of a neighbouring mention.

    A failed-talks SANCTION takes the actors of the talks in its sentence; an attack or talks
    mentioned again without actors ("أدى الهجوم إلى ...") take those of the nearest earlier
    mention of the type (else the next one: a lead sentence often names them later).
    """
    for i, ev in enumerate(events):
        if ev.type not in _INHERIT:
            continue
        if ev.source is not None:
            if ev.target is None and ev.type is PloverType.CONSULT:
                # the same party meeting again with its counterpart unnamed (وبحث الجانبان،
                # وتناول اللقاء ...): the counterpart of its nearest earlier meeting. Only for
                # talks: an attack's victim is not guessed from the story (a new strike may
                # hit someone else)
                root = ev.source.code.split()[0]
                donor = next((e for e in reversed(events[:i]) if e.type is ev.type
                              and e.source is not None and e.target is not None
                              and e.source.code.split()[0] == root
                              and e.target.code.split()[0] != root), None)
                if donor is not None and donor.target is not None:
                    events[i] = ev.model_copy(update={
                        "target": donor.target.model_copy(update={"span": None})})
            continue
        want = PloverType.CONSULT if ev.type is PloverType.SANCTION else ev.type
        same = [e for e in events if e.type is want and e.source is not None]
        if ev.type is PloverType.SANCTION:
            same = [e for e in same if e.sentence_span == ev.sentence_span] or same
        before = [e for e in same if e.trigger_span.start < ev.trigger_span.start]
        after = [e for e in same if e.trigger_span.start > ev.trigger_span.start]
        donor = before[-1] if before else (after[0] if after else None)
        if donor is None:
            continue
        events[i] = ev.model_copy(update={
            "source": donor.source.model_copy(update={"span": None}) if donor.source else None,
            "target": ev.target or (donor.target.model_copy(update={"span": None})
                                    if donor.target else None),
            "confidence": round(ev.confidence * 0.9, 3),
        })


def _cached_quantities(cache: dict[tuple[int, int], list[Quantity]], doc: Doc, sent: Sentence,
                       ms: list[Mention], cand: Candidate, breaks: set[int]) -> list[Quantity]:
    """Quantities of the trigger's clause, found once per clause. Only called for sentences
    with a unit word: without one there is no counted quantity (most sentences)."""
    clause = _clause(cand, sent, breaks)
    if clause not in cache:
        cache[clause] = find_quantities(doc, sent, ms, clause)
    return list(cache[clause])


def _clause(cand: Candidate, sent: Sentence, breaks: set[int]) -> tuple[int, int]:
    """Token range ``[start, end)`` of the clause holding the trigger."""
    lo = max((b for b in breaks if b <= cand.start), default=sent.first_token)
    hi = min((b for b in breaks if b >= cand.end), default=sent.last_token)
    return lo, hi


def _near(ms: Sequence[Mention], start: int, end: int, window: int) -> bool:
    return any(m.end >= start - window and m.start <= end + window for m in ms)


def _cue_before(cues: dict[str, list[Mention]], kinds: tuple[str, ...], start: int,
                window: int) -> bool:
    return any(start - window <= m.end <= start for k in kinds for m in cues.get(k, ()))


def _clause_breaks(text: str, starts: list[int], sent: Sentence,
                   cues: dict[str, list[Mention]]) -> set[int]:
    """Token indices that begin a new clause (after ، ; : or at حيث بينما ...).

    Args:
        starts: Character offsets of the document's tokens (``Doc.starts``).
    """
    out = {m.start for m in cues.get("BREAK", ())}
    first, last = sent.first_token, sent.last_token
    lo, hi = sent.start, sent.end
    find, bisect_left = text.find, bisect.bisect_left
    # one str.find per mark and occurrence rather than a regex's match objects (the
    # result is a set: the order the marks are found in does not matter)
    for mark in _CLAUSE_MARKS:
        at = find(mark, lo, hi)
        while at >= 0:
            i = bisect_left(starts, at, first, last)
            if first < i < last:
                out.add(i)
            at = find(mark, at + 1, hi)
    return out


#: Longest time phrase set off by commas that does not end a clause (، صباح اليوم الأحد،).
_ASIDE_TOKENS = 5


def _bridge_time_asides(breaks: set[int], calendar: Sequence[Mention]) -> set[int]:
    """The clause breaks without those around a time phrase set off by commas.

    Agency copy puts the time between the subject and the rest of the clause (عقد وزير
    الخارجية، مساء أمس، اجتماعا مع نظيره): the commas do not
    end the clause, so the subject before them still governs the event after them.
    """
    marks = sorted(breaks)
    starts = {m.start for m in calendar}
    out = set(breaks)
    for a, b in pairwise(marks):
        if b - a <= _ASIDE_TOKENS and any(a <= t < b for t in starts):
            out.discard(a)
            out.discard(b)
    return out


def _crosses(breaks: set[int], a: int, b: int) -> bool:
    """True when a clause boundary lies in ``(a, b]`` (token positions, a < b)."""
    lo, hi = min(a, b), max(a, b)
    return any(lo < x <= hi for x in breaks)


def _negated(cand: Candidate, cues: dict[str, list[Mention]], cands: list[Candidate],
             breaks: set[int]) -> bool:
    # a particle right before the trigger: لم تلتق، لن يخفف، عدم التوصل
    if _cue_before(cues, ("NEG",), cand.start, 2):
        return True
    # failure word just before its subject: فشلت المحادثات، مع فشل محادثات السلام
    if _cue_before(cues, ("FAIL",), cand.start, 3):
        return True
    nxt = min((c.start for c in cands if c.start > cand.start and c.entry is not _FAILED_TALKS),
              default=10**9)
    for m in cues.get("FAIL", ()):
        # المحادثات التي فشلت ... / اجتماع ... والذي فشل في التوصل
        if cand.end <= m.start <= cand.end + 14 and m.start < nxt:
            return True
    for m in cues.get("WITHOUT", ()):
        # انتهت المحادثات ... دون إحراز تقدم / دون التوصل إلى اتفاق
        if cand.end <= m.start <= cand.end + 14 and _cue_after(cues, "OUTCOME", m.end, 2):
            return True
    return False


def _cue_after(cues: dict[str, list[Mention]], kind: str, end: int, window: int) -> bool:
    return any(end <= m.start <= end + window for m in cues.get(kind, ()))


def _modality(cand: Candidate, cues: dict[str, list[Mention]],
              breaks: set[int]) -> tuple[str, float]:
    """``(modality, confidence factor)``."""
    for kind, value, factor in (("DENY", "denied", 0.9), ("CLAIM", "claimed", 0.95)):
        for m in cues.get(kind, ()):
            if cand.start - 10 <= m.start < cand.start:
                return value, factor
    if "س" in cand.clitic and cand.entry.verbal:
        return "planned", 0.95
    for m in cues.get("PLAN", ()):
        if cand.start - 4 <= m.end <= cand.start or cand.end <= m.start <= cand.end + 3:
            return "planned", 0.95
    if _cue_before(cues, ("HYPO",), cand.start, 1):
        return "planned", 0.7
    return "reported", 1.0


def _mode_from_cues(cand: Candidate, cues: dict[str, list[Mention]],
                    breaks: set[int], first: bool = False) -> str | None:
    """The mode a cue near the trigger gives: the nearest, or with ``first`` the first
    named in the clause (several weapons listed: the first one counts)."""
    want = _NAME[cand.entry.type] + ":"
    best: tuple[int, str] | None = None
    for m in cues.get("MODE", ()):
        value: str = m.hit.entry[3]
        if not value.startswith(want):
            continue
        dist = m.start - cand.end if m.start >= cand.end else cand.start - m.end
        if dist <= 8 and not _crosses(breaks, min(m.start, cand.start), max(m.start, cand.start)):
            key = m.start if first else dist
            if best is None or key < best[0]:
                best = (key, value.split(":", 1)[1])
    return best[1] if best else None


def _trigger_span(tokens: list[Token], cand: Candidate) -> tuple[int, int]:
    """Character span of a trigger without its conjunction/preposition proclitics."""
    first = tokens[cand.start]
    clitic = cand.clitic if cand.parts and cand.parts[0].start == cand.start else ""
    strip = len(clitic) - len(clitic.lstrip(_SPAN_CLITICS))
    if clitic.startswith("ل") and first.norm.startswith("لل"):
        strip = 2  # ل + ال written لل: the span starts after لل (للتفجير -> تفجير)
    start = first.start
    if strip and first.text[:strip].translate(_NO_MARKS) == first.norm[:strip]:
        start += strip
    if strip and start >= first.end:
        start = first.start
    return start, tokens[cand.end - 1].end


class _Home:
    """The article's home country (the most named state), computed on first use only: most
    sentences never need it, and the events stage is on a CPU budget."""

    __slots__ = ("_raw", "_root")

    def __init__(self, raw: list[Found]) -> None:
        self._raw = raw
        self._root: str | bool | None = False

    @property
    def root(self) -> str | None:
        if self._root is False:
            counts: dict[str, int] = {}
            # a news agency's demonym (وكالة الأنباء الألمانية) names no participant, nor does
            # the dateline city right before the agency (طوكيو (رويترز)): the agency's hits
            # carry the state "" (one pass, then drop what lies inside them or just before)
            found: list[tuple[int, str]] = []
            hidden: list[tuple[int, int]] = []
            for first, n, hits, _t in self._raw:
                last = first + n - 1
                for h in hits:
                    st = h.state
                    if st:
                        found.append((last, st))
                    elif st is not None:
                        hidden.append((first - 1, last))
            for last, st in found:
                if not hidden or not any(a <= last <= b for a, b in hidden):
                    counts[st] = counts.get(st, 0) + 1
            # ties: the first named (dicts keep insertion order, max keeps the first maximum)
            self._root = max(counts, key=counts.__getitem__) if counts else None
        return self._root  # type: ignore[return-value]


#: Sector nouns that never stand for an actor on their own (they need a named party).
_NEEDS_PARTY = frozenset({"side", "spokesperson", "minister", "official", "officials",
                          "ambassador", "envoy", "judiciary"})
#: Indefinite construct nouns (قوات الدعم، حكومة الوفاق): the named party follows; alone they
#: are no actor.
_CONSTRUCT = frozenset({"قوات", "جيش", "حكومه", "رئيس", "وزير", "مسؤول", "مسؤولو", "دوريه",
                        "جنود", "مسلحو", "مسلحي"})
#: Words before an actor that make it the content of a report (قال إن روسيا ...), not a speaker.
_THAT = frozenset({"ان", "بان", "لان", "انه", "بانه", "انها", "بانها"})


def _actors(ms: list[Mention], tokens: list[Token], home: _Home | None = None,
            places: Sequence[Mention] = ()) -> list[ActorMention]:
    """Actor mentions of a sentence: longest match, sectors fused with their country.

    A sector noun with no country after it (الشرطة، قوات الأمن، المتظاهرون) is the sector of
    the state the sentence names with a place (في مدينة القطيف -> SAU), else of the article's
    home state (the one it names most): news prose names the country once and then says
    "the police".
    """
    raw = sorted((m for m in ms if m.hit.kind == "actor"), key=lambda m: (m.start, -(m.end - m.start)))
    chosen: list[Mention] = []
    for m in raw:
        if chosen and m.start < chosen[-1].end:
            continue
        chosen.append(m)
    out: list[ActorMention] = []
    pending_sector: tuple[Mention, str] | None = None

    def flush(pending: tuple[Mention, str] | None, before: int) -> None:
        # a bare sector noun: the state of the sentence's places, else the article's home
        if pending is None:
            return
        sm, sector = pending
        if sm.hit.entry[3] in _NEEDS_PARTY or tokens[sm.start].norm.removeprefix(
                sm.hit.clitic) in _CONSTRUCT:
            return
        state = next((p.hit.state for p in places if p.hit.state), None)
        if state is None and home is not None:
            state = home.root
        if state is None:
            return
        p_tok = tokens[sm.start - 1].norm if sm.start > 0 else ""
        oblique = sm.hit.clitic.endswith(_OBLIQUE_CLITICS) or p_tok in _OBLIQUE
        out.append(ActorMention(sm.start, sm.end, f"{state} {sector}", sm.hit.entry[3], oblique,
                                prev=p_tok, conj=sm.hit.clitic.startswith("و")))

    for m in chosen:
        _form, kind, code, name = m.hit.entry
        prev_tok = tokens[m.start - 1].norm if m.start > 0 else ""
        oblique = m.hit.clitic.endswith(_OBLIQUE_CLITICS) or prev_tok in _OBLIQUE
        if kind == "ignore":
            # a news agency (وكالة الأنباء الألمانية) reports; it is not a participant
            flush(pending_sector, m.start)
            pending_sector = None
            continue
        if kind == "sector":
            flush(pending_sector, m.start)
            pending_sector = (m, code)
            continue
        sector = None
        start = m.start
        # the named party may follow a few words on (الملك محمد السادس ملك المغرب)
        if (pending_sector is not None and m.start - pending_sector[0].end <= 3
                and not any(tokens[i].norm in _THAT for i in range(pending_sector[0].end, m.start))):
            sector = pending_sector[1]
            start = pending_sector[0].start
            p_prev = tokens[start - 1].norm if start > 0 else ""
            oblique = pending_sector[0].hit.clitic.endswith(_OBLIQUE_CLITICS) or p_prev in _OBLIQUE
        else:
            flush(pending_sector, m.start)
        pending_sector = None
        if " " not in code and sector and kind in ("country", "demonym", "plural"):
            code = f"{code} {sector}"
        last = out[-1] if out else None
        if (last is not None and m.start == last.end and kind == "demonym" and not m.hit.clitic
                and last.root.startswith("IGO") and not last.adjective):
            # an international body's name with a demonym is the national one: مجلس الأمن
            # الروسي (Russia's Security Council), not the UN's
            last.end = m.end
            last.code = f"{code} GOV"
            last.country = True
            continue
        if (last is not None and m.start - last.end <= 2 and last.root == code.split()[0]
                and not (m.hit.clitic.startswith("و") and kind != "person")):
            # apposition: الرئيس الأوكراني فولوديمير زيلينسكي -> one actor
            last.end = m.end
            if kind == "person":
                last.name = name
                last.code = code
            continue
        if (last is not None and m.start == last.end and m.hit.clitic.startswith("و")
                and kind in ("demonym", "plural") and " " in last.code and " " not in code):
            # coordination shares the sector: المسؤولين الأوكرانيين والأمريكيين
            code = f"{code} {last.code.split()[1]}"
        p_tok = tokens[start - 1].norm if start > 0 else ""
        land = kind == "demonym" and p_tok in _LAND
        out.append(ActorMention(start, m.end, code, name, oblique,
                                country=kind in ("country", "demonym", "plural"),
                                locative=(kind == "seat" and (p_tok in _LOCATIVE
                                                              or m.hit.clitic.endswith("ب")))
                                or land,
                                prev=p_tok, conj=m.hit.clitic.startswith("و") and start == m.start,
                                adjective=kind == "demonym" and start == m.start))
    flush(pending_sector, len(tokens))
    return out


#: Nouns of territory: a demonym after them is where, not who (الأراضي اليمنية، الحدود التركية).
_LAND = frozenset({"الاراضي", "اراضي", "الحدود", "حدود", "الاجواء", "المياه", "الساحه",
                   "المناطق", "الجهه", "الجانب"})
#: Types whose source acts materially: a reporter of the act (قال زيلينسكي عن الهجوم) is not it.
_MATERIAL = frozenset({PloverType.ASSAULT, PloverType.COERCE, PloverType.MOBILIZE,
                       PloverType.PROTEST, PloverType.RETREAT, PloverType.AID})


def _with_entities(ner: CamelNER, tokens: list[Token], sent: Sentence,
                   actors: list[ActorMention], places: list[Mention], home: _Home | None,
                   ) -> tuple[list[ActorMention], list[Mention]]:
    """Add the NER model's names that no gazetteer entry covers: persons and organizations
    as actors of the sentence's state (its places', else the article's home state), locations
    as places without coordinates."""
    first = sent.first_token
    taken = [(a.start, a.end) for a in actors] + [(m.start, m.end) for m in places]
    state = next((p.hit.state for p in places if p.hit.state), None)
    if state is None and home is not None:
        state = home.root
    new_actors = list(actors)
    new_places = list(places)
    for s, e, kind in ner.entities([t.text for t in tokens[first:sent.last_token]]):
        start, end = first + s, first + e
        if any(a < end and start < b for a, b in taken):
            continue  # the gazetteer already knows it (and gives a better code)
        surface = " ".join(t.text for t in tokens[start:end])
        if kind == "LOC":
            new_places.append(Mention(start, end, Hit("place", (surface, None, None, None),
                                                      end - start)))
        elif state is not None:
            prev = tokens[start - 1].norm if start > 0 else ""
            new_actors.append(ActorMention(start, end, state, surface, prev in _OBLIQUE,
                                           prev=prev))
    new_actors.sort(key=lambda a: a.start)
    new_places.sort(key=lambda m: m.start)
    return new_actors, new_places


def _speakers(cues: dict[str, list[Mention]], actors: list[ActorMention]) -> list[ActorMention]:
    """Actors who speak in the sentence: right after a speech verb (قال زيلينسكي) or right
    before it (الكرملين أكد)."""
    speech = cues.get("SPEECH", ())
    if not speech:
        return []
    # قال مصدر في قوات البيشمركة: up to two words between verb and speaker; not قال إن روسيا
    return [a for a in actors if a.prev not in _THAT
            and any(0 <= a.start - m.end <= 2 or 0 <= m.start - a.end <= 1 for m in speech)]


def _roles(cand: Candidate, actors: list[ActorMention], breaks: set[int],
           cues: dict[str, list[Mention]] | None = None,
           speakers: Sequence[ActorMention] = (),
           places: Sequence[Mention] = (), home: _Home | None = None,
           ) -> tuple[ActorMention | None, ActorMention | None, float]:
    """``(source, target, confidence factor)`` for a trigger.

    Besides word order (subject before or after the verb, a demonym after a noun), these
    constructions decide the roles:

    * a passive agent (اقتحامها من قبل المقاومة، على يد مسلحين) is the source, and the one
      who "was subjected to" the act (تعرضت دورية لإطلاق نار) the target;
    * a call received (تلقى الأمير اتصالا من الملك): the caller is the source; a visit
      hosted (استقبل الملك الرئيس): the visitor is the source (PLOVER's host/visit rule);
    * in reported speech the speaker is the source of a verbal act with no subject of its
      own (قال ماكرون إنه يلزم بوتين ...), and never of a material act he reports on;
    * an attack with no named victim targets the state of the places it hit;
    * unnamed doers implied by the act: arrests (تم القبض) by the police and protests by the
      civilians of the state where they happen.
    """
    cues = cues or {}
    etype = cand.entry.type
    material = etype in _MATERIAL
    named = actors
    if material and speakers:
        actors = [a for a in actors if a not in speakers]
    source: ActorMention | None = None
    after = [a for a in actors if a.start >= cand.end and a.start - cand.end <= _TARGET_AHEAD
             and not _crosses(breaks, cand.end - 1, a.start)]
    inside = [a for a in actors if cand.start <= a.start and a.end <= cand.end]
    before = [a for a in actors if a.end <= cand.start and cand.start - a.end <= _SUBJECT_BACK
              and not _crosses(breaks, a.end - 1, cand.start) and not a.oblique]
    after = [a for a in after if not a.locative]
    between = next((a for a in after if a.start > 0 and a.start - cand.end <= 10
                    and a is not after[-1] and _prev_is(a, "بين")), None)
    origin = [a for a in after if a.prev in _ORIGIN]
    agents = cues.get("AGENT")
    agent = next((a for a in after if any(0 <= a.start - m.end <= 1 for m in agents)),
                 None) if agents else None
    victim = next((m for m in cues.get("VICTIM", ())
                   if cand.start - 6 <= m.end <= cand.start
                   and not _crosses(breaks, m.start, cand.start)), None)
    # long honorific titles stand between تلقى and the call: the whole sentence counts
    received = any(cand.start - 30 <= m.end <= cand.start for m in cues.get("RECEIVE", ()))
    if agent is not None:
        # passive: the agent acts; the subject (before, or named between) undergoes
        undergoer = before[-1] if before else next(
            (a for a in after if a is not agent and a.start < agent.start), None)
        if undergoer is None:
            # a relative clause names the doer, then what was hit (قصف جوي شنته قوات التحالف
            # على مواقع الحوثيين): the first other party after the agent
            undergoer = next((a for a in after if a.start >= agent.end
                              and a.root != agent.root), None)
        if undergoer is None and etype is PloverType.ASSAULT:
            # as below for an attack with no named victim: the other country of the sentence,
            # else the state of the places hit (في هجوم شنه الجيش فجر اليوم)
            undergoer = next((a for a in named if a.root != agent.root and a.country
                              and a not in origin), None) or _place_state(places, agent.root)
        return agent, undergoer, 1.0
    if victim is not None:
        # تعرضت X لـ<trigger> (من Y): X is hit; the source is who it came from, if named
        # the subject after the verb (تعرضت دورية للشرطة لـ...), else before it
        hit = next((a for a in actors if victim.end <= a.start and a.end <= cand.start), None) \
            or next((a for a in reversed(actors) if a.end <= victim.start
                     and victim.start - a.end <= _SUBJECT_BACK), None)
        by = next((a for a in origin), None)
        return by, hit or next((a for a in after if a is not by), None), 1.0
    if received and etype is PloverType.CONSULT:
        # تلقى X اتصالا من Y: Y called X
        # the caller may carry an honorific after من (اتصالا من جلالة الملك حمد)
        caller = next((a for a in after if a.prev == "من" or a.prev in _HONORIFICS), None)
        if caller is not None:
            receiver = before[-1] if before else None
            return caller, receiver, 1.0
    if inside:
        source = inside[0]
    elif before and cand.start - before[-1].end <= 1:
        source = before[-1]  # subject-verb order: القوات الروسية قصفت ...
    elif between is not None and (not before or between.start - cand.end <= 3):
        source = between  # محادثات ... بين المسؤولين الأوكرانيين والأمريكيين
    elif cand.entry.verbal and after and after[0].start - cand.end <= 2 and not after[0].oblique:
        source = after[0]  # verb-subject order: شنت روسيا ...، انسحب مسلحو الحوثيين
    elif (not cand.entry.verbal and after and not after[0].oblique
          and ((after[0].adjective and after[0].start - cand.end <= 1)
               or (after[0].start == cand.end and etype in _GENITIVE_AGENT))):
        # noun + demonym (بهجمات روسية، الهجمات الصاروخية الروسية، العقوبات الأمريكية) or, for
        # acts whose genitive is their doer, noun + name (تحذير بوتين، لهجوم موسكو): the actor
        # owning the act beats a subject further back (تشهد كييف تصعيدا بهجمات روسية). Not
        # إقناع بوتين, ضرورة التزام الجانب: there the genitive is who is asked.
        source = after[0]
    elif before:
        source = before[-1]
    elif (after and etype is PloverType.CONSULT and after[0].start - cand.end <= 2
          and (not after[0].oblique or after[0].prev == "بين")):
        source = after[0]  # محادثات بين X و Y (not زيارة إلى X: X is the host)
    if source is None and not material and speakers:
        # reported speech: قال ماكرون: إنه يلزم الرئيس الروسي ... (the speaker demands)
        source = next((s for s in reversed(speakers) if s.end <= cand.start), None)
    target = next((a for a in after if a is not source and a not in origin
                   and (source is None or a.start >= source.end) and a.root != _root(source)
                   and (etype is not PloverType.PROTEST or a.prev in _AGAINST)),
                  None)
    if source is None and etype in _IMPLIED:
        state = _place_state(places, None)
        root = state.code if state is not None else (home.root if home is not None else None)
        if root is not None:
            source = ActorMention(cand.start, cand.end, f"{root} {_IMPLIED[etype]}",
                                  _IMPLIED[etype], False, implicit=True)
    if (source is not None and source.conj and source in before
            and etype in _RECIPROCAL):
        # X و Y متفقتان / اشتبكت X و Y: the first named is the source, the other the target
        i = before.index(source)
        if i > 0 and source.start - before[i - 1].end <= 1:
            source, target = before[i - 1], source
    if target is None and source is not None and etype is PloverType.CONSULT:
        # the other party of a meeting may follow the subject's long title and a comma
        # (التقى وزير الخارجية الأردني أيمن الصفدي، على هامش المؤتمر، بوزير الخارجية
        # الفرنسي): look further on, for a party introduced by مع or ب (or, after a hosting
        # verb, the object itself: استقبل الرئيس ...، الملك ...)
        hosts = cand.entry.phrase in _HOSTS
        target = next((a for a in actors if a.start >= cand.end
                       and a.start - cand.end <= _PARTNER_AHEAD and a.root != source.root
                       and not a.locative and a not in origin
                       and (a.prev == "مع" or (a.oblique and a.prev not in _OBLIQUE)
                            or (hosts and not a.oblique))), None)
    if cand.entry.phrase in _HOSTS and source is not None and target is not None:
        source, target = target, source  # استقبل الملك الرئيس: the visitor is the source
    factor = 1.0
    if source is None:
        factor *= 0.9
    if target is None and etype is PloverType.ASSAULT:
        if source is not None:
            # no explicit victim: the other country named in the sentence (مسؤولون أوكرانيون ...)
            # (a speaker included: قال مسؤولون أوكرانيون إن روسيا أطلقت ...)
            target = next((a for a in named if a.root != source.root and a.country
                           and a not in origin), None)
        if target is None:
            target = _place_state(places, _root(source))
    if (source is None and target is not None and etype is PloverType.ASSAULT
            and cand.entry.phrase.split()[0] in _CLASHES and target.country):
        # clashes with no party named, only where (اشتباكات بين مجموعات مسلحة في مدينة ليبية):
        # two-sided fighting inside that state, both sides its own
        source = ActorMention(cand.start, cand.end, target.code.split()[0], target.name, False,
                              implicit=True)
    if target is None and source is not None and etype is PloverType.PROTEST:
        # protesters with no named target protest against their own state's authorities
        target = ActorMention(source.start, source.end, f"{source.root} GOV", "government",
                              False, implicit=True)
    return source, target, factor


#: Nouns whose genitive is their doer (تحذير بوتين، هجوم موسكو، زيارة الرئيس).
_GENITIVE_AGENT = frozenset({PloverType.ASSAULT, PloverType.THREATEN, PloverType.ACCUSE,
                             PloverType.CONSULT, PloverType.PROTEST, PloverType.REJECT})
#: Acts whose unnamed doer is implied: arrests by the police, protests by civilians.
_IMPLIED = {PloverType.COERCE: "COP", PloverType.PROTEST: "CVL"}
#: A protest's target is what it is against (ضد الحكومة), not whoever else is named.
_AGAINST = frozenset({"ضد", "علي", "امام"})
#: Types of acts two parties do together: with coordinated subjects the first is the source.
_RECIPROCAL = frozenset({PloverType.CONSULT, PloverType.AGREE, PloverType.COOPERATE,
                         PloverType.ASSAULT})


#: Two-sided fighting nouns (GUIDELINES: both sides are sources).
_CLASHES = frozenset({"اشتبك", "اشتباك", "اشتباكات", "معارك", "معركة", "مواجهات", "قتال"})
#: How far (tokens) a meeting's other party may follow its trigger (titles and commas between).
_PARTNER_AHEAD = 30
#: Words before an actor that make it where an act came from (من داخل الأراضي اليمنية).
_ORIGIN = frozenset({"من", "داخل"})
#: Hosting triggers (their subject is the host, the object the visitor).
_HOSTS = frozenset({"استقبل", "ستقبل"})


def _place_state(places: Sequence[Mention], not_root: str | None) -> ActorMention | None:
    """The state of the first place named (an attack on Najran targets SAU), as an actor."""
    for p in places:
        code = p.hit.state
        if code is not None and code != not_root:
            return ActorMention(p.start, p.end, code, p.hit.entry[0], True, country=True)
    return None


def _prev_is(a: ActorMention, word: str) -> bool:
    return a.prev == word


def _root(actor: ActorMention | None) -> str | None:
    return actor.root if actor is not None else None


def _actor_data(doc: Doc, a: ActorMention | None) -> dict[str, Any] | None:
    """The fields of an :class:`Actor` (for the Event's validator to build it from)."""
    if a is None:
        return None
    if a.implicit:
        return {"text": "", "name": a.name, "code": a.code, "span": None}
    start, end = doc.tokens[a.start].start, doc.tokens[a.end - 1].end
    return {"text": doc.text[start:end], "name": a.name, "code": a.code,
            "span": {"start": start, "end": end}}


def _locations(doc: Doc, places: list[Mention], actors: list[ActorMention],
               used: set[tuple[int, int]]) -> list[Location]:
    # spans as dicts, as in the Event: the validator builds the Span in C
    out: list[Location] = []
    seen: set[str] = set()
    tokens = doc.tokens
    for m in places:
        if any(s <= m.start < e for s, e in used):
            continue
        name, cc, lat, lon = m.hit.entry
        if name in seen:
            continue
        seen.add(name)
        start, end = tokens[m.start].start, tokens[m.end - 1].end
        out.append(Location(name=name, text=doc.text[start:end], country_code=cc,
                                            latitude=lat, longitude=lon,
                                            span={"start": start, "end": end}))
    for a in actors:
        # a country named after في is where it happened: في أوكرانيا
        if not a.country or " " in a.code or (a.start, a.end) in used:
            continue
        prev = tokens[a.start - 1].norm if a.start > 0 else ""
        if prev not in ("في", "داخل"):
            continue
        if a.name in seen:
            continue
        seen.add(a.name)
        start, end = tokens[a.start].start, tokens[a.end - 1].end
        out.append(Location(name=a.name, text=doc.text[start:end],
                                            country_code=alpha2_of(a.code), latitude=None,
                                            longitude=None,
                                            span={"start": start, "end": end}))
    return out[:_MAX_LOCATIONS]


@lru_cache(maxsize=1)
def _lemma_table() -> dict[str, TriggerEntry]:
    """Single-word triggers by their lemma (the data file's citation form), normalized."""
    from khabar.events.lexicon import load_triggers, norm_phrase

    table: dict[str, TriggerEntry] = {}
    triggers, _ = load_triggers()
    for _words, hit in triggers:
        entry: TriggerEntry = hit.entry
        words = norm_phrase(entry.phrase)
        if len(words) == 1 and entry.weight >= _WEAK:
            table.setdefault(words[0], entry)
    return table


def get_extractor(settings: EventSettings) -> EventExtractor:
    """The extractor for these settings, built once per distinct settings value.

    Raises:
        ModelDataMissingError: ``settings.use_camel_morphology`` is set but no
            camel-tools morphology database is installed, or ``settings.use_camel_ner``
            is set but camel-tools' NER model is not.
    """
    return _extractor_for(settings.model_dump_json())


@lru_cache(maxsize=8)
def _extractor_for(settings_json: str) -> EventExtractor:
    settings = EventSettings.model_validate_json(settings_json)
    lemmatizer = None
    if settings.use_camel_morphology:
        from khabar.events.camel import load_lemmatizer

        lemmatizer = load_lemmatizer(settings.camel_db)
    ner = None
    if settings.use_camel_ner:
        from khabar.events.camel import load_ner

        ner = load_ner(settings.camel_ner_dir)
    return EventExtractor(settings, lemmatizer=lemmatizer, ner=ner)
