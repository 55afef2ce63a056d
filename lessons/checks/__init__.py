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
    loop_order     predict: the print order of a short asyncio script, run for real
    loop_yield     fix: one await that lets the other coroutines in
    event_fanout   build: every listener hears every event (a queue per listener)
    late_replies   predict: the replies left in the reply queue after an RPC timed out
    reply_matching fix: the next call must not take a late reply (correlation_id)
    blocked_loop   fix: a blocking call moved off the loop; a heartbeat's lag is measured
    callback_delay predict: how late a due timer runs behind ready callbacks, measured
    slow_neighbour fix: a slow neighbour changed so the heartbeat's timer runs on time
    (the event-loop checks run their scenarios on a fresh asyncio loop of their own, fresh_loop,
    from loop_scripts, lag_scripts and rpc_scripts: the code the exercises show)
"""

from __future__ import annotations

from lessons.checks import dead_letters, reliability, routing, topology
from lessons.checks.blocked_loop import unblock_the_loop
from lessons.checks.callback_delay import predict_timer_delay
from lessons.checks.event_fanout import every_listener_hears
from lessons.checks.late_replies import predict_late_replies
from lessons.checks.loop_order import predict_loop_order
from lessons.checks.loop_yield import await_lets_others_in
from lessons.checks.reply_matching import match_replies
from lessons.checks.slow_neighbour import reduce_timer_delay
from lessons.checks.verdict import Check

CHECKS: dict[str, Check] = {
    "topology": topology.topology,
    "predict_routing": routing.predict_routing,
    "no_loss_on_crash": reliability.no_loss_on_crash,
    "rejected_reach_dead_letter_queue": dead_letters.rejected_reach_dead_letter_queue,
    "predict_loop_order": predict_loop_order,
    "await_lets_others_in": await_lets_others_in,
    "every_listener_hears": every_listener_hears,
    "predict_late_replies": predict_late_replies,
    "match_replies": match_replies,
    "unblock_the_loop": unblock_the_loop,
    "predict_timer_delay": predict_timer_delay,
    "reduce_timer_delay": reduce_timer_delay,
}
