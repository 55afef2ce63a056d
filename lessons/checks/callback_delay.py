"""predict: how late does a timer run behind slow neighbours? The check measures it.

A timer is due in 50 ms; 20 callbacks of 10 ms each are queued just before it is due
(lag_scripts.timer_delay). The learner picks how late the timer runs; the check runs the script
on a fresh event loop and measures it. The timer can run no earlier than after all 20 (at least
150 ms late): a due timer joins the back of the ready queue, it does not interrupt.
"""

from __future__ import annotations

import math
from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.lag_scripts import NEIGHBOUR_SECONDS, NEIGHBOURS, timer_delay
from lessons.checks.verdict import Verdict

# The choices, and the delays in ms each one stands for: [from, to).
DELAYS: dict[str, tuple[float, float]] = {
    "≈ 0 ms": (0, 5),
    "≈ 10 ms": (5, 100),
    "≥ 150 ms": (100, math.inf),
}


def predict_timer_delay(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """answer: [one of DELAYS]."""
    if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in DELAYS:
        return Verdict(False, N_("Choose one of the delays: %(delays)s."), {"delays": _all()})
    late_ms = run_on_fresh_loop(timer_delay) * 1000
    args = {
        "late": round(late_ms),
        "count": NEIGHBOURS,
        "work": round(NEIGHBOUR_SECONDS * 1000),
    }
    details = {"late_ms": args["late"]}
    low, high = DELAYS[answer[0]]
    if low <= late_ms < high:
        why = N_(
            "Right: the timer ran %(late)s ms late, behind %(count)s callbacks of %(work)s ms "
            "each that were in the ready queue before it."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, _why(answer[0]), args, details)


def _why(choice: str) -> str:
    if choice == "≈ 0 ms":
        return N_(
            "The timer ran %(late)s ms late: a due timer does not interrupt anything; it joins "
            "the back of the ready queue, behind the %(count)s callbacks queued before it."
        )
    if choice == "≈ 10 ms":
        return N_(
            "The timer ran %(late)s ms late: it did not cut in after the first callback; every "
            "callback already in the ready queue ran first, %(count)s × %(work)s ms."
        )
    return N_("The timer ran %(late)s ms late.")


def _all() -> str:
    return ", ".join(DELAYS)
