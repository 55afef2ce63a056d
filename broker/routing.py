"""Routing helpers: which keys a message is routed by, and the per-binding trace a page shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from broker import errors
from broker.exchanges import Binding
from broker.message import Message
from broker.translatable import N_, phrase

if TYPE_CHECKING:
    from broker.exchanges.exchange import Exchange


def routing_keys_for(message: Message) -> list[str]:
    """The routing key plus CC and BCC keys (RabbitMQ's sender-selected distribution)."""
    headers = message.properties.headers
    if not headers or ("CC" not in headers and "BCC" not in headers):
        return [message.routing_key]
    keys = [message.routing_key]
    for name in ("CC", "BCC"):
        extra = headers.get(name)
        if extra is None:
            continue
        if not isinstance(extra, list) or not all(isinstance(k, str | bytes) for k in extra):
            raise errors.precondition(
                f"unacceptable type in header {name}: expected an array of routing keys",
                N_("%(header)s lists extra routing keys, e.g. ['audit.eu']"),
                {"header": name},
            )
        keys.extend(k.decode() if isinstance(k, bytes) else k for k in extra)
    return keys


def routing_trace(
    exchange: Exchange,
    bindings: tuple[Binding, ...],
    routing_keys: list[str],
    headers: dict[str, Any],
    routed_to: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Each binding of the exchange, whether it matched, and if not, why not (a phrase, for the
    reader's language, when it has words). `bindings` and `routed_to` (the queues the message
    went to) are as they were when it was routed."""
    if exchange.is_default:
        key = routing_keys[0]
        found = key in routed_to
        return [
            {
                "destination": key,
                "destination_type": "queue",
                "routing_key": key,
                "matched": found,
                "reason": None if found else phrase(N_("no queue named `%(queue)s`"), queue=key),
            }
        ]
    trace = []
    for binding in bindings:
        reasons = [exchange.router.explain(binding, key, headers) for key in routing_keys]
        matched = any(reason is None for reason in reasons)
        trace.append(
            {
                **binding.ref(),
                "arguments": binding.arguments,
                "matched": matched,
                "reason": None if matched else reasons[0],
            }
        )
    return trace
