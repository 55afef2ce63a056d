"""build: an event with several listeners; every listener must hear every event.

The check publishes `events` events to the exchange, as the shop would, and counts, for each
event, the consumers it was delivered to. A listener is a consumer with a queue of its own bound
to the exchange: two consumers on one queue share the events (each hears half), and a bound
queue nobody consumes from collects the events unheard.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def every_listener_hears(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: exchange, events (how many to publish, default 4), listeners (default 2)."""
    exchange = params["exchange"]
    count, wanted = int(params.get("events", 4)), int(params.get("listeners", 2))
    if exchange not in {e["name"] for e in lab.snapshot()["exchanges"]}:
        return Verdict(False, N_("There is no exchange named '%(name)s' yet."), {"name": exchange})
    since = lab.last_seq()
    bodies = [f"order {n + 1} placed".encode() for n in range(count)]
    ids = [lab.publish(exchange, "", body).message_id for body in bodies]

    def heard_by_all() -> bool:
        heard = _listeners_per_event(lab, since, ids)
        return all(len(heard[i]) >= wanted for i in ids)

    args = {"exchange": exchange, "count": count, "wanted": wanted}
    if lab.wait_until(heard_by_all, timeout=2.0):
        why = N_("Each of the %(count)s events reached %(wanted)s listeners or more.")
        return Verdict(True, why, args)
    return _why_not(lab, since, ids, args)


def _listeners_per_event(lab: Lab, since: int, ids: list[Any]) -> dict[Any, set[tuple]]:
    """For each event, the consumers it was delivered to: (queue, connection, consumer tag)."""
    heard: dict[Any, set[tuple]] = {i: set() for i in ids}
    for event in lab.events_since(since, ("delivered",)):
        if event.get("message_id") in heard:
            consumer = (event.get("queue"), event.get("connection"), event.get("consumer_tag"))
            heard[event.get("message_id")].add(consumer)
    return heard


def _why_not(lab: Lab, since: int, ids: list[Any], args: dict[str, Any]) -> Verdict:
    reached = sorted(
        {
            e.get("queue")
            for e in lab.events_since(since, ("enqueued",))
            if e.get("message_id") in set(ids)
        }
    )
    consumers: dict[str, int] = {}
    for consumer in lab.snapshot()["consumers"]:
        consumers[consumer["queue"]] = consumers.get(consumer["queue"], 0) + 1
    unheard = [queue for queue in reached if not consumers.get(queue)]
    args = {**args, "queues": ", ".join(f"'{q}'" for q in reached) or "—"}
    if unheard:
        why = N_("'%(queue)s' gets the events, but nobody listens to it: start a consumer on it.")
        return Verdict(False, why, {**args, "queue": unheard[0]})
    if len(reached) < args["wanted"] and any(consumers.get(q, 0) > 1 for q in reached):
        why = N_(
            "Each event reached only one listener: two consumers on one queue take turns (each "
            "hears some of the events). Give the second listener a queue of its own, bound to "
            "'%(exchange)s'."
        )
        return Verdict(False, why, args)
    why = N_(
        "The events reached only %(queues)s: a second listener needs a queue of its own, bound "
        "to '%(exchange)s'."
    )
    return Verdict(False, why, args)
