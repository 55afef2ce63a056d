"""Broker state as RabbitMQ's management API shows it: snapshots, found by name, in its shapes."""

from __future__ import annotations

from typing import Any

from broker import errors
from web.api.state import broker
from web.serialize import json_safe
from web.toolkit import ApiError


def snapshot(vhost: str) -> dict[str, Any]:
    return broker().snapshot(vhost)


def snapshots(vhost: str | None) -> list[dict[str, Any]]:
    """One vhost's snapshot, or every vhost's when `vhost` is None."""
    names = [vhost] if vhost is not None else list(broker().vhosts)
    return [broker().snapshot(name) for name in names]


def find(items: list[dict[str, Any]], name: str, kind: str, vhost: str) -> dict[str, Any]:
    """The item named `name`, or RabbitMQ's NOT_FOUND for a `kind` ("queue", "exchange")."""
    for item in items:
        if item["name"] == name:
            return item
    raise ApiError.from_amqp(errors.not_found(kind, name, vhost))


def exchange_info(info: dict[str, Any]) -> dict[str, Any]:
    return {**json_safe(info), "user_who_performed_action": "guest"}


def bindings(snapshot: dict[str, Any], with_default: bool = True) -> list[dict[str, Any]]:
    """A vhost's bindings as RabbitMQ lists them, with the default exchange's implicit
    binding to every queue first."""
    vhost = snapshot["vhost"]
    out = []
    if with_default:
        for queue in snapshot["queues"]:
            out.append(
                {
                    "source": "",
                    "vhost": vhost,
                    "destination": queue["name"],
                    "destination_type": "queue",
                    "routing_key": queue["name"],
                    "arguments": {},
                    "properties_key": queue["name"] or "~",
                }
            )
    out.extend(json_safe(b) for b in snapshot["bindings"])
    return out


def consumer_info(consumer: dict[str, Any], vhost: str) -> dict[str, Any]:
    return {
        **json_safe(consumer),
        "queue": {"name": consumer["queue"], "vhost": vhost},
        "channel_details": {
            "name": consumer["channel"],
            "connection_name": consumer["connection"],
        },
    }
