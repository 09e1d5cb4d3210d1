"""The Arabic sentence splitter (khabar/text/sentences.py)."""

from __future__ import annotations

from khabar.text.sentences import split_sentences


def _texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_basic_marks_and_newlines() -> None:
    text = "قصفت روسيا كييف. هل انتهت الحرب؟ لا!\nسطر جديد"
    assert _texts(text) == ["قصفت روسيا كييف.", "هل انتهت الحرب؟", "لا!", "سطر جديد"]


def test_not_boundaries() -> None:
    assert len(split_sentences("بلغ النمو 3.5 في المئة، وقال د. أحمد إن ذلك جيد.")) == 1
    assert len(split_sentences("قال: «لن نتراجع!» وأضاف أن القتال مستمر.")) == 1


def test_one_letter_abbreviations_after_brackets_quotes_and_dots() -> None:
    # a letter standing alone before a dot is an initial, wherever the word before ends
    assert len(split_sentences("قال (د. علي) إن الوضع مستقر.")) == 1
    assert len(split_sentences("وقال أ.د. سعد الحسين عميد الكلية إن القبول بدأ.")) == 1
    assert len(split_sentences("ذكرت وكالة الأنباء الألمانية (د. ب. أ) إن القوات تقدمت.")) == 1
    assert len(split_sentences("أكد الوزير “د. عزام الدخيل” أهمية التقنية.")) == 1
    # the last letter of a word (after a diacritic), of a code or of a year ends the sentence
    assert _texts("أتمنى أن أكون مخطئًا. أعتقد أن الاتفاق صامد.") == ["أتمنى أن أكون مخطئًا.",
                                                                  "أعتقد أن الاتفاق صامد."]
    assert len(split_sentences("يدعم منفذ USB Type-C. وثمة إشاعات أخرى.")) == 2
    assert len(split_sentences("تعبئة النموذج 101/ب. وتعبئة الإقرار.")) == 2
    assert len(split_sentences("ولد عام 1986م. ثم انتقل إلى الرياض.")) == 2


def test_quotation_closed_then_new_sentence() -> None:
    text = "قال: «لن نتراجع!» القتال مستمر."
    assert len(split_sentences(text)) == 2


def test_spans_are_trimmed_and_exact() -> None:
    text = "  أولا.   ثانيا.  "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["أولا.", "ثانيا."]


def test_odd_input() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\n ") == []
    assert split_sentences("...") == [(0, 3)]
    huge = "جملة قصيرة. " * 20000
    assert len(split_sentences(huge)) == 20000
