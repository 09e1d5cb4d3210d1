"""Lexicon entries and context rules added from a scratch sample of SaudiNewsNet articles
(not in the gold set). Every example sentence here is our own."""

from __future__ import annotations

from datetime import datetime

import pytest

from schemas.models import PloverType
from tests.support.events import extract_text

PUB = datetime(2025, 1, 1)

A = PloverType


def triggers(text: str) -> list[tuple[PloverType, str]]:
    events = extract_text(text, PUB)
    return [(e.type, e.trigger) for e in events]


def types(text: str) -> list[PloverType]:
    return [t for t, _ in triggers(text)]


# ------------------------------------------------------------------ COERCE
@pytest.mark.parametrize("text", [
    "وأعلنت النيابة توقيف ثلاثة أشخاص في العاصمة.",
    "وقالت الشرطة إن التوقيفات شملت قياديين في الجماعة.",
    "وألقت قوات الأمن أمس القبض على المطلوب.",
    "وتمكنت الدوريات من تحديد مكان المتهم وتم القبض عليه.",
    "وداهمت قوات الأمن وكرا للمسلحين في ضواحي المدينة.",
    "وتواصل الشرطة مداهماتها في الأحياء الشرقية.",
    "وأوقفت الشرطة خمسة أشخاص يشتبه في انتمائهم إلى الخلية.",
    "وقضت المحكمة بسجن المتهم عشر سنوات.",
    "وصدر حكم بالسجن المؤبد على زعيم العصابة.",
    "وأغلقت السلطات المعابر الحدودية مع الجارة الجنوبية.",
])
def test_arrests_raids_sentences_and_closures_are_coerce(text: str) -> None:
    assert A.COERCE in types(text)


def test_a_raid_and_the_arrests_it_led_to_are_two_events() -> None:
    found = types("واعتقلت الشرطة عشرين شخصا خلال المداهمات في المدينة.")
    assert found.count(A.COERCE) == 2


@pytest.mark.parametrize("text", [
    "وشنت قوات الاحتلال فجر أمس حملة اعتقالات واسعة في القرى.",
    "وشنت الحكومة حملة أمنية على الجماعة.",
])
def test_a_security_sweep_is_coerce_not_an_attack(text: str) -> None:
    found = types(text)
    assert A.COERCE in found
    assert A.ASSAULT not in found


def test_fajran_is_dawn_not_a_bombing() -> None:
    assert A.ASSAULT not in types("واعتقلت قوات الاحتلال 15 فلسطينيا فجراً في الضفة.")


def test_a_death_sentence_is_coerce_an_execution_is_assault() -> None:
    assert types("وحكمت المحكمة عليه بالإعدام بعد إدانته.")[0] is A.COERCE
    assert A.COERCE in types("وكان المتهم قد عوقب بالإعدام في قضية أخرى.")
    found = types("ونفذت السلطات، صباح اليوم، حكم الإعدام بحق المدان.")
    assert A.ASSAULT in found and A.COERCE not in found


def test_prison_needs_a_sentence_word() -> None:
    assert A.COERCE not in types("وخرج الكاتب من السجن بعد سنوات طويلة.")


def test_stop_with_no_detainee_is_not_an_arrest() -> None:
    assert A.COERCE not in types("وأوقف المصنع الإنتاج بسبب الأعطال.")


def test_closing_a_shop_is_not_coerce() -> None:
    assert A.COERCE not in types("وأغلقت البورصة على ارتفاع طفيف.")


# ------------------------------------------------------------------ ACCUSE
@pytest.mark.parametrize("text", [
    "وأعلنت الشرطة أن التحقيقات جارية لكشف ملابسات الحادث.",
    "وشكلت الحكومة لجنة تحقيق في أحداث العنف.",
    "واستجوبت النيابة المشتبه بهم في القضية.",
    "ووجهت النيابة تهمة الرشوة إلى الوزير السابق.",
])
def test_investigations_and_charges_are_accuse(text: str) -> None:
    assert A.ACCUSE in types(text)


def test_agency_names_are_not_investigations() -> None:
    assert A.ACCUSE not in types("وقال مكتب التحقيقات الفدرالي إن الموقع تعطل.")


def test_a_charge_is_not_the_act() -> None:
    found = types("واعتقلت الشرطة رجلا بتهمة القتل العمد.")
    assert A.COERCE in found and A.ASSAULT not in found


# ------------------------------------------------------------------ AGREE
@pytest.mark.parametrize("text", [
    "وقدمت فرنسا مقترحا لوقف القتال في المدينة.",
    "وعرضت قطر التوسط بين الطرفين لإنهاء الأزمة.",
])
def test_proposals_and_offers_to_mediate_are_agree(text: str) -> None:
    assert A.AGREE in types(text)


def test_a_proposal_needs_a_named_party() -> None:
    assert A.AGREE not in types("وتناولت المقترحات تطوير الأنشطة الثقافية في النادي.")


# ------------------------------------------------------------------ diplomacy, advances, releases
def test_severing_ties_and_expelling_with_the_subject_between() -> None:
    assert A.SANCTION in types("وقطعت البحرين علاقاتها الدبلوماسية مع إيران.")
    assert A.SANCTION in types("وطردت الحكومة السفير الإيراني من البلاد.")
    assert A.SANCTION not in types("وقطعت الشركة الكهرباء عن الحي.")


def test_a_past_ground_advance_is_assault() -> None:
    assert A.ASSAULT in types("وتقدمت القوات الحكومية نحو مركز المدينة.")
    assert A.ASSAULT not in types("وتقدمت المواطنة ببلاغ إلى الشرطة.")


def test_a_release_with_the_subject_between_is_retreat_not_assault() -> None:
    assert types("وأطلق الحوثيون سراح خمسة صحفيين.") == [A.RETREAT]


def test_amnesty_international_is_not_an_amnesty() -> None:
    assert A.CONCEDE not in types("وانتقدت منظمة العفو الدولية الأحكام.")


def test_centrifuges_are_not_expulsions() -> None:
    assert A.SANCTION not in types("وتملك إيران آلاف أجهزة الطرد المركزي.")
