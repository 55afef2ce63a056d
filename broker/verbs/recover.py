"""Start-up from the store: the durable topology rebuilt, and the store's failures reported.

A cold start: exchanges, queues and bindings are built afresh from what the store read back,
nothing is reused from memory. Nothing here writes to the store: what was read is already there,
and `s.persisting` is switched on only once the state matches the disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from broker.exchanges import Binding
from broker.exchanges.exchange import Exchange
from broker.queue import Queue
from broker.state import BrokerState
from broker.store.changes import Change, Topology
from broker.verbs.deadlines import touch
from broker.verbs.declare import add_vhost


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a start recovered, and how long it took: the summary line and event."""

    path: str
    vhosts: int
    exchanges: int
    queues: int
    bindings: int
    seconds: float

    def __str__(self) -> str:
        def count(n: int, what: str) -> str:
            return f"{n:,} {what}{'' if n == 1 else 's'}"

        return (
            f"recovered {count(self.vhosts, 'vhost')}, {count(self.exchanges, 'exchange')}, "
            f"{count(self.queues, 'queue')}, {count(self.bindings, 'binding')} "
            f"in {self.seconds:.2f} s"
        )


def restore(s: BrokerState, topology: Topology, path: str, started: float) -> Recovered:
    """Build the durable topology the store holds, then start persisting changes. `started`:
    the perf_counter() reading when the store began to be read (for the summary)."""
    for name in topology.vhosts:
        add_vhost(s, name)
    now = s.clock.now()
    for e in topology.exchanges:
        s.vhosts[e.vhost].exchanges[e.name] = Exchange(
            e.vhost, e.name, e.type, True, e.auto_delete, e.internal, e.arguments, now
        )
    for q in topology.queues:
        queue = Queue(q.vhost, q.name, True, None, q.auto_delete, q.arguments, now)
        s.vhosts[q.vhost].queues[q.name] = queue
        touch(s, queue, now)  # x-expires counts again from the start, as in RabbitMQ
    for b in topology.bindings:
        binding = Binding(b.source, b.destination, b.destination_kind, b.routing_key, b.arguments)
        binding.durable = True
        s.vhosts[b.vhost].exchanges[b.source].add_binding(binding)
    s.persisting = True
    recovered = Recovered(
        path,
        len(topology.vhosts),
        len(topology.exchanges),
        len(topology.queues),
        len(topology.bindings),
        time.perf_counter() - started,
    )
    s.emit(
        "broker.recovered",
        path=path,
        vhosts=recovered.vhosts,
        exchanges=recovered.exchanges,
        queues=recovered.queues,
        bindings=recovered.bindings,
        seconds=round(recovered.seconds, 3),
        summary=str(recovered),
    )
    return recovered


def store_failed(s: BrokerState, path: str, change: Change, error: str) -> None:
    """The store's writer could not write a change: say so where the pages look."""
    s.emit("store.failed", path=path, change=repr(change), error=error)
