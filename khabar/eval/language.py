"""Measure language and variety identification on a labeled set (``khabar eval language SET``).

The set is JSON Lines, one example a line::

    {"text": "...", "language": "ar" | ISO 639-1 | "und",
     "variety": "msa" | "egy" | "lev" | "glf" | "mag" | null,
     "group": "msa" | "dialect" | "dialect_short" | "persian_urdu" | "other" | "junk",
     "source": "...", "note": "..."}

Language accuracy is reported per group and per gold language; variety accuracy on
the dialect groups (examples whose gold variety is set); confusion pairs list
``gold -> predicted`` with counts. ``baselines`` measures the raw detectors
(fastText lid.176 alone, lingua alone) on the same set, for the README.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from khabar.language.detect import get_detector
from khabar.text.normalize import make_doc

DIALECT_GROUPS = ("dialect", "dialect_short")


def read_set(path: Path) -> Iterator[dict[str, Any]]:
    """Examples of a JSONL set; blank and unparsable lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("text"), str):
                yield record


def _score(examples: list[dict[str, Any]], predict: Callable[[str], tuple[str, str | None]]
           ) -> dict[str, Any]:
    by_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    variety: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter[tuple[str, str]] = Counter()
    variety_confusions: Counter[tuple[str, str]] = Counter()
    errors: list[dict[str, Any]] = []
    for ex in examples:
        gold = str(ex.get("language") or "und")
        group = str(ex.get("group") or "other")
        code, var = predict(ex["text"])
        ok = code == gold
        for table, key in ((by_group, group), (by_lang, gold)):
            table[key][0] += ok
            table[key][1] += 1
        if not ok:
            confusions[(gold, code)] += 1
            errors.append({"text": ex["text"][:120], "gold": gold, "got": code, "group": group})
        gold_var = ex.get("variety")
        if group in DIALECT_GROUPS and gold_var:
            good = var == gold_var
            variety[group][0] += good
            variety[group][1] += 1
            variety["all"][0] += good
            variety["all"][1] += 1
            if not good:
                variety_confusions[(str(gold_var), str(var))] += 1

    def acc(table: dict[str, list[int]]) -> dict[str, dict[str, float]]:
        return {k: {"accuracy": round(v[0] / v[1], 4), "n": v[1]} for k, v in sorted(table.items())}

    total = sum(v[1] for v in by_group.values())
    correct = sum(v[0] for v in by_group.values())
    return {
        "n": total,
        "accuracy": round(correct / total, 4) if total else 0.0,
        "groups": acc(by_group),
        "languages": acc(by_lang),
        "variety": acc(variety),
        "confusions": [{"gold": g, "got": p, "n": n} for (g, p), n in confusions.most_common()],
        "variety_confusions": [{"gold": g, "got": p, "n": n}
                               for (g, p), n in variety_confusions.most_common()],
        "errors": errors,
    }


def evaluate(path: Path) -> dict[str, Any]:
    """khabar's detector (default settings) on the set at ``path``.

    Returns:
        ``n``, ``accuracy``, ``groups`` / ``languages`` / ``variety`` (each name →
        ``{"accuracy", "n"}``), ``confusions`` and ``variety_confusions``
        (``{"gold", "got", "n"}``, most frequent first) and ``errors``.
    """
    detector = get_detector()

    def predict(text: str) -> tuple[str, str | None]:
        lang = detector.detect(make_doc(text))
        return lang.code, lang.variety.code if lang.variety else None

    return _score(list(read_set(path)), predict)


def baselines(path: Path) -> dict[str, dict[str, Any]]:
    """The raw detectors khabar could have used alone, on the same set (no variety).

    ``fasttext``: lid.176 top-1 on the raw text (``arz`` counted as ``ar``).
    ``lingua``: lingua restricted to the languages of the set, high accuracy, preloaded.
    ``lingua_low``: the same in low-accuracy mode.
    """
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    from khabar.language.fasttext_lid import load_fasttext

    examples = list(read_set(path))
    ft = load_fasttext()

    def ft_predict(text: str) -> tuple[str, str | None]:
        probs = ft.predict(text, k=1)
        return (max(probs, key=lambda k: probs[k]) if probs else "und"), None

    codes = {str(ex.get("language")) for ex in examples} - {"und", "None"}
    langs = []
    for code in sorted(codes):
        try:
            langs.append(IsoCode639_1.from_str(code))
        except ValueError:
            continue
    out = {"fasttext": _score(examples, ft_predict)}
    from lingua import Language as LinguaLanguage

    lingua_langs = [LinguaLanguage.from_iso_code_639_1(c) for c in langs]
    for name, builder in (
        ("lingua", LanguageDetectorBuilder.from_languages(*lingua_langs)),
        ("lingua_low", LanguageDetectorBuilder.from_languages(*lingua_langs).with_low_accuracy_mode()),
    ):
        lingua = builder.with_preloaded_language_models().build()

        def lingua_predict(text: str, det: Any = lingua) -> tuple[str, str | None]:
            found = det.detect_language_of(text)
            return (found.iso_code_639_1.name.lower() if found else "und"), None

        out[name] = _score(examples, lingua_predict)
    return out


def _print_report(name: str, report: dict[str, Any], show_errors: int = 0) -> None:
    print(f"== {name}: language accuracy {report['accuracy']:.4f} on {report['n']} texts")
    print("  per group:")
    for key, row in report["groups"].items():
        print(f"    {key:<14} {row['accuracy']:.4f}  (n={row['n']})")
    print("  per gold language:")
    for key, row in report["languages"].items():
        print(f"    {key:<14} {row['accuracy']:.4f}  (n={row['n']})")
    if report["variety"]:
        print("  variety accuracy (dialect groups):")
        for key, row in report["variety"].items():
            print(f"    {key:<14} {row['accuracy']:.4f}  (n={row['n']})")
    if report["confusions"]:
        print("  confusions (gold -> got):")
        for row in report["confusions"][:20]:
            print(f"    {row['gold']} -> {row['got']}: {row['n']}")
    if report["variety_confusions"]:
        print("  variety confusions (gold -> got):")
        for row in report["variety_confusions"][:20]:
            print(f"    {row['gold']} -> {row['got']}: {row['n']}")
    for row in report["errors"][:show_errors]:
        print(f"    [{row['group']}] {row['gold']}->{row['got']}: {row['text']!r}")


def main(path: Path, *, with_baselines: bool = False, show_errors: int = 0) -> int:
    """Print khabar's accuracy on the set at ``path`` (and the raw detectors' if asked).

    Returns:
        Process exit status: 0, or 2 when the set cannot be read or is empty.
    """
    try:
        started = time.process_time()
        report = evaluate(path)
        elapsed = time.process_time() - started
    except OSError as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    if report["n"] == 0:
        print(f"no examples in {path}", file=sys.stderr)
        return 2
    _print_report("khabar", report, show_errors)
    print(f"  CPU {elapsed:.2f} s for {report['n']} texts (including model loading)")
    if with_baselines:
        for name, rep in baselines(path).items():
            _print_report(name, rep)
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        print("usage: python -m khabar.eval.language SET.jsonl [--baselines] [--errors]",
              file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(Path(args[0]), with_baselines="--baselines" in sys.argv,
                          show_errors=50 if "--errors" in sys.argv else 0))
