"""Round 4: families and actor roles found on a second set of modern news (own sentences).

The sentences are composed for these tests, not copied from any article. Each family is
checked with its usual wording and, where a word has another sense, with that sense too.
"""

from __future__ import annotations

from datetime import datetime

from schemas.models import PloverType
from tests.support.events import PublishedAt, code

AT = PublishedAt(datetime(2025, 1, 1))
events_of, only = AT.events, AT.only

A = PloverType


# ---- type families --------------------------------------------------------------------


def test_hamzaless_perfect_of_condemn_is_accuse() -> None:
    ev = only("دانت فرنسا الهجوم على القافلة أمس.", A.ACCUSE)
    assert ev.trigger == "دانت"
    assert code(ev.source) == "FRA"
    assert ev.negated is False


def test_passive_confiscation_is_coerce() -> None:
    ev = only("صودرت شحنة الأسلحة في الميناء أمس.", A.COERCE)
    assert ev.mode == "confiscate"
    assert ev.negated is False


def test_negated_confiscation_stays_negated() -> None:
    ev = [e for e in events_of("لم تصادر السلطات أي أسلحة خلال المداهمة.")
          if e.trigger == "تصادر"]
    assert len(ev) == 1 and ev[0].type is A.COERCE and ev[0].negated is True


def test_fighters_fleeing_is_retreat_but_civilians_fleeing_a_flood_is_nothing() -> None:
    ev = only("فرت عناصر الميليشيا من مواقعها بعد وصول قوات الجيش.", A.RETREAT)
    assert ev.mode == "withdraw" and ev.trigger == "فرت"
    assert events_of("فر السكان من منازلهم هربا من الفيضانات.") == []


def test_reinforcing_a_deployment_is_mobilize_but_reserves_are_not() -> None:
    ev = only("عزز الجيش الأردني انتشاره على الحدود الشمالية أمس.", A.MOBILIZE)
    assert ev.mode == "troops"
    assert code(ev.source) == "JOR MIL"
    assert ev.target is None
    assert events_of("عزز البنك المركزي احتياطياته من الذهب.") == []


def test_weapons_tests_are_mobilize_weapons() -> None:
    ev = only("اختبرت إيران صاروخا باليستيا جديدا أمس.", A.MOBILIZE)
    assert ev.mode == "weapons" and code(ev.source) == "IRN"
    ev = only("أجرت روسيا اختبارا لصاروخ جديد أمس.", A.MOBILIZE)
    assert ev.mode == "weapons" and code(ev.source) == "RUS"


def test_a_ballistic_launch_with_no_aim_is_a_test_but_an_aimed_one_an_attack() -> None:
    test = events_of("أطلقت كوريا الشمالية صاروخا باليستيا في البحر أمس.")
    assert [(e.type, e.mode, code(e.source)) for e in test] == [(A.MOBILIZE, "weapons", "PRK")]
    attack = only("أطلق الحوثيون صاروخا باليستيا على جازان أمس.", A.ASSAULT)
    assert attack.mode == "missiles"
    assert code(attack.source) == "YEM REB" and code(attack.target) == "SAU"


def test_deploying_soldiers_is_mobilize_but_spreading_propaganda_is_not() -> None:
    ev = only("قررت الحكومة نشر ألفي جندي على الحدود الجنوبية.", A.MOBILIZE)
    assert ev.mode == "troops" and ev.trigger == "نشر"
    assert [e.type for e in events_of("اتهم الوزير المعارضة بنشر دعاية كاذبة.")] == [A.ACCUSE]


def test_cooperation_named_in_an_agreement_or_exchanged_views_is_no_cooperate() -> None:
    ev = events_of("وقعت مصر والأردن اتفاقا للتعاون العسكري أمس.")
    assert [(e.type, code(e.source), code(e.target)) for e in ev] == [(A.SUPPORT, "EGY", "JOR")]
    assert A.COOPERATE not in [e.type for e in
                               events_of("وناقش الوزيران تبادل الرؤى حول القضايا الإقليمية.")]
    assert events_of("وأكد الجانبان عزمهما تعزيز التعاون في مجالات التعاون الاقتصادي.") == []


