"""Fanout exchange: every binding matches; routing keys and headers are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from broker.exchanges.base import Binding


class FanoutRouter:
    type_name = "fanout"

    def __init__(self) -> None:
        self._bindings: tuple[Binding, ...] = ()  # replaced on change: route() hands it out

    def validate(self, binding: Binding) -> None:
        return None

    def add(self, binding: Binding) -> None:
        self._bindings = (*self._bindings, binding)

    def remove(self, binding: Binding) -> None:
        self._bindings = tuple(b for b in self._bindings if b is not binding)

    def route(self, routing_key: str, headers: dict[str, Any]) -> Sequence[Binding]:
        return self._bindings

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        return None
