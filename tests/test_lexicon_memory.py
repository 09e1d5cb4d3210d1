"""The word table's memory: shared slots and hits, built from iterators, same scan results."""

from __future__ import annotations

import sys

from khabar.events.lexicon import (
    Hit,
    TriggerEntry,
    build_automaton,
    get_lexicon,
    load_triggers,
)
from khabar.text.normalize import normalize_word
from schemas.models import PloverType

TINY = """قصف\tV\tASSAULT\tshelling/artillery\t0.9\t-
قصف\tI\tASSAULT\tshelling/artillery\t0.9\t-
غارة\tN\tASSAULT\taerial weapons\t0.95\t-
شن هجوما|غارات\tV\tASSAULT\t-\t0.95\t-
"""


def _deep_mb(table: dict[str, object]) -> float:
    """Bytes of the table, its keys and everything its slots hold (hits' entries aside)."""
    seen: set[int] = set()
    total = sys.getsizeof(table) + sum(sys.getsizeof(k) for k in table)
    stack = list(table.values())
    while stack:
        o = stack.pop()
        if o is None or isinstance(o, bool) or id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            total += sum(sys.getsizeof(k) for k in o if id(k) not in seen)
            seen.update(id(k) for k in o)
            stack.extend(o.values())
        elif isinstance(o, list | tuple):
            stack.extend(o)
    return total / 2**20


def test_packaged_table_shares_slots_and_stays_small() -> None:
    lex = get_lexicon()
    slots = {id(v) for v in lex.table.values()}
    # the inflected forms of an entry mostly differ by their surface alone: one slot for them
    assert len(slots) * 3 < len(lex.table)
    # ~97 MB when every form had its own hits list and slot tuples
    assert _deep_mb(lex.table) < 50


def test_forms_of_one_entry_share_their_hits() -> None:
    triggers, _ = load_triggers(TINY)
    lex = build_automaton([triggers])
    a, b = (lex.table[normalize_word(w)] for w in ("قصفت", "قصفوا"))
    assert a is b  # same entry, same clitic: one slot


def test_iterators_and_lists_build_the_same_table() -> None:
    triggers, _ = load_triggers(TINY)
    from_lists = build_automaton([triggers, list(triggers)])
    from_iters = build_automaton(iter([iter(triggers), (f for f in triggers)]))
    assert from_lists.size == from_iters.size
    assert list(from_lists.table) == list(from_iters.table)
    words = [normalize_word(w) for w in ["وشنت", "غارات", "ثم", "قصفوا", "شنوا", "هجوما"]]
    assert from_lists.scan(words) == from_iters.scan(words)


def test_equal_entries_of_different_rows_are_not_merged() -> None:
    # two rows can make equal entries (قصف V and قصف I); each key keeps its own objects
    one = TriggerEntry("x", PloverType.ASSAULT, None, 0.9, None, True)
    two = TriggerEntry("x", PloverType.ASSAULT, None, 0.9, None, True)
    assert one == two and one is not two
    lex = build_automaton([
        [(("a",), Hit("trigger", one, 1)), (("b",), Hit("trigger", two, 1))],
        [(("c",), Hit("cue", ("c", "X", "NEG", ""), 1)), (("c",), Hit("trigger", two, 1))],
    ])
    (_, _, a, _), (_, _, b, _), (_, _, c, trig) = lex.scan(["a", "b", "c"])
    assert a[0].entry is one and b[0].entry is two
    assert [h.kind for h in c] == ["trigger", "cue"] and c[0].entry is two and trig
