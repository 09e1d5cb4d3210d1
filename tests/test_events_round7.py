"""Round 7 (generalization pass 7, the modern5 development set): riots, roadblocks, censorship,
expulsions, truce extensions, disarmament, joint exercises, summons roles.

Every sentence here is composed for these tests, not copied from any article. Each rule is
checked with the wording it fixes and, where the rule could overreach, with the wording it
must leave alone.
"""

from __future__ import annotations

from datetime import datetime

from schemas.models import PloverType
from tests.support.events import PublishedAt, code, root

AT = PublishedAt(datetime(2023, 5, 1))
events_of, only = AT.events, AT.only
types_of = AT.types

A = PloverType


# ---- riots: protesters as the doers of violence ----------------------------------------


def test_clashes_between_protesters_and_police_are_a_riot() -> None:
    text = "اندلعت اشتباكات عنيفة بين المحتجين وقوات الشرطة في وسط العاصمة باريس."
    riot = only(text, A.PROTEST)
    assert riot.mode == "riot"
    assert A.ASSAULT not in types_of(text)


def test_clashes_between_two_armies_stay_an_assault() -> None:
    text = "اندلعت اشتباكات بين الجيش الهندي والقوات الباكستانية على الحدود."
    assert A.ASSAULT in types_of(text)
    assert A.PROTEST not in types_of(text)


def test_protesters_named_after_the_verb_storm_a_building() -> None:
    riot = only("اقتحم متظاهرون غاضبون مبنى البرلمان في العاصمة أمس.", A.PROTEST)
    assert riot.mode == "riot"


def test_arson_by_protesters_with_the_fire_named_far_is_a_riot() -> None:
    text = "وأضرم محتجون في العاصمة ومدن أخرى عدة النيران في سيارات للشرطة."
    assert only(text, A.PROTEST).mode == "riot"


def test_angry_crowd_storming_an_office_is_a_riot() -> None:
    text = "وحاولت الشرطة منع الغاضبين الذين تسلقوا البوابة واقتحموا مقر الحكومة."
    assert A.ASSAULT not in types_of(text)
    assert only(text, A.PROTEST).mode == "riot"


# ---- roadblocks ------------------------------------------------------------------------


def test_roadblocks_set_up_by_protesters_are_protest_obstruct() -> None:
    text = "وبعد تفريقهم، نصبوا حواجز من الإطارات في الشوارع المجاورة."
    assert only(text, A.PROTEST).mode == "obstruct"


def test_a_crowd_closing_roads_is_protest_obstruct() -> None:
    text = "وأغلق مئات المحتجين طريقا رئيسيا في المدينة احتجاجا على الغلاء."
    assert only(text, A.PROTEST).mode == "obstruct"
    assert A.COERCE not in types_of(text)


def test_authorities_closing_a_crossing_stay_coerce() -> None:
    assert A.COERCE in types_of("أغلقت السلطات المعبر الحدودي أمام المسافرين.")


# ---- censorship, dispersal, raids, citizenship ------------------------------------------


def test_blocking_social_media_is_coerce_censor() -> None:
    text = "حجبت السلطات مواقع التواصل الاجتماعي قبل المظاهرة المقررة."
    assert only(text, A.COERCE).mode == "censor"


def test_withholding_confidence_is_no_censorship() -> None:
    assert A.COERCE not in types_of("قرر النواب حجب الثقة عن الحكومة.")


def test_restrictions_on_internet_use_are_censorship() -> None:
    text = "وفرضت الحكومة قيودا على استخدام الإنترنت في عدة مدن."
    assert only(text, A.COERCE).mode == "censor"


def test_stripping_citizenship_is_coerce() -> None:
    assert A.COERCE in types_of("جردت المحكمة عشرين معارضا من الجنسية الشهر الماضي.")


def test_raid_with_the_short_verb_is_coerce() -> None:
    assert A.COERCE in types_of("دهمت الشرطة مقر الصحيفة صباح اليوم.")


# ---- diplomacy: expulsion, protest note, summons roles ---------------------------------


def test_ordering_a_diplomat_out_is_sanction_expel() -> None:
    text = "وأمرت الحكومة دبلوماسيا أستراليا بمغادرة البلاد خلال 72 ساعة."
    assert only(text, A.SANCTION).mode == "expel"


def test_protest_note_is_accuse_not_a_demonstration() -> None:
    text = "وسلم الوزير السفير مذكرة احتجاج على التصريحات الأخيرة."
    assert A.ACCUSE in types_of(text)
    assert A.PROTEST not in types_of(text)


def test_summons_purpose_is_no_demonstration() -> None:
    text = "استدعت وزارة الخارجية السفير الدنماركي للاحتجاج على حرق المصحف."
    assert A.PROTEST not in types_of(text)


