"""Boilerplate in news bodies: footers, share lines, datelines, widget text, tag lists.

Returns character spans rather than a stripped copy, so the rest of the
pipeline keeps offsets into the article as published. The rules live in
``boilerplate.yaml`` next to this module (a linguist edits that file, not
this code); they are read once, on first use.
"""

from __future__ import annotations

import re
import re._constants as sre_constants  # the parse tree vocabulary, to find required literals
import re._parser as sre_parser
from functools import cache
from importlib import resources

import yaml

from khabar.errors import KhabarError

_SCOPES = ("line", "head", "tail", "inline")


class BoilerplateRulesError(KhabarError):
    """``boilerplate.yaml`` is missing or holds an invalid rule."""


def _required_literal(pattern: str) -> str | None:
    """The longest run of literal characters every match of ``pattern`` contains, or ``None``.

    Found on the parsed pattern: literals in sequence at the top level, in groups and in
    repeats of at least one. Branches, case-insensitive parts and everything else end a
    run, so the answer is conservative: when it is absent from a text, the rule cannot match.
    """
    try:
        parsed = sre_parser.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    best = ""

    def walk(items: list[tuple[object, object]]) -> None:
        nonlocal best
        run: list[str] = []
        for op, av in items:
            if op is sre_constants.LITERAL:
                run.append(chr(av))  # type: ignore[arg-type]
                continue
            if len(run) > len(best):
                best = "".join(run)
            run = []
            if op is sre_constants.SUBPATTERN and not av[1] & re.IGNORECASE:  # type: ignore[index]
                walk(list(av[3]))  # type: ignore[index]
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1:  # type: ignore[index]
                walk(list(av[2]))  # type: ignore[index]
        if len(run) > len(best):
            best = "".join(run)

    walk(list(parsed))
    return best or None


@cache
def _rules() -> tuple[tuple[str, re.Pattern[str], tuple[str, ...] | None], ...]:
    """``(scope, compiled regex, needles)``, one per scope in use, built from the data file
    (cached). ``needles`` holds one required literal per rule of the scope (``None`` when
    some rule has none): a text holding none of them cannot match, and ``in`` is far
    cheaper than a regex search tried at every character."""
    try:
        text = resources.files("khabar.text").joinpath("boilerplate.yaml").read_text("utf-8")
        rules = yaml.safe_load(text) or []
    except (OSError, yaml.YAMLError) as exc:
        raise BoilerplateRulesError(f"cannot read boilerplate rules: {exc}") from exc
    by_scope: dict[str, list[str]] = {s: [] for s in _SCOPES}
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get("scope") not in _SCOPES \
                or not isinstance(rule.get("pattern"), str):
            raise BoilerplateRulesError(f"boilerplate rule #{i + 1} needs a scope and a pattern")
        by_scope[rule["scope"]].append(f"(?:{rule['pattern']})")
    wrap = {
        "line": r"^[ \t\u00a0]*(?:{})[ \t\u00a0]*$",
        "head": r"\A\s*(?:{})",
        "tail": r"(?:{})\s*\Z",
        "inline": r"(?:{})",
    }
    out = []
    for scope in _SCOPES:
        if by_scope[scope]:
            try:
                rx = re.compile(wrap[scope].format("|".join(by_scope[scope])), re.MULTILINE)
            except re.error as exc:
                raise BoilerplateRulesError(f"bad {scope} pattern: {exc}") from exc
            literals = [_required_literal(p[3:-1]) for p in by_scope[scope]]  # unwrap "(?:...)"
            needles = None if None in literals else tuple(lit for lit in literals if lit)
            out.append((scope, rx, needles))
    return tuple(out)


def boilerplate_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of boilerplate in ``text``, sorted and merged.

    Args:
        text: An article body as received.

    Returns:
        Non-overlapping ``(start, end)`` spans, in order; empty spans are dropped.
    """
    spans: list[tuple[int, int]] = []
    for scope, rx, needles in _rules():
        if needles is not None and not any(n in text for n in needles):
            continue
        found = _line_matches(rx, text) if scope == "line" else None
        if found is None:
            found = [m.span() for m in rx.finditer(text)]
        spans.extend(span for span in found if span[1] > span[0])
    return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, those that overlap or touch joined into one."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _line_matches(rx: re.Pattern[str], text: str) -> list[tuple[int, int]] | None:
    """``[m.span() for m in rx.finditer(text)]`` for a line-scope regex (``^...$``).

    Such a match can only start at a line start, so it is tried there alone: most
    bodies are one or a few long lines, and ``finditer`` would try (and fail) at every
    character. Returns ``None`` (use ``finditer``) after an empty match, where
    ``finditer``'s retry rules for empty matches would apply.
    """
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = rx.match(text, pos)
        if m is not None:
            if m.end() == m.start():
                return None
            out.append(m.span())
            pos = m.end()
            if pos > 0 and text[pos - 1] == "\n":
                continue  # the match ended at a line start
        nl = text.find("\n", pos)
        if nl < 0:
            return out
        pos = nl + 1
