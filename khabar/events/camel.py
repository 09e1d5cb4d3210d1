"""Optional camel-tools morphology: trigger lookup by lemma.

When a camel-tools morphology database (calima-msa, or any DB in camel-tools' text format)
is installed, :class:`CamelLemmatizer` analyses the words the trigger lexicon missed
(irregular and broken forms the inflection rules do not generate) and maps their lemmas to
single-word triggers. Without the data everything else works; asking for it explicitly
raises :class:`~khabar.errors.ModelDataMissingError` with the path it looked at.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from khabar.errors import ModelDataMissingError
from khabar.text.normalize import normalize_word

#: Where camel-tools' data manager installs calima-msa (relative to CAMELTOOLS_DATA).
DEFAULT_DB = Path("data", "morphology_db", "calima-msa-r13", "morphology.db")


def default_db_path() -> Path | None:
    """The calima-msa DB under ``$CAMELTOOLS_DATA``, or None when the variable is unset."""
    root = os.environ.get("CAMELTOOLS_DATA")
    return Path(root).expanduser() / DEFAULT_DB if root else None


class CamelLemmatizer:
    """Normalized lemmas of a word from a camel-tools morphology DB (cached per word).

    Args:
        analyzer: A ``camel_tools.morphology.analyzer.Analyzer``.
    """

    def __init__(self, analyzer: Any) -> None:
        self._analyzer = analyzer
        self.lemmas = lru_cache(maxsize=100_000)(self._lemmas)

    def _lemmas(self, word: str) -> frozenset[str]:
        try:
            analyses = self._analyzer.analyze(word)
        except Exception:  # camel-tools raises assorted errors on odd input: no lemma then
            return frozenset()
        out = set()
        for a in analyses:
            lex = a.get("lex")
            if lex:
                out.add(normalize_word(str(lex).split("_")[0]))
        return frozenset(out)


def load_lemmatizer(db_path: Path | None = None) -> CamelLemmatizer:
    """Load a camel-tools morphology DB and wrap it for trigger lookup.

    Args:
        db_path: The DB file; None: :func:`default_db_path`.

    Raises:
        ModelDataMissingError: The file is not there (or CAMELTOOLS_DATA is unset), or
            camel-tools cannot read it.
    """
    path = db_path if db_path is not None else default_db_path()
    if path is None or not Path(path).is_file():
        raise ModelDataMissingError(
            f"camel-tools morphology DB not found at {path or '$CAMELTOOLS_DATA (unset)'}; "
            "install it with `camel_data -i morphology-db-msa-r13` or set "
            "KHABAR_EVENTS__USE_CAMEL_MORPHOLOGY=false"
        )
    data_dir = os.environ.get("CAMELTOOLS_DATA")
    if data_dir and not (Path(data_dir).expanduser() / "catalogue.json").is_file():
        # importing camel_tools.morphology downloads a catalogue when none is installed:
        # never go to the network from a worker
        raise ModelDataMissingError(f"camel-tools catalogue.json missing in {data_dir}")
    try:
        from camel_tools.morphology.analyzer import Analyzer
        from camel_tools.morphology.database import MorphologyDB

        db = MorphologyDB(str(path), flags="a")
        analyzer = Analyzer(db, backoff="NONE")
    except Exception as exc:  # DatabaseParseError, DownloaderError, OSError ...
        raise ModelDataMissingError(f"camel-tools cannot load {path}: {exc}") from exc
    return CamelLemmatizer(analyzer)


# --------------------------------------------------------------------------- named entities
#: Where camel-tools' data manager installs its default NER model (relative to CAMELTOOLS_DATA).
DEFAULT_NER = Path("data", "ner", "arabert")
#: The label set of camel-tools' NER model (``camel_tools.ner._LABELS``).
NER_LABELS = ("B-LOC", "B-ORG", "B-PERS", "B-MISC", "I-LOC", "I-ORG", "I-PERS", "I-MISC", "O")


def default_ner_path() -> Path | None:
    """The arabert NER model under ``$CAMELTOOLS_DATA``, or None when the variable is unset."""
    root = os.environ.get("CAMELTOOLS_DATA")
    return Path(root).expanduser() / DEFAULT_NER if root else None


class CamelNER:
    """Person, organization and location spans from camel-tools' BERT NER model.

    Args:
        recognizer: A ``camel_tools.ner.NERecognizer`` (anything with ``predict``).
    """

    def __init__(self, recognizer: Any) -> None:
        self._recognizer = recognizer

    def entities(self, words: list[str]) -> list[tuple[int, int, str]]:
        """``(first word, end word, label)`` of every PERS/ORG/LOC entity in ``words``.

        A word labelled ``I-X`` after another label starts a new entity (the model is not
        constrained to well-formed BIO sequences).
        """
        if not words:
            return []
        try:
            labels = self._recognizer.predict([words])[0]
        except Exception:  # an odd sentence must not stop extraction: no entities then
            return []
        out: list[tuple[int, int, str]] = []
        start, kind = -1, ""
        for i, label in enumerate([*labels, "O"]):
            tag, _, k = str(label).partition("-")
            if start >= 0 and not (tag == "I" and k == kind):
                if kind in ("PERS", "ORG", "LOC"):
                    out.append((start, i, kind))
                start, kind = -1, ""
            if tag in ("B", "I") and start < 0:
                start, kind = i, k
        return out


def load_ner(model_dir: Path | None = None) -> CamelNER:
    """Load camel-tools' NER model (a BERT token-classification directory).

    Args:
        model_dir: The model directory (``config.json``, weights, ``vocab.txt``); None:
            :func:`default_ner_path`.

    Raises:
        ModelDataMissingError: The directory is missing (or CAMELTOOLS_DATA is unset),
            camel-tools' catalogue is absent, or the model cannot be loaded.
    """
    path = model_dir if model_dir is not None else default_ner_path()
    if path is None or not (Path(path) / "config.json").is_file():
        raise ModelDataMissingError(
            f"camel-tools NER model not found at {path or '$CAMELTOOLS_DATA (unset)'}; "
            "install it with `camel_data -i ner-arabert` or set KHABAR_EVENTS__USE_CAMEL_NER=false"
        )
    data_dir = os.environ.get("CAMELTOOLS_DATA")
    if not data_dir or not (Path(data_dir).expanduser() / "catalogue.json").is_file():
        # importing camel_tools.ner loads the catalogue and downloads one when none is
        # installed: never go to the network from a worker
        raise ModelDataMissingError(f"camel-tools catalogue.json missing in {data_dir or '$CAMELTOOLS_DATA'}")
    try:
        from camel_tools.ner import NERecognizer

        recognizer = NERecognizer(str(path), use_gpu=False)
    except Exception as exc:  # OSError, ValueError from transformers, DownloaderError ...
        raise ModelDataMissingError(f"camel-tools cannot load the NER model {path}: {exc}") from exc
    return CamelNER(recognizer)
