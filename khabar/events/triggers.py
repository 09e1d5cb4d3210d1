"""From a sentence's trigger mentions to event candidates: overlapping and weak readings,
contexts that cancel or retype a trigger (sports, generic mentions, failed talks), and
the merging of triggers that name one event."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace

from khabar.budget import check_budget
from khabar.events.clauses import _core, _crosses, _cue_after, _cue_before, _marked, _near, _word_at
from khabar.events.lexicon import (
    TriggerEntry,
)
from khabar.events.mentions import _FAILED_TALKS, _HOSTS, _NAME, _OBLIQUE, _WEAK, Candidate, Mention
from khabar.events.senses import SenseJudge, get_senses, sense_features
from khabar.text.normalize import Doc, normalize_word
from schemas.models import (
    PloverType,
)

#: Window sizes in tokens.
_MERGE_GAP = 6

#: League words that are also the adjective "periodic" (الاجتماع الدوري، الفحص الدوري).
_LEAGUE = frozenset({"الدوري", "دوري"})


def _disambiguate(cues: dict[str, list[Mention]], norms: Sequence[str]) -> None:
    """Drop cue readings their neighbours rule out (in place).

    * في حالة followed by a state (في حالة حرجة، في حالة تأهب) is no condition;
    * الدوري right after a noun with the article (الاجتماع الدوري للجنة) is "periodic",
      not a football league: it neither marks a sports report nor blocks the events there.
    """
    states = cues.get("STATE")
    if states and "COND" in cues:
        cues["COND"] = [c for c in cues["COND"]
                        if not any(c.start < st.start < c.end for st in states)]
    for kind in ("SPORT", "SPORTS"):
        found = cues.get(kind)
        if not found:
            continue
        kept = [c for c in found if not (norms[c.start] in _LEAGUE and c.start > 0
                                         and _after_article_noun(norms[c.start - 1]))]
        if kept:
            cues[kind] = kept
        else:
            del cues[kind]


def _after_article_noun(word: str) -> bool:
    """Whether ``word`` (normalized) is a noun with the article (التنسيق، والاجتماع، بالتشاور)."""
    for clitic in ("", "و", "ف", "ب", "وب"):
        if word.startswith(clitic + "ال") and len(word) > len(clitic) + 3:
            return True
    return word.startswith(("لل", "ولل")) and len(word) > 4


_COND_OK = frozenset({PloverType.THREATEN, PloverType.REQUEST, PloverType.REJECT})

#: Cooperative verbs that become SUPPORT when their object is an agreement or resolution
#: (وافق مجلس الأمن على الاتفاق: approval of an agreement, manual §SUPPORT).
_APPROVE = frozenset({"وافق", "موافقة"})


def _kept_triggers(trig: list[Mention], actor_ms: list[Mention],
                   cues: dict[str, list[Mention]], norms: Sequence[str] = (),
                   seen: set[PloverType] | frozenset[PloverType] = frozenset(),
                   places: Sequence[Mention] = (),
                   doc: Doc | None = None,
                   senses: SenseJudge | None = None,
                   ) -> list[Mention]:
    """The trigger mentions of a sentence that may be events, in order, before any clause
    analysis: the longest of overlapping triggers, one reading per span, with the context
    their ``needs`` asks for, not blocked, and no attack words in a football report.

    Args:
        trig: The sentence's trigger mentions (sorted here, in place).
        actor_ms: Its actor mentions (for ``needs`` ACTOR).
        cues: Its cue mentions by cue class.
        norms: The document's normalized tokens (is a noun definite?).
        seen: Types of the events found earlier in the article: a definite noun that needs
            an actor (الزيارة، الاجتماع) and names none repeats the earlier mention
            (GUIDELINES: repeat mentions are annotated at their own trigger).
        places: Its place mentions (for ``needs`` PLACE: a place or city right next to the
            trigger, معركة عدن، سقطت المدينة، عدن سقطت).
        doc: The document, for the punctuation between tokens: a blocking word before a
            clause mark does not reach the trigger after it (لم يستبعد المواجهة، متوعدا خصومه).
        senses: Judges the entries whose ``needs`` is ``SENSE:<family>``
            (:mod:`khabar.events.senses`); ``None``: the packaged models.
    """
    sport = "SPORT" in cues and "MIL" not in cues
    # a sports report (an unambiguous sports word, no military one) codes no political event but
    # a court's or the police's; a sermon quoting scripture (قال تعالى) codes none at all
    sports = sport and "SPORTS" in cues
    if "RELIG" in cues:
        return []
    # longest match first; a trigger inside a longer one is dropped (شن < شن هجوما)
    trig.sort(key=lambda m: (m.start, -(m.end - m.start), -m.hit.entry.weight))
    kept: list[Mention] = []
    reach = -1  # the furthest end of a kept trigger
    for m in trig:
        check_budget()  # one pass over the triggers of one sentence
        if m.end <= reach:
            # inside a kept trigger (all start at or before m), or on its span: one reading
            # per span, the first (heaviest) entry
            continue
        entry: TriggerEntry = m.hit.entry
        if entry.needs == "ACTOR":
            # a participant named close by: زيارة الرئيس / زيارة السوق
            if not _near(actor_ms, m.start, m.end, 6) and not (
                    entry.type in seen and _definite(norms, m)):
                continue
        elif entry.needs == "PLACE":
            # after the word (معركة عدن، سقوط المدينة); before it only for a verb (عدن سقطت):
            # a city before a noun ends the phrase before it (في اليمن، سقوط قتلى)
            if not any(p.start == m.end or (entry.verbal and p.end == m.start)
                       for p in (*places, *actor_ms, *cues.get("CITY", ()))):
                continue
        elif entry.needs == "PROSECUTION":
            if not _prosecution_after(norms, m):
                continue
        elif entry.needs is None:
            pass
        elif entry.sense is not None:
            judge = senses if senses is not None else get_senses()
            if not judge(entry.sense, sense_features(m, norms, cues, actor_ms, doc), m, doc):
                continue
        elif not _needs_met(cues.get(entry.needs, ()), entry.needs, m):
            continue
        if _blocked(cues, entry.type, m.start, m.end, doc):
            continue
        if entry.type is PloverType.SANCTION and any(
                w in _LIFTING for w in norms[max(0, m.start - _LIFTING_REACH):m.start]):
            continue  # رفع الحظر المفروض، رفع تدريجي للعقوبات: lifting a ban is not imposing one
        if entry.phrase in _SENSES and _other_sense(m, norms, cues, doc):
            continue
        if entry.type is PloverType.SUPPORT and m.start and _word_at(norms, m.start - 1) in _WHICH:
            continue  # بما يدعم التوسع، ضاقت عليهم الأرض بما رحبت: a consequence, an idiom
        if not entry.verbal and m.start and norms and (
                norms[m.start - 1] in _ANY or (norms[m.start - 1] in _THIS and _generic(norms, m.start))):
            continue  # أي هجوم، لأي تهديد، مثل هذه الغارات: no specific occurrence
        if entry.type is PloverType.ASSAULT and sport:
            continue  # الهجوم، المهاجم in a football report
        if sports and entry.type is not PloverType.COERCE:
            continue  # رفض اللاعب، طالب النادي، اجتماع الاتحاد: sport business, not politics
        kept.append(m)
        reach = max(reach, m.end)
    return kept


# ------------------------------------------------------------------ senses (pass 6)
# An audit of a random corpus sample (eval/events/audit_pass6.md) found triggers whose other
# sense their next or previous words tell. The words are looked up here, only when such a
# trigger occurs, rather than filed as cues: most are frequent words (الذي، له، النظام) that
# would cost a lexicon hit wherever they stand.


def _words(*words: str) -> frozenset[str]:
    return frozenset(normalize_word(w) for w in words)


#: Forms of رفع "lift" up to three words before a sanction word (رفع معظم العقوبات، رفع تدريجي
#: للعقوبات، يرفع فيه الحظر; the CONCEDE entry رفع العقوبات covers only the adjacent masdar).
#: Looked up here rather than as a BLOCKPRE cue: رفع is frequent, and every cue is a feature of
#: the sense models' sentences.
_LIFTING = _words("رفع", "ورفع", "برفع", "لرفع", "وبرفع", "ولرفع", "رفعا", "رفعت", "ورفعت", "رفعوا",
                  "ترفع", "وترفع", "يرفع", "سترفع", "سيرفع", "وسترفع", "الرفع", "رفعه", "برفعه")
_LIFTING_REACH = 3

#: Where a case is referred (``needs`` PROSECUTION: إحالة، أحال، أحيل), with the article (إلى
#: النيابة، للتحقيق, not لتحقيق أهداف "to achieve"). Looked up here when the trigger occurs, not
#: filed in cues.tsv, where these frequent words would be a cue of every sentence holding them.
_PROSECUTION = _words("النيابة", "التحقيق", "القضاء", "المحكمة", "المحاكمة", "المحاكم", "الادعاء")

#: How many words after the trigger the place of referral may stand: the file and its owner come
#: between (أحالت الوزارة ملف المتهمين إلى النيابة).
_PROSECUTION_REACH = 8


def _prosecution_after(norms: Sequence[str], m: Mention) -> bool:
    """Whether a prosecution, investigation or court word follows ``m`` within reach."""
    for w in norms[m.end:m.end + _PROSECUTION_REACH + 1]:
        core = _core(w)
        if "ال" + core in _PROSECUTION and w.endswith(("ال" + core, "لل" + core)):
            return True
    return False


def _sentence_of(doc: Doc | None, start: int, end: int) -> tuple[int, int]:
    """The token range of the sentence holding tokens ``[start, end)`` (twenty words either
    side without ``doc``)."""
    if doc is not None:
        sentences = doc.sentences
        i = bisect_right([s.first_token for s in sentences], start) - 1
        if 0 <= i < len(sentences):
            return sentences[i].first_token, sentences[i].last_token
    return start - 20, end + 20


def _word_near(norms: Sequence[str], start: int, end: int, words: frozenset[str],
               core: bool = False) -> bool:
    """Whether a token in ``[start, end)`` (clipped to the document) is one of ``words``
    (compared without proclitics and article when ``core``)."""
    for i in range(max(start, 0), min(end, len(norms))):
        if (_core(norms[i]) if core else norms[i]) in words:
            return True
    return False


#: Words before a bare قتل/القتل that make it a verbal noun in a phrase (تسببوا في قتل، أن قتل
#: النفس، واقعة قتل الأسد): a killing talked about, rarely a report of one.
_KILL_NOUN_BEFORE = _words("في", "أن", "إن", "على", "عن", "إلى", "من", "واقعة", "جريمة", "جرائم",
                           "حادثة", "بينها", "منها", "شرعنت", "يحرضون", "تحريض", "استسهلت")

#: Objects that make killing generic (قتل النفس، قتل الأبرياء).
_KILL_GENERIC = _words("النفس", "الأنفس", "أنفس", "الأبرياء")

#: Who is prayed to or for after دعا (دعا الشيخ المولى القدير أن، دعا له بالرحمة).
_PRAYED = _words("المولى", "الله", "ربه", "بالرحمة", "بالمغفرة", "بالتوفيق", "بالشفاء", "بالنصر")
_PRAYED_FOR = _words("له", "لها", "لهم")

#: "That which led to" before دعا (الأمر الذي دعا الإدارة، مما دعا إلى): a cause, not a call.
_CAUSE = _words("الذي", "والذي", "مما")

#: Press words in the sentence of حوار (صحيفة، لـ«الشرق الأوسط»، مقابلة): an interview.
_PRESS = _words("صحيفة", "صحفي", "صحافي", "مقابلة", "تلفزيوني", "أوسط")
_CONDUCTED = _words("أجرى", "أجرت", "وأجرى", "وأجرت", "أجراه", "أجريناه")

#: After لقاء/حوار: a press, public or national gathering (لقاء صحفي، اللقاء الوطني للنحالين،
#: مخرجات الحوار الوطني).
_GATHERING = _words("صحفي", "صحافي", "جماهيري", "مفتوح", "وطني")

#: قمة as a top or a derby: after على، حديقة، أعلى، مباراة, before جبل (على قمة الاقتصاد، حديقة
#: القمة، أعلى قمة بمنطقة عسير، مباراة القمة بين الأهلي والزمالك، قمة جبال روكي).
_ON_TOP = _words("على", "وعلى", "حديقة", "أعلى", "مباراة")
_PEAK = _words("جبل", "جبال", "الجبل", "الجبال", "هرم", "الهرم")

#: ضربات الشمس، ضربات القلب: sunstroke and heartbeats.
_BODY = _words("الشمس", "شمس", "القلب", "قلب")

#: Around a demonstration noun: "all its forms and manifestations" (بشتى صوره ومظاهره) and a
#: fair or festival (تظاهرة اقتصادية، التظاهرة الثقافية).
_FORMS = _words("صورة", "صور", "أشكاله", "أشكالها", "أشكال")
_FAIR = _words("اقتصادية", "ثقافية", "رياضية", "اجتماعية", "فنية", "سياحية", "علمية", "احتفالية")

#: Before a truce: its end (إنهاء الهدنة، قطع الهدنة), no ceasefire.
_TRUCE_END = _words("إنهاء", "انهاء", "قطع")

#: A court upholding a ruling (أيدت محكمة الاستئناف الحكم): a ruling, not support.
_COURT = _words("محكمة")

#: After رفض: declining to be named or to comment (رفض المسؤول الكشف عن اسمه).
_UNNAMED = _words("الكشف", "ذكر", "الإفصاح", "التعليق")

#: Before a support word: a consequence or an idiom (بما يدعم التوسع، مما يدعم أدلة، بما رحبت).
_WHICH = _words("بما", "مما")

#: Around عقوبات: domestic penalties (عقوبات صارمة، مخالفات وعقوبات، فرض الغرامات والعقوبات).
_PENALTY_AFTER = _words("صارمة", "رادعة", "مشددة", "تعزيرية")
_PENALTY_BEFORE = _words("مخالفات", "غرامات", "ترقيات")

#: Before aid: a need, not aid given (يحتاجون إلى المساعدات، بحاجة إلى مساعدات غذائية).
_NEED = _words("يحتاج", "يحتاجون", "تحتاج", "نحتاج", "حاجة", "احتياجات", "يفتقرون")

_RETALIATE = frozenset(f"{verb} {rest}" for verb, rest in (
    ("سترد", "على|بقوة|وبقوة|بحزم|بكل"), ("سنرد", "على|بقوة|وبقوة|بحزم|بكل"),
    ("سيردون", "على|بقوة|وبقوة|بحزم|بكل"), ("سيرد", "بقوة|وبقوة|بحزم|بكل")))

#: The call verbs (دعا، دعت، يدعو، داعيا، دعاهم ...): also "to pray" and "to lead to".
_CALL = frozenset({"دعا", "دعت", "دعوا", "دعو", "داعيا", "داعين", "داعية", "دعاه", "دعاها",
                   "دعاهم", "دعتهم", "دعته", "دعتها"})

#: Triggers with a frequent other sense that their neighbours tell (:func:`_other_sense`).
_SENSES = frozenset({"قتل", "قتال", "حوار", "لقاء", "قمة", "ضربة", "ضربات", "مظاهرة", "تظاهرة",
                     "تظاهر", "هدنة", "أيد", "رفض", "عقوبات", "أمر", "مساعدات", *_CALL,
                     *_RETALIATE})


def _other_sense(m: Mention, norms: Sequence[str], cues: dict[str, list[Mention]],
                 doc: Doc | None = None) -> bool:
    """Whether trigger ``m`` (its entry's phrase in :data:`_SENSES`) has its other sense here.

    * bare قتل/القتل after a preposition, أن or a crime noun, with ب/ل, or with a generic
      object is the verbal noun of a discussion (أن قتل المواطن حلال، تسببوا في قتل);
      inflected verbs (قتلت، قتلوا، يقتل) stay;
    * قتال with ل is a purpose (للقتال إلى جانب، الانضمام للقتال), not fighting;
    * حوار near press words (صحيفة، لـ«الشرق الأوسط»، أجرى الحوار) is an interview; حوار and
      لقاء before صحفي، جماهيري، الوطني are a press, public or national gathering;
    * دعا with the one prayed to or for after it (دعا الشيخ المولى القدير أن، دعا له) is a
      prayer, after الذي/مما a cause;
    * قمة after على is a top (على قمة الاقتصاد، المواجهات على القمة), not a summit;
    * ضربات الشمس/القلب are no strikes; مظاهره after صوره (بشتى صوره ومظاهره) and تظاهرة
      اقتصادية are no demonstrations; إنهاء الهدنة is no ceasefire; a court's أيد is a
      ruling; رفض الكشف عن اسمه is no refusal; عقوبات صارمة are domestic penalties; بيت أمر
      is a town; يحتاجون إلى المساعدات is a need, not aid;
    * a promised retaliation (سنرد بقوة) with the ف of a condition's answer is not coded.
    """
    phrase = m.hit.entry.phrase
    clitic = m.hit.clitic
    before, after = _word_at(norms, m.start - 1), _word_at(norms, m.end)
    if phrase in _RETALIATE:
        # a retaliation promised in the ف-clause of a condition (إذا تعرضت بلاده لهجوم فسنرد
        # بقوة) is left to the condition rule, as the other events of such a clause are
        return clitic.startswith("ف") and "COND" in cues
    if phrase == "حوار":
        lo, hi = _sentence_of(doc, m.start, m.end)
        return (_core(after) in _GATHERING or before in _CONDUCTED
                or _word_near(norms, lo, hi, _PRESS, core=True))
    if phrase == "لقاء":
        return _core(after) in _GATHERING
    if phrase == "قتال":
        return "ل" in clitic
    if phrase in _CALL:
        return (after in _PRAYED_FOR or before in _CAUSE
                or _word_near(norms, m.end, m.end + 6, _PRAYED))
    if phrase == "قمة":
        return _core(before) in _ON_TOP or after in _PEAK
    if phrase == "أمر":
        return _core(before) == "بيت"  # بيت أمر, a West Bank town
    if phrase in ("ضربة", "ضربات"):
        return after in _BODY
    if phrase in ("مظاهرة", "تظاهرة", "تظاهر"):
        return _core(before) in _FORMS or _core(after) in _FAIR
    if phrase == "هدنة":
        return _core(before) in _TRUCE_END
    if phrase == "أيد":
        return _word_near(norms, m.start - 2, m.end + 2, _COURT, core=True)
    if phrase == "رفض":
        return _word_near(norms, m.end, m.end + 2, _UNNAMED)
    if phrase == "مساعدات":
        # (the needy may stand between: يحتاج أكثر من 21 مليون شخص في اليمن إلى المساعدات)
        reach = 9 if before in ("الي", "والي") else 3
        return _word_near(norms, m.start - reach, m.start, _NEED, core=True)
    if phrase == "عقوبات":
        return _core(after) in _PENALTY_AFTER or _core(before) in _PENALTY_BEFORE
    if not norms or m.start >= len(norms):
        return False
    core = norms[m.start][len(clitic):]
    if core not in ("قتل", "القتل", "لقتل"):
        return False
    return (clitic.endswith(("ب", "ل")) or before in _KILL_NOUN_BEFORE
            or after in _KILL_GENERIC)


#: What a body approves (وافق مجلس الوزراء على تعيين ...، الموافقة على النظام), compared without
#: the article: approval of a measure is SUPPORT (GUIDELINES: وافق مجلس الأمن على), like that
#: of an agreement (AGMT cues).
_APPROVED = _words("تعيين", "تعيينات", "تأسيس", "نظام", "مشروع", "لائحة", "ميزانية", "تعديل",
                   "تعديلات", "ترشيح", "تمديد", "إنشاء", "اعتماد", "تفويض", "ترخيص", "توصية",
                   "توصيات", "قرارات", "استقالة")


def _approves_measure(c: Candidate, norms: Sequence[str], breaks: set[int]) -> bool:
    """Whether a measure (:data:`_APPROVED`) is the object of approval candidate ``c``: in its
    clause within six words, or within sixteen right after على."""
    for j in range(c.end, min(c.end + 17, len(norms))):
        if _core(norms[j]) in _APPROVED and (
                (j <= c.end + 6 and not _crosses(breaks, c.end - 1, j))
                or norms[j - 1] == "علي"):
            return True
    return False


#: How far (tokens before, after) the context a trigger ``needs`` may stand, by cue class;
#: four words either side for the others. An agreement is the object of a signing verb whose
#: subject and a time phrase may stand between (وقع الوزيران، صباح اليوم ...، على مذكرة تفاهم);
#: an emphasis verb governs a demand across an adverbial (شدد الرئيس، في كلمته أمام
#: البرلمان ...، على ضرورة); a description's condemning word ends it (وصف المتحدث التقرير الذي ... بأنه كاذب);
#: an upheld ruling follows the court's long name (صادقت محكمة الاستئناف الجزائية المتخصصة على حكم),
#: a charge brought follows who brings it and to whom (وجهت هيئة محلفين في كونيكتيكت إلى الجندي تهمة).
_NEEDS_REACH = {"AGMT": (4, 12), "EMPH": (16, 4), "NEGEVAL": (0, 30), "RULING": (0, 8),
                "CHARGE": (0, 10)}


def _needs_met(ms: Sequence[Mention], kind: str, m: Mention) -> bool:
    """Whether a cue of class ``kind`` stands within the reach the class allows of ``m``."""
    before, after = _NEEDS_REACH.get(kind, (4, 4))
    return any(c.end >= m.start - before and c.start <= m.end + after for c in ms)


def _definite(norms: Sequence[str], m: Mention) -> bool:
    """Whether the trigger's first word has the article ال (الزيارة، بالزيارة، للزيارة)."""
    if m.start >= len(norms):
        return False
    word = norms[m.start][len(m.hit.clitic):]
    return word.startswith("ال") or (m.hit.clitic.endswith("ل") and word.startswith("ل"))


def _blocked(cues: dict[str, list[Mention]], etype: PloverType, start: int, end: int,
             doc: Doc | None = None) -> bool:
    """A BLOCKPRE word right before or a BLOCKPOST word just after the trigger (cues.tsv),
    in its clause (``doc`` given: not across a clause mark)."""
    name = _NAME[etype]
    for m in cues.get("BLOCKPRE", ()):
        if start - 2 <= m.end <= start and _cue_types(m, name) and not _marked(
                doc, m.end - 1, start):
            return True
    return any(end <= m.start <= end + 1 and _cue_types(m, name)
               and not _marked(doc, end - 1, m.start)
               for m in cues.get("BLOCKPOST", ()))


def _cue_types(m: Mention, name: str) -> bool:
    value: str = m.hit.entry[3]
    # a substring test, not a split: no type name is part of another (AID, AGREE, ...)
    return value == "*" or name in value


def _context_rules(cands: list[Candidate], cues: dict[str, list[Mention]],
                   breaks: set[int], norms: Sequence[str] = ()) -> list[Candidate]:
    """Sentence-level conventions of the guidelines, applied to the merged candidates.

    * conditional events (إذا انتهكت ... فرض عقوبات) are not events, threats excepted;
    * what is demanded (دعا إلى وقف ...، الحاجة إلى فرض عقوبات) and the purpose of a protest
      (تجمعوا للتنديد) are not separate events;
    * exchanging fire (تبادل ... الهجمات) is fighting, not cooperation;
    * a verbal attack (هجوم لاذع) is ACCUSE; approving an agreement is SUPPORT;
    * a death next to an accident word (لقي مصرعه في حادث مروري) is no attack: only weak
      casualty triggers are dropped, an attack word stays;
    * an agreement with the ل of purpose (للتوصل إلى اتفاق) is a goal, not an agreement;
    * a habitual statement (يقصف الجيش القرى بشكل متكرر) names no specific occurrence;
    * the call or meeting framing a discussion is not an event of its own (GUIDELINES: ناقشا خلال
      اتصال -> ناقشا; أجرى اتصالا ... ناقشا خلاله -> اتصالا);
    * the light verb شن of an attack noun later in its sentence is that attack (شن الجيش، صباح
      اليوم، هجوما);
    * violence whose doers are protesters (حاول المحتجون اقتحام الوزارة، أحرقوا الإطارات) is a riot.
    """
    out: list[Candidate] = []
    # one visit, one trigger (GUIDELINES: استقبل ... يقوم بزيارة -> only استقبل): a visit noun
    # in the sentence of a reception verb names the visit received (other meeting verbs may report
    # a different meeting of the visit: في إطار زيارته ... اجتمع، خلال زيارة ... التقى)
    meets = any(c.entry.type is PloverType.CONSULT and c.entry.phrase in _HOSTS for c in cands)
    requests = [c for c in cands if c.entry.type is PloverType.REQUEST]
    protests = [c for c in cands if c.entry.type is PloverType.PROTEST]
    assaults = [c for c in cands if c.entry.type is PloverType.ASSAULT]
    coerces = [c for c in cands if c.entry.type is PloverType.COERCE]
    releases = [c for c in cands if c.entry.type is PloverType.RETREAT]
    consults = [c for c in cands if c.entry.type is PloverType.CONSULT]
    framed = {id(c) for c in consults if len(consults) > 1 and _framing(c, consults, norms)}
    habits = cues.get("HABIT", ())
    protesters = cues.get("PROTESTER", ())
    for c in cands:
        etype = c.entry.type
        if habits and any(c.start - 3 <= h.start and h.end <= c.end + 4
                          and not _crosses(breaks, min(h.start, c.start), max(h.start, c.start))
                          for h in habits):
            continue
        if etype is PloverType.CONSULT and len(consults) > 1 and (
                id(c) in framed or (c.entry.phrase in _DISCUSS and any(
                    k is not c and k.end <= c.start
                    and (k.entry.phrase in _DISCUSS or not _crosses(breaks, k.start, c.start))
                    for k in consults if id(k) not in framed))):
            # (one meeting whose topics several verbs list, بحث ... إضافة إلى استعراض, or a
            # meeting verb and its discussion verb in one clause, التقى نظيره وبحث معه)
            continue
        if etype is PloverType.ASSAULT and c.entry.phrase in _LIGHT and len(c.parts) == 1 and any(
                k is not c and 0 < k.start - c.end <= 8 and not k.entry.verbal for k in assaults):
            continue
        if etype is PloverType.ASSAULT and ((protesters and any(
                ((0 <= c.start - p.end <= 8 and not _crosses(breaks, p.start, c.start))
                 or (c.entry.verbal and 0 <= p.start - c.end <= 1))
                and not _oblique_at(p, norms) for p in protesters))
                or _protesters_between(c, norms)):
            # (the doers before the act, or a verb's subject right after it: اقتحم محتجون
            # المقر، أضرم المتظاهرون النار; clashes between protesters and police)
            c.entry = replace(c.entry, type=PloverType.PROTEST, mode="riot")
            c.mode = "riot"
            etype = PloverType.PROTEST
        if (etype is PloverType.COERCE and c.entry.mode == "restrict"
                and _head(c) in _CLOSE and _crowd_closing(c, cands, cues, norms)):
            # roads closed by protesters (أغلق مئات المحتجين الطرق، إغلاق طرق بسبب
            # التظاهرات) are a protest obstructing, not a restriction by the authorities
            c.entry = replace(c.entry, type=PloverType.PROTEST, mode="obstruct")
            c.mode = "obstruct"
            etype = PloverType.PROTEST
        if (etype is PloverType.MOBILIZE and _head(c) in _DRILL
                and cues.get("JOINT")):
            # an exercise with its participants named (مناورات بمشاركة قوات ...، تدريبات
            # الدول المشاركة) is joint: COOPERATE (a single army's drill stays MOBILIZE)
            c.entry = replace(c.entry, type=PloverType.COOPERATE, mode=None)
            c.mode = None
            etype = PloverType.COOPERATE
        if meets and c.entry.phrase in _VISIT_NOUNS and len(c.parts) == 1:
            continue
        if etype is PloverType.ASSAULT and c.weight < _WEAK and any(
                abs(m.start - c.start) <= 10 for m in cues.get("ACCIDENT", ())):
            continue
        if etype is PloverType.AGREE and not c.entry.verbal and "ل" in c.clitic:
            continue
        if etype is PloverType.ASSAULT and c.entry.phrase in _LIGHT and any(
                0 < k.start - c.end <= 5 and not _crosses(breaks, c.end - 1, k.start)
                for k in coerces):
            continue  # شنت قوات الاحتلال حملة اعتقالات: the sweep is COERCE, not an attack
        if etype is PloverType.ASSAULT and c.weight < _WEAK and any(
                0 < k.start - c.end <= 4 and not _crosses(breaks, c.end - 1, k.start)
                for k in releases):
            continue  # أطلق الحوثيون سراح ...: the light verb of a release
        if etype is PloverType.COERCE and c.entry.sense and _executed(cues, c.start):
            continue  # نفذت السلطات حكم الإعدام: the execution (ASSAULT) is the event, not the ruling
        if (etype is PloverType.ASSAULT and c.entry.mode == "execute"
                and not c.entry.verbal and _sentenced(cues, c.start, breaks)):
            # حكم عليه بالإعدام، عوقب بالإعدام: a death sentence is COERCE (GUIDELINES);
            # an execution carried out (نفذت حكم الإعدام، أعدم) stays ASSAULT
            c.entry = replace(c.entry, type=PloverType.COERCE, mode=None)
            c.mode = None
            etype = PloverType.COERCE
        if etype not in _COND_OK and any(
                (c.start - 8 <= m.start < c.start or c.end <= m.start <= c.end + 8)
                and not _crosses(breaks, min(m.start, c.start), max(m.start, c.start))
                for m in cues.get("COND", ())):
            continue
        if etype not in _COND_OK and c.clitic.startswith("ف") and c.entry.verbal and any(
                c.start - 16 <= m.start < c.start for m in cues.get("COND", ())):
            continue  # the ف-clause of a condition: إذا هوجمنا، فسنرد بقوة
        if not c.entry.verbal and _word_at(norms, c.start - 1) in _THIS and any(
                k is not c and k.entry.type is etype and k.end <= c.start for k in cands):
            continue  # رفض الخطة ...، وجدد الرئيس هذا الرفض: the same refusal
        if (etype is PloverType.CONSULT and not c.entry.verbal and c.clitic.startswith("و")
                and any(k is not c and k.entry.type is PloverType.CONSULT
                        and 0 < c.start - k.end <= 5 and not _crosses(breaks, k.end - 1, c.start)
                        for k in cands)):
            continue  # زيارة ولي العهد ومحادثاته مع المسؤولين: one visit, one trigger
        if etype in _POSSIBLE_TYPES and any(
                0 <= c.start - m.end <= 4 and not _crosses(breaks, m.start, c.start)
                for m in cues.get("POSSIBLE", ())):
            continue  # إمكانية أن يشن الإرهابيون هجمات: a possibility, not an attack
        if etype is not PloverType.REQUEST and not c.clitic.startswith("ف") and any(
                0 <= c.start - r.end <= 5 and not _crosses(breaks, r.end - 1, c.start)
                for r in requests):
            # what is demanded is no event; a verb with ف is what followed (طلب منهم ... فوافقوا)
            continue
        if (etype is not PloverType.PROTEST and "ل" in c.clitic
                and any(0 <= c.start - p.end <= 8 for p in protests)):
            continue
        if (etype is PloverType.ACCUSE and not c.entry.verbal and not c.clitic
                and _word_at(norms, c.start).endswith("ا")
                and any(0 <= c.start - p.end <= 8 for p in protests)):
            continue  # the purpose of a protest in the accusative (خرجت مظاهرات استنكارا لـ)
        if etype is PloverType.PROTEST and "ل" in c.clitic and not c.entry.verbal and any(
                k.entry.type is PloverType.ACCUSE and 0 < c.start - k.end <= 8
                and not _crosses(breaks, k.end - 1, c.start) for k in cands):
            continue  # the purpose of a summons (استدعت السفير للاحتجاج على): no demonstration
        if etype is PloverType.COOPERATE and any(0 <= a.start - c.end <= 3 for a in assaults):
            continue
        if (etype is not PloverType.CONSULT and _word_at(norms, c.start - 1) in _ABOUT
                and any(0 < c.start - k.end <= 2 for k in consults)):
            # what talks are about is no event of its own (محادثات حول الانسحاب، مباحثات
            # بشأن العقوبات): like a demand's object
            continue
        if etype is PloverType.COOPERATE and (
                _bare(_word_at(norms, c.start - 1)) in _COOP_FRAME
                or not _COOP_OBJECT.isdisjoint(norms[c.end:c.end + 2])):
            # cooperation named as an agreement's content or a field (اتفاق تعاون أمني،
            # مجالات التعاون، في إطار التعاون), an exchange of views (talk: تبادل الرؤى) or of
            # prisoners (a release: تبادل الأسرى) is no act of cooperating. Looked up here, only
            # for a COOPERATE candidate, rather than as cues on these frequent words
            continue
        if (etype is PloverType.ASSAULT and c.entry.phrase.split()[0] in _LAUNCH
                and c.entry.mode is None and cues.get("WTEST")
                and not any(w in _AIMED for w in norms[c.end:c.end + 8])):
            # a missile launched with no target named (أطلق الجيش صاروخا باليستيا في
            # البحر، أجرت تجربة لإطلاق صاروخ) in a test context is a weapons test: MOBILIZE weapons
            c.entry = replace(c.entry, type=PloverType.MOBILIZE, mode="weapons")
            c.mode = "weapons"
        elif etype is PloverType.ASSAULT and _cue_after(cues, "VERBAL", c.end, 1):
            c.entry = replace(c.entry, type=PloverType.ACCUSE, mode=None)
            c.mode = None
        elif (etype is PloverType.AGREE and c.entry.phrase in _APPROVE
              and (any((c.end <= m.start <= c.end + 6 and not _crosses(breaks, c.end - 1, m.start))
                       or (c.end <= m.start <= c.end + 16 and 0 < m.start < len(norms)
                           and norms[m.start - 1] == "علي")
                       for m in cues.get("AGMT", ()))
                   or _approves_measure(c, norms, breaks))):
            # (the object after على may follow the subject and a time phrase: ووافق البرلمان،
            # بعد جلسة طويلة، على الاتفاقية)
            c.entry = replace(c.entry, type=PloverType.SUPPORT)
        out.append(c)
    return out


def _framing(c: Candidate, consults: list[Candidate], norms: Sequence[str]) -> bool:
    """Whether CONSULT ``c`` only frames another CONSULT close by: a call or meeting noun right
    after خلال (ناقشا خلال اتصال هاتفي، وجرى خلال الاتصال بحث), or a discussion verb right before
    خلاله when the call was named earlier (أجرى اتصالا ... ناقشا خلاله)."""
    if not c.entry.verbal:
        return (c.entry.phrase not in _VISIT_NOUNS and _word_at(norms, c.start - 1) in _FRAME
                and any(k is not c and (0 < c.start - k.end <= _FRAME_REACH
                                        or 0 < k.start - c.end <= _FRAME_REACH)
                        for k in consults))
    return _word_at(norms, c.end) in _FRAME_BACK and any(
        not k.entry.verbal and 0 < c.start - k.end <= _FRAME_REACH for k in consults)


def _generic(norms: Sequence[str], start: int) -> bool:
    """Whether "any" or "such" stands right before the noun at ``start`` (أي هجوم، لأي تهديد،
    مثل هذه الغارات): a generic or hypothetical mention, not an occurrence."""
    before = _word_at(norms, start - 1)
    if before in _ANY:
        return True
    return before in _THIS and _word_at(norms, start - 2) in _SUCH


#: "Any" with its clitics (normalized: أي -> اي).
_ANY = frozenset({"اي", "لاي", "باي", "واي", "فاي"})

#: "Such" (مثل هذه، بمثل هذا) and the demonstratives (هذا الرفض: a repeat within the sentence).
_SUCH = frozenset({"مثل", "بمثل", "لمثل", "ومثل"})

_THIS = frozenset({"هذا", "هذه", "ذلك", "تلك"})

#: Words framing a discussion by its call or meeting (خلال اتصال، ناقشا خلاله).
_FRAME = frozenset({"خلال", "وخلال"})

_FRAME_BACK = frozenset({"خلاله", "خلالها", "خلالهما"})

#: Discussion predicates: what a meeting or call covered (GUIDELINES: annotated at the predicate).
_DISCUSS = frozenset({"بحث", "استعرض", "استعراض", "تناول", "ناقش", "تباحث"})

#: How far (tokens) a discussion verb and the call framing it may stand apart.
_FRAME_REACH = 16


def _head(c: Candidate) -> str:
    """The normalized first word of a candidate's entry (entries keep the data file's spelling:
    أغلق, مناورة), to compare with the word sets below."""
    return normalize_word(c.entry.phrase.split()[0])


#: Exercise nouns: with participants named in the sentence they are joint (COOPERATE).
_DRILL = _words("مناورات", "مناورة", "تمرين", "تمارين", "تدريبات")
#: Clash nouns: with protesters among the sides named after بين they are a riot.
_CLASH = _words("اشتباك", "اشتباكات", "مواجهات", "صدامات")
#: Closure triggers that protesters may be the doers of (roads, squares).
_CLOSE = _words("أغلق", "غلق", "إغلاق")
#: Words naming the cause of a closure (بسبب التظاهرات، جراء الاحتجاجات).
_BECAUSE = frozenset({"بسبب", "جراء", "نتيجه", "اثر"})


def _protester_word(word: str) -> bool:
    """Whether a normalized token names protesters (المتظاهرين، والمحتجين، متظاهرون); not
    with ب or ل (بالمتظاهرين، للمحتجين), whose protesters are objects (:func:`_core` strips those)."""
    for pre in ("وال", "ال", "و", ""):
        if word.startswith(pre) and len(word) > len(pre) + 3:
            rest = word[len(pre):]
            return rest.startswith("متظاهر") or rest in {"محتج", "محتجون", "محتجين"}
    return False


def _protesters_between(c: Candidate, norms: Sequence[str]) -> bool:
    """A clash noun whose sides, after بين, include protesters (اشتباكات بين المتظاهرين
    والشرطة، مواجهات بين قوات الأمن ومحتجين)."""
    if _head(c) not in _CLASH:
        return False
    # (one adjective may stand before بين: اشتباكات عنيفة بين ...)
    at = c.end if _word_at(norms, c.end) == "بين" else c.end + 1
    if _word_at(norms, at) != "بين":
        return False
    return any(_protester_word(w) for w in norms[at + 1:at + 5])


def _crowd_closing(c: Candidate, cands: list[Candidate], cues: dict[str, list[Mention]],
                   norms: Sequence[str]) -> bool:
    """Whether a closure's doers are a crowd: a crowd word as the verb's subject right after it
    (أغلق مئات النيجيريين)، protesters named close by, or a protest as its cause after بسبب."""
    if any(0 <= m.start - c.end <= 1 for m in cues.get("CROWD", ())):
        return True
    if any(_protester_word(w) for w in norms[max(0, c.start - 3):c.end + 3]):
        return True
    return any(k.entry.type is PloverType.PROTEST and 0 < k.start - c.end <= 12
               and _word_at(norms, k.start - 1) in _BECAUSE for k in cands)


def _oblique_at(m: Mention, norms: Sequence[str]) -> bool:
    """Whether mention ``m`` is a prepositional object (ضد متظاهرين، على المحتجين، بالمتظاهرين)."""
    if m.hit.clitic.endswith(("ب", "ل")):
        return True
    return m.start > 0 and m.start - 1 < len(norms) and norms[m.start - 1] in _OBLIQUE


#: Material types a possibility word before them (إمكانية، احتمال) makes hypothetical.
_POSSIBLE_TYPES = frozenset({PloverType.ASSAULT, PloverType.COERCE, PloverType.MOBILIZE,
                             PloverType.SANCTION})


#: Visit nouns that repeat the meeting a CONSULT verb of their sentence reports.
_VISIT_NOUNS = frozenset({"زيارة"})

#: "About": after talks, the topic follows (محادثات حول الانسحاب، مباحثات بشأن العقوبات).
_ABOUT = frozenset(normalize_word(w) for w in ("حول", "بشأن"))

#: Words right before a cooperation noun that make it a topic or a document's content.
_COOP_FRAME = frozenset(normalize_word(w) for w in (
    "اتفاق", "اتفاقا", "اتفاقية", "مجال", "مجالات", "إطار", "إطارا"))


#: Words right after تبادل that make it an exchange of views or of prisoners.
_COOP_OBJECT = frozenset(normalize_word(w) for w in (
    "الرؤى", "وجهات", "الآراء", "الأسرى", "الرهائن", "المحتجزين"))


def _bare(word: str) -> str:
    """``word`` without one proclitic و/ف/ب/ل (وفي مجالات -> مجالات)."""
    return word[1:] if len(word) > 3 and word[0] in "وفبل" else word


#: Launch triggers (أطلق، يطلق، إطلاق صواريخ): an attack only when aimed at something.
_LAUNCH = frozenset({"أطلق", "طلق", "إطلاق"})

#: Words after a launch that name its aim (أطلق صاروخا على جازان، باتجاه إسرائيل).
_AIMED = frozenset({"علي", "باتجاه", "اتجاه", "نحو", "صوب", "ضد", "تجاه", "مستهدفا",
                    "مستهدفه", "استهدف", "استهدفت"})


#: Bare light verbs of attack (شن) whose object may be a non-violent campaign.
_LIGHT = frozenset({"شن"})


def _sentenced(cues: dict[str, list[Mention]], start: int, breaks: set[int]) -> bool:
    """A sentencing word (حكم، عقوبة، عوقب) shortly before ``start`` and no execution word
    (تنفيذ، نفذ) before it in the clause."""
    def near(kind: str, window: int, clause: bool) -> bool:
        return any(start - window <= m.start < start
                   and not (clause and _crosses(breaks, m.start, start))
                   for m in cues.get(kind, ()))
    return near("SENTENCE", 4, True) and not _executed(cues, start)


def _executed(cues: dict[str, list[Mention]], start: int) -> bool:
    """An execution word (تنفيذ، نفذ) within 10 tokens before ``start``: the executor and a time
    phrase may stand between (نفذت السلطات، صباح اليوم، حكم الإعدام)."""
    return any(start - 10 <= m.start < start for m in cues.get("EXECUTE", ()))


def _candidates(kept: list[Mention], cues: dict[str, list[Mention]],
                breaks: set[int], norms: Sequence[str] = ()) -> list[Candidate]:
    """Events-to-be of a sentence from its kept triggers (:func:`_kept_triggers`)."""
    # failed outcomes are not events: "فشل في التوصل إلى اتفاق" after talks
    consult_seen = False
    pruned: list[Mention] = []
    for m in kept:
        if m.hit.entry.type is PloverType.CONSULT:
            consult_seen = True
        elif consult_seen and (_cue_before(cues, ("FAIL", "WITHOUT"), m.start, 3)):
            continue
        pruned.append(m)
    out: list[Candidate] = []
    for m in pruned:
        entry = m.hit.entry
        prev = out[-1] if out else None
        same = [c for c in out if c.entry.type is entry.type]
        last = same[-1] if same else None
        if (last is not None and m.start - last.end <= _MERGE_GAP
                and not any(last.end <= b <= m.start for b in breaks)
                and (prev is last or prev is None or prev.end <= last.end)
                and (entry.verbal != last.entry.verbal or entry.weight < _WEAK
                     or last.weight < _WEAK or m.start - last.end <= 1)
                and not (entry.type is PloverType.COERCE and (
                    entry.mode != last.mode or entry.sense))):
            # (a raid and the arrests it led to are two COERCE events: modes differ; a ruling
            # and the court's act on it, صادقت المحكمة على حكم، are two as well)
            if last.entry.phrase in _LIGHT and len(last.parts) == 1 and not entry.verbal:
                # a light verb and its event noun: the noun is the trigger (GUIDELINES:
                # شنت القوات، فجر اليوم، هجوما -> هجوما)
                last.start, last.entry, last.clitic, last.mode = (m.start, entry, m.hit.clitic,
                                                                 entry.mode or last.mode)
            last.end = max(last.end, m.end)
            last.weight = max(last.weight, entry.weight)
            last.mode = last.mode or entry.mode
            last.parts.append(m)
            if entry.weight > last.entry.weight and entry.verbal == last.entry.verbal:
                last.entry = entry
            continue
        out.append(Candidate(m.start, m.end, entry, m.hit.clitic, entry.weight, entry.mode,
                             [m]))
    # failed talks are also SANCTION (manual: "code failed negotiations" there), at the
    # failure word: فشلت المحادثات، اجتماع ... والذي فشل في التوصل إلى اتفاق
    talks = [c for c in out if c.entry.type is PloverType.CONSULT]
    seen_fail: set[tuple[int, int]] = set()
    for f in cues.get("FAIL", ()):
        if (f.start, f.end) in seen_fail:
            continue
        seen_fail.add((f.start, f.end))
        if any(c.start - 3 <= f.start < c.start or c.end <= f.start <= c.end + 14
               for c in talks):
            out.append(Candidate(f.start, f.end, _FAILED_TALKS, f.hit.clitic, 0.8, None, [f]))
    out.sort(key=lambda c: c.start)
    # a weak reading (ضرب، أصاب، شن) next to a firm trigger of its type is the same event;
    # deploying weapons (نشر) in the clause of an attack is the attack
    types = {c.entry.type for c in out if c.weight >= _WEAK}
    assault_clauses = [c for c in out if c.entry.type is PloverType.ASSAULT]
    final = []
    for c in out:
        if c.weight < _WEAK and c.entry.type in types:
            continue
        if c.entry.type is PloverType.MOBILIZE and c.entry.needs and any(
                abs(a.start - c.start) <= 12 and not _crosses(breaks, min(a.start, c.start),
                                                              max(a.start, c.start))
                for a in assault_clauses):
            continue
        final.append(c)
    return _context_rules(final, cues, breaks, norms)
