"""Property-based tests (hypothesis) of every stage function on arbitrary text, and a
bounded fuzzing run of the whole text pipeline on arbitrary bytes.

Strategies mix arbitrary Unicode with the characters the stages treat specially
(Arabic letters and diacritics, terminal marks, guillemets, newlines, bidi and
zero-width controls), so the examples reach the interesting branches. Example
counts and deadlines are bounded: the file runs in about half a minute.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khabar.config import DedupSettings, EventSettings, LanguageSettings, Settings
from khabar.dedup import make_probe
from khabar.errors import InvalidArticleError
from khabar.events.extract import get_extractor
from khabar.language.detect import get_detector
from khabar.pipeline import prepare_doc
from khabar.process import OfflineEnricher, parse_raw
from khabar.text.boilerplate import boilerplate_spans
from khabar.text.normalize import make_doc
from khabar.text.sentences import split_sentences
from schemas.models import DeadLetter, DuplicateNotice, EnrichedArticle, RawArticle

_SPECIAL = ("قصفت القوات الروسية مدينة كييف ", "وقال الرئيس ", "«", "»", ".", "!", "؟", "،", "\n",
            "\u064e\u0651", "\u200b", "\u200f", "\u202e", "\u0000", "شارك ", "سبق- الرياض:", " سمات ",
            "د. ", "3.5", "٢٠١٥", "ـ", "\ufeff", "<p>", "😀")
# Surrogates are excluded: parse_raw rejects them before any stage runs (invalid_unicode).
_ANY_CHAR = st.characters(blacklist_categories=("Cs",))
TEXT = st.lists(st.one_of(st.text(_ANY_CHAR, max_size=12), st.sampled_from(_SPECIAL)), max_size=40).map("".join)

FAST = settings(max_examples=120, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _article(text: str) -> RawArticle:
    return RawArticle(id="prop", text=text, published_at=datetime(2024, 5, 1, tzinfo=UTC))


@FAST
@given(TEXT)
def test_make_doc_tokens_are_spans_of_the_text(text: str) -> None:
    doc = make_doc(text)
    last = 0
    for tok in doc.tokens:
        assert last <= tok.start < tok.end <= len(text)
        assert text[tok.start:tok.end] == tok.text
        assert " " not in tok.norm
        last = tok.end


@FAST
@given(TEXT)
def test_sentences_are_ordered_trimmed_spans(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        last = end
    # every non-blank line holds at least one sentence
    assert len(spans) >= sum(1 for line in text.split("\n") if line.strip())


@FAST
@given(TEXT)
def test_boilerplate_spans_are_sorted_disjoint_and_inside(text: str) -> None:
    spans = boilerplate_spans(text)
    last = -1  # merged: each span starts after the previous one ends
    for start, end in spans:
        assert last < start < end <= len(text)
        last = end


@FAST
@given(TEXT)
def test_prepare_doc_sentences_cover_their_tokens(text: str) -> None:
    doc = prepare_doc(_article(text))
    for sent in doc.sentences:
        assert doc.text[sent.start:sent.end] == sent.text
        for tok in doc.tokens[sent.first_token:sent.last_token]:
            assert sent.start <= tok.start and tok.end <= sent.end
    assert all(0 <= s < e <= len(text) for s, e in doc.excluded)


@FAST
@given(TEXT)
def test_make_probe_is_deterministic(text: str) -> None:
    dedup = DedupSettings()
    article = _article(text)
    a = make_probe(article, prepare_doc(article), dedup)
    b = make_probe(article, prepare_doc(article), dedup)
    assert (a.content_hash, a.shingles.tolist(), a.signature.tolist()) == \
        (b.content_hash, b.shingles.tolist(), b.signature.tolist())
    assert len(a.signature) == dedup.num_perm
    assert a.n_tokens <= len(prepare_doc(article).tokens)


@FAST
@given(TEXT, st.one_of(st.none(), st.sampled_from(["ar", "fa", "en", "ar-EG", "", "zz_ZZ"])))
def test_language_detect_returns_a_valid_language(text: str, hint: str | None) -> None:
    lang = get_detector(LanguageSettings()).detect(make_doc(text), hint=hint)
    assert 0.0 <= lang.confidence <= 1.0
    assert lang.code == "und" or 2 <= len(lang.code) <= 3
    assert all(0.0 <= alt.confidence <= 1.0 and alt.code != lang.code for alt in lang.alternatives)
    assert lang.variety is None or lang.code == "ar"


@FAST
@given(TEXT)
def test_events_extract_spans_point_into_the_text(text: str) -> None:
    article = _article(text)
    doc = prepare_doc(article)
    events = get_extractor(EventSettings()).extract(doc, article)
    assert len(events) <= EventSettings().max_events_per_article
    for ev in events:
        assert text[ev.trigger_span.start:ev.trigger_span.end] == ev.trigger
        assert text[ev.sentence_span.start:ev.sentence_span.end] == ev.sentence
        assert ev.sentence_span.start <= ev.trigger_span.start < ev.trigger_span.end <= ev.sentence_span.end
        for actor in (ev.source, ev.target):
            if actor is not None and actor.span is not None:
                assert text[actor.span.start:actor.span.end] == actor.text
        assert 0.0 <= ev.confidence <= 1.0


@settings(max_examples=300, deadline=1000)
@given(st.binary(max_size=300))
def test_parse_raw_on_arbitrary_bytes_raises_only_invalid_article(value: bytes) -> None:
    try:
        article = parse_raw(value)
    except InvalidArticleError as exc:
        assert exc.reason
    else:
        assert article.text.strip()


_RECORD = st.one_of(
    st.binary(max_size=200),
    TEXT.map(lambda t: json.dumps({"id": "fuzz", "text": t}, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["id", "text", "title", "url", "published_at"]), inner, max_size=5),
                 max_leaves=12).map(lambda obj: json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")),
)


_ENRICHER: OfflineEnricher | None = None


def _enricher() -> OfflineEnricher:
    global _ENRICHER
    if _ENRICHER is None:  # one index across examples: copies among them exercise dedup too
        _ENRICHER = OfflineEnricher(Settings())
    return _ENRICHER


@settings(max_examples=250, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(_RECORD)
def test_fuzz_offline_pipeline_never_raises(value: bytes) -> None:
    """Bounded fuzzing of the whole text pipeline: any bytes in, exactly one record out."""
    record = _enricher().process(value)
    assert isinstance(record, EnrichedArticle | DuplicateNotice | DeadLetter)
    record.model_dump_json()  # every output serializes
    if isinstance(record, DeadLetter):
        assert record.reason != "internal_error", record.error
    if isinstance(record, EnrichedArticle):
        for ev in record.events:
            assert record.text[ev.trigger_span.start:ev.trigger_span.end] == ev.trigger
