"""Code-level defenses against hostile input.

* Every regular expression of the code base (compiled at module level, written inline in
  ``re.*`` calls, or built from ``khabar/text/boilerplate.yaml``) is checked for
  catastrophic backtracking twice: statically with regexploit, and by timing it on
  adversarial input made of long runs of the characters it repeats.
* No pickle, marshal, shelve, ``eval`` or ``exec`` in khabar, streams or schemas, and every
  Faust topic and table uses the raw serializer (khabar encodes JSON itself).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import re._constants as sre_constants
import re._parser as sre_parser
import time
from pathlib import Path

import pytest
from regexploit.ast.sre import SreOpParser
from regexploit.redos import find as find_redos

from khabar.config import Settings
from khabar.text.boilerplate import _rules as boilerplate_rules
from streams.app import create_app
from streams.outbox import KafkaOutbox

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("khabar", "streams", "schemas")
_RE_CALLS = {"compile", "search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"}


def _source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def _collect(obj: object, found: dict[tuple[str, int], str], where: str, depth: int = 0) -> None:
    if isinstance(obj, re.Pattern):
        found.setdefault((obj.pattern, obj.flags), where)
    elif isinstance(obj, tuple | list | frozenset | set) and depth < 3:
        for item in obj:
            _collect(item, found, where, depth + 1)


def code_regexes() -> dict[tuple[str, int], str]:
    """Every regex of the code base: ``(pattern, flags)`` → where it was found."""
    found: dict[tuple[str, int], str] = {}
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for info in pkgutil.walk_packages(module.__path__, pkg + "."):
            for name, value in vars(importlib.import_module(info.name)).items():
                _collect(value, found, f"{info.name}.{name}")
    _collect(boilerplate_rules(), found, "khabar/text/boilerplate.yaml")
    # literal patterns passed straight to re.search(...) and friends inside functions
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in _RE_CALLS and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault((node.args[0].value, re.UNICODE), f"{path.relative_to(REPO)}:{node.lineno}")
    return found


REGEXES = code_regexes()

# ------------------------------------------------------------ adversarial input

_CATEGORY_CHARS = {
    sre_constants.CATEGORY_DIGIT: "1٣", sre_constants.CATEGORY_NOT_DIGIT: "xب",
    sre_constants.CATEGORY_SPACE: " \u00a0\t\n", sre_constants.CATEGORY_NOT_SPACE: "xب.",
    sre_constants.CATEGORY_WORD: "aب_", sre_constants.CATEGORY_NOT_WORD: " .-",
}


def _chars_and_words(pattern: str, flags: int) -> tuple[list[str], list[str]]:
    """The characters a pattern matches one by one, and its literal words."""
    chars: set[str] = set()
    words: set[str] = set()

    def walk(items: object) -> None:
        run: list[str] = []
        for op, av in items:  # type: ignore[attr-defined]
            if op is sre_constants.LITERAL:
                chars.add(chr(av))
                run.append(chr(av))
                continue
            if len(run) >= 2:
                words.add("".join(run))
            run = []
            if op is sre_constants.IN:
                for kind, arg in av:
                    if kind is sre_constants.LITERAL:
                        chars.add(chr(arg))
                    elif kind is sre_constants.RANGE:
                        chars.update((chr(arg[0]), chr(arg[1])))
                    elif kind is sre_constants.CATEGORY:
                        chars.update(_CATEGORY_CHARS.get(arg, ""))
            elif op is sre_constants.ANY:
                chars.add("x")
            elif op is sre_constants.SUBPATTERN:
                walk(av[3])
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
                walk(av[2])
            elif op is sre_constants.ATOMIC_GROUP:
                walk(av)
            elif op is sre_constants.BRANCH:
                for branch in av[1]:
                    walk(branch)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(av[1])
        if len(run) >= 2:
            words.add("".join(run))

    walk(sre_parser.parse(pattern, flags))
    return sorted(chars), sorted(words, key=lambda w: (-len(w), w))[:12]


def adversarial_inputs(pattern: str, flags: int, n: int) -> list[str]:
    """Long runs of the characters ``pattern`` repeats, alone and after its literal words,
    each ending in a character that makes the match fail late."""
    chars, words = _chars_and_words(pattern, flags)
    chars = [*chars, " ", "\u00a0", "x"]
    out = [c * n + end for c in chars for end in ("\x00", "x")]
    out += [w + c * n + "\x00" for w in words for c in chars]
    out += [(w + " ") * (n // (len(w) + 1)) + "\x00" for w in words]
    return out


_SIZES = (8, 12, 16, 24, 32, 48, 64, 256, 1024, 4096, 16384)
#: Longest a regex may take on one adversarial input of 16,384 characters. Linear patterns
#: take well under 10 ms there; a quadratic one takes seconds, an exponential one forever.
_BOUND_SECONDS = 0.25


def worst_case(rx: re.Pattern[str]) -> tuple[float, int, str]:
    """(seconds, size, input prefix) of the slowest adversarial input; sizes grow until one
    input exceeds the bound, so an exponential pattern is caught at a few dozen characters."""
    worst = (0.0, 0, "")
    for n in _SIZES:
        for text in adversarial_inputs(rx.pattern, rx.flags, n):
            t0 = time.perf_counter()
            for _ in rx.finditer(text):
                pass
            seconds = time.perf_counter() - t0
            if seconds > worst[0]:
                worst = (seconds, n, text[:40])
            if seconds > _BOUND_SECONDS:
                return worst
    return worst


def test_the_code_base_has_the_regexes_we_expect() -> None:
    wheres = " ".join(REGEXES.values())
    for expected in ("khabar.text.normalize.TOKEN_RE", "khabar.text.sentences._BOUNDARY",
                     "khabar.language.script._CODE_WORDS", "khabar/text/boilerplate.yaml"):
        assert expected in wheres
    assert len(REGEXES) >= 20


@pytest.mark.parametrize("key", sorted(REGEXES), ids=lambda k: REGEXES[k])
def test_regex_has_no_catastrophic_backtracking(key: tuple[str, int]) -> None:
    pattern, flags = key
    rx = re.compile(pattern, flags)
    seconds, n, text = worst_case(rx)
    assert seconds <= _BOUND_SECONDS, f"{REGEXES[key]}: {seconds:.2f}s on {n} characters like {text!r}"
    # regexploit predates possessive repeats; greedy ones backtrack at least as much
    static = re.sub(r"([*+?}])\+", r"\1", pattern)
    redos = [r for r in find_redos(SreOpParser().parse_sre(static, flags)) if r.starriness > 2]
    assert not redos, f"{REGEXES[key]}: regexploit finds {redos[0]}"


@pytest.mark.parametrize("pattern", [
    # what khabar had before these checks: each took minutes on input a feed can carry
    r"([.!?؟][.!?؟]*)[»\"”’')\]]*(?=\s|\Z)",
    r"^[ \t\u00a0]*(?:(?:عين اليوم\s*[–-]\s*[^\n]{1,30}|[^\n]{1,30}\s*[–-]\s*عين اليوم))[ \t\u00a0]*$",
    r"(?:(?<=[.!؟?\"”»)\s])\s*سمات(?: [^\s.!؟?]+){1,15})\s*\Z",
])
def test_the_timing_check_catches_known_bad_patterns(pattern: str) -> None:
    seconds, n, _ = worst_case(re.compile(pattern, re.MULTILINE))
    assert seconds > _BOUND_SECONDS, f"not caught: {seconds:.3f}s at {n}"


# ------------------------------------------------------------ no pickle, no eval

_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "jsonpickle"}
#: The one exception, and why: camel-tools ships its DialectID model only as a dill pickle.
#: It is read from the operator's own ``CAMELTOOLS_DATA`` install, opt-in, never from a record.
_ALLOWED = {("khabar/language/camel.py", "import dill")}
_FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}


def test_no_pickle_eval_or_exec_in_the_source() -> None:
    offenders = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                offenders += [f"{where} import {a.name}" for a in node.names
                              if a.name.split(".")[0] in _FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
                offenders.append(f"{where} from {node.module}")
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in _FORBIDDEN_BUILTINS:
                    offenders.append(f"{where} {func.id}()")
                if (isinstance(func, ast.Attribute) and func.attr in ("load", "unsafe_load", "load_all")
                        and isinstance(func.value, ast.Name) and func.value.id == "yaml"):
                    offenders.append(f"{where} yaml.{func.attr}() (use yaml.safe_load)")
                if isinstance(func, ast.Attribute) and func.attr == "read_pickle":
                    offenders.append(f"{where} read_pickle()")
    offenders = [o for o in offenders
                 if (o.split(":")[0], o.split(" ", 1)[1]) not in _ALLOWED]
    assert not offenders, offenders
    assert len(_source_files()) > 30  # the walk did see the code base


def test_faust_topics_and_table_use_the_raw_serializer(tmp_path: Path) -> None:
    kapp = create_app(Settings(broker_url="kafka://127.0.0.1:9", data_dir=tmp_path))
    channels = [agent.channel for agent in (kapp.prepare, kapp.sequence)]
    assert isinstance(kapp.outbox, KafkaOutbox)
    channels += list(kapp.outbox.topics.values())
    assert len(channels) == 7
    for ch in channels:
        assert (ch.key_serializer, ch.value_serializer) == ("raw", "raw"), ch
    table = kapp.outbox.table
    assert (table.key_serializer, table.value_serializer) == ("raw", "raw")  # type: ignore[attr-defined]
    assert "pickle" not in (kapp.app.conf.key_serializer, kapp.app.conf.value_serializer)
