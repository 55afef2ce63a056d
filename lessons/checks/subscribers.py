"""fix: publish/subscribe: every subscriber must get its own copy of every message.

The check publishes `messages` to the exchange and counts, in the events, how many of them each
consumer was handed. Consumers of one queue take turns (load balancing: each gets a part); only
a queue of its own, bound to the exchange, gives a subscriber every message. Passing means at
least `subscribers` consumers each got all of them.
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def every_subscriber_gets_all(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: exchange, subscribers (how many must get everything), messages (how many)."""
    exchange, wanted = params["exchange"], int(params.get("subscribers", 2))
    count = int(params.get("messages", 4))
    if exchange not in {e["name"] for e in lab.snapshot()["exchanges"]}:
        return Verdict(False, N_("There is no exchange named '%(name)s' yet."), {"name": exchange})
    since = lab.last_seq()
    bodies = [f"log line {n}".encode() for n in range(1, count + 1)]
    ids = {r.message_id for r in lab.publish_many(exchange, "info", bodies)}
    got: dict[tuple[str, str], set[int]] = {}

    def everyone_served() -> bool:
        got.clear()
        for event in lab.events_since(since, ("delivered",)):
            if event.get("message_id") in ids:
                key = (event.get("queue"), event.get("consumer_tag"))
                got.setdefault(key, set()).add(event.get("message_id"))
        return sum(len(m) == count for m in got.values()) >= wanted

    served = lab.wait_until(everyone_served, timeout=1.0)
    args = {"exchange": exchange, "count": count, "want": wanted}
    if served:
        why = N_(
            "%(want)s subscribers each got all %(count)s messages: the exchange gave every "
            "bound queue a copy of its own."
        )
        return Verdict(True, why, args)
    shared = _shared_queue(got, count)
    if shared is not None:
        why = N_(
            "The consumers of '%(queue)s' shared the %(count)s messages (%(split)s): consumers "
            "of one queue take turns, which is load balancing. A subscriber needs a queue of "
            "its own, bound to '%(exchange)s'."
        )
        return Verdict(False, why, {**args, **shared})
    full = sum(len(m) == count for m in got.values())
    why = N_(
        "%(full)s of %(want)s subscribers got the %(count)s messages: is each subscriber's "
        "queue bound to '%(exchange)s', with a consumer on it?"
    )
    return Verdict(False, why, {**args, "full": full})


def _shared_queue(got: dict[tuple[str, str], set[int]], count: int) -> dict[str, str] | None:
    """A queue whose consumers split the messages between them, if there is one."""
    by_queue: dict[str, list[int]] = {}
    for (queue, _tag), messages in got.items():
        by_queue.setdefault(queue, []).append(len(messages))
    for queue, counts in sorted(by_queue.items()):
        if len(counts) > 1 and all(n < count for n in counts):
            return {"queue": queue, "split": " + ".join(map(str, sorted(counts, reverse=True)))}
    return None
