"""Declare arguments: checking `x-…` queue arguments and redeclare equivalence, as RabbitMQ does.

RabbitMQ refuses a queue argument of the wrong type or range with 406 PRECONDITION_FAILED, and a
redeclare whose flags or arguments differ from the existing entity with 406 "inequivalent arg".
"""

from __future__ import annotations

from typing import Any

from broker.errors import kind_word, precondition
from broker.translatable import N_

OVERFLOW_MODES = ("drop-head", "reject-publish", "reject-publish-dlx")

# The arguments whose difference makes a redeclare inequivalent (RabbitMQ's list for classic
# queues); other x- arguments are recorded but not compared.
QUEUE_EQUIVALENCE_ARGS = (
    "x-expires",
    "x-message-ttl",
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-overflow",
    "x-queue-mode",
    "x-queue-type",
    "x-single-active-consumer",
)


def amqp_type_name(value: Any) -> str:
    """The AMQP table type RabbitMQ names in its messages for a value a Python client sends."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "signedint" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, bytes | str):
        return "longstr"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return "void"


def _display(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _invalid_arg(name: str, queue: str, vhost: str, detail: str) -> Exception:
    return precondition(
        f"invalid arg '{name}' for queue '{queue}' in vhost '{vhost}': {detail}", ARG_HINTS[name]
    )


# What each argument must be, as the hint of a refusal (one whole sentence each, to translate).
ARG_HINTS = {
    "x-queue-mode": N_("x-queue-mode must be default or lazy"),
    "x-message-ttl": N_("x-message-ttl must be a whole number of milliseconds, 0 or more"),
    "x-expires": N_("x-expires must be a whole number of milliseconds, 1 or more"),
    "x-max-length": N_("x-max-length must be a whole number of messages, 0 or more"),
    "x-max-length-bytes": N_("x-max-length-bytes must be a whole number of bytes, 0 or more"),
    "x-max-priority": N_("x-max-priority must be a whole number from 0 to 255"),
    "x-overflow": N_("x-overflow must be one of drop-head, reject-publish, reject-publish-dlx"),
    "x-dead-letter-exchange": N_("x-dead-letter-exchange must be an exchange name (a string)"),
    "x-dead-letter-routing-key": N_("x-dead-letter-routing-key must be a routing key (a string)"),
    "x-single-active-consumer": N_("x-single-active-consumer must be true or false"),
    "x-priority": N_(
        "x-priority must be a whole number: higher-priority consumers get messages first"
    ),
}
EXPIRATION_HINT = N_("expiration is a string holding a whole number of milliseconds, e.g. '5000'")


def _check_int(name: str, value: Any, minimum: int, queue: str, vhost: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_arg(name, queue, vhost, f'"expected integer, got {amqp_type_name(value)}"')
    if value < minimum:
        reason = "value_zero" if value == 0 else "value_negative"
        raise _invalid_arg(name, queue, vhost, f"{{{reason},{value}}}")


def validate_queue_arguments(arguments: dict[str, Any], queue: str, vhost: str) -> None:
    """Raise 406 for an x- argument RabbitMQ would refuse, with RabbitMQ's own wording."""
    for name, minimum in (
        ("x-message-ttl", 0),
        ("x-expires", 1),
        ("x-max-length", 0),
        ("x-max-length-bytes", 0),
        ("x-max-priority", 0),
    ):
        if name in arguments:
            _check_int(name, arguments[name], minimum, queue, vhost)
    if arguments.get("x-max-priority", 0) > 255:
        detail = f"{{max_value_exceeded,{arguments['x-max-priority']}}}"
        raise _invalid_arg("x-max-priority", queue, vhost, detail)
    if "x-overflow" in arguments and _display(arguments["x-overflow"]) not in OVERFLOW_MODES:
        raise _invalid_arg("x-overflow", queue, vhost, "invalid_overflow")
    for name in ("x-dead-letter-exchange", "x-dead-letter-routing-key"):
        if name in arguments and not isinstance(arguments[name], str | bytes):
            raise precondition(
                f"invalid type '{amqp_type_name(arguments[name])}' for arg '{name}' "
                f"in queue '{queue}' in vhost '{vhost}'",
                ARG_HINTS[name],
            )
    if "x-dead-letter-routing-key" in arguments and "x-dead-letter-exchange" not in arguments:
        raise _invalid_arg(
            "x-dead-letter-routing-key", queue, vhost, "routing_key_but_no_dlx_defined"
        )
    single_active = arguments.get("x-single-active-consumer", False)
    if not isinstance(single_active, bool):
        detail = f"{{unacceptable_type,{amqp_type_name(single_active)}}}"
        raise _invalid_arg("x-single-active-consumer", queue, vhost, detail)


