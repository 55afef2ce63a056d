"""Exchanges: list, declare (PUT), delete, the bindings they are source or destination of, and
publishing to one (as RabbitMQ's API has it, under the exchange).

Ours, beyond RabbitMQ: `repeat` and `rate` on publish start a simulated producer.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Response

from broker.message import properties_from_json
from broker.translatable import N_, TranslatableError
from web.api import inputs
from web.api.routing import route
from web.api.state import api_state, management_channel
from web.api.views import bindings, exchange_info, find, snapshot, snapshots
from web.serialize import json_safe
from web.toolkit import ApiError, bad_request, json_response, read_json_body


@route("exchanges", "GET")
def exchanges_all() -> Response:
    return json_response([exchange_info(e) for s in snapshots(None) for e in s["exchanges"]])


@route("exchanges/{vhost}", "GET")
def exchanges_in(vhost: str) -> Response:
    return json_response([exchange_info(e) for e in snapshot(inputs.vhost(vhost))["exchanges"]])


@route("exchanges/{vhost}/{name}", "GET")
def exchange_get(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    found = find(snapshot(vhost)["exchanges"], name, "exchange", vhost)
    return json_response(exchange_info(found))


@route("exchanges/{vhost}/{name}", "PUT")
def exchange_put(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    body = read_json_body(optional=True)
    if "type" not in body:
        raise bad_request("'type' is required", N_("one of direct, fanout, topic, headers"))
    exchange_type = inputs.exchange_type(body["type"], "'type'")
    durable = inputs.flag(body, "durable", True)
    auto_delete = inputs.flag(body, "auto_delete", False)
    internal = inputs.flag(body, "internal", False)
    arguments = inputs.arguments(body)
    existed = any(e["name"] == name for e in snapshot(vhost)["exchanges"])
    with management_channel(vhost) as channel:
        channel.exchange_declare(
            name, exchange_type, False, durable, auto_delete, internal, arguments
        )
    return Response(status=204 if existed else 201)


@route("exchanges/{vhost}/{name}", "DELETE")
def exchange_delete(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    if_unused = inputs.query_flag("if-unused")
    if name and not name.startswith("amq."):
        find(snapshot(vhost)["exchanges"], name, "exchange", vhost)
    with management_channel(vhost) as channel:
        channel.exchange_delete(name, if_unused)
    return Response(status=204)


@route("exchanges/{vhost}/{name}/bindings/source", "GET")
def exchange_bindings_source(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    state = snapshot(vhost)
    find(state["exchanges"], name, "exchange", vhost)
    return json_response([b for b in bindings(state) if b["source"] == name])


@route("exchanges/{vhost}/{name}/bindings/destination", "GET")
def exchange_bindings_destination(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    state = snapshot(vhost)
    find(state["exchanges"], name, "exchange", vhost)
    return json_response(
        [
            b
            for b in bindings(state, with_default=False)
            if b["destination_type"] == "exchange" and b["destination"] == name
        ]
    )


def _payload(body: dict[str, Any]) -> bytes:
    payload = body.get("payload", "")
    encoding = body.get("payload_encoding", "string")
    if not isinstance(payload, str):
        raise bad_request("'payload' must be a string")
    if encoding == "string":
        try:
            return payload.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("'payload' is not valid Unicode (a lone surrogate?)") from None
    if encoding == "base64":
        try:
            return base64.b64decode(payload.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise bad_request("'payload' is not valid base64") from None
    raise bad_request("'payload_encoding' must be 'string' or 'base64'")


@route("exchanges/{vhost}/{name}/publish", "POST")
def exchange_publish(vhost: str, name: str) -> Response:
    vhost, name = inputs.vhost(vhost), inputs.exchange_name(name)
    body = read_json_body()
    routing_key = inputs.text(body.get("routing_key", ""), "'routing_key'")
    payload = _payload(body)
    try:
        properties = properties_from_json(body.get("properties"))
    except TranslatableError as error:
        raise ApiError.refusal(error) from None
    mandatory = inputs.flag(body, "mandatory", False)
    repeat = inputs.int_field(body, "repeat", 1, 1, 1_000_000)
    if repeat > 1 or "rate" in body:
        return _publish_repeated(vhost, name, body, routing_key, repeat)
    with management_channel(vhost) as channel:
        result = channel.basic_publish(name, routing_key, payload, properties, mandatory)
    return json_response(
        {
            "routed": bool(result.routed_to),
            "message_id": result.message_id,
            "queues": result.routed_to,
            "returned": result.returned,
            "confirmed": result.confirmed,
        }
    )


def _publish_repeated(
    vhost: str, exchange: str, body: dict[str, Any], routing_key: str, repeat: int
) -> Response:
    """`repeat` + `rate` on publish: start a bounded simulated producer (202 Accepted)."""
    if body.get("payload_encoding", "string") != "string":
        raise bad_request("'repeat' works with string payloads (which may hold {n} etc.)")
    options = {
        "kind": "producer",
        "vhost": vhost,
        "exchange": exchange,
        "routing_key": routing_key,
        "body": body.get("payload", ""),
        "count": repeat,
        "rate": body.get("rate", 10),
        "properties": body.get("properties") or {},
    }
    return json_response({"simulation": json_safe(api_state().start_simulation(options))}, 202)
