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
from broker.translatable import N_, Phrase, joined, phrase

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


def _holds(name: str, expected: Any, headers: dict[str, Any]) -> bool:
    """Whether the message's headers satisfy one binding header."""
    if name not in headers:
        return False
    if expected is None:
        # RabbitMQ: a binding header without a value asks only for presence, but a message
        # header that is itself void does not count as present.
        return headers[name] is not None
    return _same(expected, headers[name])


def _matches(binding: Binding, headers: dict[str, Any]) -> bool:
    compared = _compared_args(binding)
    holding = (_holds(name, expected, headers) for name, expected in compared.items())
    return all(holding) if _mode(binding).startswith("all") else any(holding)


def _mismatch(name: str, expected: Any, headers: dict[str, Any]) -> Phrase:
    """Why one binding header does not hold (`_holds` said it does not)."""
    if name not in headers:
        return phrase(N_("header `%(header)s` missing"), header=name)
    if expected is None:
        return phrase(N_("header `%(header)s` has no value"), header=name)
    return phrase(
        N_("header `%(header)s`: `%(actual)s` ≠ `%(expected)s`"),
        header=name,
        actual=repr(headers[name]),
        expected=repr(expected),
    )


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
        return [b for b in self._bindings if _matches(b, headers)]

    def explain(
        self, binding: Binding, routing_key: str, headers: dict[str, Any]
    ) -> Phrase | str | None:
        if _matches(binding, headers):
            return None
        compared = _compared_args(binding)
        if _mode(binding).startswith("all"):
            problems = [
                _mismatch(name, expected, headers)
                for name, expected in compared.items()
                if not _holds(name, expected, headers)
            ]
            return joined(problems, "; ")
        if compared:
            return phrase(N_("no header matched (x-match any)"))
        return phrase(N_("x-match any with no headers"))
