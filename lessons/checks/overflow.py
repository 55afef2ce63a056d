"""Fill a queue past its length limit and see what x-overflow did with each message.

The queue is purged, then `count` messages numbered "1" … "N" are published to it in one burst.
Afterwards each one was kept (still in the queue), dropped from the head to make room
(drop-head, the default: the producer was acked and never told), refused at the door
(reject-publish: the publisher's confirm is a nack), or taken by a consumer during the burst.
"""

from __future__ import annotations

from dataclasses import dataclass

from lessons.checks.lab import Lab


@dataclass(frozen=True)
class Overflow:
    """What became of the numbered messages, each list in publish order."""

    kept: list[str]
    dropped: list[str]  # from the head, by drop-head
    refused: list[str]  # at the door, by reject-publish: a nack to the publisher
    taken: int  # how many a consumer took during the burst

    def as_args(self) -> dict[str, str]:
        return {name: numbers(getattr(self, name)) for name in ("kept", "dropped", "refused")}


def fill_past_limit(lab: Lab, queue: str, count: int) -> Overflow:
    lab.purge(queue)
    since = lab.last_seq()
    bodies = [str(n) for n in range(1, count + 1)]
    results = lab.publish_many("", queue, [body.encode() for body in bodies])
    body_of = {result.message_id: body for result, body in zip(results, bodies, strict=True)}
    refused = [body for result, body in zip(results, bodies, strict=True) if not result.confirmed]
    dropped_ids = {
        e.get("message_id")
        for e in lab.events_since(since, ("dropped",))
        if e.get("queue") == queue and "drop-head" in str(e.get("reason"))
    }
    in_queue = {m["message_id"] for m in lab.peek(queue, count + 1)}
    taken = {
        e.get("message_id")
        for e in lab.events_since(since, ("delivered",))
        if e.get("queue") == queue
    }
    return Overflow(
        kept=[body for mid, body in body_of.items() if mid in in_queue],
        dropped=[body for mid, body in body_of.items() if mid in dropped_ids],
        refused=refused,
        taken=len(taken & set(body_of)),
    )


def numbers(bodies: list[str]) -> str:
    """Message numbers as a learner reads them: "3, 4, 5", or "—" for none."""
    return ", ".join(bodies) or "—"