def consumer_priority(arguments: dict[str, Any], queue: str, vhost: str) -> int:
    """basic.consume's x-priority (default 0): any whole number, negative too, as in RabbitMQ."""
    priority = arguments.get("x-priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        detail = f'"expected integer, got {amqp_type_name(priority)}"'
        raise _invalid_arg("x-priority", queue, vhost, detail)
    return priority


def inequivalent_flag(
    flag: str, kind: str, name: str, vhost: str, received: Any, current: Any
) -> Exception:
    return precondition(
        f"inequivalent arg '{flag}' for {kind} '{name}' in vhost '{vhost}': "
        f"received '{_display(received)}' but current is '{_display(current)}'",
        N_(
            "the %(kind)s already exists with %(flag)s=%(current)s; declare it the same way, "
            "or delete it first"
        ),
        {"kind": kind_word(kind), "flag": flag, "current": _display(current)},
    )


def _described(arguments: dict[str, Any], name: str, other: dict[str, Any]) -> str:
    """RabbitMQ's wording: 'x' when both sides have the argument, else "the value 'x' of type …"."""
    if name not in arguments:
        return "none"
    if name in other:
        return f"'{_display(arguments[name])}'"
    return f"the value '{_display(arguments[name])}' of type '{amqp_type_name(arguments[name])}'"


def check_arguments_equivalent(
    kind: str,
    name: str,
    vhost: str,
    received: dict[str, Any],
    current: dict[str, Any],
    compared: tuple[str, ...],
) -> None:
    """406 "inequivalent arg" when a compared argument differs (others are not compared)."""
    for arg in compared:
        new, old = received.get(arg), current.get(arg)
        if (arg in received) == (arg in current) and new == old and type(new) is type(old):
            continue
        raise precondition(
            f"inequivalent arg '{arg}' for {kind} '{name}' in vhost '{vhost}': "
            f"received {_described(received, arg, current)} "
            f"but current is {_described(current, arg, received)}",
            N_(
                "a %(kind)s's arguments cannot change: declare it with the same arguments, "
                "or delete it first"
            ),
            {"kind": kind_word(kind)},
        )


def check_priority(priority: object) -> None:
    """A message priority is an AMQP octet; only the in-process API can send anything else."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 255:
        raise precondition(
            f"invalid priority {priority!r}: not a whole number from 0 to 255",
            N_(
                "priority is an integer from 0 to 255; "
                "a priority queue caps it at its x-max-priority"
            ),
        )


def check_expiration(expiration: str | None) -> None:
    """Per-message TTL is a string of milliseconds; RabbitMQ refuses anything else with 406."""
    if expiration is None:
        return
    if not isinstance(expiration, str):
        raise precondition(
            f"invalid expiration {expiration!r}: not a string",
            EXPIRATION_HINT,
        )
    text = expiration
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits[0].isdigit():
        detail = "no_integer"
    else:
        end = len(digits) - len(digits.lstrip("0123456789"))
        value = int(text[: len(text) - len(digits) + end])
        if end < len(digits):
            detail = f'{{leftover_string,"{digits[end:]}"}}'
        elif value < 0:
            detail = f"{{value_negative,{value}}}"
        elif value >= 2**32:
            detail = f"{{value_too_large,{value}}}"
        else:
            return
    raise precondition(
        f"invalid expiration '{expiration}': {detail}",
        EXPIRATION_HINT,
    )
