"""Recall pass on missing vocabulary: trigger families that had no lexicon entry (the "no trigger
word" misses of ``khabar eval events --causes``), each kept after a random sample of its new
firings in SaudiNewsNet read well (the entries and what was left out are documented in
``khabar/events/data/triggers.tsv``, section "vocabulary, recall pass").

Every sentence here is composed for these tests, not copied from any article. Each family is
checked where it fires with its type and, where the word has another common sense, where it must
not fire.
"""

from __future__ import annotations

from datetime import datetime

from khabar.events.lexicon import imperfect_forms
from schemas.models import PloverType
from tests.support.events import PublishedAt, code, root

AT = PublishedAt(datetime(2024, 5, 1))
only = AT.only
types = AT.types

A = PloverType


# ---- ACCUSE ------------------------------------------------------------------------------


def test_denounced_by_a_government_is_an_accusation() -> None:
    ev = only("استهجنت الحكومة الأردنية قرار البرلمان الإسرائيلي.", A.ACCUSE)
    assert root(ev.source) == "JOR"


def test_a_citizens_disapproval_is_no_accusation() -> None:
    assert A.ACCUSE not in types("استهجن المواطن تصرف البائع في المتجر.")


def test_accusing_circumstantial_feminine_and_plural() -> None:
    text = "اعتقل المسلحون ثلاثة صحفيين، متهمين إياهم بالتجسس لصالح الحكومة."
    assert A.ACCUSE in types(text)
    assert A.COERCE in types(text)
    evs = [e for e in AT.events("انتقدت المعارضة رئيس الوزراء، متهمة إياه بالفساد.")
           if e.type is A.ACCUSE]
    assert any(e.trigger.startswith("متهمة") for e in evs)


def test_accuse_with_a_plural_subject_and_an_object_pronoun() -> None:
    assert only("يتهمونه بالتخطيط للانقلاب على الرئيس.", A.ACCUSE).trigger == "يتهمونه"
    assert only("ويتهمونها بالتقصير في حماية المدنيين.", A.ACCUSE).trigger == "يتهمونها"


def test_the_whole_imperfect_class_is_not_inflected_so() -> None:
    # (sampled below 0.5: يطالبونك، يقتلوه، يؤيدونهم are mostly generic)
    assert "يتهمونه" not in imperfect_forms("تهم")


def test_a_case_referred_to_the_prosecution_is_an_accusation() -> None:
    ev = only("أحالت النيابة العامة المتهمين إلى المحكمة الجنائية.", A.ACCUSE)
    assert ev.trigger == "أحالت"
    assert A.ACCUSE in types("أحيل الضابط إلى التحقيق بعد الحادثة.")
    assert A.ACCUSE in types("أعلنت الشرطة القبض على الجاني وإحالته إلى هيئة التحقيق والادعاء العام.")


def test_a_referral_to_a_committee_or_to_retirement_is_not() -> None:
    assert A.ACCUSE not in types("وافق مجلس الشورى على إحالة مشروع النظام إلى اللجنة المختصة.")
    assert A.ACCUSE not in types("أحيل المدير إلى التقاعد بعد ثلاثين عاما من الخدمة.")


# ---- ASSAULT -----------------------------------------------------------------------------


def test_the_passive_of_assassinate() -> None:
    ev = only("اغتيل القيادي في الحركة برصاص مسلحين في بيروت.", A.ASSAULT)
    assert ev.trigger == "اغتيل"
    assert ev.mode == "assassinate"


def test_a_ground_operation_in_a_military_context() -> None:
    assert only("بدأ الجيش عملية برية واسعة في جنوب لبنان.", A.ASSAULT).trigger == "عملية برية"


def test_onshore_operations_of_an_oil_company_are_not_an_attack() -> None:
    assert A.ASSAULT not in types("تركز الشركة على العمليات البرية والبحرية لاستخراج النفط.")


def test_a_volley_of_missiles() -> None:
    assert A.ASSAULT in types("أطلقت الفصائل صلية صواريخ نحو المدن الإسرائيلية.")


def test_a_shell_falling_on_a_house() -> None:
    ev = only("سقطت قذيفة على منزل في بلدة حدودية.", A.ASSAULT)
    assert ev.trigger.startswith("سقطت")


def test_committing_a_massacre() -> None:
    text = "قالت الأمم المتحدة إن قوات الدعم السريع ارتكبت مجزرة في قرية بولاية الجزيرة."
    ev = only(text, A.ASSAULT)
    assert code(ev.source) == "SDN REB"


def test_huwara_is_a_town_not_a_dialogue() -> None:
    found = types("أحرق مستوطنون سيارات في بلدة حوارة.")
    assert A.ASSAULT in found
    assert A.CONSULT not in found


# ---- PROTEST -----------------------------------------------------------------------------


def test_going_on_strike() -> None:
    assert only("أضربت نقابة الأطباء عن العمل.", A.PROTEST).mode == "strike-gen"
    assert A.PROTEST in types("المعلمون أضربوا عن العمل أمس للمطالبة بزيادة الرواتب.")
    assert A.PROTEST in types("الأطباء يضربون عن العمل منذ أسبوع.")


def test_i_strike_and_strike_imperative_are_no_attack() -> None:
    assert A.ASSAULT not in types("وحتى أقرب الفكرة سأضرب مثالا من تجربة سابقة.")
    assert A.ASSAULT not in types("قال أحدهم: ائذن لي فأضرب عنقه.")


# ---- COERCE ------------------------------------------------------------------------------


def test_repressing_protesters() -> None:
    assert only("واصلت قوات الأمن قمع المتظاهرين في العاصمة.", A.COERCE).trigger == "قمع المتظاهرين"


