"""camel-tools dialect identification, loaded from a tiny model a test builds in tmp_path.

camel-tools fixes its data root when ``camel_tools.data`` is first imported, so each
check runs in a fresh interpreter with ``CAMELTOOLS_DATA`` pointing at tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from khabar.config import LanguageSettings
from khabar.errors import ModelDataMissingError
from khabar.language.camel import (
    CAMEL_LABEL_TO_VARIETY,
    find_did_model_dir,
    get_variety_identifier,
    pretrained_name,
)
from khabar.language.variety import MarkerVariety

# Builds a camel-tools data root with a DIDModel26 trained on a dozen sentences:
# catalogue.json, unigram+bigram ARPA models per city label, the pickled classifier.
BUILD = r'''
import json, os, sys
from pathlib import Path
root = Path(sys.argv[1])
model_dir = root / "data" / "dialectid" / "model26"
root.mkdir(parents=True, exist_ok=True)
catalogue = {"version": "1.6", "packages": {}, "components": {"DialectID": {
    "default": "model26", "datasets": {"model26": {"path": "dialectid/model26"},
                                       "model6": {"path": "dialectid/model6"}}}}}
(root / "catalogue.json").write_text(json.dumps(catalogue))
os.environ["CAMELTOOLS_DATA"] = str(root)
sents = {
    "CAI": ["ازيك عامل ايه النهارده", "انا عايز اروح دلوقتي", "ده كويس اوي"],
    "BEI": ["شو عم تعمل هلق", "كيفك منيح", "بدي روح عالبيت هيك"],
    "DOH": ["وش تبي الحين", "شلونك حيل زين", "ابغى اروح وايد"],
    "RAB": ["واش نتا لاباس", "بزاف ديال الناس", "كيداير دابا"],
    "TUN": ["برشا باهي توا", "شنوة احوالك برشا", "يزي باهي"],
    "MSA": ["ذهب الوزير الى الاجتماع", "قال المتحدث ان المحادثات مستمرة", "سوف يعقد المؤتمر غدا"],
}
REGION = {"ALX": "CAI", "ASW": "CAI", "KHA": "CAI", "ALE": "BEI", "AMM": "BEI", "DAM": "BEI",
          "JER": "BEI", "SAL": "BEI", "BAG": "DOH", "BAS": "DOH", "JED": "DOH", "MOS": "DOH",
          "MUS": "DOH", "RIY": "DOH", "SAN": "DOH", "ALG": "RAB", "BEN": "TUN", "FES": "RAB",
          "SFX": "TUN", "TRI": "TUN"}
for lab, base in REGION.items():
    sents[lab] = sents[base]
def arpa(tokens):
    toks = sorted(set(tokens))
    lines = ["\\data\\", f"ngram 1={len(toks) + 3}", "ngram 2=1", "", "\\1-grams:",
             "-2.0\t<unk>\t0", "-99\t<s>\t-0.5", "-1.0\t</s>\t0"]
    lines += [f"-1.0\t{t}\t0" for t in toks]
    lines += ["", "\\2-grams:", f"-0.5\t<s> {toks[0]}", "", "\\end\\", ""]
    return "\n".join(lines)
for kind in ("char", "word"):
    (model_dir / "lm" / kind).mkdir(parents=True, exist_ok=True)
for lab, ss in sents.items():
    words = [w for s in ss for w in s.split()]
    chars = [c for w in words for c in w] + ["<SPACE>"]
    (model_dir / "lm" / "word" / f"{lab}.arpa").write_text(arpa(words), encoding="utf-8")
    (model_dir / "lm" / "char" / f"{lab}.arpa").write_text(arpa(chars), encoding="utf-8")
def tsv(labels):
    return "ar\tdialect\n" + "".join(f"{s}\t{lab}\n" for lab in labels for s in sents[lab])
train = model_dir / "train.tsv"
train.write_text(tsv(sorted(sents)), encoding="utf-8")
extra = model_dir / "train_extra.tsv"
extra.write_text(tsv(["BEI", "CAI", "DOH", "MSA", "RAB", "TUN"]), encoding="utf-8")
from camel_tools.dialectid.model26 import DIDModel26
did = DIDModel26(char_lm_dir=model_dir / "lm" / "char", word_lm_dir=model_dir / "lm" / "word")
did.train(data_path=str(train), data_extra_path=str(extra))
did._char_lms = None  # as camel-tools does: LMs are reloaded from their directory
did._word_lms = None
import dill
name = f"did_pretrained_{sys.version_info.major}{sys.version_info.minor}.dill"
with (model_dir / name).open("wb") as fp:
    dill.dump(did, fp)
'''

# Runs khabar's real loading path against the data root, in a fresh interpreter.
USE = r'''
import json, sys
from pathlib import Path
from khabar.config import LanguageSettings
from khabar.language.detect import LanguageDetector
from khabar.text.normalize import make_doc
settings = LanguageSettings(camel_data_dir=Path(sys.argv[1]), variety_method="camel-did")
detector = LanguageDetector(settings)
out = {}
for text in ["انا عايز اروح النهارده", "شو بدك هلق", "وش تبي الحين يا خوي"]:
    lang = detector.detect(make_doc(text))
    out[text] = [lang.code, lang.variety.code, lang.variety.method, lang.variety.confidence]
print(json.dumps(out, ensure_ascii=False))
'''


def _run(script: str, *args: str, root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CAMELTOOLS_DATA"}
    env["HOME"] = str(root.parent)  # camel-tools creates ~/.camel_tools on import
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[1], timeout=300)


@pytest.fixture(scope="module")
def camel_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("camel") / "data_root"
    done = _run(BUILD, str(root), root=root)
    assert done.returncode == 0, done.stderr[-2000:]
    return root


def test_tiny_camel_model_is_found_and_used(camel_root: Path) -> None:
    model_dir = find_did_model_dir(camel_root)
    assert model_dir is not None and (model_dir / pretrained_name()).is_file()
    done = _run(USE, str(camel_root), root=camel_root)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["انا عايز اروح النهارده"][:3] == ["ar", "egy", "camel-did"]
    assert result["شو بدك هلق"][:3] == ["ar", "lev", "camel-did"]
    assert result["وش تبي الحين يا خوي"][:3] == ["ar", "glf", "camel-did"]
    assert all(0.0 <= row[3] <= 1.0 for row in result.values())


def test_without_data_markers_are_used(tmp_path: Path) -> None:
    settings = LanguageSettings(camel_data_dir=tmp_path)
    assert isinstance(get_variety_identifier(settings), MarkerVariety)
    assert find_did_model_dir(tmp_path) is None
    (tmp_path / "catalogue.json").write_text("{not json")
    assert find_did_model_dir(tmp_path) is None


def test_camel_required_but_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(ModelDataMissingError):
        get_variety_identifier(LanguageSettings(camel_data_dir=tmp_path, variety_method="camel-did"))


def test_markers_forced_even_with_data_root(tmp_path: Path) -> None:
    settings = LanguageSettings(camel_data_dir=tmp_path, variety_method="markers")
    assert isinstance(get_variety_identifier(settings), MarkerVariety)


def test_every_camel_label_maps_to_a_variety() -> None:
    assert set(CAMEL_LABEL_TO_VARIETY.values()) == {"msa", "egy", "lev", "glf", "mag"}
    assert len(CAMEL_LABEL_TO_VARIETY) == 26
