"""What a verb asks the store to remember or forget: one plain record per kind of change.

The verbs make these under the broker lock (no I/O: they are only records); the writer thread
turns each into SQL (writes.py). `Topology` is what the store reads back at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PutVHost:
    name: str


@dataclass(frozen=True, slots=True)
class PutExchange:
    vhost: str
    name: str
    type: str
    auto_delete: bool
    internal: bool
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteExchange:
    vhost: str
    name: str


@dataclass(frozen=True, slots=True)
class PutQueue:
    vhost: str
    name: str
    auto_delete: bool
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteQueue:
    vhost: str
    name: str


@dataclass(frozen=True, slots=True)
class PutBinding:
    vhost: str
    source: str
    destination_kind: str  # "queue" or "exchange"
    destination: str
    routing_key: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteBinding:
    vhost: str
    source: str
    destination_kind: str
    destination: str
    routing_key: str
    arguments: dict[str, Any]


Change = (
    PutVHost | PutExchange | DeleteExchange | PutQueue | DeleteQueue | PutBinding | DeleteBinding
)


@dataclass(slots=True)
class Topology:
    """Everything durable the store holds, in the order it was first written."""

    vhosts: list[str] = field(default_factory=list)
    exchanges: list[PutExchange] = field(default_factory=list)
    queues: list[PutQueue] = field(default_factory=list)
    bindings: list[PutBinding] = field(default_factory=list)
