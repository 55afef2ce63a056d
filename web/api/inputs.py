"""Reading what a request asks for: names, flags, numbers and arguments, each checked.

Every reader raises the toolkit's ApiError (400) with a sentence saying what was wrong, so bad
input never reaches the broker as something it cannot take, and never gives a 500.
"""

from __future__ import annotations

from typing import Any

from flask import request

from broker.exchanges import ROUTERS
from broker.message import MAX_SHORTSTR_BYTES
from broker.translatable import N_
from web.api.state import broker
from web.toolkit import ApiError, bad_request, invalid_exchange_type

DEFAULT_EXCHANGE_ALIAS = "amq.default"  # how RabbitMQ's API spells the default exchange


def text(value: Any, what: str, allow_empty: bool = True) -> str:
    """An AMQP short string: at most 255 bytes of UTF-8."""
    if not isinstance(value, str):
        raise bad_request(f"{what} must be a string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise bad_request(f"{what} is not valid Unicode (a lone surrogate?)") from None
    if size > MAX_SHORTSTR_BYTES:
        raise bad_request(
            f"{what} is {size} bytes long in UTF-8; AMQP allows at most {MAX_SHORTSTR_BYTES}",
            N_("names and routing keys are AMQP short strings"),
        )
    if not allow_empty and not value:
        raise bad_request(f"{what} must not be empty")
    return value


def flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise bad_request(f"'{key}' must be true or false")


def arguments(body: dict[str, Any], key: str = "arguments") -> dict[str, Any]:
    """An x-arguments table; its names are short strings."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{key}' must be an object")
    for name in value:
        text(name, f"the argument name '{name[:50]}'")
    return value


def int_field(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # RabbitMQ's own UI sends numbers as strings
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{key}' must be a whole number")
    if not low <= value <= high:
        raise bad_request(f"'{key}' must be between {low} and {high}")
    return value


def query_flag(name: str) -> bool:
    value = request.args.get(name)
    if value is None:
        return False
    if value in ("true", "false"):
        return value == "true"
    raise bad_request(f"the query parameter {name} must be true or false")


def query_int(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"the query parameter {name} must be a whole number") from None
    if not low <= number <= high:
        raise bad_request(f"the query parameter {name} must be between {low} and {high}")
    return number


def vhost(name: str) -> str:
    """A vhost that exists."""
    text(name, "the vhost name")
    if name not in broker().vhosts:
        raise ApiError(
            404,
            "not_found",
            f"NOT_FOUND - no vhost '{name}'",
            N_("the default vhost is '/', written %2F in a path"),
            404,
        )
    return name


def exchange_name(name: str) -> str:
    """An exchange name from a path: `amq.default` is the default exchange, ""."""
    text(name, "the exchange name")
    return "" if name == DEFAULT_EXCHANGE_ALIAS else name


def exchange_type(value: Any, what: str) -> str:
    """One of the exchange types the broker knows."""
    name = text(value, what)
    if name not in ROUTERS:
        raise invalid_exchange_type(name)
    return name
