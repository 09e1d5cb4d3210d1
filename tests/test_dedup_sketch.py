"""Span-hashed shingles, compact LSH keys, content words, and the story guard."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import numpy as np
import pytest
from pydantic import ValidationError

from khabar.config import DedupSettings
from khabar.corpus import DEFAULT_CORPUS, read_saudinewsnet_zip
from khabar.dedup import DedupIndex, Probe, make_probe
from khabar.dedup.index import template_variants
from khabar.dedup.minhash import Spans, band_keys, jaccard, shingle_set, signature
from khabar.dedup.slots import Sketch, sketch
from khabar.pipeline import prepare_doc
from khabar.text.normalize import make_doc, normalize_text
from schemas.models import RawArticle

SETTINGS = DedupSettings()
GUARDED = DedupSettings(story_guard=True)
T0 = datetime(2015, 7, 21, 12, 0, 0)

# A royal condolence cable; {name}/{country}/{number} are the template's slots.
CABLE = (
    "بعث خادم الحرمين الشريفين الملك سلمان بن عبدالعزيز آل سعود برقية عزاء ومواساة لفخامة "
    "الرئيس {name} رئيس جمهورية {country} في ضحايا الفيضانات التي شهدتها بلاده وأودت بحياة "
    "{number} شخصا وقال الملك المفدى في برقيته علمنا بنبأ ضحايا الفيضانات وما نتج عنها من وفيات "
    "وإصابات وإننا إذ نبعث لفخامتكم ولأسر المتوفين ولشعب {country} الشقيق باسم شعب وحكومة "
    "المملكة العربية السعودية وباسمنا أحر التعازي وصادق المواساة لنرجو للمصابين الشفاء العاجل"
)


@cache
def day_one() -> list[RawArticle]:
    return list(read_saudinewsnet_zip(DEFAULT_CORPUS / "2015-07-21.zip"))


def art(aid: str, text: str, minutes: int = 0) -> RawArticle:
    return RawArticle(id=aid, text=text, published_at=T0 + timedelta(minutes=minutes))


def test_shingles_are_the_distinct_word_5grams() -> None:
    # No two distinct 5-grams of a day of news share a 32-bit hash, and identical
    # 5-grams hash identically wherever they sit.
    for a in day_one()[:300]:
        norms = prepare_doc(a).content_norms
        if len(norms) < 5:
            continue
        grams = {tuple(norms[i : i + 5]) for i in range(len(norms) - 4)}
        assert shingle_set(" ".join(norms), 5).size == len(grams)
    inner = shingle_set("a b c d e", 5)
    outer = shingle_set("x y a b c d e z", 5)
    assert inner.size == 1 and inner[0] in outer and outer.size == 4
    assert shingle_set("a b", 5).size == 1 and shingle_set("", 5).size == 0
    assert not np.array_equal(shingle_set("a bc d e f", 5), shingle_set("ab c d e f", 5))


def test_content_norms_match_doc_content_tokens() -> None:
    checked = 0
    for a in day_one():
        doc = prepare_doc(a)
        fresh = prepare_doc(a)
        assert fresh.content_norms == [t.norm for t in doc.content_tokens]
        checked += bool(doc.excluded)
    assert checked > 50  # boilerplate spans are common on this day
    # overlapping and empty spans, a span starting mid-word
    doc = make_doc("one two three four five six", excluded=[(4, 13), (8, 9), (20, 20), (5, 6)])
    assert doc.content_norms == ["one", "four", "five", "six"]


def test_band_keys_are_60_bit_and_band_specific() -> None:
    sig = np.arange(40, dtype=np.uint32) // 2  # every near band holds a pair (v, v)
    keys = band_keys(sig, 16, 2, 8)
    assert len(keys) == 24 and len(set(keys)) == 24
    assert all(0 <= k < 1 << 60 for k in keys)
    other = sig.copy()
    other[5] += 1  # one value of near band 2
    changed = [i for i, (x, y) in enumerate(zip(keys, band_keys(other, 16, 2, 8), strict=True))
               if x != y]
    assert changed == [2]
    assert band_keys(sig, 13, 3)[:1] != band_keys(sig, 16, 2)[:1]


def test_near_candidates_come_from_near_bands_and_story_from_story_bands() -> None:
    # Real pair from day one: a near copy found through the 16 x 2 bands alone.
    a, b = (next(x for x in day_one() if x.id == i)
            for i in ("snn-2015-07-21-0655", "snn-2015-07-21-1307"))
    only_near = DedupSettings(story_bands=0, num_perm=32)
    idx = DedupIndex(only_near)
    idx.decide(make_probe(a, prepare_doc(a), only_near))
    v, _ = idx.decide(make_probe(b, prepare_doc(b), only_near))
    assert (v.kind, v.duplicate_of) == ("near", a.id)


def test_settings_check_the_signature_is_long_enough() -> None:
    with pytest.raises(ValidationError):
        DedupSettings(num_perm=32, bands=16, band_rows=2, story_bands=8)
    assert DedupSettings(num_perm=32, bands=16, band_rows=2, story_bands=0).story_bands == 0


def test_state_per_article_is_compact() -> None:
    idx = DedupIndex(SETTINGS)
    for a in day_one():
        idx.decide(make_probe(a, prepare_doc(a), SETTINGS))
    # 6,360 bytes an article before (64 bands of 2 rows); see eval/dedup/README.md.
    assert idx.nbytes() / len(idx) < 4000


def _sketch(text: str) -> Sketch:
    return sketch(Spans(normalize_text(text)))


def test_template_variants_spot_swapped_names_and_places() -> None:
    egypt = CABLE.format(name="عبدالفتاح السيسي", country="مصر العربية", number="120")
    tunisia = CABLE.format(name="الباجي قائد السبسي", country="تونس", number="35")
    assert template_variants(_sketch(egypt), _sketch(tunisia), 0.6, 0.5, 2)
    # A rewrite of one text (different wording, same names) is not a template variant.
    rewrite = egypt.replace("وأودت بحياة", "وراح ضحيتها").replace("نبعث لفخامتكم", "نعرب لفخامتكم")
    assert not template_variants(_sketch(egypt), _sketch(rewrite), 0.6, 0.5, 2)
    # The same numbers written differently are not swapped numbers.
    assert not template_variants(_sketch("بلغت 665,932,983 ريال في الرياض " + egypt),
                                 _sketch("بلغت 665.932.983 ريال في جدة " + egypt), 0.6, 0.5, 2)
    # An addition (one text contains the other) is no substitution.
    assert not template_variants(_sketch(egypt), _sketch(egypt + " وتونس والجزائر"), 0.6, 0.5, 2)
    # Only numbers differ: a story update (a rising toll), not a template variant.
    assert not template_variants(_sketch(egypt), _sketch(egypt.replace("120", "150")),
                                 0.6, 0.5, 2)


def test_story_guard_splits_template_variants_only_when_on() -> None:
    egypt = CABLE.format(name="عبدالفتاح السيسي", country="مصر", number="120")
    tunisia = CABLE.format(name="الباجي قائد السبسي", country="تونس", number="35")
    for settings, same_story in ((SETTINGS, True), (GUARDED, False)):
        pa = make_probe(art("c1", egypt), prepare_doc(art("c1", egypt)), settings)
        pb = make_probe(art("c2", tunisia, 5), prepare_doc(art("c2", tunisia, 5)), settings)
        j = jaccard(pa.shingles, pb.shingles)
        assert settings.story_threshold <= j < settings.threshold
        idx = DedupIndex(settings)
        idx.decide(pa)
        v, _ = idx.decide(pb)
        assert v.kind == "unique"
        assert (v.story_id == "c1") is same_story
        assert idx.guard_blocks == (0 if same_story else 1)
    # A genuine rewrite still joins the story with the guard on.
    rewrite = egypt.replace("وأودت بحياة", "وراح ضحيتها").replace("الشفاء العاجل", "الشفاء")
    idx = DedupIndex(GUARDED)
    idx.decide(make_probe(art("c1", egypt), prepare_doc(art("c1", egypt)), GUARDED))
    v, _ = idx.decide(make_probe(art("c3", rewrite), prepare_doc(art("c3", rewrite)), GUARDED))
    assert v.story_id == "c1" and idx.guard_blocks == 0


def test_guard_sketch_survives_probe_bytes_and_restore() -> None:
    articles = day_one()[:400]
    egypt = art("c1", CABLE.format(name="عبدالفتاح السيسي", country="مصر", number="120"))
    tunisia = art("c2", CABLE.format(name="الباجي قائد السبسي", country="تونس", number="35"), 9)
    probes = [make_probe(a, prepare_doc(a), GUARDED) for a in [*articles, egypt]]
    p = probes[-1]
    q = Probe.from_bytes(p.to_bytes())
    assert p.words.size > 20 and p.names.size >= 3 and p.numbers.size == 1
    for field in ("words", "names", "numbers"):
        assert np.array_equal(getattr(p, field), getattr(q, field))
    idx = DedupIndex(GUARDED)
    entries = [(pr.article_id, idx.decide(pr)[1]) for pr in probes]
    fresh = DedupIndex(GUARDED)
    fresh.restore_many(reversed(entries))
    assert fresh.nbytes() == idx.nbytes()
    last = make_probe(tunisia, prepare_doc(tunisia), GUARDED)
    assert fresh.decide(last) == idx.decide(last)
    assert fresh.verdict("c2") is not None and fresh.verdict("c2").story_id == "c2"  # type: ignore[union-attr]


def test_signature_depends_only_on_the_shingle_set() -> None:
    s = shingle_set(normalize_text(CABLE), 5)
    assert np.array_equal(signature(s, 40), signature(s.copy(), 40))
    assert signature(np.empty(0, dtype=np.uint32), 40).tolist() == [0xFFFFFFFF] * 40
