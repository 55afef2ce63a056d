"""predict: how many late replies are left in the reply queue after the client gave up?

The check runs the RPC (rpc_scripts.give_up_on_three) for real in the learner's vhost: three
calls at once, each with `wait_for(timeout=0.3)`, to a server that answers one request at a time
and takes 0.6 s for apples and plums. Then it counts the replies waiting in rpc.replies: every
one is a reply the client gave up on. A timeout cancels our wait, not the server's work.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import ScenarioTimeout, run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.rpc_scripts import NO_ANSWER, REPLIES, REQUESTS, give_up_on_three
from lessons.checks.verdict import Verdict


def predict_late_replies(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """answer: [a count, as text: "0" … "3"]."""
    if not isinstance(answer, list) or len(answer) != 1 or not str(answer[0]).isdigit():
        return Verdict(False, N_("Choose one number."))
    depths = lab.depths()
    for name in (REQUESTS, REPLIES):
        if name not in depths:
            return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": name})
    try:
        outcomes = run_on_fresh_loop(lambda: give_up_on_three(lab.broker, lab.vhost), 3.0)
    except ScenarioTimeout:
        return Verdict(False, NO_ANSWER, {"queue": REQUESTS})
    late = lab.depths()[REPLIES][0]
    timed_out = sum(1 for outcome in outcomes.values() if outcome == "timeout")
    args = {"late": late, "timed_out": timed_out, "queue": REPLIES}
    details = {"outcomes": outcomes, "late": late}
    predicted = int(answer[0])
    if predicted == late:
        why = N_(
            "Right: all %(timed_out)s calls timed out, and %(late)s replies arrived after the "
            "client had given up. They wait in '%(queue)s', unwanted."
        )
        return Verdict(True, why, args, details)
    return Verdict(False, _why(predicted, late), args, details)


def _why(predicted: int, late: int) -> str:
    if predicted == 0:
        return N_(
            "%(late)s replies arrived after the client had given up, and wait unwanted in "
            "'%(queue)s': wait_for() cancelled only the client's wait. The server never heard "
            "of the timeout and finished the work."
        )
    if predicted < late:
        return N_(
            "%(late)s replies arrived late, not fewer: the pear takes no time, but its request "
            "waited behind the apple's at the server, so the pear's call timed out too. All "
            "%(timed_out)s calls gave up."
        )
    return N_(
        "Only %(late)s replies arrived late: one per request; the server answers each request once."
    )