def test_concern_about_acts_is_accuse_but_a_general_worry_is_not() -> None:
    ev = only("أعربت الأمم المتحدة عن قلقها البالغ إزاء الهجمات على المدنيين.", A.ACCUSE)
    assert code(ev.source) == "IGOUNO"
    assert only("وقالت باريس إنها قلقة إزاء اعتقال الصحفيين.", A.ACCUSE).negated is False
    assert events_of("أثار القرار موجة من القلق في الأسواق.") == []


# ---- actor roles ------------------------------------------------------------------------


def test_a_relative_clause_with_the_light_verb_names_the_attacker() -> None:
    ev = only("صدت القوات العراقية هجوما واسعا شنه تنظيم داعش على مدينة الرمادي.", A.ASSAULT)
    assert code(ev.source) == "IMG"
    assert code(ev.target) == "IRQ MIL"


def test_after_the_relative_agent_the_target_is_what_was_hit() -> None:
    ev = only("قتل عشرة مسلحين في قصف جوي شنته قوات التحالف على مواقع الحوثيين.", A.ASSAULT)
    assert code(ev.source) == "SAU MIL"
    assert code(ev.target) == "YEM REB"


def test_a_siege_imposed_by_a_group_has_that_group_as_source() -> None:
    ev = only("تعاني البلدة من حصار يفرضه الحوثيون منذ أشهر.", A.ASSAULT)
    assert code(ev.source) == "YEM REB"


def test_the_rapid_support_forces_are_a_sudanese_armed_group() -> None:
    ev = only("شنت قوات الدعم السريع هجوما على مدينة الأبيض.", A.ASSAULT)
    assert code(ev.source) == "SDN REB"


def test_clashes_with_no_party_named_are_fought_inside_the_state_they_happen_in() -> None:
    ev = only("دارت اشتباكات بين مجموعات مسلحة في مدينة الزاوية الليبية الليلة الماضية.",
              A.ASSAULT)
    assert code(ev.source) == "LBY" and code(ev.target) == "LBY"


def test_a_meeting_partner_after_a_long_title_and_commas_is_the_target() -> None:
    ev = only("التقى وزير الخارجية الأردني أيمن الصفدي، على هامش المؤتمر الدولي، "
              "بوزير الخارجية الفرنسي.", A.CONSULT)
    assert code(ev.source) == "JOR GOV"
    assert code(ev.target) == "FRA GOV"


def test_the_two_sides_of_a_later_sentence_are_the_parties_of_the_meeting() -> None:
    evs = [e for e in events_of("التقى وزير الخارجية الأردني بنظيره الفرنسي في عمان أمس. "
                                "وبحث الجانبان العلاقات الثنائية.") if e.type is A.CONSULT]
    assert len(evs) == 2
    last = evs[-1]
    assert last.trigger == "بحث"
    assert (code(last.source) or "").startswith("JOR")
    assert (code(last.target) or "").startswith("FRA")


def test_a_host_far_from_the_visitor_still_makes_the_visitor_the_source() -> None:
    ev = only("استقبل الرئيس المصري عبد الفتاح السيسي في القاهرة اليوم، رئيس الوزراء الأردني.",
              A.CONSULT)
    assert ev.mode == "visit"
    assert code(ev.source) == "JOR GOV"
    assert code(ev.target) == "EGY GOV"


def test_the_one_subjected_to_an_attack_is_its_target() -> None:
    ev = only("تعرضت دورية للجيش اللبناني لهجوم من مسلحين قرب الحدود.", A.ASSAULT)
    assert code(ev.target) == "LBN MIL"


def test_what_talks_are_about_is_no_event_of_its_own() -> None:
    evs = events_of("عقد الوفدان في القاهرة محادثات حول الانسحاب من المدينة.")
    assert [e.type for e in evs] == [A.CONSULT]
    assert evs[0].negated is False
