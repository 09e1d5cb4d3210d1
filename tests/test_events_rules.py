"""Context rules and lexicon coverage of the event extractor (own example sentences)."""

from __future__ import annotations

from datetime import datetime

import pytest

from schemas.models import PloverType
from tests.support.events import extract_text

PUB = datetime(2025, 1, 1)

A = PloverType


def types(text: str) -> list[PloverType]:
    events = extract_text(text, PUB)
    return [e.type for e in events]


def triggers(text: str) -> list[tuple[PloverType, str]]:
    events = extract_text(text, PUB)
    return [(e.type, e.trigger) for e in events]


@pytest.mark.parametrize("text", [
    "وقالت وزارة الصحة إن المستشفيات تعمل بكامل طاقتها.",  # وزارة is not و + زاره
    "ونص الاتفاق على وقف فوري لإطلاق النار في المنطقة.",  # a ceasefire is not an attack
    "وجاءت الضربة الدبلوماسية بعد أسابيع من التوتر بين البلدين.",
    "وسجل اللاعب هدف الفوز من ضربة جزاء في الدقيقة الأخيرة من المباراة.",
    "وقاد المهاجم الهجوم في الشوط الثاني لكن الفريق خسر المباراة.",
    "ويلعب الشباب الورق في المقهى لقتل الوقت.",
    "وتستهدف الحملة التسويقية الجديدة الشباب في المدن الكبرى.",
    "ويمكن زيارة السوق القديم في عطلة نهاية الأسبوع.",
    "وتوفر الهواتف الجديدة وسائل الاتصال الحديثة.",
    "ويسعى البرنامج إلى تحقيق أهداف التنمية.",
    "وقدم الكاتب تعليقا على الرواية الجديدة.",
    "ويخفف التمرين من آلام الظهر.",
])
def test_non_event_uses_give_no_event(text: str) -> None:
    assert types(text) == []


def test_casualties_of_a_named_attack_are_not_a_second_event() -> None:
    text = "وشنت الطائرات غارة على مواقع المسلحين أسفرت عن مقتل 12 مسلحا وتدمير مخزن للأسلحة."
    assert types(text) == [A.ASSAULT]


def test_a_killing_verb_alone_is_the_attack() -> None:
    assert types("وقتل مسلحون 5 جنود في هجوم ليلي على الثكنة.") == [A.ASSAULT]
    assert types("وقتلت الجماعة المسلحة عشرات القرويين في الشمال.") == [A.ASSAULT]


def test_conditional_sanctions_are_not_events_but_threats_are() -> None:
    assert A.SANCTION not in types("ويمكن فرض عقوبات على الشركة إذا واصلت عملها.")
    assert A.THREATEN in types("وهدد الرئيس بالرد إذا تعرضت بلاده لأي اعتداء.")


def test_the_demanded_act_is_not_a_separate_event() -> None:
    assert types("ودعت فرنسا إلى فرض عقوبات جديدة على النظام.") == [A.REQUEST]
    assert types("وطالبت المنظمة بالإفراج عن المعتقلين.") == [A.REQUEST]


def test_purpose_of_a_protest_is_not_a_separate_event() -> None:
    assert types("وتجمع آلاف المتظاهرين أمام البرلمان للتنديد بالقانون الجديد.") == [A.PROTEST]


def test_verbal_attack_is_accuse() -> None:
    assert types("وشن الوزير هجوما لاذعا على المعارضة في البرلمان.") == [A.ACCUSE]


def test_approving_an_agreement_is_support_agreeing_to_act_is_agree() -> None:
    assert types("ووافق البرلمان على الاتفاقية التجارية مع اليابان.") == [A.SUPPORT]
    assert types("ووافقت الحكومة على السماح للصحفيين بدخول المدينة.") == [A.AGREE]
    assert types("وأبرمت الشركتان اتفاق شراكة في الرياض.") == [A.SUPPORT]


def test_refusal_to_accept_is_reject() -> None:
    ev = triggers("وقال القائد إن هذه الشروط لن نقبلها أبدا.")
    assert ev == [(A.REJECT, "نقبلها")]


def test_summoning_a_diplomat_is_accuse() -> None:
    assert types("واستدعت الخارجية السفير الإيطالي احتجاجا على التصريحات.") == [A.ACCUSE]


def test_a_bare_heading_is_not_an_event() -> None:
    assert types("محادثات السلام\nوانتهى اللقاء بين الرئيس الروسي ونظيره الصيني أمس.") == [A.CONSULT]


def test_visit_with_a_participant_is_consult() -> None:
    assert types("وبدأ الرئيس الفرنسي زيارة رسمية إلى الجزائر.") == [A.CONSULT]


def test_exchange_of_fire_is_fighting_not_cooperation() -> None:
    assert types("وتبادل الطرفان إطلاق النار قرب الحدود.") == [A.ASSAULT]


def test_terrorist_listing_and_arms_suspension_are_sanction() -> None:
    assert types("وقررت الحكومة تصنيف الجماعة منظمة إرهابية.") == [A.SANCTION]
    assert types("وأعلنت واشنطن تعليق شحنات الأسلحة إلى البلاد.") == [A.SANCTION]


def test_sanctions_relief_is_concede_only() -> None:
    assert types("ونص الاتفاق على تخفيف العقوبات المفروضة على البلاد.") == [A.CONCEDE]


def test_investigation_is_accuse() -> None:
    assert types("وبدأت الشرطة التحقيق في الحادث.") == [A.ACCUSE]


