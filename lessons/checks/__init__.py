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
    predict_overflow  predict: which numbered messages stay in a queue filled past its limit
    length_limit   fix: a full queue refuses (a nack the producer sees) instead of dropping
    delay          fix: after a burst, no message waits longer than a limit from publish to ack
    subscribers    fix: publish/subscribe: every subscriber gets every message
    fair_dispatch  fix: a fast and a slow consumer finish a batch in time (prefetch 1)
    ordering       fix: numbered messages handled in order though their consumer crashes
    idempotency    code: a consumer crashed mid-batch applies each payment exactly once
    rpc            code: an RPC server replies on reply_to with the request's correlation_id

The event-loop checks run their scenarios on a fresh asyncio loop of their own (fresh_loop.py),
from loop_scripts, lag_scripts and rpc_scripts: the code the exercises show.
"""

from __future__ import annotations

from lessons.checks import dead_letters, reliability, routing, topology
from lessons.checks.blocked_loop import unblock_the_loop
from lessons.checks.callback_delay import predict_timer_delay
from lessons.checks.delay import wait_stays_short
from lessons.checks.event_fanout import every_listener_hears
from lessons.checks.fair_dispatch import tasks_done_in_time
from lessons.checks.idempotency import each_effect_once
from lessons.checks.late_replies import predict_late_replies
from lessons.checks.length_limit import full_queue_refuses
from lessons.checks.loop_order import predict_loop_order
from lessons.checks.loop_yield import await_lets_others_in
from lessons.checks.ordering import order_survives_a_crash
from lessons.checks.predict_overflow import predict_overflow
from lessons.checks.reply_matching import match_replies
from lessons.checks.rpc import replies_match_requests
from lessons.checks.slow_neighbour import reduce_timer_delay
from lessons.checks.subscribers import every_subscriber_gets_all
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
    "predict_overflow": predict_overflow,
    "full_queue_refuses": full_queue_refuses,
    "wait_stays_short": wait_stays_short,
    "every_subscriber_gets_all": every_subscriber_gets_all,
    "tasks_done_in_time": tasks_done_in_time,
    "order_survives_a_crash": order_survives_a_crash,
    "each_effect_once": each_effect_once,
    "replies_match_requests": replies_match_requests,
}
