"""Direct exchange: a binding matches when its key equals the routing key, exactly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from broker.exchanges.base import Binding


class DirectRouter:
    type_name = "direct"

    def __init__(self) -> None:
        # Each key's bindings as a tuple, replaced on change: route() hands it out as it is.
        self._by_key: dict[str, tuple[Binding, ...]] = {}

    def validate(self, binding: Binding) -> None:
        return None

    def add(self, binding: Binding) -> None:
        key = binding.routing_key
        self._by_key[key] = (*self._by_key.get(key, ()), binding)

    def remove(self, binding: Binding) -> None:
        key = binding.routing_key
        bucket = tuple(b for b in self._by_key.get(key, ()) if b is not binding)
        if bucket:
            self._by_key[key] = bucket
        else:
            self._by_key.pop(key, None)

    def route(self, routing_key: str, headers: dict[str, Any]) -> Sequence[Binding]:
        return self._by_key.get(routing_key, ())

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        if binding.routing_key == routing_key:
            return None
        return f"`{binding.routing_key}` ≠ `{routing_key}`"
