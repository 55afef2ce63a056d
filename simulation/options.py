"""The options of a simulated consumer or producer, checked before anything starts.

The HTTP API hands the user's JSON to :func:`consumer_options` / :func:`producer_options`;
every option is checked (type, range, known name) and completed with its default, and a
refusal says which option and why (:class:`SimulationError`, a 400 on the API). People read the
refusals in the pages' forms, so each is a translatable template with named values (the API says
it in the reader's language).
"""

from __future__ import annotations

import math
from typing import Any

from broker.message import MAX_SHORTSTR_BYTES, properties_from_json
from broker.translatable import N_, TranslatableError

ACK_MODES = ("manual", "auto")
ON_FAILURE = ("nack-requeue", "reject-dlx", "crash")

CONSUMER_OPTIONS = {
    "kind",
    "queue",
    "vhost",
    "ack_mode",
    "prefetch",
    "processing_ms",
    "failure_rate",
    "on_failure",
    "reconnect_ms",
    "seed",
    "priority",
}
PRODUCER_OPTIONS = {
    "kind",
    "exchange",
    "vhost",
    "rate",
    "count",
    "routing_key",
    "body",
    "headers",
    "properties",
    "seed",
}


class SimulationError(TranslatableError):
    """Options a simulation cannot run with; the message says which and why."""


def consumer_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check and complete a simulated consumer's options (raises SimulationError)."""
    _known(options, CONSUMER_OPTIONS)
    return {
        "queue": _name(options, "queue"),
        "vhost": _name(options, "vhost", required=False, default="/"),
        "ack_mode": _choice(options, "ack_mode", ACK_MODES),
        "prefetch": _number(options, "prefetch", 10, 0, 65535, integer=True),
        "processing_ms": _number(options, "processing_ms", 0, 0, 600_000),
        "failure_rate": _number(options, "failure_rate", 0, 0, 1),
        "on_failure": _choice(options, "on_failure", ON_FAILURE),
        "reconnect_ms": _number(options, "reconnect_ms", 500, 0, 600_000),
        "seed": _seed(options),
        "priority": _number(options, "priority", 0, -(2**31), 2**31 - 1, integer=True),
    }


def producer_options(options: dict[str, Any]) -> dict[str, Any]:
    """Check and complete a simulated producer's options (raises SimulationError)."""
    _known(options, PRODUCER_OPTIONS)
    properties = options.get("properties") or {}
    if not isinstance(properties, dict):
        raise SimulationError(N_("'properties' must be an object"))
    headers = options.get("headers", properties.get("headers")) or {}
    try:
        checked = properties_from_json({**properties, "headers": headers})
    except TranslatableError as error:
        raise SimulationError(error.template, **error.values) from None
    body = options.get("body", "message {n}")
    if not isinstance(body, str):
        raise SimulationError(N_("'body' must be a string (a template)"))
    routing_key = _name(options, "routing_key", required=False, default="")
    return {
        "exchange": _name(options, "exchange"),
        "vhost": _name(options, "vhost", required=False, default="/"),
        "rate": _number(options, "rate", 10, 0.01, 100_000),
        "count": _number(options, "count", None, 1, 10_000_000, integer=True),
        "routing_key": routing_key,
        "body": body,
        "headers": checked.headers or {},
        "properties": {k: v for k, v in checked.to_dict().items() if k != "headers"},
        "seed": _seed(options),
    }


def _known(options: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(options) - allowed
    if unknown:
        raise SimulationError(
            N_("unknown option(s): %(unknown)s; known: %(known)s"),
            unknown=", ".join(sorted(map(str, unknown))),
            known=", ".join(sorted(allowed)),
        )


def _name(options: dict[str, Any], key: str, required: bool = True, default: str = "") -> str:
    value = options.get(key, None if required else default)
    if value is None:
        raise SimulationError(N_("'%(key)s' is required"), key=key)
    if not isinstance(value, str):
        raise SimulationError(N_("'%(key)s' must be a string"), key=key)
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SHORTSTR_BYTES:
        raise SimulationError(
            N_("'%(key)s' is longer than %(limit)s bytes (UTF-8)"),
            key=key,
            limit=MAX_SHORTSTR_BYTES,
        )
    return value


def _number(
    options: dict[str, Any],
    key: str,
    default: float | None,
    low: float,
    high: float,
    integer: bool = False,
) -> Any:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimulationError(N_("'%(key)s' must be a number"), key=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise SimulationError(N_("'%(key)s' must be a finite number"), key=key)
    if integer and value != int(value):
        raise SimulationError(N_("'%(key)s' must be a whole number"), key=key)
    if not low <= value <= high:
        raise SimulationError(
            N_("'%(key)s' must be between %(low)s and %(high)s"),
            key=key,
            low=f"{low:g}",
            high=f"{high:g}",
        )
    return int(value) if integer else float(value)


def _choice(options: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = options.get(key, allowed[0])
    if value not in allowed:
        raise SimulationError(
            N_("'%(key)s' must be one of %(choices)s"), key=key, choices=", ".join(allowed)
        )
    return value


def _seed(options: dict[str, Any]) -> int | None:
    return _number(options, "seed", None, -(2**63), 2**63 - 1, integer=True)
