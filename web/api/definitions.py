"""Definitions: export the declared exchanges, queues and bindings as RabbitMQ's JSON, and import
such a file (every entry is checked before anything is declared)."""

from __future__ import annotations

from typing import Any

from flask import Response

from web.api import inputs
from web.api.routing import route
from web.api.state import broker, management_channel
from web.api.views import snapshots
from web.serialize import json_safe
from web.toolkit import bad_request, json_response, read_json_body

_EXCHANGE_FIELDS = ("name", "vhost", "type", "durable", "auto_delete", "internal", "arguments")
_QUEUE_FIELDS = ("name", "vhost", "durable", "auto_delete", "arguments")
_BINDING_FIELDS = (
    "source",
    "vhost",
    "destination",
    "destination_type",
    "routing_key",
    "arguments",
)


def _pick(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: item[field] for field in fields}


def _export(vhost: str | None) -> dict[str, Any]:
    """What the vhost (or every vhost) declares; not the broker's own exchanges, nor exclusive
    queues (they belong to a connection) and their bindings."""
    exchanges, queues, bindings = [], [], []
    every = snapshots(vhost)
    for state in every:
        exchanges += [
            _pick(e, _EXCHANGE_FIELDS)
            for e in state["exchanges"]
            if e["name"] and not e["name"].startswith("amq.")
        ]
        exclusive = {q["name"] for q in state["queues"] if q["exclusive"]}
        queues += [_pick(q, _QUEUE_FIELDS) for q in state["queues"] if q["name"] not in exclusive]
        bindings += [
            _pick(b, _BINDING_FIELDS)
            for b in state["bindings"]
            if not (b["destination_type"] == "queue" and b["destination"] in exclusive)
        ]
    return json_safe(
        {
            "rabbit_version": "3.10.8",
            "product_name": "QueueLab",
            "users": [],
            "vhosts": [{"name": s["vhost"]} for s in every],
            "permissions": [],
            "topic_permissions": [],
            "parameters": [],
            "global_parameters": [],
            "policies": [],
            "queues": queues,
            "exchanges": exchanges,
            "bindings": bindings,
        }
    )


@route("definitions", "GET")
def definitions_get() -> Response:
    return json_response(_export(None))


@route("definitions/{vhost}", "GET")
def definitions_get_vhost(vhost: str) -> Response:
    return json_response(_export(inputs.vhost(vhost)))


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request(f"'{key}' must be a list of objects")
    return items


class _Definitions:
    """An import file read and checked: every entry as the arguments of its declare call."""

    def __init__(self, body: dict[str, Any], only_vhost: str | None) -> None:
        self.only_vhost = only_vhost
        self.vhosts = [
            inputs.text(v.get("name"), "a vhost's 'name'", allow_empty=False)
            for v in _items(body, "vhosts")
        ]
        self.exchanges = [self._exchange(e) for e in _items(body, "exchanges")]
        self.queues = [self._queue(q) for q in _items(body, "queues")]
        self.bindings = [self._binding(b) for b in _items(body, "bindings")]

    def _vhost_of(self, item: dict[str, Any]) -> str:
        if self.only_vhost is not None:
            return self.only_vhost
        return inputs.text(item.get("vhost", "/"), "'vhost'", allow_empty=False)

    def _exchange(self, e: dict[str, Any]) -> tuple[Any, ...]:
        exchange_type = inputs.exchange_type(e.get("type", "direct"), "an exchange's 'type'")
        return (
            self._vhost_of(e),
            inputs.text(e.get("name"), "an exchange's 'name'", allow_empty=False),
            exchange_type,
            inputs.flag(e, "durable", True),
            inputs.flag(e, "auto_delete", False),
            inputs.flag(e, "internal", False),
            inputs.arguments(e),
        )

    def _queue(self, q: dict[str, Any]) -> tuple[Any, ...]:
        return (
            self._vhost_of(q),
            inputs.text(q.get("name"), "a queue's 'name'", allow_empty=False),
            inputs.flag(q, "durable", True),
            inputs.flag(q, "auto_delete", False),
            inputs.arguments(q),
        )

    def _binding(self, b: dict[str, Any]) -> tuple[Any, ...]:
        kind = b.get("destination_type", "queue")
        if kind not in ("queue", "exchange"):
            raise bad_request("a binding's 'destination_type' must be 'queue' or 'exchange'")
        return (
            self._vhost_of(b),
            inputs.text(b.get("source"), "a binding's 'source'"),
            kind,
            inputs.text(b.get("destination"), "a binding's 'destination'", allow_empty=False),
            inputs.text(b.get("routing_key", ""), "a binding's 'routing_key'"),
            inputs.arguments(b),
        )

    def declare(self) -> dict[str, int]:
        """Declare vhosts, exchanges, queues and bindings in turn; how many of each."""
        if self.only_vhost is None:
            for name in self.vhosts:
                broker().add_vhost(name)
        for name in {item[0] for item in (*self.exchanges, *self.queues, *self.bindings)}:
            inputs.vhost(name)
        for vhost, name, exchange_type, *flags in self.exchanges:
            with management_channel(vhost) as channel:
                channel.exchange_declare(name, exchange_type, False, *flags)
        for vhost, name, durable, auto_delete, arguments in self.queues:
            with management_channel(vhost) as channel:
                channel.queue_declare(name, False, durable, False, auto_delete, arguments)
        for vhost, *binding in self.bindings:
            with management_channel(vhost) as channel:
                channel.bind(*binding)
        return {
            "vhosts": len(self.vhosts),
            "exchanges": len(self.exchanges),
            "queues": len(self.queues),
            "bindings": len(self.bindings),
        }


@route("definitions", "POST")
def definitions_post() -> Response:
    return json_response({"imported": _Definitions(read_json_body(), None).declare()}, 201)


@route("definitions/{vhost}", "POST")
def definitions_post_vhost(vhost: str) -> Response:
    body = read_json_body()
    return json_response({"imported": _Definitions(body, inputs.vhost(vhost)).declare()}, 201)
