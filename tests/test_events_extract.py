"""Event extraction on small constructed Arabic texts: each heuristic on its own."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from khabar.config import EventSettings
from khabar.events.extract import EventExtractor, get_extractor
from schemas.models import Event, PloverType, event_id
from tests.support.events import extract_text

PUB = datetime(2025, 11, 30, 10, 0)  # a Sunday


def run(text: str, published: datetime | None = PUB, **settings: object) -> list[Event]:
    return extract_text(text, published, **settings)


def one(text: str, type_: PloverType, **kw: object) -> Event:
    found = [e for e in run(text, **kw) if e.type is type_]  # type: ignore[arg-type]
    assert len(found) == 1, [(e.type, e.trigger) for e in run(text)]
    return found[0]


@pytest.mark.parametrize("text", [
    "قصفت القوات الروسية مدينة خاركيف.",
    "وقصفوا المدينة بالمدفعية.",
    "يقصف الجيش السوري الأحياء الشرقية.",
    "شنت طائرات التحالف غارات على صنعاء.",
    "استهدفت غارة إسرائيلية سيارة في غزة.",
    "وقتل مسلحون ثلاثة جنود.",
])
def test_assault_triggers_in_their_inflections(text: str) -> None:
    assert any(e.type is PloverType.ASSAULT for e in run(text))


@pytest.mark.parametrize(("text", "type_"), [
    ("التقى وزير الخارجية السعودي نظيره الأمريكي في الرياض.", PloverType.CONSULT),
    ("أجرى الرئيس الفرنسي اتصالا هاتفيا مع الرئيس الروسي.", PloverType.CONSULT),
    ("فرض الاتحاد الأوروبي عقوبات جديدة على روسيا.", PloverType.SANCTION),
    ("تظاهر آلاف الطلاب في طهران.", PloverType.PROTEST),
    ("حذر بوتين أوروبا من حرب شاملة.", PloverType.THREATEN),
    ("اتهمت أوكرانيا روسيا بارتكاب جرائم حرب.", PloverType.ACCUSE),
    ("رفضت إيران المقترح الأمريكي.", PloverType.REJECT),
    ("طالبت السعودية بوقف إطلاق النار.", PloverType.REQUEST),
    ("اعتقلت الشرطة التركية عشرة أشخاص.", PloverType.COERCE),
    ("انسحبت القوات الروسية من خيرسون.", PloverType.RETREAT),
    ("قدمت السعودية مساعدات إنسانية لليمن.", PloverType.AID),
    ("رحب الملك سلمان بالاتفاق.", PloverType.SUPPORT),
    ("اتفقت روسيا وأوكرانيا على تبادل الأسرى.", PloverType.AGREE),
])
def test_other_types(text: str, type_: PloverType) -> None:
    assert type_ in {e.type for e in run(text)}


def test_source_and_target_verb_subject_object() -> None:
    ev = one("شنت روسيا هجوما واسعا على أوكرانيا.", PloverType.ASSAULT)
    assert ev.source is not None and ev.source.code == "RUS"
    assert ev.target is not None and ev.target.code == "UKR"
    assert ev.source.span is not None
    assert ev.source.text == "روسيا"


def test_source_before_trigger_and_sector_fusion() -> None:
    ev = one("القوات الروسية قصفت مواقع الجيش الأوكراني.", PloverType.ASSAULT)
    assert ev.source is not None and ev.source.code == "RUS MIL"
    assert ev.target is not None and ev.target.code == "UKR MIL"


def test_consult_between_two_parties_and_metonym() -> None:
    ev = one("عقدت محادثات بين موسكو وكييف في إسطنبول.", PloverType.CONSULT)
    assert ev.source is not None and ev.source.code == "RUS GOV"
    assert ev.target is not None and ev.target.code == "UKR GOV"
    assert "Istanbul" in {loc.name for loc in ev.locations}


def test_houthis_and_coalition() -> None:
    ev = one("استهدف الحوثيون مواقع التحالف العربي في مأرب.", PloverType.ASSAULT)
    assert ev.source is not None and ev.source.code == "YEM REB"
    assert ev.target is not None and ev.target.code == "SAU MIL"


def test_negation_particles_and_failure() -> None:
    assert one("لم يلتق الرئيسان خلال القمة.", PloverType.CONSULT).negated is True
    assert one("انتهت المفاوضات دون التوصل إلى اتفاق.", PloverType.CONSULT).negated is True
    assert one("انتهت المحادثات بدون إحراز أي تقدم.", PloverType.CONSULT).negated is True
    assert one("عقدت المحادثات في جنيف.", PloverType.CONSULT).negated is False


def test_modality() -> None:
    assert one("وسيلتقي ماكرون مع زيلينسكي في لندن.", PloverType.CONSULT).modality == "planned"
    assert one("من المقرر أن يزور ترامب الرياض.", PloverType.CONSULT).modality == "planned"
    assert one("نفت موسكو أنها قصفت المستشفى.", PloverType.ASSAULT).modality == "denied"
    assert one("زعمت روسيا أنها قصفت مصانع الأسلحة.", PloverType.ASSAULT).modality == "claimed"
    assert one("قصفت روسيا مصانع الأسلحة.", PloverType.ASSAULT).modality == "reported"


def test_weapon_mode_first_named() -> None:
    ev = one("هاجمت روسيا أوكرانيا بطائرات مسيرة وصواريخ.", PloverType.ASSAULT)
    assert ev.mode == "drones"
    assert one("أجرى بوتين مكالمة مع ترامب.", PloverType.CONSULT).mode == "phone"


def test_dates_weekday_yesterday_day_month_hijri() -> None:
    sat = one("قصفت روسيا كييف يوم السبت.", PloverType.ASSAULT).date
    assert sat is not None and sat.value == date(2025, 11, 29) and sat.text == "يوم السبت"
    sun = one("قصفت روسيا كييف يوم الأحد.", PloverType.ASSAULT).date
    assert sun is not None and sun.value == date(2025, 11, 30)  # on or before publication
    yest = one("قصفت روسيا كييف أمس.", PloverType.ASSAULT).date
    assert yest is not None and yest.value == date(2025, 11, 29)
    dm = one("قصفت روسيا كييف في 29 نوفمبر/تشرين الثاني.", PloverType.ASSAULT).date
    assert dm is not None and dm.value == date(2025, 11, 29) and dm.resolution == "day"
    dec = one("قصفت روسيا كييف في 31 ديسمبر.", PloverType.ASSAULT).date
    assert dec is not None and dec.value == date(2024, 12, 31)  # not after publication
    hij = one("زار الملك سلمان جدة في 15 رمضان 1436 هـ.", PloverType.CONSULT,
              published=None).date
    assert hij is not None and hij.calendar == "hijri" and hij.value == date(2015, 7, 2)
    assert one("قصفت روسيا كييف يوم السبت.", PloverType.ASSAULT, published=None).date is None


def test_quantities_digits_eastern_words_qualifiers() -> None:
    ev = one("قتل ٣٥ شخصا في غارة للتحالف.", PloverType.ASSAULT)
    assert [(q.value, q.unit) for q in ev.quantities] == [(35.0, "killed")]
    ev = one("أطلقت روسيا أكثر من 700 طائرة مسيرة.", PloverType.ASSAULT)
    q = ev.quantities[0]
    assert (q.value, q.unit, q.qualifier, q.approximate) == (700.0, "drones", "more_than", True)
    ev = one("وأصيب ما لا يقل عن ثمانية أشخاص في الهجوم.", PloverType.ASSAULT)
    q = ev.quantities[0]
    assert (q.value, q.unit, q.qualifier) == (8.0, "injured", "at_least")
    ev = one("قصفت القوات عشرات المنازل.", PloverType.ASSAULT)
    q = ev.quantities[0]
    assert (q.value, q.unit, q.qualifier) == (10.0, "houses", "tens")


def test_locations_from_gazetteer_with_clitics() -> None:
    ev = one("قصفت روسيا محطة قطارات في خاركيف وبالقرب من كييف.", PloverType.ASSAULT)
    names = {loc.name for loc in ev.locations}
    assert "Kharkiv" in names
    kharkiv = next(loc for loc in ev.locations if loc.name == "Kharkiv")
    assert kharkiv.country_code == "UA" and kharkiv.span is not None


def test_event_ids_are_deterministic_and_spans_exact() -> None:
    text = "وقصفت روسيا كييف. ثم التقى بوتين ترامب."
    a, b = run(text), run(text)
    assert [e.event_id for e in a] == [e.event_id for e in b]
    for ev in a:
        assert text[ev.trigger_span.start:ev.trigger_span.end] == ev.trigger
        assert text[ev.sentence_span.start:ev.sentence_span.end] == ev.sentence
        assert ev.event_id == event_id("t-1", ev.sentence_span.start, ev.trigger_span.start,
                                       ev.trigger_span.end, ev.type.value)
    assert a[0].trigger == "قصفت"  # the conjunction و is not part of the trigger
    assert [e.trigger_span.start for e in a] == sorted(e.trigger_span.start for e in a)


@pytest.mark.parametrize("text", ["", "   \n\n", "...!!!؟؟ ،،", "The army shelled the city.",
                                  "١٢٣ ٤٥٦", "ـــــ"])
def test_odd_input_gives_no_events_and_no_crash(text: str) -> None:
    assert run(text) == []


def test_huge_text_is_capped_and_fast_enough() -> None:
    text = "قصفت روسيا مدينة خاركيف يوم السبت وقتل 5 أشخاص. " * 3000
    events = run(text, max_events_per_article=50)
    assert len(events) == 50


def test_min_confidence_filters() -> None:
    text = "شنت روسيا هجوما على أوكرانيا."
    assert run(text, min_confidence=0.0)
    assert run(text, min_confidence=1.0) == []


def test_extractor_is_cached_per_settings() -> None:
    s = EventSettings()
    assert get_extractor(s) is get_extractor(EventSettings())
    assert isinstance(get_extractor(s), EventExtractor)
    assert get_extractor(EventSettings(min_confidence=0.5)) is not get_extractor(s)
