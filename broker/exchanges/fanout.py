"""Fanout exchange: every binding matches; routing keys and headers are ignored."""

from __future__ import annotations

from typing import Any

from broker.exchanges.base import Binding


class FanoutRouter:
    type_name = "fanout"

    def __init__(self) -> None:
        self._bindings: list[Binding] = []

    def validate(self, binding: Binding) -> None:
        return None

    def add(self, binding: Binding) -> None:
        self._bindings.append(binding)

    def remove(self, binding: Binding) -> None:
        if binding in self._bindings:
            self._bindings.remove(binding)

    def route(self, routing_key: str, headers: dict[str, Any]) -> list[Binding]:
        return self._bindings

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        return None
