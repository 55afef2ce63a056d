"""Direct exchange: a binding matches when its key equals the routing key, exactly."""

from __future__ import annotations

from typing import Any

from broker.exchanges.base import Binding


class DirectRouter:
    type_name = "direct"

    def __init__(self) -> None:
        self._by_key: dict[str, list[Binding]] = {}

    def validate(self, binding: Binding) -> None:
        return None

    def add(self, binding: Binding) -> None:
        self._by_key.setdefault(binding.routing_key, []).append(binding)

    def remove(self, binding: Binding) -> None:
        bucket = self._by_key.get(binding.routing_key, [])
        if binding in bucket:
            bucket.remove(binding)
        if not bucket:
            self._by_key.pop(binding.routing_key, None)

    def route(self, routing_key: str, headers: dict[str, Any]) -> list[Binding]:
        return self._by_key.get(routing_key, [])

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        if binding.routing_key == routing_key:
            return None
        return f"`{binding.routing_key}` ≠ `{routing_key}`"
