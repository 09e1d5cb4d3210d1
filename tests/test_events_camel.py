"""Optional camel-tools morphology: real loading code, tested on a tiny DB built here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from khabar.config import EventSettings
from khabar.errors import ModelDataMissingError
from khabar.events.camel import load_lemmatizer
from khabar.events.extract import EventExtractor, get_extractor
from khabar.pipeline import prepare_doc
from schemas.models import PloverType, RawArticle

# A camel-tools morphology DB in its text format: one verb stem (قصف) with the prefix و and the
# suffix ت, and a noun (بطش) the trigger lexicon lacks; the DB gives it the lemma هاجم, so only
# a lookup through the DB can make it an ASSAULT trigger.
TINY_DB = """###DEFINES###
DEFINE pos pos:verb pos:noun
DEFINE lex lex:*open*
DEFINE diac diac:*open*
DEFINE stem stem:*open*
DEFINE bw bw:*open*
DEFINE gloss gloss:*open*
DEFINE prc1 prc1:0 prc1:wa_conj
###DEFAULTS###
DEFAULT pos:verb lex:* diac:* stem:* bw:* gloss:* prc1:0
DEFAULT pos:noun lex:* diac:* stem:* bw:* gloss:* prc1:0
###ORDER###
ORDER pos lex diac stem bw gloss prc1
###TOKENIZATIONS###
TOKENIZATION diac
###STEMBACKOFF###
###PREFIXES###
\tPref-0\tdiac: bw: gloss: prc1:0
و\tPref-Wa\tdiac:wa bw:wa/CONJ+ gloss:and prc1:wa_conj
###SUFFIXES###
\tSuff-0\tdiac: bw: gloss:
ت\tSuff-t\tdiac:at bw:+at/PVSUFF gloss:she
###STEMS###
قصف\tPV\tdiac:قَصَف lex:قَصَف_1 pos:verb stem:qaSaf bw:qaSaf/PV gloss:shell
بطش\tN\tdiac:بَطْش lex:هاجَم_1 pos:noun stem:baT$ bw:baT$/NOUN gloss:assault
###TABLE AB###
Pref-0 PV
Pref-Wa PV
Pref-0 N
Pref-Wa N
###TABLE BC###
PV Suff-0
PV Suff-t
N Suff-0
###TABLE AC###
Pref-0 Suff-0
Pref-0 Suff-t
Pref-Wa Suff-0
Pref-Wa Suff-t
"""


@pytest.fixture
def camel_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # importing camel_tools.morphology reads a catalogue from CAMELTOOLS_DATA (else downloads)
    (tmp_path / "catalogue.json").write_text('{"version": "1.6", "packages": {}, "components": {}}')
    db = tmp_path / "data" / "morphology_db" / "calima-msa-r13" / "morphology.db"
    db.parent.mkdir(parents=True)
    db.write_text(TINY_DB, encoding="utf-8")
    monkeypatch.setenv("CAMELTOOLS_DATA", str(tmp_path))
    return db


def test_missing_data_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMELTOOLS_DATA", str(tmp_path))
    with pytest.raises(ModelDataMissingError, match="morphology DB not found"):
        load_lemmatizer()
    with pytest.raises(ModelDataMissingError):
        get_extractor(EventSettings(use_camel_morphology=True, camel_db=tmp_path / "nope.db"))


def test_unset_data_dir_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAMELTOOLS_DATA", raising=False)
    with pytest.raises(ModelDataMissingError, match="CAMELTOOLS_DATA"):
        load_lemmatizer()


def test_bad_db_file_is_a_clear_error(camel_data: Path) -> None:
    camel_data.write_text("not a database\n", encoding="utf-8")
    with pytest.raises(ModelDataMissingError, match="cannot load"):
        load_lemmatizer()


def test_tiny_db_lemmas(camel_data: Path) -> None:
    lem = load_lemmatizer()
    assert lem.lemmas("وقصفت") == frozenset({"قصف"})
    assert lem.lemmas("كتب") == frozenset()


def test_lemma_lookup_finds_a_trigger_the_lexicon_lacks(camel_data: Path) -> None:
    text = "وبدأ بطش المدينة في الصباح."
    article = RawArticle(id="c", text=text, published_at=datetime(2025, 1, 1))
    plain = EventExtractor(EventSettings())
    assert plain.extract(prepare_doc(article), article) == []
    with_camel = EventExtractor(EventSettings(), lemmatizer=load_lemmatizer(camel_data))
    events = with_camel.extract(prepare_doc(article), article)
    assert [(e.type, e.trigger) for e in events] == [(PloverType.ASSAULT, "بطش")]
