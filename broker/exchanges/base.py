"""What every exchange type shares: the binding record and the router interface.

Each exchange type is one module with one router class, as RabbitMQ has one module per type.
A router keeps an index of its exchange's bindings (a dict, a trie …) so routing does not scan
them all, and can explain, binding by binding, why a message did or did not match.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol


class Binding:
    """An edge from an exchange to a queue or to another exchange."""

    __slots__ = ("source", "destination", "destination_kind", "routing_key", "arguments", "durable")

    def __init__(
        self,
        source: str,
        destination: str,
        destination_kind: str,
        routing_key: str,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.destination_kind = destination_kind  # "queue" or "exchange"
        self.routing_key = routing_key
        self.arguments = arguments or {}
        self.durable = False  # both ends durable: the store keeps it (verbs/durable.py)

    @property
    def key(self) -> tuple:
        """Identity as RabbitMQ sees it: the same four values declare the same binding."""
        return (
            self.source,
            self.destination_kind,
            self.destination,
            self.routing_key,
            _freeze(self.arguments),
        )

    def ref(self) -> dict[str, Any]:
        """Enough to name the binding in an event."""
        return {
            "source": self.source,
            "destination": self.destination,
            "destination_type": self.destination_kind,
            "routing_key": self.routing_key,
        }

    def to_dict(self, vhost: str) -> dict[str, Any]:
        """The shape of RabbitMQ's management API `/api/bindings` entries."""
        return {
            "source": self.source,
            "vhost": vhost,
            "destination": self.destination,
            "destination_type": self.destination_kind,
            "routing_key": self.routing_key,
            "arguments": self.arguments,
            "properties_key": properties_key(self.routing_key, self.arguments),
        }

    def __repr__(self) -> str:
        target = f"{self.destination_kind} {self.destination!r}"
        return f"<Binding {self.source!r} -> {target} key={self.routing_key!r}>"


def properties_key(routing_key: str, arguments: dict[str, Any]) -> str:
    """A binding's name in API paths, as RabbitMQ's management API has it: the routing key ("~"
    when empty), plus "~<hash of the arguments>" when there are any, so that bindings differing
    only in their arguments have different names."""
    if not arguments:
        return routing_key or "~"
    digest = hashlib.sha256(repr(_freeze(arguments)).encode()).digest()
    return f"{routing_key}~{base64.urlsafe_b64encode(digest[:9]).decode()}"


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class Router(Protocol):
    """The interface each exchange type implements."""

    type_name: str

    def validate(self, binding: Binding) -> None:
        """Raise AMQPError when the binding's key or arguments make no sense for this type."""

    def add(self, binding: Binding) -> None: ...

    def remove(self, binding: Binding) -> None: ...

    def route(self, routing_key: str, headers: dict[str, Any]) -> Sequence[Binding]:
        """The bindings a message with this routing key and headers matches. Callers may keep
        the result (an event does): a router never changes one it has handed out."""

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        """None when the binding matches; otherwise why not, in words a student can follow: a
        `Phrase` (broker/translatable.py) when it has words a page says in its reader's language,
        plain text when it has none ("`a` ≠ `b`")."""
