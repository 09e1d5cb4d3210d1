"""Sense models of ambiguous trigger words (khabar/events/senses.py, khabar/eval/senses.py).

Every sentence here is composed for these tests. Unit tests of the features and the model
arithmetic; the extractor with a judge the test controls; training on a small labeled set the
test writes; and the packaged models against the lexicon.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from khabar.config import EventSettings
from khabar.eval.senses import (
    EVENT,
    NONE,
    Recorder,
    SenseLabelsError,
    asked_in,
    features_of,
    gold_contexts,
    read_labels,
    sample,
    train,
    validate,
)
from khabar.events.extract import EventExtractor
from khabar.events.lexicon import _trigger_rows, family_of
from khabar.events.senses import (
    FEATURES_VERSION,
    SenseModel,
    SenseModelError,
    Senses,
    get_senses,
    parse_models,
)
from khabar.pipeline import prepare_doc
from schemas.models import Event, PloverType, RawArticle

DEMAND = "وفي الجلسة طالب الرئيس الروسي بوقف إطلاق النار في غزة فورا."
STUDENT = "وقال طالب في كلية الطب إن الامتحانات كانت صعبة هذا العام."


def _events(text: str, judge: object) -> list[Event]:
    article = RawArticle(id="s-1", text=text)
    extractor = EventExtractor(EventSettings(), senses=judge)  # type: ignore[arg-type]
    return extractor.extract(prepare_doc(article), article)


def _asked(text: str) -> list:  # type: ignore[type-arg]
    [(_, asked)] = list(asked_in([RawArticle(id="s-1", text=text)]))
    return asked


# ---- features --------------------------------------------------------------------------


def test_the_judge_is_asked_about_a_bare_talib_with_its_neighbours() -> None:
    [q] = _asked(DEMAND)
    assert q.family == "talib" and q.type == "REQUEST"
    assert q.text[q.start:q.end] == "طالب"
    f = set(q.features)
    assert {"w=طالب", "L1=الجلسه", "R1=الرئيس", "R2=الروسي", "R1p=-"} <= f
    assert "r=وقف" in f  # the window word without its preposition
    assert "actor=after" in f  # the Russian president is an actor right after the verb


def test_the_fused_preposition_of_the_next_word_is_a_feature() -> None:
    [q] = _asked("ثم طالب بوقف الحرب.")
    assert "R1p=ب" in q.features


def test_features_stop_at_the_sentence() -> None:
    [q] = _asked("انتهى الاجتماع. طالب الوزير بالهدوء.")
    assert "L1=<s>" in q.features and "pos=first" in q.features
    assert not any(f.endswith("الاجتماع") or f.endswith("اجتماع") for f in q.features)


def test_the_same_features_come_from_the_sentence_alone_and_from_the_article() -> None:
    """Training recomputes features on the sentence: they must equal the article's."""
    article = "قتل ثلاثة أشخاص في هجوم على سوق. " + DEMAND + " وانتهت الجلسة مساء."
    [in_article] = _asked(article)
    [alone] = features_of([{"family": "talib", "text": in_article.text, "start": in_article.start,
                            "end": in_article.end}])
    assert alone == in_article.features


# ---- the judge in the extractor ----------------------------------------------------------


def test_a_yes_makes_the_word_an_event_and_a_no_leaves_it_out() -> None:
    yes = _events(DEMAND, lambda family, features, m, doc: family == "talib")
    assert [(e.type, e.trigger) for e in yes] == [(PloverType.REQUEST, "طالب")]
    assert _events(DEMAND, lambda *a: False) == []


def test_a_family_without_a_model_never_fires() -> None:
    judge = Senses({})
    assert _events(DEMAND, judge) == []


def test_a_cue_checked_reading_wins_and_the_judge_is_not_asked() -> None:
    """تحرير next to a military word is the MIL entry's; the sense model is for the rest."""
    recorder = Recorder(answer=False)
    found = _events("أعلنت القوات الحكومية تحرير مدينة الرمادي من مسلحي التنظيم بعد معارك.", recorder)
    assert PloverType.ASSAULT in {e.type for e in found}
    assert recorder.asked == []


