"""Dedup core: probes, exact/url/near verdicts, stories, idempotence, expiry, restore."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import numpy as np
import pytest

from khabar.config import DedupSettings
from khabar.corpus import DEFAULT_CORPUS, read_saudinewsnet_zip
from khabar.dedup import CorruptEntryError, DedupIndex, Probe, canonical_url, make_probe
from khabar.dedup.minhash import jaccard
from khabar.pipeline import prepare_doc
from schemas.models import RawArticle

SETTINGS = DedupSettings()
T0 = datetime(2015, 7, 21, 12, 0, 0)
LONG = (
    "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة الرياض بسعة خمسمائة سرير "
    "ويضم المستشفى أقساما للطوارئ والعناية المركزة وجراحة القلب والأطفال وقد حضر الافتتاح "
    "عدد من المسؤولين وأكد الوزير أن المشروع يأتي ضمن خطة لتوسيع الخدمات الصحية في المملكة "
    "وأن الوزارة تعمل على افتتاح مستشفيات أخرى في المناطق خلال العام المقبل"
)


@cache
def day_one() -> dict[str, RawArticle]:
    """The first day of the real corpus, by id."""
    return {a.id: a for a in read_saudinewsnet_zip(DEFAULT_CORPUS / "2015-07-21.zip")}


def art(aid: str, text: str, url: str | None = None, minutes: int = 0) -> RawArticle:
    return RawArticle(id=aid, text=text, url=url, published_at=T0 + timedelta(minutes=minutes))


def probe(a: RawArticle, settings: DedupSettings = SETTINGS) -> Probe:
    return make_probe(a, prepare_doc(a), settings)


def test_probe_bytes_round_trip() -> None:
    p = probe(art("a1", LONG, "http://www.alriyadh.com/1066713"))
    q = Probe.from_bytes(p.to_bytes())
    assert (q.article_id, q.content_hash, q.url_key, q.n_tokens, q.timestamp) == (
        p.article_id, p.content_hash, p.url_key, p.n_tokens, p.timestamp)
    assert np.array_equal(q.shingles, p.shingles) and np.array_equal(q.signature, p.signature)
    assert q.shingles.dtype == np.uint32 and q.signature.size == SETTINGS.num_perm
    assert len(p.to_bytes()) < 4 * (p.shingles.size + p.signature.size) + 100
    with pytest.raises(CorruptEntryError):
        Probe.from_bytes(p.to_bytes()[:-3])
    with pytest.raises(CorruptEntryError):
        Probe.from_bytes(b"garbage")


def test_exact_copy_points_to_earliest() -> None:
    idx = DedupIndex(SETTINGS)
    v1, _ = idx.decide(probe(art("a1", LONG)))
    # Diacritics, tatweel and punctuation differ: the normalized text is the same.
    v2, _ = idx.decide(probe(art("a2", "« " + LONG.replace("الصحة", "الصحـــة") + " .", minutes=1)))
    v3, _ = idx.decide(probe(art("a3", LONG, minutes=2)))
    assert v1.kind == "unique" and v1.story_id == "a1"
    assert (v2.kind, v2.duplicate_of, v2.similarity, v2.story_id) == ("exact", "a1", 1.0, "a1")
    assert (v3.kind, v3.duplicate_of) == ("exact", "a1")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # al-madina re-crawls every page with ?weekly / ?live (20% of that source)
        ("http://www.al-madina.com/node/620113/أمانة-المدينة-تشارك.html",
         "http://www.al-madina.com/node/620113/أمانة-المدينة-تشارك.html?weekly"),
        ("http://www.al-madina.com/node/620113/x.html?live", "https://al-madina.com/node/620113/x.html#c"),
        # aawsat: same numeric id, edited slug
        ("http://aawsat.com/home/article/413931/الراحة-وعدم-الحركة-يزيدان-من-ألم-الظهر",
         "http://aawsat.com/home/article/413931/الراحة-وقلة-الحركة-تزيدان-من-ألم-الظهر"),
        # the query is the id: extra menu parameters do not matter
        ("http://www.alwatan.com.sa/Politics/News_Detail.aspx?ArticleID=229720&CategoryID=1",
         "http://alwatan.com.sa/Politics/News_Detail.aspx?articleid=229720&utm_source=x"),
    ],
)
def test_url_variants_are_url_copies(first: str, second: str) -> None:
    assert canonical_url(first) == canonical_url(second)
    idx = DedupIndex(SETTINGS)
    idx.decide(probe(art("a1", LONG, first)))
    other = "نص مختلف تماما عن الخبر الأول " * 3
    v, _ = idx.decide(probe(art("a2", other, second, minutes=5)))
    assert (v.kind, v.duplicate_of, v.similarity, v.story_id) == ("url", "a1", 1.0, "a1")


def test_distinct_urls_stay_distinct() -> None:
    assert canonical_url("http://www.spa.gov.sa/details.php?id=1386900") != canonical_url(
        "http://www.spa.gov.sa/details.php?id=1386899")
    # date segments are not article ids: al-jazirah keeps its file name
    assert canonical_url("http://www.al-jazirah.com/2015/20150721/fe1.htm") != canonical_url(
        "http://www.al-jazirah.com/2015/20150721/fe2.htm")
    assert canonical_url("http://sabq.org/PHGKif") != canonical_url("http://sabq.org/phgkif")
    assert canonical_url(None) is None and canonical_url("not a url") is None
    assert canonical_url("http://host:notaport/x") is None


def test_near_copy_real_corpus_pair() -> None:
    # okaz/almadina and aleqtisadiya carrying the same wire story, lightly edited.
    a, b = day_one()["snn-2015-07-21-0655"], day_one()["snn-2015-07-21-1307"]
    pa, pb = probe(a), probe(b)
    j = jaccard(pa.shingles, pb.shingles)
    assert 0.7 <= j < 1.0
    idx = DedupIndex(SETTINGS)
    idx.decide(pa)
    v, _ = idx.decide(pb)
    assert (v.kind, v.duplicate_of, v.story_id) == ("near", a.id, a.id)
    assert v.similarity == pytest.approx(j)


def test_short_texts_are_never_near_copies() -> None:
    short1 = "عين اليوم – الرياض\nاستقبل الأمير سلمان عددا من المواطنين في مكتبه اليوم"
    short2 = "استقبل الأمير سلمان عددا من المواطنين في مكتبه اليوم الاثنين"
    p1, p2 = probe(art("s1", short1)), probe(art("s2", short2, minutes=1))
    assert p1.n_tokens < SETTINGS.min_tokens and p1.shingles.size == 0
    idx = DedupIndex(SETTINGS)
    idx.decide(p1)
    assert idx.decide(p2)[0].kind == "unique"
    # ... but an exact short copy is still an exact copy
    assert idx.decide(probe(art("s3", short1, minutes=2)))[0].kind == "exact"


def test_empty_bodies_match_only_by_url() -> None:
    idx = DedupIndex(SETTINGS)
    assert idx.decide(probe(art("e1", "", "http://www.alriyadh.com/1")))[0].kind == "unique"
    assert idx.decide(probe(art("e2", "  \n", "http://www.alriyadh.com/2")))[0].kind == "unique"
    v, _ = idx.decide(probe(art("e3", "", "http://alriyadh.com/1")))
    assert (v.kind, v.duplicate_of) == ("url", "e1")


def test_boilerplate_only_difference_is_exact() -> None:
    a = art("w1", LONG + "\nرابط الخبر بصحيفة الوئام: عنوان الخبر الأول")
    b = art("w2", "Next Previous عين اليوم – الرياض\n" + LONG + " سمات وزارة الصحة مستشفى", minutes=3)
    idx = DedupIndex(SETTINGS)
    idx.decide(probe(a))
    assert idx.decide(probe(b))[0] == idx.decide(probe(art("w3", LONG, minutes=4)))[0]
    assert idx.decide(probe(b))[0].kind == "exact"


def test_story_grouping_looser_than_near() -> None:
    # Same story, second half rewritten: below the near threshold, above the story one.
    base = LONG.split()
    rewrite = " ".join(base[:28]) + " وبين المسؤول أن العمل جار على تجهيز كوادر طبية وتمريضية " \
        "لتشغيل الأقسام كافة مع بداية الشهر القادم بإذن الله تعالى"
    pa, pb = probe(art("s1", LONG)), probe(art("s2", rewrite, minutes=10))
    j = jaccard(pa.shingles, pb.shingles)
    assert SETTINGS.story_threshold <= j < SETTINGS.threshold
    idx = DedupIndex(SETTINGS)
    idx.decide(pa)
    v, _ = idx.decide(pb)
    assert (v.kind, v.story_id) == ("unique", "s1")
    # an unrelated article starts its own story
    other = probe(art("s3", "يلتقي فريق الهلال مع فريق النصر في مباراة الديربي مساء الجمعة " * 3))
    assert idx.decide(other)[0].story_id == "s3"


def test_redelivery_is_idempotent() -> None:
    idx = DedupIndex(SETTINGS)
    idx.decide(probe(art("a1", LONG)))
    p2 = probe(art("a2", LONG, minutes=1))
    first = idx.decide(p2)
    n, size = len(idx), idx.nbytes()
    assert idx.decide(p2) == first
    assert idx.decide(Probe.from_bytes(p2.to_bytes())) == first
    assert (len(idx), idx.nbytes()) == (n, size)
    # a redelivered original stays unique even though its text is now indexed twice
    assert idx.decide(probe(art("a1", LONG)))[0].kind == "unique"


def test_expire_drops_old_entries() -> None:
    idx = DedupIndex(SETTINGS)
    idx.decide(probe(art("old", LONG, "http://www.alriyadh.com/9")))
    idx.decide(probe(art("new", "خبر آخر " * 30, minutes=60 * 24 * 6)))
    now = (T0 + timedelta(days=7, hours=1)).replace(tzinfo=None)
    from datetime import UTC
    removed = idx.expire(now.replace(tzinfo=UTC).timestamp())
    assert removed == ["old"] and "old" not in idx and "new" in idx and len(idx) == 1
    # the expired text and URL no longer match
    v, _ = idx.decide(probe(art("again", LONG, "http://www.alriyadh.com/9", minutes=60 * 24 * 8)))
    assert v.kind == "unique"
    assert idx.expire(0.0) == []


def test_restore_equals_original() -> None:
    articles = list(day_one().values())[:1500]
    idx = DedupIndex(SETTINGS)
    entries = {}
    for a in articles[:1000]:
        _, entry = idx.decide(probe(a))
        entries[a.id] = entry
    fresh = DedupIndex(SETTINGS)
    # restore order must not matter (changelog recovery has no order guarantee)
    assert fresh.restore_many(reversed(list(entries.items()))) == 1000
    assert len(fresh) == len(idx) and fresh.nbytes() == idx.nbytes()
    for aid in entries:
        assert fresh.verdict(aid) == idx.verdict(aid)
    new_probes = [probe(a) for a in articles[1000:]] + [probe(a) for a in articles[:20]]
    got = [fresh.decide(p) for p in new_probes]
    want = [idx.decide(p) for p in new_probes]
    assert got == want
    assert any(v.kind != "unique" for v, _ in want)
    with pytest.raises(CorruptEntryError):
        fresh.restore("x", b"KE\x01\x09")


def test_odd_input_does_not_crash() -> None:
    idx = DedupIndex(SETTINGS)
    for text in ["", "\u200f\u200f", "!!! ؟؟؟", "a", "١٢٣ ٤٥٦", "\ud800 x" * 3]:
        a = RawArticle(id=f"odd{len(idx)}", text=text, url="http://[::1", published_at=None)
        v, entry = idx.decide(probe(a))
        assert v.kind in ("unique", "exact") and isinstance(entry, bytes)
