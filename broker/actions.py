"""What a verb leaves for after the lock: deliveries, returns, confirms, cancels and closes.

A verb changes state under the broker lock and records, as one of these actions, each thing that
must reach the world outside (a consumer's sink, a publisher's confirm, a channel's close). The
front (front.py) carries them out in order once the lock is released, one thread at a time, so no
sink, callback or I/O ever runs under the lock and a consumer sees its deliveries in the order the
broker decided them. Actions are plain records: a test or a lesson can read what a verb decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.errors import AMQPError
    from broker.message import Delivery
    from broker.queue import Queue
    from broker.results import Returned
    from broker.store.changes import Change


@dataclass(slots=True)
class Deliver:
    """Hand a delivery to a consumer's sink (basic.deliver)."""

    sink: Callable[[Delivery], None]
    delivery: Delivery


@dataclass(slots=True)
class Return:
    """Send an unroutable mandatory message back to its publisher (basic.return)."""

    sink: Callable[[Returned], None]
    returned: Returned


@dataclass(slots=True)
class Confirm:
    """Confirm a publish to its publisher (basic.ack, or basic.nack when a queue refused it)."""

    sink: Callable[[int, bool, bool], None]
    sequence: int
    ack: bool
    multiple: bool = False


@dataclass(slots=True)
class Cancel:
    """Tell a consumer the broker cancelled it (its queue was deleted: basic.cancel)."""

    sink: Callable[[str], None]
    consumer_tag: str


@dataclass(slots=True)
class CloseChannel:
    """Tell a channel's owner it closed, with the error that closed it (None: asked to)."""

    sink: Callable[[AMQPError | None], None]
    error: AMQPError | None


@dataclass(slots=True)
class CloseConnection:
    """Tell a connection's owner it closed: the reason, and the error that closed it."""

    sink: Callable[[str, AMQPError | None], None]
    reason: str
    error: AMQPError | None


@dataclass(slots=True)
class FanOut:
    """Hand one operation's events to the event stream's subscribers."""

    records: list[Any]


@dataclass(slots=True)
class ContinueDispatch:
    """Hand out the next round of a deep backlog, under the lock again (verbs/dispatch.py)."""

    queue: Queue


@dataclass(slots=True)
class WakeTimer:
    """A deadline earlier than any before was set: the timer thread must look again."""


@dataclass(slots=True)
class ReportError:
    """Log a failure found under the lock (e.g. a settle that could not be applied)."""

    text: str
    error: BaseException


@dataclass(slots=True)
class StoreWrite:
    """Hand a change of something durable to the store's writer (numbered in the broker's order)."""

    change: Change
    seq: int


Action = (
    Deliver
    | Return
    | Confirm
    | Cancel
    | CloseChannel
    | CloseConnection
    | FanOut
    | ContinueDispatch
    | WakeTimer
    | ReportError
    | StoreWrite
)
