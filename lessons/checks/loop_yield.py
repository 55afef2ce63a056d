"""fix: put one `await asyncio.sleep(0)` where it lets the other coroutines in; the check runs it.

The learner chooses a place, (1), (2) or (3), in the workers script (loop_scripts.workers); the
check runs the script with the await there, on a fresh event loop, and looks at what it printed:
the goal is that `params.first` prints before `params.then` (another worker starts before the
first one finishes). A coroutine keeps the loop until it reaches an await, so only an await
between the two prints lets the others take their turn.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.loop_scripts import PAUSE_POSITIONS, record, workers
from lessons.checks.verdict import Verdict


def await_lets_others_in(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: first, then (labels of the workers script). answer: [one of PAUSE_POSITIONS]."""
    if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in PAUSE_POSITIONS:
        return Verdict(
            False,
            N_("Choose one place for the await: %(places)s."),
            {"places": ", ".join(PAUSE_POSITIONS)},
        )
    place = answer[0]
    printed = run_on_fresh_loop(lambda: record(workers, pause_at=place))
    first, then = params["first"], params["then"]
    args = {"place": place, "order": " → ".join(printed), "first": first, "then": then}
    details = {"printed": printed}
    if printed.index(first) < printed.index(then):
        why = N_(
            "With the await at %(place)s the loop printed %(order)s: '%(first)s' now comes "
            "before '%(then)s'. At the await a worker gives the loop back, and the others take "
            "their turn."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, _why_still_late(place), args, details)


def _why_still_late(place: str) -> str:
    if place == "(1)":
        return N_(
            "With the await at %(place)s the loop printed %(order)s: '%(then)s' still comes "
            "before '%(first)s'. Each worker gave way once before it began, then printed, "
            "computed and printed again without a break: the await must come between its prints."
        )
    if place == "(3)":
        return N_(
            "With the await at %(place)s the loop printed %(order)s: '%(then)s' still comes "
            "before '%(first)s'. An await after the last print comes too late: the worker has "
            "already done all its work without letting anyone in."
        )
    return N_(
        "With the await at %(place)s the loop printed %(order)s: '%(then)s' still comes "
        "before '%(first)s'."
    )