def test_summons_targets_the_envoy_state() -> None:
    ev = only("واستدعت الوزارة سفير هولندا في المغرب أمس.", A.ACCUSE)
    assert root(ev.target) == "NLD"
    assert root(ev.source) == "MAR"


def test_summons_by_a_named_ministry_after_the_verb() -> None:
    ev = only("استدعت الخارجية الكويتية القائم بالأعمال في السفارة الدنماركية.", A.ACCUSE)
    assert root(ev.source) == "KWT"
    assert root(ev.target) == "DNK"


def test_expressed_concern_is_accuse() -> None:
    assert A.ACCUSE in types_of("وأعرب الأمين العام للأمم المتحدة عن قلقه من تصاعد العنف.")


def test_worried_adjective_is_no_accusation() -> None:
    assert A.ACCUSE not in types_of("قالت الجمعية الزراعية إنها قلقة من تأثير المبيدات.")


def test_participial_blame_is_accuse() -> None:
    text = "وقال المتحدث إن الهجوم فشل، محملا الجماعة المسلحة مسؤولية التصعيد."
    assert A.ACCUSE in types_of(text)


def test_a_membership_application_is_no_demand() -> None:
    text = "هدد الرئيس بوقف طلبها للانضمام إلى الحلف متهما إياها بدعم الإرهاب."
    assert A.REQUEST not in types_of(text)
    assert A.ACCUSE in types_of(text)


def test_brandishing_is_a_threat() -> None:
    assert A.THREATEN in types_of("لوح الرئيس التركي بتعليق عضوية السويد في الحلف.")


# ---- truce, disarmament, withdrawal, aid, exercises -----------------------------------


def test_truce_extension_is_agree_not_a_new_ceasefire() -> None:
    text = "أعلن المبعوث الأممي تمديد الهدنة في السودان شهرا إضافيا."
    assert A.AGREE in types_of(text)
    assert A.RETREAT not in types_of(text)


def test_truce_in_force_stays_retreat() -> None:
    assert A.RETREAT in types_of("وقال الوزير إن الهدنة في اليمن صامدة منذ أسبوعين.")


def test_handing_over_weapons_is_retreat_disarm() -> None:
    assert only("وبدأ المسلحون تسليم أسلحتهم للجيش.", A.RETREAT).mode == "disarm"


def test_distributing_food_baskets_is_aid() -> None:
    text = "ووزع المركز أمس 400 سلة غذائية على الأسر النازحة في مأرب."
    assert only(text, A.AID).mode == "humanitarian"


def test_distributing_bags_in_a_mall_is_no_aid() -> None:
    assert A.AID not in types_of("وتم توزيع 300 حقيبة على زوار المركز التجاري.")


def test_exercise_with_participants_named_is_cooperate() -> None:
    text = "انطلقت مناورات عسكرية بمشاركة قوات من مصر والسعودية والأردن."
    assert A.COOPERATE in types_of(text)
    assert A.MOBILIZE not in types_of(text)


def test_exercise_of_one_army_stays_mobilize() -> None:
    assert A.MOBILIZE in types_of("أجرى الجيش الإيراني مناورات عسكرية في الخليج.")


def test_beheading_is_assault_execute() -> None:
    assert only("قطع مسلحون رؤوس ثلاثة قرويين في الإقليم.", A.ASSAULT).mode == "execute"


def test_submitting_a_request_is_no_advance() -> None:
    assert A.ASSAULT not in types_of("وتقدم السكان بطلب إلى قوات حفظ السلام.")


# ---- roles: the police coerce the protesters of the story -------------------------------


def test_arrests_in_a_protest_story_target_the_protesters() -> None:
    text = ("تظاهر آلاف الفرنسيين في باريس احتجاجا على قانون التقاعد. "
            "واعتقلت الشرطة الفرنسية عشرين شخصا.")
    arrest = only(text, A.COERCE)
    assert root(arrest.target) == "FRA"
    assert code(arrest.source) == "FRA COP"


def test_arrests_abroad_of_a_protest_story_keep_no_target() -> None:
    text = ("تظاهر آلاف الفرنسيين في باريس احتجاجا على قانون التقاعد. "
            "واعتقلت الشرطة الألمانية عشرين شخصا في برلين.")
    assert only(text, A.COERCE).target is None


def test_rioters_named_as_a_class_are_no_riot() -> None:
    text = "وحذر الجيش مثيري الشغب من الخروج إلى الشوارع."
    assert A.PROTEST not in types_of(text)


def test_pardon_committee_is_no_concession() -> None:
    assert A.CONCEDE not in types_of("وأعادت الرئاسة تفعيل لجنة العفو الرئاسي.")
    assert A.CONCEDE in types_of("أصدر الرئيس عفوا عاما عن المعتقلين.")