# ---- the model ---------------------------------------------------------------------------


def test_probability_is_the_logistic_of_the_summed_weights() -> None:
    m = SenseModel("x", {"a": 1.0, "b": -0.5}, bias=0.25, threshold=0.6)
    assert m.probability(["a", "b", "c"]) == pytest.approx(1 / (1 + math.exp(-0.75)))
    assert m.probability(["a", "a"]) == pytest.approx(1 / (1 + math.exp(-2.25)))  # bags count twice
    assert m.probability(["b"] * 200) == 0.0
    judge = Senses({"x": m})
    assert judge("x", ["a"], None, None) is True  # type: ignore[arg-type]  # p = 0.78
    assert judge("x", ["b"], None, None) is False  # type: ignore[arg-type]  # p = 0.44


def test_a_model_file_of_another_feature_version_is_refused() -> None:
    with pytest.raises(SenseModelError, match="retrain"):
        parse_models({"features_version": FEATURES_VERSION + 1, "families": {}})


def test_a_malformed_family_is_refused() -> None:
    with pytest.raises(SenseModelError, match="malformed"):
        parse_models({"features_version": FEATURES_VERSION, "families": {"x": {"bias": 0}}})


def test_family_of_reads_the_needs_column() -> None:
    assert family_of("SENSE:hukm") == "hukm"
    assert family_of("MIL") is None and family_of(None) is None


def test_every_sense_family_of_the_lexicon_has_a_packaged_model_and_every_model_a_family() -> None:
    rows, _ = _trigger_rows()
    in_lexicon = {family_of(r[5]) for r in rows} - {None}
    assert in_lexicon, "triggers.tsv has no sense-classified entries"
    models = get_senses().models
    assert set(models) == in_lexicon
    for model in models.values():
        assert 0.0 < model.threshold <= 1.0 and model.weights


# ---- labels, training, sampling ------------------------------------------------------------

_DEMANDS = ["طالب الوزير بوقف القتال في المدينة.", "طالب الرئيس بإجراء تحقيق عاجل في الحادث.",
            "وفي بيانه طالب الحزب بالإفراج عن المعتقلين.", "طالب المجلس بانسحاب القوات من المنطقة.",
            "طالب السفير بتوضيح رسمي من الحكومة.", "وأمس طالب البرلمان بمحاسبة المسؤولين عن الانفجار."]
_STUDENTS = ["وقال طالب في الجامعة إن الدراسة صعبة.", "حصل طالب سعودي على جائزة في الرياضيات.",
             "فاز طالب من المدرسة بالمركز الأول في المسابقة.", "التحق طالب جديد بكلية الهندسة هذا العام.",
             "كل طالب في الفصل قرأ الكتاب كاملا.", "شارك طالب وطالبة في معرض العلوم بالمدينة."]


def _labeled() -> list[dict[str, object]]:
    rows = []
    for text, label in [*[(t, EVENT) for t in _DEMANDS], *[(t, NONE) for t in _STUDENTS]] * 3:
        start = text.index("طالب")
        rows.append({"family": "talib", "type": "REQUEST", "text": text, "start": start,
                     "end": start + 4, "label": label})
    return rows


def test_training_separates_the_senses_and_the_written_model_loads(tmp_path: Path) -> None:
    data, [report] = train(_labeled(), folds=3)
    assert report.family == "talib" and report.n == 36 and report.positives == 18
    assert report.precision >= 0.9 and report.recall >= 0.9
    path = tmp_path / "senses.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    judge = Senses(parse_models(json.loads(path.read_text(encoding="utf-8"))))
    assert [e.trigger for e in _events("طالب النائب بإلغاء القرار فورا.", judge)] == ["طالب"]
    assert _events("ونجح طالب في الصف الثالث بتفوق.", judge) == []


def test_a_family_with_too_few_labels_gets_no_model() -> None:
    data, [report] = train(_labeled()[:10])
    assert data["families"] == {} and report.threshold > 1


