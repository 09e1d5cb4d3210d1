"""Round 10 (generalization pass 10): missing targets. The object of a verb whose subject
follows it and is set off by a comma, an object pronoun attached to the trigger standing
for a party the sentence named before it, and the partner of talks named with مع after a
state that is only their topic.

Every sentence here is composed for these tests, not copied from any article. Each rule is
checked with the wording it fixes and the wording it must leave alone.
"""

from __future__ import annotations

from datetime import datetime

from schemas.models import PloverType
from tests.support.events import PublishedAt, root

AT = PublishedAt(datetime(2024, 3, 1))
only = AT.only

A = PloverType


# ---- verb, subject, comma, object ------------------------------------------------------


def test_object_after_the_comma_closing_the_subject_is_the_target() -> None:
    ev = only("وانتقد الرئيس الروسي فلاديمير بوتين، الموقف الألماني من العقوبات.", A.ACCUSE)
    assert root(ev.source) == "RUS"
    assert root(ev.target) == "DEU"


def test_object_glued_to_the_comma_is_the_target() -> None:
    ev = only("وهدد وزير الدفاع الإسرائيلي،لبنان برد قاس إذا استمر إطلاق الصواريخ.", A.THREATEN)
    assert root(ev.source) == "ISR"
    assert root(ev.target) == "LBN"


def test_a_clause_after_the_comma_does_not_give_the_object() -> None:
    # ، وبعد لقائه المستشار الألماني: a time clause of its own, the German is not criticized
    ev = only("وانتقد الرئيس الروسي فلاديمير بوتين، وبعد لقائه المستشار الألماني، سياسة "
              "العقوبات.", A.ACCUSE)
    assert root(ev.source) == "RUS"
    assert ev.target is None


# ---- an object pronoun on the trigger --------------------------------------------------


def test_pronoun_on_a_questioning_verb_is_the_party_named_before() -> None:
    ev = only("وصل المعارض الروسي إلى إسطنبول، ثم استجوبته الشرطة التركية ساعات.", A.ACCUSE)
    assert root(ev.source) == "TUR"
    assert root(ev.target) == "RUS"


def test_pronoun_on_an_arrest_verb_is_the_party_named_before() -> None:
    ev = only("عاد الناشط السوري إلى دمشق، وبعد يومين اعتقلته قوات الأمن الروسية.", A.COERCE)
    assert root(ev.source) == "RUS"
    assert root(ev.target) == "SYR"


def test_pronoun_on_a_signing_verb_is_a_thing_not_a_party() -> None:
    # وقعه: "signed it", the agreement; the French president is not its target
    events = [e for e in AT.events("رحب الرئيس الفرنسي بالاتفاق ثم وقعه وزير الخارجية "
                                   "الألماني أمس.") if e.trigger == "وقعه"]
    assert len(events) == 1
    assert root(events[0].source) == "DEU"
    assert events[0].target is None


def test_a_noun_ending_in_ta_marbuta_has_no_pronoun() -> None:
    # حملة اعتقالات: ة is normalized to ه, which is no object pronoun
    ev = only("قال السفير الفرنسي إن الشرطة الألمانية نفذت حملة اعتقالات.", A.COERCE)
    assert root(ev.source) == "DEU"
    assert ev.target is None


# ---- a meeting's partner is named with مع, a state after في is its topic -----------------


def test_partner_with_maa_beats_the_state_talked_about() -> None:
    ev = only("بحث وزير الخارجية الأردني تطورات الأزمة في اليمن مع المبعوث الأمريكي.", A.CONSULT)
    assert root(ev.source) == "JOR"
    assert root(ev.target) == "USA"


def test_partner_with_maa_before_its_title_noun() -> None:
    ev = only("بحث وزير الخارجية السعودي الأوضاع في السودان مع نظيره المصري.", A.CONSULT)
    assert root(ev.source) == "SAU"
    assert root(ev.target) == "EGY"


def test_a_colleague_of_the_same_state_is_not_the_partner() -> None:
    # مع وزير الداخلية السعودي: the source's own government, not the other party of talks
    ev = only("بحث وزير الخارجية السعودي الأوضاع في السودان مع وزير الداخلية السعودي.",
              A.CONSULT)
    assert root(ev.source) == "SAU"
    assert root(ev.target) != "SAU"
