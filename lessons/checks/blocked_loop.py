"""fix: find the blocking call in a coroutine and move it off the loop; the check measures it.

The learner chooses one line for the request handler (lag_scripts.BLOCKING_FIXES). The check runs
that handler beside a heartbeat that wants to beat every 100 ms, on a fresh event loop, and
measures the heartbeat's worst lag: a blocking call in the loop's thread (time.sleep standing
for requests.get or a database driver) makes it miss beats for the whole call, however it is
wrapped; in a worker thread the loop keeps beating.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.lag_scripts import BLOCK_SECONDS, BLOCKING_FIXES, worst_lag
from lessons.checks.verdict import Verdict

PERIOD = 0.1  # the heartbeat's period, in seconds
ALLOWED_LAG = 0.3  # a blocked beat is late by nearly BLOCK_SECONDS (0.8 s)


def unblock_the_loop(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """answer: [one line of BLOCKING_FIXES]."""
    if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in BLOCKING_FIXES:
        return Verdict(False, N_("Choose one of the lines."))
    line = answer[0]
    lag = run_on_fresh_loop(lambda: worst_lag(BLOCKING_FIXES[line], PERIOD))
    args = {"lag": round(lag * 1000), "block": round(BLOCK_SECONDS * 1000), "line": line}
    details = {"lag_ms": args["lag"]}
    if lag <= ALLOWED_LAG:
        why = N_(
            "With `%(line)s` the heartbeat was at most %(lag)s ms late: a worker thread waited "
            "for the report while the loop kept beating."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, _why_blocked(line), args, details)


def _why_blocked(line: str) -> str:
    if "fetch_report_async" in line:
        return N_(
            "With `%(line)s` the heartbeat was %(lag)s ms late: an async def wrapper still calls "
            "fetch_report() in the loop's thread. async def does not make a blocking call "
            "non-blocking."
        )
    if "sleep(0)" in line:
        return N_(
            "With `%(line)s` the heartbeat was %(lag)s ms late: yielding once first lets the "
            "others run now, but then fetch_report() blocks the loop for %(block)s ms all the same."
        )
    return N_(
        "With `%(line)s` the heartbeat was %(lag)s ms late: fetch_report() blocks the loop's only "
        "thread for %(block)s ms, and no other task, timer or heartbeat can run meanwhile."
    )
