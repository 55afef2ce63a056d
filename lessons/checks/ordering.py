"""fix: numbered messages must be handled in order, even when the consumer holding one crashes.

The check publishes messages "1" … "N", waits until "1" is delivered, and crashes the consumer
that holds it, as a real crash would: "1" goes back to the queue. It then waits (a few seconds at
most) until all are acked and reads the order of the acks, the order the work was done in.
Competing consumers handle "2" while "1" waits to be redelivered; with a single active consumer
the standby takes over from "1". The queue must keep two consumers, so that one can take over.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.trail import Trail
from lessons.checks.verdict import Verdict


def order_survives_a_crash(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue, messages (how many, numbered), seconds (to handle them after the crash)."""
    queue, count = params["queue"], int(params.get("messages", 6))
    seconds = float(params.get("seconds", 3.0))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    if len(lab.consumer_connections(queue)) < 2:
        why = N_(
            "'%(queue)s' needs two consumers: one does the work, the other takes over when it "
            "crashes. One consumer keeps the order, but the work stops with it."
        )
        return Verdict(False, why, {"queue": queue})
    lab.purge(queue)
    since = lab.last_seq()
    bodies = [str(n).encode() for n in range(1, count + 1)]
    ids = [r.message_id for r in lab.publish_many("", queue, bodies)]
    holder = _holder_of_first(lab, since, ids[0])
    if holder is None:
        return Verdict(
            False,
            N_("Your consumer took none of %(count)s messages in time: is it consuming?"),
            {"count": count},
        )
    lab.crash_connection(holder)
    lab.wait_until(lambda: Trail(lab, since, ids).settled(), timeout=seconds)
    return _verdict(Trail(lab, since, ids), ids, queue, holder, seconds)


def _holder_of_first(lab: Lab, since: int, first: int | None) -> str | None:
    """The connection message "1" is delivered to (None if nobody takes it in time)."""
    found: list[str] = []

    def delivered() -> bool:
        found[:] = [
            e.get("connection")
            for e in lab.events_since(since, ("delivered",))
            if e.get("message_id") == first
        ]
        return bool(found)

    return found[0] if lab.wait_until(delivered, timeout=2.0) else None


def _verdict(
    trail: Trail, ids: list[int | None], queue: str, holder: str, seconds: float
) -> Verdict:
    number = {message_id: n for n, message_id in enumerate(ids, start=1)}
    order = [number[i] for i in trail.ack_order()]
    args = {
        "queue": queue,
        "crashed": holder,
        "count": len(ids),
        "done": len(order),
        "seconds": f"{seconds:.1f}",
        "order": ", ".join(map(str, order)) or "—",
    }
    if trail.auto_acked():
        why = N_(
            "The check crashed %(crashed)s: %(lost)s messages were lost — taken with "
            "auto-ack, gone with the crash. Restart your consumer and try again."
        )
        lost = {e.get("message_id") for e in trail.deliveries if e.get("connection") == holder}
        return Verdict(False, why, {**args, "lost": len(lost)})
    inverted = _first_overtaken(order)
    if inverted is not None:
        why = N_(
            "The check crashed %(crashed)s while it held message 1. Handled in the order "
            "%(order)s: %(later)s before %(earlier)s. While the requeued message waited, a "
            "competing consumer went on with the next ones."
        )
        return Verdict(False, why, {**args, "later": inverted[0], "earlier": inverted[1]})
    if len(order) < len(ids):
        why = N_(
            "The check crashed %(crashed)s; in the %(seconds)s s after, only %(done)s of "
            "%(count)s messages were handled: did another consumer take over?"
        )
        return Verdict(False, why, args)
    why = N_(
        "The check crashed %(crashed)s while it held message 1; another consumer took over and "
        "handled all %(count)s in order: %(order)s."
    )
    return Verdict(True, why, args)


def _first_overtaken(order: list[int]) -> tuple[int, int] | None:
    """(later, earlier): the lowest number handled after a higher one, and the first such higher
    one, e.g. (2, 1) for 2, 4, 1, 3."""
    for n in sorted(order):
        before = order[: order.index(n)]
        overtook = [m for m in before if m > n]
        if overtook:
            return overtook[0], n
    return None
