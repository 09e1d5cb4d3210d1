"""Per-stage time budgets: a cooperative deadline that loops over input check.

A stage runs inside :func:`stage_budget`, which sets a deadline in a context
variable. The loops whose length the input decides (sentences, trigger
candidates, paragraphs) call :func:`check_budget`, which raises
:class:`~khabar.errors.StageTimeoutError` once the deadline has passed; the
caller dead-letters the article with ``stage_timeout:<stage>`` and the partition
moves on. Nothing is interrupted from outside (no signals, no threads), so a
stage stops only at a check, with its state consistent.

A check costs one context-variable read and one ``perf_counter`` call (about
0.1 µs): cheap enough per sentence or per trigger, not per character. Code
that runs outside any budget (a bare function call in a test) never raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import NamedTuple

from khabar.errors import StageTimeoutError


class _Deadline(NamedTuple):
    stage: str
    at: float
    budget_ms: float


_DEADLINE: ContextVar[_Deadline | None] = ContextVar("khabar_stage_deadline", default=None)


@contextmanager
def stage_budget(stage: str, budget_ms: float | None) -> Iterator[None]:
    """Run the block under a time budget named after ``stage``.

    Args:
        stage: The stage name the dead-letter reason carries (``stage_timeout:<stage>``).
        budget_ms: Milliseconds the block may take; ``None`` or 0 means no budget.

    Raises:
        StageTimeoutError: From a :func:`check_budget` inside the block, or on leaving
            the block when the deadline has passed (so work between checks counts too).
    """
    if not budget_ms:
        yield
        return
    deadline = _Deadline(stage, perf_counter() + budget_ms / 1000.0, budget_ms)
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)
    # a block that finished late is late even if no loop inside it checked
    if perf_counter() > deadline.at:
        raise StageTimeoutError(stage, budget_ms)


def check_budget() -> None:
    """Raise if the current stage has run past its deadline; a no-op outside any budget.

    Raises:
        StageTimeoutError: The deadline set by the enclosing :func:`stage_budget` has passed.
    """
    deadline = _DEADLINE.get()
    if deadline is not None and perf_counter() > deadline.at:
        raise StageTimeoutError(deadline.stage, deadline.budget_ms)


def remaining_ms() -> float | None:
    """Milliseconds left in the current stage's budget; ``None`` outside any budget."""
    deadline = _DEADLINE.get()
    return None if deadline is None else (deadline.at - perf_counter()) * 1000.0
