"""Optional camel-tools NER: real loading code, tested on a tiny BERT model built here.

The model has no transformer layer: a word's label comes from its embedding alone, which the
test sets so that one invented name (زعبلاوي, in no gazetteer) is a person and every other
word is outside any entity. Loading goes through camel-tools' own ``NERecognizer`` and
transformers, exactly as with the real arabert model.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForTokenClassification, BertTokenizer

from khabar.config import EventSettings
from khabar.errors import ModelDataMissingError
from khabar.events.camel import NER_LABELS, load_ner
from khabar.events.extract import EventExtractor, get_extractor
from khabar.pipeline import prepare_doc
from schemas.models import PloverType, RawArticle

NAME = "زعبلاوي"
TEXT = f"واتهم {NAME} في القاهرة الحكومة الإيرانية بدعم الإرهاب."


def _build_model(directory: Path) -> None:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", NAME, "."]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(directory / "vocab.txt"), do_lower_case=False)
    config = BertConfig(vocab_size=len(vocab), hidden_size=4, num_hidden_layers=0,
                        num_attention_heads=1, intermediate_size=4, max_position_embeddings=512,
                        num_labels=len(NER_LABELS),
                        id2label=dict(enumerate(NER_LABELS)),
                        label2id={label: i for i, label in enumerate(NER_LABELS)})
    model = BertForTokenClassification(config)
    person, outside = NER_LABELS.index("B-PERS"), NER_LABELS.index("O")
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        emb.word_embeddings.weight.copy_(torch.tensor([[-1.0, 1.0, 0.0, 0.0]] * len(vocab)))
        emb.word_embeddings.weight[vocab.index(NAME)] = torch.tensor([1.0, -1.0, 0.0, 0.0])
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        model.classifier.weight[person] = torch.tensor([1.0, -1.0, 0.0, 0.0])
        model.classifier.weight[outside] = torch.tensor([-1.0, 1.0, 0.0, 0.0])
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


@pytest.fixture
def ner_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # importing camel_tools reads a catalogue from CAMELTOOLS_DATA (else it downloads one)
    (tmp_path / "catalogue.json").write_text('{"version": "1.6", "packages": {}, "components": {}}')
    model_dir = tmp_path / "data" / "ner" / "arabert"
    model_dir.mkdir(parents=True)
    _build_model(model_dir)
    monkeypatch.setenv("CAMELTOOLS_DATA", str(tmp_path))
    return model_dir


def _events(extractor: EventExtractor) -> list[tuple[PloverType, str | None, str | None]]:
    article = RawArticle(id="n", text=TEXT, published_at=datetime(2025, 1, 1))
    return [(e.type, e.source.text if e.source else None, e.source.code if e.source else None)
            for e in extractor.extract(prepare_doc(article), article)]


def test_missing_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMELTOOLS_DATA", str(tmp_path))
    with pytest.raises(ModelDataMissingError, match="NER model not found"):
        load_ner()
    with pytest.raises(ModelDataMissingError, match="NER model not found"):
        get_extractor(EventSettings(use_camel_ner=True, camel_ner_dir=tmp_path / "nope"))
    monkeypatch.delenv("CAMELTOOLS_DATA")
    with pytest.raises(ModelDataMissingError, match="CAMELTOOLS_DATA"):
        load_ner()


def test_broken_model_is_a_clear_error(ner_dir: Path) -> None:
    (ner_dir / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelDataMissingError, match="cannot load"):
        load_ner(ner_dir)


def test_tiny_model_tags_the_name(ner_dir: Path) -> None:
    ner = load_ner()
    assert ner.entities(["واتهم", NAME, "الحكومة"]) == [(1, 2, "PERS")]
    assert ner.entities(["واتهم", "الحكومة"]) == []


def test_ner_names_become_actors(ner_dir: Path) -> None:
    plain = _events(EventExtractor(EventSettings()))
    assert plain and plain[0][0] is PloverType.ACCUSE
    assert plain[0][1] != NAME  # the gazetteer does not know the accuser
    tagged = _events(get_extractor(EventSettings(use_camel_ner=True, camel_ner_dir=ner_dir)))
    # the named accuser is the source, coded with the state of the sentence's place (Cairo)
    assert tagged[0] == (PloverType.ACCUSE, NAME, "EGY")
