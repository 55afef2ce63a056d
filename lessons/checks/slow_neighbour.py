"""fix: a slow neighbour delays the heartbeat's timer; change it so the timer runs on time.

The neighbour resizes 40 images of 10 ms each; the learner chooses how it does so
(lag_scripts.DELAY_FIXES). The check runs the choice beside a heartbeat due every 50 ms, on a
fresh event loop, and measures the heartbeat's worst delay. Only an await between the images
gives the loop back often: 40 callbacks queued at once still stand, all of them, in front of the
due timer, and a task of its own is still the same one thread.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.lag_scripts import DELAY_FIXES, IMAGES, NEIGHBOUR_SECONDS, worst_lag
from lessons.checks.verdict import Verdict

PERIOD = 0.05
ALLOWED_DELAY = 0.15  # the whole batch in one go delays it by at least 0.35 s


def reduce_timer_delay(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """answer: [one line of DELAY_FIXES]."""
    if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in DELAY_FIXES:
        return Verdict(False, N_("Choose one of the lines."))
    line = answer[0]
    delay = run_on_fresh_loop(lambda: worst_lag(DELAY_FIXES[line], PERIOD))
    args = {
        "line": line,
        "delay": round(delay * 1000),
        "batch": round(IMAGES * NEIGHBOUR_SECONDS * 1000),
        "count": IMAGES,
    }
    details = {"delay_ms": args["delay"]}
    if delay <= ALLOWED_DELAY:
        why = N_(
            "With `%(line)s` the heartbeat's timer ran at most %(delay)s ms late: after each "
            "image the loop got back, and the due timer had its turn."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, _why_still_late(line), args, details)


def _why_still_late(line: str) -> str:
    if "call_soon" in line:
        return N_(
            "With `%(line)s` the timer still ran %(delay)s ms late: the %(count)s callbacks were "
            "all queued at once, and a due timer joins the ready queue behind every one of them."
        )
    if "create_task" in line:
        return N_(
            "With `%(line)s` the timer still ran %(delay)s ms late: a task of its own runs on the "
            "same thread, and it kept the loop for the whole batch (%(batch)s ms) without an "
            "await."
        )
    return N_(
        "With `%(line)s` the timer ran %(delay)s ms late: the whole batch (%(batch)s ms) ran in "
        "one go, and the due timer waited until it was over."
    )
