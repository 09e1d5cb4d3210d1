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

This module scans the article and turns a sentence's candidates into events; the steps
live in their own modules: :mod:`khabar.events.triggers` (which trigger mentions are
events), :mod:`khabar.events.clauses` (clause breaks, negation, modality),
:mod:`khabar.events.roles` (actors, source and target, locations) and
:mod:`khabar.events.mentions` (what the steps pass each other).
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from khabar.budget import check_budget
from khabar.config import EventSettings
from khabar.events.camel import CamelNER
from khabar.events.clauses import (
    _bridge_time_asides,
    _clause,
    _clause_breaks,
    _cue_before,
    _modality,
    _mode_from_cues,
    _negated,
    _split_links,
    _trigger_span,
)
from khabar.events.dates import resolve_date
from khabar.events.lexicon import (
    Found,
    Hit,
    Lexicon,
    TriggerEntry,
    get_lexicon,
)
from khabar.events.mentions import _FAILED_TALKS, _NAME, _WEAK, ActorMention, Candidate, Mention
from khabar.events.quantities import find_quantities
from khabar.events.roles import (
    _INHERIT,
    _PRONOUN_OBJECT,
    _actor_data,
    _actors,
    _domestic_ban,
    _fill_actors,
    _fix_roles,
    _Home,
    _locations,
    _pronoun_object,
    _roles,
    _speakers,
    _subject,
    _with_entities,
)
from khabar.events.senses import SenseJudge
from khabar.events.triggers import _candidates, _disambiguate, _kept_triggers
from khabar.text.normalize import Doc, Sentence, Token
from schemas.models import (
    Event,
    PloverType,
    Quantity,
    RawArticle,
    event_id,
)

#: ASSAULT modes a weapon named in the clause replaces (the weapon is more specific).
_WEAPON_MODES = frozenset({None, "aerial weapons", "shelling/artillery", "firearms/small arms"})

_FINAL = frozenset(".!?؟»\"")


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
                 lemmatizer: object | None = None, ner: CamelNER | None = None,
                 senses: SenseJudge | None = None) -> None:
        self.settings = settings
        #: judges the sense-classified triggers; ``None``: the packaged models, read on first use
        self.senses = senses
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
        home = _Home(raw, _lede_end(doc))
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
        kept = _kept_triggers(trig, actor_ms, cues, doc.norms, seen or set(), places, doc,
                              self.senses)
        if not kept:
            # a third of trigger sentences end here (زيارة with no actor, تقدم with no troops):
            # skip the clause analysis, the costliest part of a sentence
            return []
        breaks = _clause_breaks(doc.text, doc.starts, sent, cues)
        if calendar and len(breaks) >= 2:
            breaks = _bridge_time_asides(breaks, calendar)
        candidates = _candidates(kept, cues, breaks, doc.norms)
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
        accusers: list[tuple[int, ActorMention]] = []  # who condemns what (see _fix_roles)
        before: list[ActorMention | None] = []  # the sentence before's subject, looked up once
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
                                                  home, doc.norms)
            if etype is PloverType.ASSAULT or (
                    source is not None and source.start >= cand.end
                    and (cand.entry.verbal or etype is PloverType.ACCUSE)):
                # (the cases _fix_roles looks at, tested here: most candidates are neither)
                source, target = _fix_roles(cand, source, target, accusers, cues, doc.norms,
                                            actors, places, speakers)
            if (source is None and cand.entry.verbal and home is not None
                    and etype not in _INHERIT
                    and cand.start - sent.first_token <= _PRO_DROP_AT
                    and not any(a.end <= cand.start for a in actors)):
                # a verb opening its sentence with no subject named (ودعا إلى ...، وأصر على ...):
                # its subject is dropped, the one the sentence before names
                if not before:
                    before.append(_previous_subject(doc, sent, home))
                source = before[0]
            if target is None and etype in _PRONOUN_OBJECT:
                # an object pronoun on the trigger (اعتقلته السلطات، يحاول إقناعه، بعد
                # اتهامه): the party the sentence named before it
                target = _pronoun_object(cand, tokens, actors, source)
            if etype is PloverType.ACCUSE and source is not None:
                accusers.append((cand.start, source))
            ban = _domestic_ban(cand, target, actors)  # a SANCTION ban with no party: COERCE
            if ban:
                etype = PloverType.COERCE
            if etype is PloverType.ASSAULT and cand.mode in _WEAPON_MODES:
                mode = _mode_from_cues(cand, cues, breaks, first=True) or cand.mode
            elif etype is cand.entry.type:
                mode = cand.mode or _mode_from_cues(cand, cues, breaks)
            else:
                mode = "ban" if ban else None
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


def _lede_end(doc: Doc) -> int:
    """The token after the article's first sentence of content (the boilerplate before it, a
    dateline or a byline, left out)."""
    for s in doc.sentences:
        if s.last_token - s.first_token > 3:
            return s.last_token
    return 0


#: How many words may open a sentence before a verb whose subject is dropped (كما، ثم، لن).
_PRO_DROP_AT = 1


def _previous_subject(doc: Doc, sent: Sentence, home: _Home) -> ActorMention | None:
    """The subject of the sentence before ``sent`` (see :func:`roles._subject`), as an actor
    with no span of its own (it is not named in the event's sentence)."""
    sentences = doc.sentences
    i = bisect.bisect_left(sentences, sent.first_token, key=lambda s: s.first_token) - 1
    if i < 0:
        return None
    prev = sentences[i]
    ms = home.mentions(prev.first_token, prev.last_token)
    if not ms:
        return None
    actors = _actors([m for m in ms if m.hit.kind == "actor"], doc.tokens, home,
                     [m for m in ms if m.hit.kind == "place"])
    subject = _subject(actors)
    if subject is None:
        return None
    return ActorMention(sent.first_token, sent.first_token, subject.code, subject.name, False,
                        implicit=True)


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

#: The first word of the LINK cue (cues.tsv: رابط الخبر), normalized.
_LINK_WORD = "رابط"


def _cached_quantities(cache: dict[tuple[int, int], list[Quantity]], doc: Doc, sent: Sentence,
                       ms: list[Mention], cand: Candidate, breaks: set[int]) -> list[Quantity]:
    """Quantities of the trigger's clause, found once per clause. Only called for sentences
    with a unit word: without one there is no counted quantity (most sentences)."""
    clause = _clause(cand, sent, breaks)
    if clause not in cache:
        cache[clause] = find_quantities(doc, sent, ms, clause)
    return list(cache[clause])


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
