"""The exchange: a name, a type (its router), flags, and the bindings that leave it."""

from __future__ import annotations

from typing import Any

from broker.exchanges import ROUTERS, Binding
from broker.stats import EXCHANGE_STATS, RateMeter


class Exchange:
    def __init__(
        self,
        vhost: str,
        name: str,
        type: str,
        durable: bool = True,
        auto_delete: bool = False,
        internal: bool = False,
        arguments: dict[str, Any] | None = None,
        now: float = 0.0,
    ) -> None:
        self.vhost = vhost
        self.name = name
        self.type = type
        self.durable = durable
        self.auto_delete = auto_delete
        self.internal = internal
        self.arguments = dict(arguments or {})
        self.router = ROUTERS[type]()
        # A tuple, replaced on every change, so an event can keep a cheap, stable snapshot.
        self.bindings: tuple[Binding, ...] = ()
        self.exchange_bindings = 0  # how many lead to other exchanges (routing takes a detour)
        self.counters = {"published": 0, "routed": 0, "unroutable": 0}
        self.rates = RateMeter(self.counters, EXCHANGE_STATS, now)

    @property
    def is_default(self) -> bool:
        return self.name == ""

    def add_binding(self, binding: Binding) -> None:
        self._set_bindings((*self.bindings, binding))
        self.router.add(binding)

    def remove_binding(self, binding: Binding) -> None:
        self._set_bindings(tuple(b for b in self.bindings if b is not binding))
        self.router.remove(binding)

    def _set_bindings(self, bindings: tuple[Binding, ...]) -> None:
        self.bindings = bindings
        self.exchange_bindings = sum(b.destination_kind == "exchange" for b in bindings)

    def find_binding(self, key: tuple) -> Binding | None:
        return next((b for b in self.bindings if b.key == key), None)

    def info(self, now: float) -> dict[str, Any]:
        """The fields of RabbitMQ's management API `/api/exchanges` that we support."""
        return {
            "name": self.name,
            "vhost": self.vhost,
            "type": self.type,
            "durable": self.durable,
            "auto_delete": self.auto_delete,
            "internal": self.internal,
            "arguments": self.arguments,
            "bindings": len(self.bindings),
            "counters": dict(self.counters),
            "message_stats": self.rates.message_stats(now),
        }
