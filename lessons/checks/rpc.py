"""code: an RPC server answers each request on its reply_to queue, with its correlation_id.

The check plays the client, as RabbitMQ's tutorial 6 does: it declares an exclusive reply queue
of its own, publishes `requests` (numbers n) to the server's queue with reply_to and a fresh
correlation_id each, and collects the replies for a couple of seconds. Each request must get
exactly one reply carrying its correlation_id and the right answer (fib(n)).
"""

from __future__ import annotations

from typing import Any

from broker import Delivery, Properties
from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def replies_match_requests(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: queue (the server's), requests (numbers to ask fib of), seconds (to wait)."""
    queue, numbers = params["queue"], [int(n) for n in params.get("requests", (10, 3, 7))]
    seconds = float(params.get("seconds", 2.0))
    if queue not in lab.depths():
        return Verdict(False, N_("There is no queue named '%(name)s' yet."), {"name": queue})
    if not lab.consumer_connections(queue):
        return Verdict(
            False,
            N_("Nobody consumes from '%(queue)s': start your consumer first."),
            {"queue": queue},
        )
    replies: list[Delivery] = []
    with lab.connect() as connection:
        channel = connection.channel()
        reply_queue = channel.queue_declare("", exclusive=True).queue
        channel.basic_consume(reply_queue, replies.append, no_ack=True)
        asked = {f"check-{lab.last_seq()}-{k}": n for k, n in enumerate(numbers)}
        for correlation_id, n in asked.items():
            props = Properties(reply_to=reply_queue, correlation_id=correlation_id)
            channel.basic_publish("", queue, str(n).encode(), props)
        lab.wait_until(lambda: len(replies) >= len(asked), timeout=seconds)
    return _verdict(asked, list(replies), queue, seconds)


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _verdict(asked: dict[str, int], replies: list[Delivery], queue: str, seconds: float) -> Verdict:
    args: dict[str, Any] = {"queue": queue, "count": len(asked), "seconds": f"{seconds:.1f}"}
    if not replies:
        why = N_(
            "No reply came back to the client's reply queue within %(seconds)s s: the server "
            "must publish its answer to the queue named in the request's reply_to."
        )
        return Verdict(False, why, args)
    unmatched = [r for r in replies if r.properties.correlation_id not in asked]
    if unmatched:
        why = N_(
            "%(unmatched)s of the replies carry no correlation_id of a request: the client "
            "cannot tell which question each one answers. Copy the request's correlation_id "
            "into the reply."
        )
        return Verdict(False, why, {**args, "unmatched": len(unmatched)})
    answered = {r.properties.correlation_id: r.body.decode("utf-8", "replace") for r in replies}
    for correlation_id, n in asked.items():
        got = answered.get(correlation_id)
        if got is None:
            why = N_("The request fib(%(n)s) got no reply within %(seconds)s s.")
            return Verdict(False, why, {**args, "n": n})
        if got.strip() != str(fib(n)):
            why = N_("The reply to fib(%(n)s) says %(got)s; it should be %(want)s.")
            return Verdict(False, why, {**args, "n": n, "got": got[:40], "want": fib(n)})
    pairs = ", ".join(f"fib({n}) = {fib(n)}" for n in asked.values())
    why = N_(
        "Each of the %(count)s requests got its own reply, matched by correlation_id: %(pairs)s."
    )
    return Verdict(True, why, {**args, "pairs": pairs})
