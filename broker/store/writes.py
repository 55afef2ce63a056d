"""Each change as SQL, and the topology read back: the only module that knows the tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from broker.store.changes import (
    Change,
    DeleteBinding,
    DeleteExchange,
    DeleteQueue,
    PutBinding,
    PutExchange,
    PutQueue,
    PutVHost,
    Topology,
)
from broker.store.codec import decode_arguments, encode_arguments

_BINDING_KEY = "vhost=? AND source=? AND destination_kind=? AND destination=? AND routing_key=?"


def _binding_row(change: PutBinding | DeleteBinding) -> tuple[str, ...]:
    return (
        change.vhost,
        change.source,
        change.destination_kind,
        change.destination,
        change.routing_key,
        encode_arguments(change.arguments),
    )


SQL: dict[type, tuple[str, Callable[[Any], tuple]]] = {
    PutVHost: ("INSERT OR IGNORE INTO vhosts VALUES (?)", lambda c: (c.name,)),
    PutExchange: (
        "INSERT OR REPLACE INTO exchanges VALUES (?, ?, ?, ?, ?, ?)",
        lambda c: (
            c.vhost,
            c.name,
            c.type,
            c.auto_delete,
            c.internal,
            encode_arguments(c.arguments),
        ),
    ),
    DeleteExchange: (
        "DELETE FROM exchanges WHERE vhost=? AND name=?",
        lambda c: (c.vhost, c.name),
    ),
    PutQueue: (
        "INSERT OR REPLACE INTO queues VALUES (?, ?, ?, ?)",
        lambda c: (c.vhost, c.name, c.auto_delete, encode_arguments(c.arguments)),
    ),
    DeleteQueue: ("DELETE FROM queues WHERE vhost=? AND name=?", lambda c: (c.vhost, c.name)),
    PutBinding: ("INSERT OR IGNORE INTO bindings VALUES (?, ?, ?, ?, ?, ?)", _binding_row),
    DeleteBinding: (f"DELETE FROM bindings WHERE {_BINDING_KEY} AND arguments=?", _binding_row),
}


def apply(db: sqlite3.Connection, change: Change) -> None:
    """Write one change (inside the writer's transaction)."""
    statement, row = SQL[change.__class__]
    db.execute(statement, row(change))


def read_topology(db: sqlite3.Connection) -> Topology:
    """Everything stored, each table in the order its rows were first written."""
    topology = Topology()
    topology.vhosts = [name for (name,) in db.execute("SELECT name FROM vhosts ORDER BY rowid")]
    for vhost, name, type, auto_delete, internal, arguments in db.execute(
        "SELECT * FROM exchanges ORDER BY rowid"
    ):
        topology.exchanges.append(
            PutExchange(
                vhost, name, type, bool(auto_delete), bool(internal), decode_arguments(arguments)
            )
        )
    for vhost, name, auto_delete, arguments in db.execute("SELECT * FROM queues ORDER BY rowid"):
        topology.queues.append(
            PutQueue(vhost, name, bool(auto_delete), decode_arguments(arguments))
        )
    for vhost, source, kind, destination, key, arguments in db.execute(
        "SELECT * FROM bindings ORDER BY rowid"
    ):
        topology.bindings.append(
            PutBinding(vhost, source, kind, destination, key, decode_arguments(arguments))
        )
    return topology
