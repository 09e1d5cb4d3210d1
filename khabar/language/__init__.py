"""Language and Arabic-variety identification (see ``README.md`` in this package)."""

from khabar.language.detect import LanguageDetector, detect_text, get_detector

__all__ = ["LanguageDetector", "detect_text", "get_detector"]
