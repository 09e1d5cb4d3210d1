"""Lexicons of the event extractor and the one table that finds them all.

Every data file under ``khabar/events/data`` is a TSV a linguist edits: triggers,
context cues, actors, places, units, number words, month and weekday names. Each
entry is written in ordinary Arabic; at load time it is normalized with the
shared :func:`~khabar.text.normalize.normalize_word` (so the data and the article
meet in the same normal form) and inflected: verbs get their perfect and
imperfect affixes and attached pronouns, nouns the article, plural/dual endings
and possessives, and everything the proclitics و ف ب ل ك س. All inflected forms
of all lexicons go into ONE table keyed by their first normalized word, so an
article's tokens are looked up once, whatever the number of lexicons.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import compress
from typing import Any

from khabar.errors import KhabarError
from khabar.text.normalize import normalize_word
from schemas.models import PloverType


class LexiconError(KhabarError):
    """A lexicon data file is malformed."""


# --------------------------------------------------------------------------- inflection
_PAST_SUFFIXES = ("", "ت", "وا", "ا", "تا", "ن", "نا", "تم")
_IMPF_PREFIXES = ("ي", "ت", "ن", "ا")
_IMPF_SUFFIXES = ("", "ون", "ان", "ين", "ن", "وا")
_OBJECT_PRONOUNS = ("ه", "ها", "هم", "هما", "هن", "ك", "كم", "ني", "نا")
_POSSESSIVES = ("ه", "ها", "هم", "هما", "نا", "كم")
_VERB_PROCLITICS = ("", "و", "ف")
_IMPF_PROCLITICS = ("", "و", "ف", "س", "وس", "فس", "ل", "ول", "فل")
_NOUN_PROCLITICS = ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك")
_DEF_PROCLITICS = ("", "و", "ف", "ب", "ك", "وب", "فب", "وك")  # ل + ال is written لل


def norm_phrase(text: str) -> tuple[str, ...]:
    """Normalized words of a data-file phrase, as the shared pass would produce them."""
    return tuple(w for w in (normalize_word(p) for p in text.split()) if w)


def past_forms(stem: str, bare: bool = True) -> set[str]:
    """Perfect-tense forms of a 3rd masc. sing. verb stem (normalized)."""
    out: set[str] = set()
    if stem.endswith(("ي", "ا")):  # defective verbs: التقى -> التقت التقوا التقيا
        root = stem[:-1]
        out.update({root + "ت", root + "وا", root + "تا", stem + "ا", stem + "ت"})
        if stem.endswith("ي"):
            out.update({stem + "ن", stem + "نا", stem + "تم"})
        base = [stem, root + "ت"]
    else:
        out.update(stem + s for s in _PAST_SUFFIXES)
        base = [stem, stem + "ت", stem + "و", stem + "نا"]
    for b in base:
        out.update(b + p for p in _OBJECT_PRONOUNS)
    if bare:
        out.add(stem)
    else:
        out.discard(stem)
    return out


def imperfect_forms(stem: str) -> set[str]:
    """Imperfect forms (with person prefixes, without proclitics) of a stem such as قصف."""
    out: set[str] = set()
    for pre in _IMPF_PREFIXES:
        w = pre + stem
        if stem.endswith(("ي", "و")):
            # defective: يلتقي يلتقيان يلتقون, and the jussive after لم: يلتق
            out.update({w, w + "ان", pre + stem[:-1] + "ون", pre + stem[:-1]})
        else:
            out.update(w + s for s in _IMPF_SUFFIXES)
        out.update(w + p for p in _OBJECT_PRONOUNS)
    return out


def noun_forms(noun: str, owned_forms: bool = True) -> set[str]:
    """Noun forms (without proclitics): definite, plural/dual, accusative, possessives.

    Args:
        noun: The noun (normalized).
        owned_forms: Include the possessive forms (غارتها); without them, the forms that can
            head a multi-word trigger (الحملة الأمنية, not حملتها الأمنية).
    """
    if noun.endswith("ه"):  # taa marbuta (normalized): غاره -> غارات غارتين غارتها
        stem = noun[:-1]
        plain = {noun, stem + "ات", stem + "تان", stem + "تين"}
        owned = {stem + "ت" + p for p in _POSSESSIVES} | {stem + "ات" + p for p in _POSSESSIVES}
    else:
        plain = {noun, noun + "ا", noun + "ان", noun + "ين"}
        owned = {noun + p for p in _POSSESSIVES}
    definite = set() if noun.startswith("ال") else {"ال" + f for f in plain}
    return plain | owned | definite if owned_forms else plain | definite


def with_proclitics(form: str, verb: str | None = None) -> Iterator[tuple[str, str]]:
    """``(clitic, clitic + form)`` for the proclitics that may precede ``form``.

    Args:
        form: A normalized word form.
        verb: ``"past"``, ``"impf"`` or None for nouns and particles.
    """
    if verb == "past":
        clitics: Iterable[str] = _VERB_PROCLITICS
    elif verb == "impf":
        clitics = _IMPF_PROCLITICS
    elif form.startswith("ال"):
        for c in _DEF_PROCLITICS:
            yield c, c + form
        for c in ("ل", "ول", "فل"):
            yield c, c + "ل" + form[2:]
        return
    else:
        clitics = _NOUN_PROCLITICS
    for c in clitics:
        yield c, c + form


def inflect(word: str, cls: str) -> list[tuple[str, str, str]]:
    """All surface forms of ``word`` (normalized) for an inflection class.

    Returns:
        ``(surface, proclitic, core)`` triples; ``core`` is the form without proclitics
        (what ``!form`` lines in the data forbid).
    """
    if cls == "G":  # gazetteer name: only و ب ل ف (and لل for ال-names)
        return [(s, c, word) for c, s in with_proclitics(word, None)
                if c in ("", "و", "ب", "ل", "ف", "وب", "ول")]
    cores: list[tuple[str, str | None]]
    if cls == "V":
        cores = [(f, "past") for f in past_forms(word)]
    elif cls == "VX":
        cores = [(f, "past") for f in past_forms(word, bare=False)]
    elif cls == "I":
        cores = [(f, "impf") for f in imperfect_forms(word)]
    elif cls == "N":
        cores = [(f, None) for f in noun_forms(word)]
    elif cls == "X":
        cores = [(word, None)]
    else:
        raise LexiconError(f"unknown inflection class {cls!r}")
    out: list[tuple[str, str, str]] = []
    for core, verb in cores:
        if verb is None and cls == "X":
            for c, s in with_proclitics(core, None):
                if c in ("", "و", "ف", "ب", "ل", "وب", "ول", "فب", "فل") or c.endswith("ل"):
                    out.append((s, c, core))
        else:
            out.extend((s, c, core) for c, s in with_proclitics(core, verb))
    return out


def _light_forms(word: str) -> set[str]:
    """Forms of a non-initial word of a multi-word trigger: as written and with ال."""
    if word.startswith("ال") or len(word) <= 2:
        return {word}
    return {word, "ال" + word}


def phrase_forms(
    phrase: str, cls: str, light: bool = True
) -> list[tuple[tuple[str, ...], str, str]]:
    """Surface word sequences of a (possibly multi-word) data entry.

    Args:
        phrase: The entry as written; later words may list ``|`` alternatives.
        cls: Inflection class of the first word (see ``triggers.tsv``).
        light: Also match later words with the article ال (triggers); gazetteer names
            match their later words exactly.

    Returns:
        ``(words, proclitic_of_first_word, core_of_first_word)``.
    """
    parts = phrase.split()
    if not parts:
        return []
    first = norm_phrase(parts[0])
    if not first:
        return []
    heads = inflect(first[0], cls)
    if len(parts) == 1:
        return [((s,), c, core) for s, c, core in heads]
    # A multi-word head does not carry an object pronoun (شنوه هجوما is not Arabic). A noun's
    # taa marbuta is normalized to ه, which looks like the pronoun: a noun keeps its forms
    # without a possessive (الحملة الأمنية، اللائحة السوداء، المسيرة الحاشدة).
    bare = noun_forms(first[0], owned_forms=False) if cls == "N" else set()
    heads = [h for h in heads
             if not h[2].endswith(_OBJECT_PRONOUNS) or h[2] == first[0] or h[2] in bare]
    rest: list[set[str]] = []
    for part in parts[1:]:
        alts: set[str] = set()
        for alt in part.split("|"):
            w = norm_phrase(alt)
            if w:
                alts.update(_light_forms(w[0]) if light else {w[0]})
        rest.append(alts)
    out: list[tuple[tuple[str, ...], str, str]] = []
    seqs: list[tuple[str, ...]] = [()]
    for alts in rest:
        seqs = [(*s, a) for s in seqs for a in sorted(alts)]
    for s, c, core in heads:
        out.extend(((s, *seq), c, core) for seq in seqs)
    return out


# --------------------------------------------------------------------------- data files
def read_tsv(name: str, columns: int) -> list[list[str]]:
    """Rows of a data TSV (``#`` comments and blank lines skipped), padded to ``columns``.

    Raises:
        LexiconError: the file is missing.
    """
    try:
        text = resources.files("khabar.events").joinpath("data", name).read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(f"lexicon {name} cannot be read: {exc}") from exc
    return parse_tsv(text, columns)


def parse_tsv(text: str, columns: int) -> list[list[str]]:
    """Rows of TSV text (``#`` comments and blank lines skipped), padded to ``columns``."""
    rows = []
    for row in csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in row] + [""] * columns
        rows.append(cells[:columns])
    return rows


#: The ``needs`` prefix of a sense-classified trigger entry (``SENSE:hukm``).
SENSE_PREFIX = "SENSE:"


def family_of(needs: str | None) -> str | None:
    """The sense family a trigger entry's ``needs`` names, or ``None``."""
    if needs and needs.startswith(SENSE_PREFIX):
        return needs[len(SENSE_PREFIX):]
    return None


@dataclass(frozen=True, slots=True)
class TriggerEntry:
    """One trigger of the lexicon (all its inflected forms share it)."""

    phrase: str
    type: PloverType
    mode: str | None
    weight: float
    needs: str | None
    verbal: bool  # a verb (V/VX/I): its subject may follow it
    #: the sense family whose model decides this entry (``needs`` ``SENSE:<family>``), read once
    sense: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """What one lexicon key stands for. ``kind`` says which lexicon."""

    kind: str  # trigger | cue | actor | place | unit | number | calendar
    entry: Any
    n_words: int
    clitic: str = ""
    #: the state (alpha-3) an actor or place names, for the article's home state
    state: str | None = None


def load_triggers(text: str | None = None) -> tuple[list[tuple[tuple[str, ...], Hit]], set[str]]:
    """Inflected trigger forms and the forbidden cores.

    Args:
        text: TSV text to use instead of the packaged ``triggers.tsv`` (tests).

    Raises:
        LexiconError: an unknown type or class, or a bad weight.
    """
    rows, forbidden = _trigger_rows(text)
    return list(_trigger_forms(rows, forbidden)), forbidden


def _trigger_rows(text: str | None = None) -> tuple[list[list[str]], set[str]]:
    """Rows of ``triggers.tsv`` (or ``text``) and the forbidden cores (its ``!`` lines)."""
    rows = parse_tsv(text, 6) if text is not None else read_tsv("triggers.tsv", 6)
    forbidden = {normalize_word(r[0][1:]) for r in rows if r[0].startswith("!")}
    return rows, forbidden


def _trigger_forms(rows: list[list[str]], forbidden: set[str]) -> Iterator[tuple[tuple[str, ...], Hit]]:
    """The forms :func:`load_triggers` lists, one at a time (no list of them all is built)."""
    for phrase, cls, type_, mode, weight, needs in rows:
        if phrase.startswith("!"):
            continue
        try:
            entry = TriggerEntry(
                phrase=phrase,
                type=PloverType(type_),
                mode=None if mode in ("", "-") else mode,
                weight=float(weight or 0.5),
                needs=None if needs in ("", "-") else needs,
                verbal=cls in ("V", "VX", "I") or (cls == "X" and " " not in phrase),
                sense=family_of(needs),
            )
        except ValueError as exc:
            raise LexiconError(f"triggers.tsv: bad line {phrase!r}: {exc}") from exc
        if cls == "X" and "+" in phrase and " " not in phrase:
            # "و+طالب": exactly this form, its proclitic marked (left out of the trigger span)
            pre, _, rest = phrase.partition("+")
            clitic = normalize_word(pre)
            yield (clitic + normalize_word(rest),), Hit("trigger", entry, 1, clitic)
            continue
        for words, clitic, core in phrase_forms(phrase, cls):
            if len(words) == 1 and (core in forbidden or words[0] in forbidden):
                continue  # a forbidden form is a one-word reading; later words disambiguate
            yield words, Hit("trigger", entry, len(words), clitic)


def _simple(name: str, kind: str, cols: int, key_cls: int | None) -> Iterator[tuple[tuple[str, ...], Hit]]:
    """Forms of a lexicon whose first column is the phrase and ``key_cls`` the class column."""
    for row in read_tsv(name, cols):
        cls = row[key_cls] if key_cls is not None else "X"
        entry = tuple(row)  # one per row, shared by its forms
        for words, clitic, _core in phrase_forms(row[0], cls or "X", light=False):
            yield words, Hit(kind, entry, len(words), clitic)


#: Three-letter codes that are not states (PLOVER's IMG, CAMEO's EUR region).
NON_STATES = frozenset({"IMG", "EUR", "NGO", "IGO"})


def state_of_code(kind: str, code: str) -> str | None:
    """The state an actor entry stands for (``'RUS GOV'`` -> ``'RUS'``), None for sectors,
    reporters and non-state actors; ``""`` for a reporter (its name hides a demonym)."""
    if kind == "ignore":
        return ""
    if kind == "sector":
        return None
    root = code.split()[0] if code.strip() else ""
    return root if len(root) == 3 and root.isupper() and root not in NON_STATES else None


def demonym_forms(base: str) -> set[str]:
    """Masc./fem., sing./plural/dual forms of a nisba adjective (normalized ``روسي``)."""
    forms = {base, base + "ه", base + "ون", base + "ين", base + "ان", base + "تان", base + "تين"}
    forms.update({f"{base}ه", f"{base}ات"})
    return forms | {"ال" + f for f in forms}


def actor_forms() -> list[tuple[tuple[str, ...], Hit]]:
    """Actor gazetteer forms: ``actors.tsv`` plus babel's Arabic country names."""
    return list(_actor_forms())


def _actor_forms() -> Iterator[tuple[tuple[str, ...], Hit]]:
    """The forms :func:`actor_forms` lists, one at a time (one entry tuple per row)."""
    rows = read_tsv("actors.tsv", 4)
    seen: set[str] = set()
    for form, kind, code, name in rows:
        entry = (form, kind, code, name)
        state = state_of_code(kind, code)
        if kind == "demonym":
            base = norm_phrase(form)
            if not base:
                continue
            for f in demonym_forms(base[0]):
                for s, c, _core in inflect(f, "G"):
                    yield (s,), Hit("actor", entry, 1, c, state)
            continue
        words = norm_phrase(form)
        if not words:
            continue
        seen.add(" ".join(words))
        for w, c, _core in phrase_forms(" ".join(words), "G", light=False):
            yield w, Hit("actor", entry, len(w), c, state)
    for form, code, name in country_names():
        words = norm_phrase(form)
        if not words or " ".join(words) in seen:
            continue
        entry = (form, "country", code, name)
        state = state_of_code("country", code)
        for w, c, _core in phrase_forms(" ".join(words), "G", light=False):
            yield w, Hit("actor", entry, len(w), c, state)


@cache
def country_names() -> list[tuple[str, str, str]]:
    """``(arabic name, alpha-3, english name)`` of every ISO 3166 country, from babel/pycountry."""
    import pycountry
    from babel import Locale

    territories = Locale("ar").territories
    out = []
    for country in pycountry.countries:
        ar = territories.get(country.alpha_2)
        if ar:
            out.append((ar, country.alpha_3, country.name))
    return out


@cache
def alpha2_of(alpha3: str) -> str | None:
    """ISO alpha-2 of an alpha-3 country code (None for non-state codes)."""
    import pycountry

    c = pycountry.countries.get(alpha_3=alpha3)
    return c.alpha_2 if c is not None else None


@cache
def alpha3_of(alpha2: str) -> str | None:
    """ISO alpha-3 of an alpha-2 country code (None when unknown)."""
    import pycountry

    c = pycountry.countries.get(alpha_2=alpha2)
    return c.alpha_3 if c is not None else None


# --------------------------------------------------------------------------- word table
#: ``(first token, number of words, hits, has a trigger)`` of one key found in a token stream.
Found = tuple[int, int, tuple[Hit, ...], bool]
#: What the table holds for a first word: the one-word key's hits (or None) and whether they
#: hold a trigger, and the longer keys by their second word: ``((later words, hits, has a
#: trigger), ...)`` (or None). Slots, hit tuples and continuations are shared by every first
#: word that has the same ones (most inflected forms of an entry do): never mutate them.
_Slot = tuple[tuple[Hit, ...] | None, bool,
              dict[str, tuple[tuple[list[str], tuple[Hit, ...], bool], ...]] | None]


@dataclass
class Lexicon:
    """All lexicons compiled into one table keyed by a key's first normalized word.

    Every key is whole words, so matching word by word finds exactly what an Aho-Corasick
    automaton over ``" w1 w2 ... "`` finds, for less: one C-level dict look-up per token
    (``map``), and Python work only for the tokens that start a key. (The automaton this
    replaced walked a 212k-key trie character by character. One table, not one for single
    words and one for longer keys: on a cold cache every extra look-up per token costs.)

    Attributes:
        table: First word -> :data:`_Slot`.
        size: Number of distinct keys.
    """

    table: dict[str, _Slot]
    size: int

    def scan(self, words: Sequence[str]) -> list[Found]:
        """Every key occurring in ``words`` (normalized tokens), overlaps included.

        Returns:
            ``(first token, n words, hits, has a trigger)``, ordered by the key's last token,
            longer keys first among those ending together (a left-to-right automaton's order).
        """
        looked = list(map(self.table.get, words))
        out: list[Found] = []
        longs: list[Found] = []
        n = len(words)
        # the positions of the words that start a key, with their slots (both walks in C)
        for i, (hits, trig, longer) in zip(compress(range(n), looked),
                                           filter(None, looked), strict=True):
            if hits is not None:
                out.append((i, 1, hits, trig))
            if longer is not None and i + 1 < n:
                for rest, hits, trig in longer.get(words[i + 1], ()):
                    j = i + 2 + len(rest)
                    if not rest or words[i + 2:j] == rest:
                        longs.append((i, j - i, hits, trig))
        if not longs:
            return out
        if len(longs) > _FEW_LONGS:
            return sorted(out + longs, key=_end_order)  # stable: ties keep the order above
        # the one-word keys are in end order already: file each longer key in its place, after
        # the equal ones filed before it, as the stable sort does (ties only occur between
        # longer keys). A text has a few longer keys and ~80 one-word ones: a few calls of
        # the key function per longer key, not one per key.
        for found in longs:
            out.insert(bisect_right(out, _end_order(found), key=_end_order), found)
        return out


#: Up to this many longer keys are filed one by one (see :meth:`Lexicon.scan`), more sorted.
_FEW_LONGS = 32


def _end_order(found: Found) -> tuple[int, int]:
    return found[0] + found[1], -found[1]


def _not_trigger(hit: Hit) -> bool:
    return hit.kind != "trigger"


def build_automaton(groups: Iterable[Iterable[tuple[tuple[str, ...], Hit]]]) -> Lexicon:
    """Compile ``(words, hit)`` lists into one :class:`Lexicon` (keys: word sequences).

    The groups may be iterators: each form is filed as it comes. Equal hits, hit tuples,
    continuations and slots are stored once and shared by all the keys that hold them (an
    entry's ~100 inflected forms mostly differ by their surface form alone).
    """
    # first word -> the one-word key's hit, or its hits once it has several (None: only
    # longer keys start with it), in the order the first words come; the longer keys by
    # their words, and their word tuples by first word in the order they come (no list for
    # a key of one hit, no dict for a pair of first words: most keys have one of each)
    singles: dict[str, Any] = {}
    multi: dict[tuple[str, ...], Any] = {}
    longs: dict[str, list[tuple[str, ...]]] = {}
    # the forms of an entry come together and mostly differ by their clitic: one hit each
    entry: Any = None
    same: dict[tuple[str, int, str, str | None], Hit] = {}
    size = 0
    for group in groups:
        for words, hit in group:
            if not all(words) or any(" " in w for w in words):
                continue  # a key is whole tokens (tokens never hold a space)
            if hit.entry is not entry:
                entry, same = hit.entry, {}
            h = same.setdefault((hit.kind, hit.n_words, hit.clitic, hit.state), hit)
            first = words[0]
            if len(words) == 1:
                hits = singles.get(first)
                if hits is None:
                    singles[first] = h
                    size += 1
                elif type(hits) is list:
                    hits.append(h)
                else:
                    singles[first] = [hits, h]
                continue
            if first not in singles:
                singles[first] = None
            hits = multi.get(words)
            if hits is None:
                multi[words] = h
                longs.setdefault(first, []).append(words)
                size += 1
            elif type(hits) is list:
                hits.append(h)
            else:
                multi[words] = [hits, h]
    del entry, same
    # equal hit tuples, pairs, continuations and slots are made once, found again by the
    # identity of what they hold (no hit is merged with another that is merely equal)
    solos: dict[Any, _Slot] = {}  # id(s) of a key's hit(s) -> its slot without longer keys
    shared: dict[tuple[Any, ...], Any] = {}  # rests, continuations and slots of longer keys

    def freeze(one_or_more: Hit | list[Hit]) -> _Slot:
        if isinstance(one_or_more, list):
            hits = one_or_more
            # triggers first: the scanner only needs to look at the first hit to know
            hits.sort(key=_not_trigger)
            ids: Any = tuple(map(id, hits))
        else:
            hits = [one_or_more]
            ids = id(one_or_more)  # most keys have one hit: no tuple for it
        solo = solos.get(ids)
        if solo is None:
            frozen = tuple(hits)
            solo = solos[ids] = (frozen, frozen[0].kind == "trigger", None)
        return solo

    for first, one in singles.items():  # values replaced in place: the order stays
        solo = freeze(one) if one is not None else (None, False, None)
        keys = longs.pop(first, None)
        if keys is None:
            singles[first] = solo
            continue
        by_second: dict[str, list[tuple[list[str], tuple[Hit, ...], bool]]] = {}
        for words in keys:
            frozen, trig, _none = freeze(multi.pop(words))
            rest = words[2:]
            rest_list = shared.setdefault(("r", rest), list(rest))
            by_second.setdefault(words[1], []).append(
                shared.setdefault(("c", rest, id(frozen)), (rest_list, frozen, trig)))
        cont: dict[str, tuple[tuple[list[str], tuple[Hit, ...], bool], ...]] = {}
        for second, items in by_second.items():
            second = shared.setdefault(("w", second), second)
            cont[second] = shared.setdefault(("l", *map(id, items)), tuple(items))
        longer = shared.setdefault(("d", *((w, id(v)) for w, v in cont.items())), cont)
        singles[first] = shared.setdefault(("s", id(solo[0]), solo[1], id(longer)),
                                           (solo[0], solo[1], longer))
    return Lexicon(_hash_keeping(singles), size)


def _hash_keeping(table: dict[str, Any]) -> dict[str, Any]:
    """``table`` (same keys, values and order) as a dict that keeps each key's hash.

    CPython (3.11+) stores a dict whose keys are all ``str`` without their hashes: a probe
    that meets another key reads that key's string to compare hashes. The word table is
    large (~190k keys: its entries and key strings are ~23 MB, far beyond the CPU caches),
    two tokens in three are in no key, and every probe of an occupied slot then costs a
    cache miss on a key string. A dict that once held a non-``str`` key keeps the general
    layout, hash stored next to each key, for good: a miss is told apart by the stored
    hash alone, and ``map(table.get, words)`` runs ~20% faster on a cold cache, for ~3 MB
    more. Nothing else changes: look-ups, order and values are those of ``table``.
    """
    out: dict[Any, Any] = {None: None}  # the non-str key: general layout from the start
    out.update(table)
    del out[None]
    return out


def _place_forms() -> Iterator[tuple[tuple[str, ...], Hit]]:
    """:func:`~khabar.events.places.place_forms`, made only when their turn comes."""
    from khabar.events.places import place_forms

    yield from place_forms()


@cache
def get_lexicon() -> Lexicon:
    """The packaged lexicons in one table (built once per process, on first use)."""
    rows, forbidden = _trigger_rows()
    # one group at a time, each form filed as it is made: no list of all forms is built
    groups: Iterator[Iterable[tuple[tuple[str, ...], Hit]]] = iter((
        _trigger_forms(rows, forbidden),
        _simple("cues.tsv", "cue", 4, 1),
        _actor_forms(),
        _place_forms(),
        _simple("units.tsv", "unit", 3, 1),
        _simple("numbers.tsv", "number", 3, None),
        _simple("calendar.tsv", "calendar", 3, None),
    ))
    return build_automaton(groups)
