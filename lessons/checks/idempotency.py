"""code: a consumer crashed mid-batch gets its unacked messages again; each effect must happen once.

The learner's consumer applies each payment from `queue` by publishing its message_id to
`effects` (the ledger: one message there is one charge), then acks. The check publishes
`messages` payments with fresh message_ids, waits until `crash_after` charges are in the ledger,
and crashes the consumer: what it held unacked is redelivered when it comes back. It then waits
(a few seconds at most) until every payment is acked and counts the charges of each: more than
one is a duplicated side effect, none is a payment skipped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from broker import Properties
from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.trail import Trail
from lessons.checks.verdict import Verdict


def each_effect_once(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue (payments), effects (the ledger queue), messages, crash_after, seconds."""
    queue, effects = params["queue"], params["effects"]
    count, seconds = int(params.get("messages", 5)), float(params.get("seconds", 3.0))
    depths = lab.depths()
    for name in (queue, effects):
        if name not in depths:
            return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": name})
    if not lab.consumer_connections(queue):
        return Verdict(
            False,
            N_("Nobody consumes from '%(queue)s': start your consumer first."),
            {"queue": queue},
        )
    lab.purge(queue)
    lab.purge(effects)
    since = lab.last_seq()
    payment_ids = [f"payment-{since}-{n}" for n in range(1, count + 1)]
    bodies = [f"charge 10 EUR ({pid})".encode() for pid in payment_ids]
    props = [Properties(message_id=pid, delivery_mode=2) for pid in payment_ids]
    ids = [r.message_id for r in lab.publish_many("", queue, bodies, props)]
    args = {"queue": queue, "effects": effects, "count": count}
    crash_after = int(params.get("crash_after", 2))
    if not lab.wait_until(lambda: len(_charges(lab, effects)) >= crash_after, timeout=2.0):
        why = N_(
            "No charge reached '%(effects)s': your consumer should publish each payment's "
            "message_id there before it acks."
        )
        return Verdict(False, why, args)
    lab.crash_consumers(queue)
    lab.wait_until(lambda: Trail(lab, since, ids).all_acked(), timeout=seconds)
    trail = Trail(lab, since, ids)
    args["redelivered"] = trail.redelivered()
    if not trail.all_acked():
        why = N_(
            "The check crashed your consumer mid-batch; afterwards not every payment was acked: "
            "does your consumer connect again after a crash (see the task)?"
        )
        return Verdict(False, why, args)
    return _verdict(Counter(_charges(lab, effects)), payment_ids, args)


def _charges(lab: Lab, effects: str) -> list[str]:
    """The ledger: the message_id each charge names (the body of each message in `effects`)."""
    return [m["payload"] for m in lab.peek(effects, 1000)]


def _verdict(charges: Counter[str], payment_ids: list[str], args: dict[str, Any]) -> Verdict:
    twice = [pid for pid in payment_ids if charges[pid] > 1]
    never = [pid for pid in payment_ids if charges[pid] == 0]
    if twice:
        why = N_(
            "The check crashed your consumer mid-batch. Charged twice: %(ids)s. They came back "
            "redelivered, and your consumer applied them again."
        )
        return Verdict(False, why, {**args, "ids": ", ".join(twice)})
    if never:
        why = N_(
            "The check crashed your consumer mid-batch. Never charged: %(ids)s. Your consumer "
            "skipped messages it had not handled before."
        )
        return Verdict(False, why, {**args, "ids": ", ".join(never)})
    why = N_(
        "The check crashed your consumer mid-batch; %(redelivered)s of the %(count)s payments "
        "came back redelivered, and each one was charged exactly once."
    )
    return Verdict(True, why, args)
