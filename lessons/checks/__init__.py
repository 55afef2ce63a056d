"""The exercises' checks: each one exercises its concept and says why it does not hold yet.

A check is a function `(lab, params, answer) -> Verdict` (verdict.py), named in CHECKS; a lesson
file names its check and gives it `params`. It runs off the broker lock, through the broker's
public API (lab.py): it reads the state and the events, and where the concept needs it, it
injects the failure (crashes the consumer, publishes crafted messages) and counts the outcome,
rather than inspecting a setting. `why` is an English message with named placeholders, translated
by the web layer (catalog area `lessons`).

    topology       build: the goal's exchanges, queues and bindings exist
    routing        predict: which queues a message reaches, compared with the real routing
    reliability    code/fix: the consumers are crashed mid-work; nothing may be lost
    dead_letters   fix: a rejected message must reach the dead-letter queue, not vanish
"""

from __future__ import annotations

from lessons.checks import dead_letters, reliability, routing, topology
from lessons.checks.verdict import Check

CHECKS: dict[str, Check] = {
    "topology": topology.topology,
    "predict_routing": routing.predict_routing,
    "no_loss_on_crash": reliability.no_loss_on_crash,
    "rejected_reach_dead_letter_queue": dead_letters.rejected_reach_dead_letter_queue,
}
