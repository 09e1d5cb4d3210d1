"""Who did it to whom, and where: actors of a sentence (sectors, appositions, implied
actors), source and target of a candidate, the article's home country, locations."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from itertools import islice
from typing import Any

from camel_tools.utils.dediac import dediac_ar

from khabar.events.camel import CamelNER
from khabar.events.clauses import _core, _crosses
from khabar.events.lexicon import (
    Found,
    Hit,
    alpha2_of,
)
from khabar.events.mentions import _HOSTS, _OBLIQUE, ActorMention, Candidate, Mention
from khabar.text.normalize import Doc, Sentence, Token
from schemas.models import (
    Actor,
    Event,
    Location,
    PloverType,
)

#: Proclitics that make a word oblique (ب "with/by", ل "to/for").
_OBLIQUE_CLITICS = ("ب", "ل", "وب", "ول", "فب", "فل", "لل")

_SUBJECT_BACK = 12
#: The stem of summoning an envoy (ACCUSE with a diplomat named, triggers.tsv): استدعت،
#: تستدعي، استدعاء.
_SUMMON = "ستدع"

_TARGET_AHEAD = 12

_MAX_LOCATIONS = 3

#: Words (normalized) after which a city is where something happened, not who it happened to.
_LOCATIVE = frozenset({"في", "من", "قرب", "بالقرب", "داخل", "شمال", "جنوب", "شرق", "غرب",
                       "شمالي", "جنوبي", "شرقي", "غربي", "وسط", "ضواحي", "محيط"})


#: Honorifics (normalized) between من and a caller's name (من جلالة الملك، من فخامة الرئيس).
_HONORIFICS = frozenset({"جلاله", "فخامه", "سمو", "دوله", "معالي"})

#: Verbal acts of a crowd that, with no one named, address its own state's authorities.
_CROWD_VOICE = frozenset({PloverType.REQUEST, PloverType.ACCUSE})

#: Types whose unnamed participants are, in news prose, those of the story's other mentions.
_INHERIT = frozenset({PloverType.ASSAULT, PloverType.CONSULT, PloverType.SANCTION})


#: Sectors of the state's forces and authorities (the doers of coercion in a protest story).
_FORCES = (" COP", " GOV", " MIL")


def _fill_actors(events: list[Event]) -> None:
    """Give events without a source the participants of a neighbouring mention.

    A failed-talks SANCTION takes the actors of the talks in its sentence; an attack or talks
    mentioned again without actors ("أدى الهجوم إلى ...") take those of the nearest earlier
    mention of the type (else the next one: a lead sentence often names them later).
    """
    looked = False  # the protesters of the article's first protest naming them, looked up once
    crowd: Actor | None = None
    for i, ev in enumerate(events):
        if (ev.type is PloverType.COERCE and ev.target is None and ev.source is not None
                and ev.source.code.endswith(_FORCES)):
            # police or authorities acting in a protest story act against the protesters
            # (اعتقلت الشرطة 20 شخصا، استخدمت الغاز المسيل للدموع): the crowd is the target
            # when the story's protest names protesters of the same state
            if not looked:
                looked = True
                crowd = next((e.source for e in events if e.type is PloverType.PROTEST
                              and e.source is not None
                              and not e.source.code.endswith(_FORCES)), None)
            if crowd is not None and crowd.code.split()[0] == ev.source.code.split()[0]:
                events[i] = ev.model_copy(update={"target": crowd.model_copy(
                    update={"span": None})})
            continue
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


#: How much a state named in the lede counts towards the home country, against once elsewhere:
#: the lede names where the story happens (ألقت الأجهزة الأمنية الكويتية القبض ...), the body
#: may then name a neighbour more often.
_LEDE_WEIGHT = 3

#: A town's weight towards the home country, against 2 for a state's name or demonym.
_TOWN_WEIGHT = 1


class _Home:
    """The article's home country (the most named state), computed on first use only: most
    sentences never need it, and the events stage is on a CPU budget."""

    __slots__ = ("_lasts", "_lede", "_raw", "_root")

    def __init__(self, raw: list[Found], lede: int = 0) -> None:
        self._raw = raw
        self._lede = lede  # tokens [0, lede) are the lede: the states it names count more
        self._root: str | bool | None = False
        self._lasts: list[int] | None = None

    def mentions(self, lo: int, hi: int) -> list[Mention]:
        """The lexicon's mentions lying on tokens ``[lo, hi)`` (a sentence with no trigger has
        none built: this builds them, for the rare rule that looks at the sentence before)."""
        if self._lasts is None:
            # the scan orders hits by their last token
            self._lasts = [first + n - 1 for first, n, _h, _t in self._raw]
        i = bisect.bisect_left(self._lasts, lo)
        out: list[Mention] = []
        for first, n, hits, _t in islice(self._raw, i, None):
            if first + n > hi:
                break
            if first >= lo:
                out.extend(Mention(first, first + n, h) for h in hits)
        return out

    @property
    def root(self) -> str | None:
        if self._root is False:
            counts: dict[str, int] = {}
            # a news agency's demonym (وكالة الأنباء الألمانية) names no participant, nor does
            # the dateline city right before the agency (طوكيو (رويترز)): the agency's hits
            # carry the state "" (one pass, then drop what lies inside them or just before)
            # A state named only through a town counts half: the gazetteer's towns include
            # homonyms (Paju, a Korean town, is spelled like a Philippine one) and asides (a
            # lawyer who lives in Dubai), a state's own name or demonym is the story's
            found: list[tuple[int, str, int]] = []
            hidden: list[tuple[int, int]] = []
            for first, n, hits, _t in self._raw:
                last = first + n - 1
                for h in hits:
                    st = h.state
                    if st:
                        found.append((last, st, _TOWN_WEIGHT if h.kind == "place" else 2))
                    elif st is not None:
                        hidden.append((first - 1, last))
            lede = self._lede
            for last, st, w in found:
                if not hidden or not any(a <= last <= b for a, b in hidden):
                    counts[st] = counts.get(st, 0) + (_LEDE_WEIGHT * w if last < lede else w)
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


#: Two-word titles (normalized) whose organization follows with ل (الأمين العام للأمم المتحدة،
#: المتحدث الرسمي لوزارة الخارجية).
_TITLE_OF = frozenset({("الامين", "العام"), ("المتحدث", "الرسمي"), ("المدير", "العام"),
                       ("المبعوث", "الخاص"), ("الممثل", "الخاص"), ("المفوض", "السامي"),
                       ("المنسق", "الخاص"), ("المنسق", "العام"), ("المدير", "التنفيذي"),
                       ("الرئيس", "التنفيذي"), ("المشرف", "العام")})


#: Titles of a head of state (normalized) that name his state after a person's name (الملك
#: حمد بن عيسى آل خليفة ملك مملكة البحرين): the sector before the name is that state's.
_HEAD_OF_STATE = frozenset({"ملك", "رئيس", "امير", "سلطان", "رئيسه"})

#: First words (normalized, without ال) of formal state names (جمهورية بنغلاديش، المملكة
#: الأردنية): after a title with ل they name the official's state.
_STATE_FORMS = ("جمهوريه", "مملكه", "دوله", "سلطنه", "اماره", "الجمهوريه", "المملكه",
                "الدوله", "السلطنه", "الاماره")

#: How many words a person's name may take between a sector noun and his head-of-state title.
_NAME_TITLE_GAP = 8


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
        if (kind == "demonym" and not m.hit.clitic and pending_sector is None
                and _outlet_demonym(tokens, m.start)):
            # بحسب صحيفة لوفيغارو الفرنسية: the outlet reports, like a news agency (not
            # وذكرت صحيفة أن القوات الروسية: the demonym is the forces')
            continue
        if kind == "sector":
            flush(pending_sector, m.start)
            pending_sector = (m, code)
            continue
        sector = None
        start = m.start
        # the named party may follow a few words on (الملك محمد السادس ملك المغرب)
        if (pending_sector is not None
                and (m.start - pending_sector[0].end <= 3
                     or (m.start - pending_sector[0].end <= _NAME_TITLE_GAP
                         and tokens[m.start - 1].norm in _HEAD_OF_STATE))
                and not any(tokens[i].norm in _THAT for i in range(pending_sector[0].end, m.start))
                and not _oblique_apart(m, pending_sector[0], kind, tokens)
                and not (kind == "country" and m.hit.clitic.endswith(("ل", "لل"))
                         and not tokens[m.start].norm[len(m.hit.clitic):].startswith(
                             _STATE_FORMS))):
            # (or further, after the person's name and his title: الملك حمد بن عيسى آل خليفة
            # ملك مملكة البحرين; but a state's name after ل is where the act goes, not the
            # official's state, which Arabic names with a demonym or a genitive: زيارة ...
            # وزير الدفاع للأردن; a formal state name is a genitive: وزير الخارجية لجمهورية
            # بنغلاديش)
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
                and not (m.hit.clitic.startswith("و") and kind != "person")
                and not (oblique and m.start > last.end)  # (not across a preposition:
                # الحملة التركية تتركز على حزب العمال الكردستاني are two parties)
                and not any(tokens[i].norm.startswith("و") for i in range(last.end, m.start))
                # (nor across a conjoined word: بين واشنطن وموسكو وحذر فلاديمير بوتين, the
                # verb opens a new clause whose subject is the name after it)
                and not (" " in code and " " in last.code and code != last.code)):
            # apposition: الرئيس الأوكراني فولوديمير زيلينسكي -> one actor (not two sectors of a
            # state: الجيش التركي على أعضاء حزب العمال الكردستاني are two parties)
            last.end = m.end
            if kind == "person":
                last.name = name
                last.code = code
            continue
        if (last is not None and m.start == last.end and m.hit.clitic.startswith("و")
                and kind in ("demonym", "plural") and " " in last.code and " " not in code):
            # coordination shares the sector: المسؤولين الأوكرانيين والأمريكيين
            code = f"{code} {last.code.split()[1]}"
        if (oblique and start == m.start and m.hit.clitic in ("ل", "لل") and not sector
                and start >= 2 and (tokens[start - 2].norm, tokens[start - 1].norm) in _TITLE_OF):
            # الأمين العام لمجلس التعاون: ل after a title is the genitive, not "to"; the titled
            # official is the party, as subject-able as مجلس التعاون itself
            start -= 2
            oblique = tokens[start - 1].norm in _OBLIQUE if start > 0 else False
        if oblique and start == m.start and m.hit.clitic in ("ل", "لل") and prev_tok in _AFFILIATED:
            # الهيئة ... التابعة لمنظمة التعاون الإسلامي: ل after a word of belonging is "of";
            # the organization stands for its body, as subject-able as if named alone
            oblique = False
        p_tok = tokens[start - 1].norm if start > 0 else ""
        land = (kind == "demonym" and p_tok in _LAND) or p_tok in _BORDERING
        out.append(ActorMention(start, m.end, code, name, oblique,
                                country=kind in ("country", "demonym", "plural"),
                                locative=(kind == "seat" and (p_tok in _LOCATIVE
                                                              or m.hit.clitic.endswith("ب")))
                                or land,
                                prev=p_tok, conj=m.hit.clitic.startswith("و") and start == m.start,
                                adjective=kind == "demonym" and start == m.start))
    flush(pending_sector, len(tokens))
    return out


#: Words of belonging (normalized) after which ل names whose a sector is (قوات حفظ السلام
#: التابعة للأمم المتحدة).
_AFFILIATED = frozenset({"التابعه", "التابع", "التابعين", "التابعون", "تابعه", "تابع",
                         "تابعين"})


#: News outlets (cores: no clitics, no article) whose demonym names a reporter.
_OUTLETS = frozenset({"صحيفه", "قناه", "جريده", "مجله", "اذاعه", "تلفزيون", "موقع"})

#: Words (normalized) that attribute a report to the outlet after them (بحسب صحيفة ...،
#: وذكرت قناة ...).
_REPORTING = frozenset({"وفقا", "بحسب", "حسب", "ذكرت", "وذكرت", "قالت", "وقالت", "افادت",
                        "وافادت", "اوردت", "واوردت", "نقلت", "ونقلت"})


def _outlet_demonym(tokens: list[Token], start: int) -> bool:
    """Whether the demonym at ``start`` qualifies a news outlet named as the source of a
    report a few words before (وفقا لصحيفة لوفيغارو الإخبارية الفرنسية): a reporter, not a
    participant (a French paper attacked is still French: هاجم مسلحون صحيفة فرنسية)."""
    for j in range(start - 1, max(start - 5, 0), -1):
        if tokens[j].norm in _THAT:
            return False
        if _core(tokens[j].norm) in _OUTLETS:
            return tokens[j - 1].norm in _REPORTING
    return False


#: How many words an unnamed body may take between a verb and التابعة ل + its named party.
_BODY_GAP = 8


def _oblique_apart(m: Mention, sector: Mention, kind: str, tokens: list[Token]) -> bool:
    """Whether a named party written with ب or ل is the object of another word, not the
    sector noun's state: several words on (الحكومة رسالة للأمم المتحدة: the letter goes to
    the UN; not after a word of belonging: قوات حفظ السلام التابعة للأمم المتحدة), or a
    capital with ب, which is where (المتظاهرون بالرباط: protesters in Rabat)."""
    if not m.hit.clitic.endswith(("ب", "ل")):
        return False
    if kind == "seat" and m.hit.clitic.endswith("ب"):
        return True
    return m.start > sector.end and tokens[m.start - 1].norm not in _AFFILIATED


#: Nouns of territory: a demonym after them is where, not who (الأراضي اليمنية، الحدود التركية).
_LAND = frozenset({"الاراضي", "اراضي", "الحدود", "حدود", "الاجواء", "المياه", "الساحه",
                   "المناطق", "الجهه", "الجانب"})


#: Adjectives of lying next to (normalized): a state after them is where, not who (بقرية كامونا
#: المتاخمة لنيجيريا، البلدات المحاذية لتركيا).
_BORDERING = frozenset({"المتاخمه", "المتاخم", "متاخمه", "متاخم", "المحاذيه", "المحاذي",
                        "محاذيه", "محاذي", "المجاوره", "المجاور", "مجاوره", "مجاور"})


#: Types whose source acts materially: a reporter of the act (قال زيلينسكي عن الهجوم) is not it.
_MATERIAL = frozenset({PloverType.ASSAULT, PloverType.COERCE, PloverType.MOBILIZE,
                       PloverType.PROTEST, PloverType.RETREAT, PloverType.AID})


def _subject(actors: Sequence[ActorMention]) -> ActorMention | None:
    """The first party a sentence names as a subject: not after a preposition, not a place,
    not the content of a report (قال إن روسيا ...)."""
    return next((a for a in actors if not a.oblique and not a.locative and not a.implicit
                 and a.prev not in _THAT), None)


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
           norms: Sequence[str] = (),
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
      civilians of the state where they happen;
    * a circumstantial participle after the main clause (رفضت الحكومة ...، منتقدة إسرائيل) is
      done by the main clause's subject; the name after it is its object.
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
    if norms and not material and _circumstantial(norms[cand.start], cand, breaks):
        # حال: the participle has no subject of its own (نفى الرئيس ... الاتهامات، متهما
        # «قوى» ...، رفضت الولايات المتحدة ...، منتقدة سلطات البلاد): the main clause's subject,
        # the first party the sentence names as a subject, does it
        doer = next((a for a in named if a.end <= cand.start and not a.oblique
                     and not a.locative and a.prev not in _THAT), None)
        if doer is not None:
            if cand.end < len(norms) and norms[cand.end].startswith("ايا"):
                # its object is a pronoun (متهما إياها): the party it stands for, named after
                # the subject before (هدد الرئيس التركي السويد ...، متهما إياها)
                obj = next((a for a in named if doer.end <= a.start and a.end <= cand.start
                            and not a.locative and _other_party(a, doer)), None)
            else:
                obj = next((a for a in after if a not in origin and _other_party(a, doer)),
                           None)
            return doer, obj, 1.0
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
                              and _other_party(a, agent)), None)
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
    owner = (not cand.entry.verbal and after and not after[0].oblique
             and ((after[0].adjective and after[0].start - cand.end <= 1
                   and not any(cand.end <= d.start < after[0].start
                               for d in cues.get("DIPLO", ()))
                   and not any(norms[i] in _OBLIQUE or norms[i].startswith(("لل", "بال"))
                               for i in range(cand.end, after[0].start) if i < len(norms)))
                  or (after[0].start == cand.end and etype in _GENITIVE_AGENT)))
    # (a demonym after a diplomat qualifies him, not the act: طرد دبلوماسي كندي expels a
    # Canadian; nor after a prepositional phrase: مساعدات للشعب اليمني go to Yemenis. The
    # demonym is then the target, found below)
    if inside:
        source = inside[0]
    elif (before and cand.start - before[-1].end <= 1
          and not (owner and after[0].adjective)):
        # subject-verb order: القوات الروسية قصفت ... A noun whose doer is the demonym after it
        # (أدانت فرنسا الهجمات الروسية) has no subject before it: that actor is the subject of
        # another verb. (A name after a participle is its object: متوعدا إسرائيل.)
        source = before[-1]
    elif between is not None and (not before or between.start - cand.end <= 3):
        source = between  # محادثات ... بين المسؤولين الأوكرانيين والأمريكيين
    elif cand.entry.verbal and after and not after[0].oblique and (
            after[0].start - cand.end <= 2
            or (after[0].prev in _AFFILIATED and after[0].start - cand.end <= _BODY_GAP)):
        # verb-subject order: شنت روسيا ...، انسحب مسلحو الحوثيين; or a body of the named
        # party, its own name unknown: دعت الهيئة المستقلة لحقوق الإنسان التابعة لمنظمة ...
        source = after[0]
    elif owner:
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
                   and (source is None or a.start >= source.end)
                   and (source is None or _other_party(a, source))
                   and (etype is not PloverType.PROTEST or a.prev in _AGAINST)),
                  None)
    if (target is None and source is not None and source in after and cand.entry.verbal
            and etype is not PloverType.PROTEST):
        # verb-subject-object with the subject's name set off by a comma (وانتقد نائب رئيس
        # المجلس فلان، الموقف الأوروبي): the comma closes the subject's apposition, not the
        # clause; the object follows it at once
        target = _object_past_comma(source, actors, breaks)
    implied = _IMPLIED.get(etype) or (
        "COP" if etype is PloverType.ACCUSE and _inquiry(cand.entry.phrase) else None)
    if source is None and implied is not None:
        state = _place_state(places, None)
        root = state.code if state is not None else (home.root if home is not None else None)
        if root is not None:
            source = ActorMention(cand.start, cand.end, f"{root} {implied}", implied, False,
                                  implicit=True)
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
    if (target is not None and source is not None and etype is PloverType.CONSULT
            and target.prev == "في"):
        # a state after في is what the talks are about or where they are held (بحث تطورات
        # الوضع في أوكرانيا مع زعماء الولايات المتحدة): the partner is the party named with مع
        # (مع right before the party, or before its head noun: مع نظيره المصري، مع زعماء
        # الولايات المتحدة)
        partner = next((a for a in actors if target.end <= a.start
                        and a.start - cand.end <= _PARTNER_AHEAD
                        and "مع" in norms[max(a.start - 2, 0):a.start]
                        and not a.locative and a.root != source.root), None)
        if partner is not None:
            target = partner
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
    if target is None and etype is PloverType.AID:
        # aid with no named recipient goes to the state of the place it reaches (وصلت إلى
        # مطار عدن طائرة تحمل مساعدات): as an attack's target is the state of the place hit
        target = _place_state(places, _root(source))
    if (source is None and target is not None and etype is PloverType.ASSAULT
            and cand.entry.phrase.split()[0] in _CLASHES and target.country):
        # clashes with no party named, only where (اشتباكات بين مجموعات مسلحة في مدينة ليبية):
        # two-sided fighting inside that state, both sides its own
        source = ActorMention(cand.start, cand.end, target.code.split()[0], target.name, False,
                              implicit=True)
    if target is None and source is not None and (
            etype is PloverType.PROTEST
            or (etype in _CROWD_VOICE and source.code.endswith(" CVL"))):
        # protesters with no named target protest against their own state's authorities; so
        # do citizens and protesters who demand or accuse with no one named (يطالب آلاف
        # المواطنين بحل جهاز أمني، يتهم المتظاهرون الطبقة السياسية بالفساد)
        target = ActorMention(source.start, source.end, f"{source.root} GOV", "government",
                              False, implicit=True)
    return source, target, factor


#: Nouns whose genitive is their doer (تحذير بوتين، هجوم موسكو، زيارة الرئيس).
_GENITIVE_AGENT = frozenset({PloverType.ASSAULT, PloverType.THREATEN, PloverType.ACCUSE,
                             PloverType.CONSULT, PloverType.PROTEST, PloverType.REJECT})


#: Acts whose unnamed doer is implied: arrests by the police, protests by civilians.
_IMPLIED = {PloverType.COERCE: "COP", PloverType.PROTEST: "CVL"}


def _inquiry(phrase: str) -> bool:
    """Whether an ACCUSE trigger is an investigation (تحقيق، التحقيقات، قيد التحقيق، استجواب،
    تحريات): with no investigator named, the police of the state where it happens (as arrests)."""
    return any(w in phrase for w in _INQUIRY)


#: Stems of investigation triggers (as triggers.tsv writes them).
_INQUIRY = ("تحقيق", "استجو", "تحريات")

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


def _object_past_comma(source: ActorMention, actors: Sequence[ActorMention],
                       breaks: set[int]) -> ActorMention | None:
    """The object right after a post-verbal subject and the comma that closes it: another
    party opening the next words (السويد), or a demonym qualifying the noun that opens them
    (الموقف الأوروبي). Anything else there (a conjunction, a preposition, a time: ، وبعد
    معارضة أوروبية) begins a clause of its own."""
    comma = next((b for b in breaks if source.end - 1 < b <= source.end + 1), None)
    if comma is None:
        return None
    # the first word after the comma: the break itself when the comma is glued to the name
    # before it, the next token when the comma stands alone
    first = comma if comma == source.end else comma + 1
    a = next((a for a in actors if a.start >= source.end), None)
    if a is None or not (a.start == first or (a.adjective and a.start == first + 1)):
        return None
    if a.locative or a.oblique or a.prev in _ORIGIN or not _other_party(a, source):
        return None
    return a


#: Types whose trigger's object is a party and their target: a pronoun attached to the verb
#: (اعتقلته، يحاول إقناعه، هدده) is then the target. Not rejecting, signing, supporting,
#: deploying, aiding: their object is mostly a thing (رفضتها، وقعته، نشرهم); nor meetings (a
#: visit's genitive is the visitor).
_PRONOUN_OBJECT = frozenset({PloverType.ACCUSE, PloverType.COERCE, PloverType.REQUEST,
                             PloverType.THREATEN})

#: The ACCUSE stems whose object is a person (اتهمه، حمله، استدعاه، استجوبه، انتقده), not an
#: act (أدانه، وصفه، استنكره: the attack).
_ACCUSE_PERSON = ("اتهم", "تهم", "اتهام", "حمل", "استدع", "ستدع", "استجو", "ستجو", "انتقد",
                  "نتقد")

#: Object pronouns attached to a verb or verbal noun (normalized: ه، ها، هم، هما، هن).
_OBJECT_SUFFIXES = ("هما", "هم", "هن", "ها", "ه")

#: Of these, the nouns whose attached pronoun is their object (اعتقاله "his arrest", اتهامه
#: "accusing him"); a verbal act's noun takes its doer there (مطالبته، رفضه، تحذيره).
_NOUN_OBJECT = frozenset({PloverType.COERCE, PloverType.ACCUSE})


def _pronoun_object(cand: Candidate, tokens: Sequence[Token], actors: Sequence[ActorMention],
                    source: ActorMention | None) -> ActorMention | None:
    """The target a pronoun attached to the trigger stands for: the nearest party named
    before the trigger in its sentence other than the source (بوتين ... ترامب يحاول إقناعه:
    Putin), or None when the trigger has no object pronoun.

    The pronoun is read off the word as written: the trigger's stem does not end in ه (وجه،
    نبه), the word is longer than the stem and does not end in ة (normalized to ه)."""
    if not cand.entry.verbal and cand.entry.type not in _NOUN_OBJECT:
        return None
    word = tokens[cand.start]
    stem = cand.entry.phrase.split()[0].split("|")[0]
    if cand.entry.type is PloverType.ACCUSE and not stem.startswith(_ACCUSE_PERSON):
        return None
    norm = word.norm
    raw = dediac_ar(word.text)
    suffix = next((x for x in _OBJECT_SUFFIXES if norm.endswith(x)), None)
    if (suffix is None or stem.endswith("ه") or raw.endswith("ة") or stem not in norm
            or norm.index(stem) + len(stem) + len(suffix) > len(norm)):
        return None
    return next((a for a in reversed(actors) if a.end <= cand.start and not a.locative
                 and not a.implicit and a.prev not in _ORIGIN
                 and (source is None or (a is not source and _other_party(a, source)))), None)


def _place_state(places: Sequence[Mention], not_root: str | None) -> ActorMention | None:
    """The state of the first place named (an attack on Najran targets SAU), as an actor."""
    for p in places:
        code = p.hit.state
        if code is not None and code != not_root:
            return ActorMention(p.start, p.end, code, p.hit.entry[0], True, country=True)
    return None


def _other_party(a: ActorMention, b: ActorMention) -> bool:
    """Whether ``a`` is another party than ``b``: another state, another sector of one state
    (الجيش التركي and حزب العمال الكردستاني: TUR MIL and TUR REB), or a rebel group or the
    opposition and the state it belongs to (الحملة التركية على حزب العمال الكردستاني)."""
    return a.root != b.root or (" " in a.code and " " in b.code and a.code != b.code) or (
        a.code != b.code and (a.code.endswith(_NON_STATE) or b.code.endswith(_NON_STATE)))


#: Sectors of parties that are never their state itself: a rebel group or the opposition is
#: another party than the state named bare (التركية ... حزب العمال الكردستاني).
_NON_STATE = (" REB", " OPP")


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


#: Nouns of sites an attack hits (normalized): the actor after them owns what is hit.
_SITES = frozenset({"مواقع", "موقع", "مقرات", "مقر", "معاقل", "معقل", "تجمعات", "ثكنات",
                    "تحصينات", "مخازن", "منصات", "مراكز"})

#: Attack masdars of transitive verbs (normalized, without ال): their genitive is the object.
_OBJECT_GENITIVE = frozenset({"مهاجمه", "استهداف", "اقتحام", "احتلال"})

#: Words (normalized) right before an attack noun that make it the cause of a casualty named
#: before it (قتل جنديان في انفجار، أصيب بجروح جراء القصف، إثر هجوم).
_CAUSE = frozenset({"في", "جراء", "اثر", "نتيجه", "بسبب", "خلال", "بفعل"})


def _fix_roles(cand: Candidate, source: ActorMention | None, target: ActorMention | None,
               accusers: Sequence[tuple[int, ActorMention]], cues: dict[str, list[Mention]],
               norms: Sequence[str], actors: Sequence[ActorMention], places: Sequence[Mention],
               speakers: Sequence[ActorMention] = (),
               ) -> tuple[ActorMention | None, ActorMention | None]:
    """Correct the roles where an actor named next to the trigger is not its doer.

    * A verb that carries its own subject: a verb before its subject is singular in Arabic
      (طالب المتظاهرون), so one marked for the first person (نطالب الحكومة، ندعو السلطات) or
      the plural (يطالبون الحكومة) has the actor after it as its object: the target. The doer
      is then the speaker reporting it, if any. Verbal acts only: a material trigger may be a
      merged phrase whose first verb is not the act's (سقطوا منذ بدء الغزو الروسي).
    * The condemner: in ``أدانت X الهجوم الذي استهدف ...`` or ``أعرب فيه عن استنكاره للاعتداء``,
      X is the source of the condemnation (``accusers``: trigger start and source of the
      sentence's ACCUSE events so far), not of the attack. With no doer named the attack has
      no source; its target is the first party named after it, else the state of its place.
    * The object genitive: ``لمهاجمة أوكرانيا`` attacks Ukraine (a transitive masdar), and the
      owner of the sites hit (``قصف مواقع داعش``) is the target.
    * The casualty: in ``أصيب جنديان كوريان في انفجار`` or ``بمقتل 33 مسلحا من داعش بانفجار``
      the actor next to the casualty word, before the attack noun, is who was hit: the target.
    """
    if (cand.entry.type is PloverType.ACCUSE and source is not None
            and _SUMMON in cand.entry.phrase.split()[0]):
        # استدعت الوزارة سفير كندا، استدعاء السفير السويدي، استدعت الخارجية الأردنية القائم
        # بالأعمال في السفارة السويدية: the state of the envoy (named right after the diplomat
        # word) is the target; the summoner is the other party: the subject after the verb,
        # else the one named before it, else the other state named (مفوض كندا في الهند)
        diplos = [d for d in cues.get("DIPLO", ()) if 0 <= d.start - cand.end <= 8]
        # (his state right before a title that follows it, مفوض كندا السامي, but not the
        # subject right after the verb, استدعت الخارجية الكويتية القائم بالأعمال; else the
        # state named right after the title, سفير كندا، القائم بالأعمال في السفارة السويدية)
        envoy = next((a for d in diplos for a in actors
                      if a.end == d.start and a.start > cand.end), None) or next(
            (a for d in diplos for a in actors if d.end <= a.start <= d.end + 3), None)
        if envoy is not None:
            doer = next((a for a in [source, target] if a is not None and not a.locative
                         and a.root != envoy.root and a.start >= cand.end
                         and a.start < envoy.start), None) or next(
                (a for a in reversed(actors) if a.end <= cand.start and not a.oblique
                 and cand.start - a.end <= 6 and a.root != envoy.root), None) or next(
                (a for a in [source, target] if a is not None and a.root != envoy.root), None)
            return doer, envoy
    if (source is not None and cand.entry.verbal and cand.entry.type not in _MATERIAL
            and source.start >= cand.end and not source.implicit
            and _own_subject(norms[cand.start], cand)):
        return next((s for s in reversed(speakers) if s.end <= cand.start), None), source
    if cand.entry.type is not PloverType.ASSAULT:
        return source, target
    if source is not None and source.start >= cand.start and source.prev in _SITES:
        # قصف مواقع داعش، يقصف مقرات الحوثيين: whose positions are hit is the target; the doer
        # is the subject before the verb, if one is named
        doer = next((a for a in reversed(actors) if a.end <= cand.start and not a.oblique
                     and cand.start - a.end <= _SUBJECT_BACK), None)
        return doer, source
    if (source is not None and source.start == cand.end and not cand.entry.verbal
            and _core(norms[cand.end - 1]) in _OBJECT_GENITIVE
            and not any(a.start >= source.end and a.oblique and a.prev not in _ORIGIN
                        for a in actors)):
        # مهاجمة أوكرانيا، استهداف سفينة قطرية: the genitive of a transitive masdar is what is
        # attacked, unless the object follows with ل (مهاجمة روسيا لأوكرانيا)
        return None, source
    if target is not None and any(start < cand.start and a == target for start, a in accusers):
        # nor is the condemner the attack's victim (أدانت فرنسا الهجمات الروسية على خاركيف)
        target = _place_state(places, _root(source))
    if source is not None and not source.implicit and source.end <= cand.start and any(
            start < cand.start and a == source for start, a in accusers):
        # the doer may still be named by a demonym after the noun (أدانت فرنسا الهجمات الروسية)
        doer = next((a for a in actors if a.adjective and 0 <= a.start - cand.end <= 1), None)
        if target is None or target.root == source.root or target is doer:
            target = next((a for a in actors if cand.end <= a.start <= cand.end + _TARGET_AHEAD
                           and a is not doer and a.prev not in _ORIGIN), None) \
                or _place_state(places, _root(doer))
        return doer, target
    hurt = cues.get("CASUALTY")
    if not hurt:
        return source, target
    # the attack noun after في or ب; a casualty noun, the attack and its weapon may form one
    # merged trigger (بمقتل 20 مسلحا من داعش بانفجار سيارة مفخخة): look at each of its parts
    for at, clitic in [(cand.start, cand.clitic)] + [(p.start, p.hit.clitic) for p in cand.parts]:
        if not ((at > 0 and norms[at - 1] in _CAUSE) or clitic.endswith("ب")):
            continue
        victim = next((a for a in reversed(actors) if a.end <= at
                       and at - a.end <= _SUBJECT_BACK
                       and any((a.end <= m.start and m.end <= at)
                               or a.start - 4 <= m.end <= a.start for m in hurt)), None)
        if victim is None:
            continue
        if (source is not None and source != victim) or (source is None and target is not None):
            return source, target
        return None, victim
    return source, target


def _circumstantial(word: str, cand: Candidate, breaks: set[int]) -> bool:
    """Whether the one-word verbal trigger ``word`` (normalized, proclitics included) is an
    accusative active participle: مُفعِلاً (متهما، منتقدة، محملين، مطالبا), فاعلين (داعين) or,
    set off by a comma, فاعلاً (واصفا). Nouns (مظاهرة) are not verbal, and a فاعلا form without
    the comma may be a dual verb (طالبا)."""
    if not cand.entry.verbal or " " in cand.entry.phrase:
        return False
    w = word[len(cand.clitic):]
    if len(w) < 4:
        return False
    if w[0] == "م" and w.endswith(("ا", "ه", "ين")) and not w.endswith(("وا", "تا")):
        return True
    return len(w) >= 5 and w[1] == "ا" and (
        w.endswith("ين") or (w.endswith("ا") and not w.endswith("وا") and cand.start in breaks))


def _own_subject(word: str, cand: Candidate) -> bool:
    """Whether the verb ``word`` (normalized, proclitics included) is inflected for a first-person
    or plural subject: نطالب، سندعو (نـ), يطالبون، طالبوا (ـون، ـوا)."""
    stem = cand.entry.phrase.split()[0]
    word = word[len(cand.clitic):]
    at = word.find(stem)
    if at < 0 or len(cand.entry.phrase.split()) > 1:
        return False
    prefix, suffix = word[:at], word[at + len(stem):]
    return prefix in ("ن", "سن") or suffix in ("ون", "وا") or (
        stem.endswith("و") and prefix in ("ي", "سي") and suffix == "ن")


def _domestic_ban(cand: Candidate, target: ActorMention | None,
                  actors: Sequence[ActorMention]) -> bool:
    """Whether a ban (the noun حظر) is a state's measure at home, not a sanction on another.

    A sanction bans a named party (الحظر الذي فرضه على منتخبات روسيا، تعليق عضوية روسيا); a ban on
    an activity with no party named in the words after it (تنوي حظر زراعة المحاصيل المعدلة، الحظر
    المفروض على المرشحين) restricts the state's own people: COERCE ``ban`` (GUIDELINES' COERCE
    modes).
    """
    return (cand.entry.type is PloverType.SANCTION and target is None
            and cand.entry.phrase == "حظر"
            and not any(0 <= a.start - cand.end <= _TARGET_AHEAD for a in actors))
