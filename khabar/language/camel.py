"""camel-tools dialect identification (``camel_tools.dialectid``) when its data is installed.

camel-tools keeps its models under a data root (``$CAMELTOOLS_DATA``) described by
``catalogue.json``; the dialect model is ``data/<DialectID dataset path>/`` holding
``did_pretrained_<pyver>.dill`` (the trained classifier, language models removed)
and ``lm/char/<LABEL>.arpa``, ``lm/word/<LABEL>.arpa`` (KenLM models per label).
:func:`load_camel_did` does what ``DIDModel26.pretrained()`` does, from an explicit
directory. Importing ``camel_tools.data`` without a catalogue makes camel-tools try
to download one, so nothing here imports camel-tools unless the files are present.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from khabar.config import LanguageSettings
from khabar.errors import ModelDataMissingError
from khabar.language.lexicon import get_lexicon
from khabar.language.variety import MarkerVariety, VarietyIdentifier, decide_variety
from khabar.text.normalize import arclean
from schemas.models import Variety

#: camel-tools city/MSA labels → khabar variety, following camel-tools' own
#: label-to-region map (Nile Basin → egy; Gulf and Gulf of Aden → glf).
CAMEL_LABEL_TO_VARIETY = {
    "ALX": "egy", "ASW": "egy", "CAI": "egy", "KHA": "egy",
    "ALE": "lev", "AMM": "lev", "BEI": "lev", "DAM": "lev", "JER": "lev", "SAL": "lev",
    "BAG": "glf", "BAS": "glf", "DOH": "glf", "JED": "glf", "MOS": "glf", "MUS": "glf",
    "RIY": "glf", "SAN": "glf",
    "ALG": "mag", "BEN": "mag", "FES": "mag", "RAB": "mag", "SFX": "mag", "TRI": "mag",
    "TUN": "mag",
    "MSA": "msa",
}
#: Characters of a text the camel-tools model reads (its features are per sentence).
CAMEL_SAMPLE_CHARS = 600


def camel_data_root(settings: LanguageSettings) -> Path | None:
    """The camel-tools data root: the setting, else ``$CAMELTOOLS_DATA``, else none."""
    if settings.camel_data_dir is not None:
        return settings.camel_data_dir
    env = os.environ.get("CAMELTOOLS_DATA")
    return Path(env).expanduser() if env else None


def pretrained_name() -> str:
    """File name camel-tools gives the pickled model for this Python version."""
    return f"did_pretrained_{sys.version_info.major}{sys.version_info.minor}.dill"


def find_did_model_dir(data_root: Path) -> Path | None:
    """Directory of the default DialectID model under ``data_root``, if installed."""
    catalogue = data_root / "catalogue.json"
    try:
        component = json.loads(catalogue.read_text("utf-8"))["components"]["DialectID"]
        dataset = component["datasets"][component["default"]]
        model_dir = data_root / "data" / dataset["path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return model_dir if (model_dir / pretrained_name()).is_file() else None


def load_camel_did(data_root: Path) -> Any:
    """Load camel-tools' pretrained dialect identifier from ``data_root``.

    Raises:
        ModelDataMissingError: the catalogue or model files are not there, or
            camel-tools was already initialised with another data root.
    """
    model_dir = find_did_model_dir(data_root)
    if model_dir is None:
        raise ModelDataMissingError(f"no camel-tools DialectID model under {data_root}")
    # camel_tools.data fixes its data root when first imported; point it at ours.
    if "camel_tools.data.catalogue" in sys.modules:
        from camel_tools.data.catalogue import CT_DATA_DIR

        if Path(CT_DATA_DIR).resolve() != data_root.resolve():
            raise ModelDataMissingError(
                f"camel-tools already uses data root {CT_DATA_DIR}, not {data_root}")
    else:
        os.environ["CAMELTOOLS_DATA"] = str(data_root)
    import camel_tools.dialectid.model26  # noqa: F401  (the pickled class lives here)
    import dill
    import kenlm

    with (model_dir / pretrained_name()).open("rb") as handle:
        model = dill.load(handle)
    # The language models are not pickled (their paths are absolute); reload them.
    model._char_lms = collections.defaultdict(kenlm.Model)
    model._word_lms = collections.defaultdict(kenlm.Model)
    model._load_lms(model_dir / "lm" / "char", model_dir / "lm" / "word")
    return model


class CamelVariety:
    """Variety from camel-tools' dialect identifier, city labels summed per variety."""

    method = "camel-did"

    def __init__(self, model: Any) -> None:
        self._model = model

    def identify(self, norms: Sequence[str], text: str) -> Variety:
        """Variety of ``text`` (its first :data:`CAMEL_SAMPLE_CHARS` characters)."""
        sample = " ".join(arclean(text[:CAMEL_SAMPLE_CHARS]).split())
        if not sample:
            return Variety(code="unknown", confidence=0.0, method=self.method)
        prediction = self._model.predict([sample])[0]
        scores: dict[str, float] = {}
        for label, prob in prediction.scores.items():
            variety = CAMEL_LABEL_TO_VARIETY.get(label)
            if variety is not None:
                scores[variety] = scores.get(variety, 0.0) + float(prob)
        if not scores:
            return Variety(code="unknown", confidence=0.0, method=self.method)
        code = max(scores, key=lambda k: scores[k])
        total = sum(scores.values()) or 1.0
        return Variety(code=code, confidence=round(min(1.0, scores[code] / total), 4),
                       method=self.method)


def get_variety_identifier(settings: LanguageSettings) -> VarietyIdentifier:
    """camel-tools DID when configured/installed (``variety_method``), else markers.

    Raises:
        ModelDataMissingError: ``variety_method="camel-did"`` but the data is missing.
    """
    method = settings.variety_method
    if method != "markers":
        root = camel_data_root(settings)
        if root is not None and find_did_model_dir(root) is not None:
            return CamelVariety(load_camel_did(root))
        if method == "camel-did":
            raise ModelDataMissingError(
                "variety_method=camel-did but no camel-tools DialectID model is installed "
                "(set KHABAR_LANGUAGE__CAMEL_DATA_DIR or CAMELTOOLS_DATA)")
    return MarkerVariety(get_lexicon())


__all__ = ["CamelVariety", "camel_data_root", "decide_variety", "find_did_model_dir",
           "get_variety_identifier", "load_camel_did"]
