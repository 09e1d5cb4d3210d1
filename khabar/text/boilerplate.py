"""Boilerplate in news bodies: footers, share lines, datelines, widget text, tag lists.

Returns character spans rather than a stripped copy, so the rest of the
pipeline keeps offsets into the article as published. The rules live in
``boilerplate.yaml`` next to this module (a linguist edits that file, not
this code); they are read once, on first use.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from khabar.errors import KhabarError

_SCOPES = ("line", "head", "tail", "inline")


class BoilerplateRulesError(KhabarError):
    """``boilerplate.yaml`` is missing or holds an invalid rule."""


@cache
def _rules() -> tuple[re.Pattern[str], ...]:
    """One compiled regex per scope, built from the data file (cached)."""
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
                out.append(re.compile(wrap[scope].format("|".join(by_scope[scope])), re.MULTILINE))
            except re.error as exc:
                raise BoilerplateRulesError(f"bad {scope} pattern: {exc}") from exc
    return tuple(out)


def boilerplate_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of boilerplate in ``text``, sorted and merged.

    Args:
        text: An article body as received.

    Returns:
        Non-overlapping ``(start, end)`` spans, in order; empty spans are dropped.
    """
    spans = sorted(m.span() for rx in _rules() for m in rx.finditer(text) if m.end() > m.start())
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
