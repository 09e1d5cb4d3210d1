"""What a reader must find in seed 000 (Russia/Ukraine, talks in Florida, the barrage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from khabar.config import EventSettings
from khabar.corpus import read_seed
from khabar.events.extract import get_extractor
from khabar.pipeline import prepare_doc
from schemas.models import Event, PloverType

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_02b480f61992c5b6.txt"


@pytest.fixture(scope="module")
def events() -> list[Event]:
    article = read_seed(SEED)
    return get_extractor(EventSettings()).extract(prepare_doc(article), article)


def _root(code: str | None) -> str | None:
    return code.split()[0] if code else None


def test_three_days_of_talks_ended_without_progress(events: list[Event]) -> None:
    talks = [e for e in events if e.type is PloverType.CONSULT and "ثلاثة أيام" in e.sentence]
    assert len(talks) == 1
    ev = talks[0]
    assert ev.trigger == "المحادثات"
    assert ev.negated is True  # "انتهت ... دون إحراز تقدم"
    assert ev.source is not None and ev.source.code == "UKR GOV"
    assert ev.target is not None and ev.target.code == "USA GOV"


def test_failed_talks_are_also_sanction_per_manual(events: list[Event]) -> None:
    first = [e for e in events if e.sentence.startswith("وفشلت المحادثات")]
    assert {e.type for e in first} >= {PloverType.CONSULT, PloverType.SANCTION, PloverType.ASSAULT}
    consult = next(e for e in first if e.type is PloverType.CONSULT)
    assert consult.negated is True
    sanction = next(e for e in first if e.type is PloverType.SANCTION)
    assert sanction.trigger == "فشلت"  # the proclitic و is left out of the span


def test_overnight_barrage_of_653_drones_and_51_missiles(events: list[Event]) -> None:
    barrage = [e for e in events if e.type is PloverType.ASSAULT and "653" in e.sentence]
    assert len(barrage) == 1
    ev = barrage[0]
    assert "الهجمات" in ev.trigger
    assert ev.mode == "drones"  # the first weapon named (GUIDELINES: drones before missiles)
    assert ev.source is not None and _root(ev.source.code) == "RUS"
    assert ev.target is not None and _root(ev.target.code) == "UKR"
    quantities = {(q.value, q.unit) for q in ev.quantities}
    assert {(653.0, "drones"), (51.0, "missiles")} <= quantities
    assert ev.negated is False and ev.modality == "reported"


def test_strike_destroyed_railway_station_in_fastiv(events: list[Event]) -> None:
    strike = [e for e in events if e.type is PloverType.ASSAULT and "فاستيف" in e.sentence
              and "غارة" in e.trigger]
    assert len(strike) == 1
    ev = strike[0]
    assert ev.mode == "drones"  # غارة بطائرة بدون طيار
    fastiv = next(loc for loc in ev.locations if loc.name == "Fastiv")
    assert fastiv.country_code == "UA"
    assert fastiv.latitude is not None and 49.5 < fastiv.latitude < 50.5
    assert fastiv.text == "فاستيف"


def test_505_km2_taken_in_november_is_assault(events: list[Event]) -> None:
    # PLOVER manual, THREATEN: occupations carried out are ASSAULT (threatened ones THREATEN).
    taken = [e for e in events if "505" in e.sentence]
    assert len(taken) == 1
    ev = taken[0]
    assert ev.type is PloverType.ASSAULT
    assert ev.trigger == "استولت"
    assert ev.mode is None  # the manual's ASSAULT table has no mode for territory
    assert ev.source is not None and ev.source.code == "RUS MIL"
    km2 = next(q for q in ev.quantities if q.unit == "km2")
    assert km2.value == 505.0 and km2.qualifier == "about" and km2.approximate


def test_planned_meeting_in_london(events: list[Event]) -> None:
    ev = next(e for e in events if e.trigger == "سيلتقي")
    assert ev.type is PloverType.CONSULT
    assert ev.modality == "planned"
    assert ev.source is not None and ev.source.code == "FRA GOV"
    assert "London" in {loc.name for loc in ev.locations}


def test_claimed_strikes(events: list[Event]) -> None:
    ev = next(e for e in events if e.sentence.startswith("وزعمت موسكو"))
    assert ev.type is PloverType.ASSAULT
    assert ev.modality == "claimed"


def test_refusal_to_soften_is_reject(events: list[Event]) -> None:
    ev = next(e for e in events if "يخفف" in e.trigger)
    assert ev.type is PloverType.REJECT and ev.negated is False
