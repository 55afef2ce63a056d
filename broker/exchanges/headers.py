"""Headers exchange: bindings match on message headers, not on the routing key.

`x-match` says how: `all` (every binding header present and equal, the default), `any` (at least
one), and since RabbitMQ 3.10 `all-with-x` / `any-with-x`, which also compare headers whose names
start with `x-` (plain all/any ignore those). A binding header with no value (None) only asks that
the message carries a header of that name.
"""

from __future__ import annotations

from typing import Any

from broker.arguments import amqp_type_name
from broker.errors import precondition
from broker.exchanges.base import Binding
from broker.translatable import N_

MATCH_MODES = ("all", "any", "all-with-x", "any-with-x")


def _mode(binding: Binding) -> str:
    mode = binding.arguments.get("x-match", "all")
    return mode.decode() if isinstance(mode, bytes) else mode


def _compared_args(binding: Binding) -> dict[str, Any]:
    with_x = _mode(binding).endswith("-with-x")
    return {
        name: value
        for name, value in binding.arguments.items()
        if name != "x-match" and (with_x or not name.startswith("x-"))
    }


def _same(expected: Any, actual: Any) -> bool:
    # AMQP tables are typed: 1 and True (or 1 and "1") are different values.
    return type(expected) is type(actual) and expected == actual


def _mismatch(name: str, expected: Any, headers: dict[str, Any]) -> str | None:
    if name not in headers:
        return f"header `{name}` missing"
    if expected is None:
        # RabbitMQ: a binding header without a value asks only for presence, but a message
        # header that is itself void does not count as present.
        return None if headers[name] is not None else f"header `{name}` has no value"
    if _same(expected, headers[name]):
        return None
    return f"header `{name}`: `{headers[name]!r}` ≠ `{expected!r}`"


class HeadersRouter:
    type_name = "headers"

    def __init__(self) -> None:
        self._bindings: list[Binding] = []

    def validate(self, binding: Binding) -> None:
        mode = binding.arguments.get("x-match", "all")
        hint = N_("set x-match to all, any, all-with-x or any-with-x")
        if isinstance(mode, bytes):
            mode = mode.decode("utf-8", "replace")
        if not isinstance(mode, str):
            raise precondition(
                f"Invalid x-match field type {amqp_type_name(mode)} (value {mode}); "
                "expected longstr",
                hint,
            )
        if mode not in MATCH_MODES:
            raise precondition(
                f'Invalid x-match field value <<"{mode}">>; '
                "expected all, any, all-with-x, or any-with-x",
                hint,
            )

    def add(self, binding: Binding) -> None:
        self._bindings.append(binding)

    def remove(self, binding: Binding) -> None:
        if binding in self._bindings:
            self._bindings.remove(binding)

    def route(self, routing_key: str, headers: dict[str, Any]) -> list[Binding]:
        return [b for b in self._bindings if self.explain(b, routing_key, headers) is None]

    def explain(self, binding: Binding, routing_key: str, headers: dict[str, Any]) -> str | None:
        compared = _compared_args(binding)
        problems = [
            problem
            for name, expected in compared.items()
            if (problem := _mismatch(name, expected, headers)) is not None
        ]
        if _mode(binding).startswith("all"):
            return "; ".join(problems) if problems else None
        if compared and len(problems) < len(compared):
            return None
        return "no header matched (x-match any)" if compared else "x-match any with no headers"