def test_read_labels_keeps_labeled_records_and_names_bad_lines(tmp_path: Path) -> None:
    good = {"family": "talib", "text": DEMAND, "start": 10, "end": 14}
    path = tmp_path / "l.jsonl"
    path.write_text("\n".join(json.dumps({**good, "label": lab}) for lab in (EVENT, None, NONE)),
                    encoding="utf-8")
    assert [r["label"] for r in read_labels([path])] == [EVENT, NONE]
    path.write_text(json.dumps({**good, "label": "MAYBE"}), encoding="utf-8")
    with pytest.raises(SenseLabelsError, match=r"l\.jsonl:1: label 'MAYBE'"):
        read_labels([path])
    path.write_text(json.dumps({"family": "talib", "label": EVENT}), encoding="utf-8")
    with pytest.raises(SenseLabelsError, match="missing"):
        read_labels([path])
    with pytest.raises(SenseLabelsError, match="cannot read"):
        read_labels([tmp_path / "absent.jsonl"])


def test_sample_draws_one_context_per_article_and_skips_excluded_ones() -> None:
    articles = [RawArticle(id=f"a{i}", text=f"{DEMAND} {STUDENT}") for i in range(5)]
    articles.append(RawArticle(id="gold-1", text=DEMAND))
    articles.append(RawArticle(id="copy", text="طالب الحزب بالإفراج عن المعتقلين فورا."))
    rows = sample(articles, per_family=10, exclude_ids={"gold-1"},
                  exclude_texts=["في بيان له طالب الحزب بالإفراج عن المعتقلين فورا. وانتهى"])
    assert sorted(r["article_id"] for r in rows) == ["a0", "a1", "a2", "a3", "a4"]
    assert all(r["family"] == "talib" and r["label"] is None for r in rows)
    assert all(r["text"][r["start"]:r["end"]] == r["trigger"] == "طالب" for r in rows)
    assert len(sample(articles, per_family=2)) == 2


def test_gold_contexts_label_a_word_by_the_gold_events_on_it() -> None:
    text = f"{DEMAND} {STUDENT}"
    at = text.index("طالب")
    rec = {"article_id": "g-1", "text": text, "events": [
        {"type": "REQUEST", "trigger": "طالب", "trigger_start": at, "trigger_end": at + 4}]}
    rows = gold_contexts([rec])
    assert [(r["trigger"], r["label"]) for r in rows] == [("طالب", EVENT), ("طالب", NONE)]
    assert rows[1]["text"] == STUDENT


def test_validate_scores_models_at_their_thresholds() -> None:
    data, _ = train(_labeled(), folds=3)
    models = parse_models(data)
    held = [{"family": "talib", "text": t, "start": t.index("طالب"), "end": t.index("طالب") + 4,
             "label": lab} for t, lab in (("طالب النائب بإلغاء القرار فورا.", EVENT),
                                           ("ونجح طالب في الصف الثالث بتفوق.", NONE))]
    [report] = validate(models, held)
    assert (report.n, report.positives, report.precision, report.recall) == (2, 1, 1.0, 1.0)


def test_the_packaged_models_are_what_the_committed_labels_train() -> None:
    """data/senses.json is reproducible: retraining on eval/events/senses/labels/*.jsonl with the
    file's own settings gives the same families, thresholds and weights."""
    root = Path(__file__).resolve().parents[1]
    packaged = json.loads((root / "khabar/events/data/senses.json").read_text(encoding="utf-8"))
    data, _ = train(read_labels(sorted((root / "eval/events/senses/labels").glob("*.jsonl"))),
                    c=packaged["regularization_c"], min_precision=packaged["min_precision"])
    assert data["families"].keys() == packaged["families"].keys()
    for family, spec in packaged["families"].items():
        fresh = data["families"][family]
        assert fresh["threshold"] == spec["threshold"], family
        assert fresh["bias"] == pytest.approx(spec["bias"], abs=2e-3), family
        old, new = spec["weights"], fresh["weights"]
        assert all(new.get(k, 0.0) == pytest.approx(old.get(k, 0.0), abs=2e-3)
                   for k in old.keys() | new.keys()), family