def test_repression_as_a_general_word_is_no_event() -> None:
    assert A.COERCE not in types("يرى الكاتب أن الرقابة أداة لقمع الحريات.")


def test_dismantling_a_cell() -> None:
    ev = only("قالت الداخلية إن قوات الأمن فككت خلية إرهابية في العاصمة.", A.COERCE)
    assert ev.mode == "arrest"


# ---- SUPPORT, MOBILIZE, RETREAT, SANCTION --------------------------------------------------


def test_ratifying_an_accession() -> None:
    ev = only("البرلمان التركي صادق على انضمام السويد إلى حلف الناتو.", A.SUPPORT)
    assert root(ev.source) == "TUR"


def test_an_appeal_court_upholding_a_sentence_stays_coerce() -> None:
    found = types("صادقت محكمة الاستئناف على حكم بسجن المتهم.")
    assert A.COERCE in found
    assert A.SUPPORT not in found


def test_reservists_called_up_and_a_mobilization_declared() -> None:
    assert A.MOBILIZE in types("استدعى الجيش الإسرائيلي آلاف جنود الاحتياط.")
    assert A.MOBILIZE in types("أرمينيا أعلنت التعبئة العامة.")


def test_withdrawing_troops_in_the_masdar() -> None:
    ev = only("أعلن الرئيس سحب القوات الأمريكية من سوريا.", A.RETREAT)
    assert ev.mode == "withdraw"


def test_downgrading_relations() -> None:
    assert only("قررت الحكومة تخفيض التمثيل الدبلوماسي مع باريس.", A.SANCTION).mode == "sever"
    ev = only("الجزائر خفضت مستوى العلاقات مع مدريد.", A.SANCTION)
    assert root(ev.source) == "DZA"


def test_persona_non_grata() -> None:
    ev = only("أعلنت الخرطوم السفير الأمريكي شخصا غير مرغوب فيه.", A.SANCTION)
    assert ev.mode == "expel"


def test_lifting_a_ban_is_not_a_sanction() -> None:
    assert A.SANCTION not in types("قال المسؤول إن الدول الكبرى وافقت على رفع الحظر المفروض على الأسلحة.")
    assert A.SANCTION in types("فرضت الولايات المتحدة عقوبات جديدة على شركات صينية.")


def test_a_gradual_lifting_of_sanctions_is_not_a_sanction() -> None:
    assert A.SANCTION not in types("ينص الاتفاق على رفع تدريجي للعقوبات المفروضة على البلاد.")


# ---- modern6 pass ------------------------------------------------------------------------
# Entries of the section "vocabulary, modern6 pass" of triggers.tsv.


def test_expelling_diplomats_in_the_imperfect() -> None:
    ev = only("قالت الحكومة الهولندية إنها ستطرد أربعة دبلوماسيين إيرانيين.", A.SANCTION)
    assert ev.mode == "expel"
    assert root(ev.source) == "NLD"


def test_expelling_a_player_is_no_sanction() -> None:
    assert A.SANCTION not in types("يطرد الحكم اللاعب بعد خطأ عنيف في الدقيقة الأخيرة.")


def test_diplomats_declared_unwanted() -> None:
    ev = only("أعلنت بولندا أن ثلاثة دبلوماسيين بيلاروسيين غير مرغوب فيهم.", A.SANCTION)
    assert ev.mode == "expel"


def test_unwanted_messages_are_no_sanction() -> None:
    assert A.SANCTION not in types("تحذف الشركة الرسائل غير مرغوب فيها من صناديق البريد.")


def test_joint_naval_exercises_are_cooperation() -> None:
    ev = only("تجري اليونان وفرنسا مناورات بحرية مشتركة قبالة جزيرة كريت.", A.COOPERATE)
    assert {root(ev.source), root(ev.target)} == {"GRC", "FRA"}
    assert A.COOPERATE in types("بدأت القوات الأردنية والأمريكية تدريبات جوية مشتركة في المفرق.")


def test_a_curfew_in_the_indefinite_accusative() -> None:
    assert only("فرضت السلطات حظرا للتجول في المدينة بعد المواجهات.", A.COERCE).mode == "curfew"


def test_an_arms_package_is_military_aid() -> None:
    assert only("أعلنت واشنطن حزمة أسلحة جديدة لتايوان.", A.AID).mode == "military"


def test_delivering_weapons_systems_is_military_aid() -> None:
    assert only("بدأت فرنسا تسليم مقاتلات رافال إلى الهند.", A.AID).mode == "military"


def test_handing_over_weapons_stays_a_disarmament() -> None:
    assert A.AID not in types("وافقت الفصائل على تسليم أسلحتها الثقيلة إلى الجيش.")


def test_suspending_a_treaty_is_a_sanction() -> None:
    assert A.SANCTION in types("أعلنت موسكو وقف العمل بمعاهدة الحد من الأسلحة النووية مع واشنطن.")
    assert A.SANCTION in types("وكانت الحكومة قد علقت العمل بالاتفاقية الأمنية مع جارتها.")


def test_a_regime_handing_over_a_country_is_no_aid() -> None:
    assert A.AID not in types("اتهم الكاتب النظام بتسليم البلد لهيمنة الميليشيات، وتسليم نظام الحكم لها.")


def test_stopping_work_by_agreement_is_no_sanction() -> None:
    assert A.SANCTION not in types("تم وقف العمل بالاتفاق مع المقاول حتى انتهاء موسم الأمطار.")


def test_a_joint_military_drill() -> None:
    ev = only("أجرت القوات البحرية السعودية والباكستانية تمرينا بحريا مشتركا في بحر العرب.", A.COOPERATE)
    assert {root(ev.source), root(ev.target)} == {"SAU", "PAK"}
