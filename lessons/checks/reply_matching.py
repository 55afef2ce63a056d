"""fix: after a timeout, the next call must not take the late reply of the call that gave up.

The learner chooses the line that decides whether a reply is this call's
(rpc_scripts.RECEIVE_LINES). The check runs it for real in the learner's vhost: a call for an
apple times out (0.3 s; the server takes 0.6 s), then a call for a pear waits with time to
spare. The apple's late reply arrives first; the pear's call must drop it and return the pear's
price. It counts the dropped late replies and compares the price the pear's call returned.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import ScenarioTimeout, run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.rpc_scripts import (
    NO_ANSWER,
    PRICES,
    RECEIVE_LINES,
    REPLIES,
    REQUESTS,
    call_after_a_timeout,
)
from lessons.checks.verdict import Verdict


def match_replies(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """answer: [one line of RECEIVE_LINES]."""
    if not isinstance(answer, list) or len(answer) != 1 or answer[0] not in RECEIVE_LINES:
        return Verdict(False, N_("Choose one of the lines."))
    depths = lab.depths()
    for name in (REQUESTS, REPLIES):
        if name not in depths:
            return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": name})
    line = answer[0]
    accept = RECEIVE_LINES[line]
    try:
        got, dropped = run_on_fresh_loop(
            lambda: call_after_a_timeout(lab.broker, lab.vhost, accept), 3.0
        )
    except ScenarioTimeout:
        return Verdict(False, NO_ANSWER, {"queue": REQUESTS})
    args = {
        "line": line,
        "got": got,
        "pear": PRICES["pear"].decode(),
        "apple": PRICES["apple"].decode(),
        "dropped": dropped,
    }
    details = {"pear_call_got": got, "dropped": dropped}
    if got == args["pear"]:
        why = N_(
            "With `%(line)s` the pear's call got the pear's price, %(got)s, and dropped "
            "%(dropped)s late reply: the apple's, which nobody wanted any more."
        )
        return Verdict(True, why, args, details)
    if "correlation_id" in line:
        why = N_(
            "With `%(line)s` the pear's call returned %(got)s, the apple's price: the late reply "
            "has a correlation_id too. It must be this call's correlation_id."
        )
    else:
        why = N_(
            "With `%(line)s` the pear's call returned %(got)s, the apple's price: it took the "
            "first reply that came, the late one of the call that gave up. Match each reply to "
            "its call by correlation_id."
        )
    return Verdict(False, why, args, details)