def test_new_assault_forms() -> None:
    assert types("وسقطت مقذوفات على قرية حدودية.") == [A.ASSAULT]
    assert types("وفتح مسلح النار على المارة في السوق.") == [A.ASSAULT]
    assert types("واندلعت مواجهات مسلحة بين القبيلتين.") == [A.ASSAULT]


def test_spoke_with_is_consult_spoke_to_the_press_is_not() -> None:
    assert types("وتحدث الرئيس الأمريكي هاتفيا مع نظيره الفرنسي.") == [A.CONSULT]
    assert types("وتحدث الرئيس للصحفيين عن الاقتصاد.") == []


# ---------------------------------------------------------------- actor roles (own sentences)
def actors(text: str) -> list[tuple[PloverType, str | None, str | None]]:
    events = extract_text(text, PUB)
    return [(e.type, e.source.code if e.source else None, e.target.code if e.target else None)
            for e in events]


def test_passive_agent_is_the_source() -> None:
    assert actors("وتم اقتحام القرية من قبل الحوثيين فجر اليوم.") == [(A.ASSAULT, "YEM REB", None)]


def test_subjected_to_fire_is_the_target() -> None:
    got = actors("وتعرضت دورية للشرطة التركية لإطلاق نار في مدينة ديار بكر.")
    assert got and got[0][0] is A.ASSAULT and got[0][1] is None and got[0][2] == "TUR COP"


def test_received_call_caller_is_the_source() -> None:
    text = "تلقى وزير الخارجية السعودي اتصالا هاتفيا من وزير الخارجية الأردني."
    assert actors(text) == [(A.CONSULT, "JOR GOV", "SAU GOV")]


def test_host_of_a_visit_is_the_target() -> None:
    text = "واستقبل الرئيس المصري في القاهرة الرئيس الفرنسي."
    assert actors(text) == [(A.CONSULT, "FRA GOV", "EGY GOV")]


def test_reported_speech_speaker_is_not_the_attacker() -> None:
    got = actors("وقال الرئيس الأوكراني عن الهجوم الروسي إنه استهدف محطات الكهرباء.")
    assert got[0][0] is A.ASSAULT and got[0][1] == "RUS"


def test_speaker_is_the_source_of_a_reported_demand() -> None:
    got = actors("وقال وزير الخارجية الفرنسي: يجب على الحكومة الإيرانية احترام الاتفاق.")
    assert (A.REQUEST, "FRA GOV", "IRN GOV") in got


def test_bare_police_take_the_state_of_the_place() -> None:
    got = actors("وألقت الشرطة القبض على ثلاثة أشخاص في مدينة الدمام.")
    assert got == [(A.COERCE, "SAU COP", None)]


def test_unnamed_arrest_is_by_the_police_of_the_place() -> None:
    got = actors("وتم القبض على المتهم في مدينة الموصل.")
    assert got == [(A.COERCE, "IRQ COP", None)]


def test_protesters_of_the_place_and_no_stray_target() -> None:
    got = actors("وتظاهر مئات في العاصمة بغداد ضد الحكومة العراقية.")
    assert got and got[0][0] is A.PROTEST and got[0][1] == "IRQ CVL"


def test_news_agency_is_not_an_actor() -> None:
    got = actors("وقال شاهد لوكالة الأنباء الألمانية إن مسلحين هاجموا القرية في ولاية بورنو.")
    assert all(code is None or not code.startswith("DEU") for _t, s, t in got for code in (s, t))


def test_coordinated_subjects_first_is_source() -> None:
    got = actors("وأعلن مسؤول أن مصر والأردن متفقتان على تنسيق المواقف.")
    assert (A.AGREE, "EGY", "JOR") in got


def test_attack_without_named_victim_targets_the_place_state() -> None:
    got = actors("وسقطت قذائف أطلقها الحوثيون على مدينة نجران.")
    assert got and got[0][0] is A.ASSAULT and got[0][2] == "SAU"


@pytest.mark.parametrize(("text", "type_"), [
    ("وتمكنت الجهات الأمنية من ضبط الجاني بعد ساعات.", A.COERCE),
    ("وفرضت الحكومة حظر التجول في المدينة.", A.COERCE),
    ("وقررت الحكومة تجميد أصول الشركة التابعة للجماعة.", A.SANCTION),
    ("وسحبت البحرين سفيرها من طهران.", A.SANCTION),
    ("ونظم العمال وقفة احتجاجية أمام الوزارة.", A.PROTEST),
    ("ودفع الجيش بتعزيزات عسكرية إلى الحدود.", A.MOBILIZE),
    ("ووصلت قافلة مساعدات إغاثية إلى المدينة المحاصرة.", A.AID),
    ("واتفق البلدان على تبادل المعلومات الأمنية.", A.COOPERATE),
    ("وثمن الوزير جهود المملكة في دعم الاستقرار.", A.SUPPORT),
    ("وخرج الوزير مناشدا المجتمع الدولي التدخل.", A.REQUEST),
])
def test_new_lexicon_entries(text: str, type_: PloverType) -> None:
    assert type_ in types(text)


@pytest.mark.parametrize("text", [
    "وتسعى الوزارة إلى ضبط الأسعار في الأسواق.",  # ضبط "regulate" without anyone detained
    "وهذا بالضبط ما قاله المدرب بعد المباراة.",
    "ودفع المشتري ثمنها كاملا.",  # ثمن "price"
])
def test_new_entries_keep_their_other_senses_out(text: str) -> None:
    assert types(text) == []
