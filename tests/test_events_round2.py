"""Generalization pass 2 (dev3 error analysis): short constructed sentences, one rule each."""

from __future__ import annotations

from datetime import datetime

import pytest

from schemas.models import Event, PloverType
from tests.support.events import extract_text

PUB = datetime(2015, 8, 1, 10, 0)


def run(text: str) -> list[Event]:
    return extract_text(text, PUB, article_id="r2")


def types(text: str) -> list[tuple[str, str]]:
    return [(e.type.value, e.trigger) for e in run(text)]


@pytest.mark.parametrize(("text", "type_", "trigger"), [
    # firing named with نيران, stabbings, recaptures, war operations
    ("وقصفت دبابات تركية مواقع التنظيم بعد إطلاق نيران منها.", PloverType.ASSAULT, "إطلاق نيران"),
    ("طعن متطرف ستة مشاركين في المسيرة.", PloverType.ASSAULT, "طعن"),
    ("وتمكنت القوات من استعادة مدينة الرمادي.", PloverType.ASSAULT, "استعادة مدينة"),
    ("أغلق المطار بسبب العمليات الحربية في المدينة.", PloverType.ASSAULT, "العمليات الحربية"),
    # a battle and a fall named by their city
    ("اعترف زعيم الجماعة بخسارة معركة عدن.", PloverType.ASSAULT, "معركة"),
    ("وقال الزعيم إن عدن سقطت بسبب الإجازة.", PloverType.ASSAULT, "سقطت"),
    # massing forces
    ("وأخذ عناصر التنظيم بتحشيد قواتهم قرب الموصل.", PloverType.MOBILIZE, "تحشيد"),
    # searches by the police, release with a pronoun
    ("وقامت الشرطة بتفتيش المبنى وعثرت على المخدرات.", PloverType.COERCE, "تفتيش"),
    ("ألقت الشرطة القبض عليه ثم أطلق سراحه بكفالة.", PloverType.RETREAT, "أطلق سراحه"),
    # cooperation: coordination with a named party, intelligence handed over, training
    ("أعلنت الكويت القبض على خلية بتنسيق مع السعودية.", PloverType.COOPERATE, "تنسيق مع"),
    ("وذكرت أن السعودية زودت الكويت بمعلومات مهمة حول الخلايا.", PloverType.COOPERATE, "زودت"),
    ("تقدمت وحدات من الجيش اليمني دربتها دول الخليج.", PloverType.COOPERATE, "دربتها"),
    # materiel supplied
    ("وأمدت دول التحالف الجيش اليمني بالعتاد.", PloverType.AID, "وأمدت"),
    # agreeing on something, a settlement reached
    ("وتضمن البيان الاتفاق على تعزيز العلاقات بين السعودية والأردن.", PloverType.AGREE, "الاتفاق على"),
    ("وتمت تسوية القضية مع الحكومة المصرية.", PloverType.AGREE, "تمت تسوية"),
    # asking someone, a bare طالب after a clause particle, amid calls
    ("وطلب منهم الوزير السماح بخروج الطفل.", PloverType.REQUEST, "طلب منهم"),
    ("تأجل الاجتماع، إذ طالب المستثمر الحكومة المصرية برد المبلغ.", PloverType.REQUEST, "إذ طالب"),
    ("خرج المتظاهرون في البصرة وسط دعوات لمحاسبة المسؤولين.", PloverType.REQUEST, "وسط دعوات"),
    # sanctions to be lifted
    ("وقال الوزير إن العقوبات سترفع قريبا عن إيران.", PloverType.CONCEDE, "سترفع"),
    # exchanging views is talk
    ("وتم خلال اللقاء تبادل وجهات النظر بين الوزير السعودي ونظيره البنغلاديشي.", PloverType.CONSULT,
     "تبادل وجهات"),
])
def test_new_vocabulary(text: str, type_: PloverType, trigger: str) -> None:
    found = [e for e in run(text) if e.type is type_]
    assert found, types(text)
    assert found[0].trigger.endswith(trigger.removeprefix("و")) or trigger in found[0].trigger, types(text)
    assert not found[0].negated


def test_a_ف_clause_after_a_request_is_an_event() -> None:
    # what is demanded is no event, but ف introduces what followed: they agreed
    found = types("وطلب الأب من المستشفى إخراج طفله فوافقوا على طلبه.")
    assert ("AGREE", "وافقوا") in found or any(t == "AGREE" for t, _ in found), found


def test_negated_coordination() -> None:
    ev = [e for e in run("وأكد أن الولايات المتحدة لم تنسق مع الحكومة السورية.")
          if e.type is PloverType.COOPERATE]
    assert ev and ev[0].negated


@pytest.mark.parametrize(("text", "type_"), [
    # "his phone" is no call
    ("عثر المحققون على هاتفه في مركز للمهملات.", PloverType.CONSULT),
    # views that meet are no meeting
    ("وبحث الجانبان التطورات التي التقت فيها وجهات نظر البلدين.", PloverType.COOPERATE),
    # a hospital receiving patients holds no meeting
    ("واستقبل المستشفى الإسلامي في عمان 35 جريحا يمنيا.", PloverType.CONSULT),
    # the Popular Mobilization Forces are a name
    ("تقاتل قوات الجيش العراقي ومليشيا الحشد الشعبي في الأنبار.", PloverType.MOBILIZE),
    # what must happen is demanded, not done
    ("وقال الرئيس إنه ينبغي إطلاق سراح الصحافي المعتقل.", PloverType.RETREAT),
    # lifting as a time reference
    ("سنرفع الإنتاج فور رفع العقوبات عن إيران.", PloverType.CONCEDE),
    # violence as a cause is no riot
    ("يعاني الشعب اليمني أوضاعا إنسانية صعبة جراء أعمال العنف.", PloverType.PROTEST),
    # an aid office is no aid
    ("وصلت السفينة إلى جيبوتي مركز المساعدات الإنسانية لليمن.", PloverType.AID),
    # an appeal is no stabbing; a rank occupied is no occupation
    ("وطعنوا على القرار أمام المحكمة.", PloverType.ASSAULT),
    ("احتل المنتخب السعودي المركز الأول في البطولة.", PloverType.ASSAULT),
    # inspections without police or troops are no coercion; checkpoints are places
    ("ترغب الوكالة الدولية للطاقة الذرية في تفتيش المواقع.", PloverType.COERCE),
    # seizing money is no capture of ground
    ("استخدم المحتال البطاقة في الاستيلاء على أموال العميل.", PloverType.ASSAULT),
    # a possibility is no attack
    ("وأشار إلى إمكانية أن يشن الإرهابيون هجوما على المواقع.", PloverType.ASSAULT),
    # a fall of casualties right after a comma is no city's fall
    ("أكدت المقاومة في اليمن، سقوط قتلى في صفوف المليشيا.", PloverType.ASSAULT),
])
def test_non_events(text: str, type_: PloverType) -> None:
    assert not [e for e in run(text) if e.type is type_], types(text)


def test_visitor_information_is_no_intelligence_sharing() -> None:
    assert not [e for e in run("رافقهم مدير المعرض وزودهم بمعلومات عن فعاليات المعرض.")
                if e.type is PloverType.COOPERATE]
