"""Read-only pictures of the state, for the pages, the HTTP API and tests."""

from __future__ import annotations

import itertools
from typing import Any

from broker.errors import not_found
from broker.message import describe_message
from broker.state import BrokerState


def snapshot(s: BrokerState, vhost: str, last_seq: int) -> dict[str, Any]:
    """Everything a page draws, consistent at one event sequence number."""
    state = s.vhosts[vhost]
    now = s.clock.now()
    consumers = [c.info() for q in state.queues.values() for c in q.consumers]
    consumers += [c.info() for c in s.direct_reply_to.consumers(vhost)]
    connections = [c for c in s.connections.values() if c.vhost == vhost]
    return {
        "seq": last_seq,
        "vhost": vhost,
        "exchanges": [e.info(now) for e in state.exchanges.values()],
        "queues": [q.info(now) for q in state.queues.values()],
        "bindings": [b.to_dict(vhost) for e in state.exchanges.values() for b in e.bindings],
        "consumers": consumers,
        "connections": [c.info(now) for c in connections],
        "channels": [ch.info() for c in connections for ch in c.channels.values()],
        "totals": dict(s.totals),
    }


def queue_depths(s: BrokerState, vhost: str) -> dict[str, tuple[int, int, int]]:
    """(ready, unacked, consumers) for every queue of a vhost, read at one instant."""
    state = s.vhosts.get(vhost)
    queues = state.queues.values() if state else ()
    return {q.name: (len(q.ready), q.unacked, len(q.consumers)) for q in queues}


def peek_entries(s: BrokerState, vhost: str, queue: str, count: int) -> list[Any]:
    """The first ready entries of a queue, left where they are (described off the lock)."""
    state = s.vhosts.get(vhost)
    found = state.queues.get(queue) if state else None
    if found is None:
        raise not_found("queue", queue, vhost)
    return list(itertools.islice(found.ready, count))


def describe_entries(entries: list[Any]) -> list[dict[str, Any]]:
    return [{**describe_message(e.message), "redelivered": e.redelivered} for e in entries]
