"""What the verbs answer: a publish's outcome, a returned message, a queue.declare-ok."""

from __future__ import annotations

from dataclasses import dataclass

from broker.message import Message


@dataclass(slots=True)
class PublishResult:
    """What happened to one publish: the confirm a publisher would get, and any return."""

    routed_to: list[str]  # the names of the queues it was routed to
    confirmed: bool  # True = basic.ack, False = basic.nack (a queue refused it)
    returned: bool  # mandatory and unroutable: sent back with 312 NO_ROUTE
    sequence: int | None = None  # the confirm sequence number, in confirm mode
    message_id: int | None = None  # the broker's id for it, as in its events


@dataclass(slots=True)
class Returned:
    """A mandatory message that could not be routed (basic.return)."""

    reply_code: int
    reply_text: str
    message: Message


@dataclass(slots=True)
class DeclareOk:
    queue: str
    message_count: int
    consumer_count: int

    @property
    def method(self) -> DeclareOk:
        """pika returns a frame whose `.method` holds these fields; allow the same spelling."""
        return self
