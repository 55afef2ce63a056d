"""Queues: list, declare (PUT), delete, purge, their bindings, and reading messages from one:
`get` (RabbitMQ's, with every ack mode) and `peek` (ours: look without taking)."""

from __future__ import annotations

import base64
from typing import Any

from flask import Response

from broker import Delivery
from broker.message import describe_message
from broker.translatable import N_
from web.api import inputs
from web.api.routing import route
from web.api.state import broker, management_channel
from web.api.views import bindings, consumer_info, find, snapshot, snapshots
from web.serialize import json_safe
from web.toolkit import bad_request, json_response, read_json_body

# ackmode → (settle verb, requeue); RabbitMQ's four plus QueueLab's.
ACK_MODES = {
    "ack_requeue_true": ("nack", True),
    "ack_requeue_false": ("ack", False),
    "reject_requeue_true": ("reject", True),
    "reject_requeue_false": ("reject", False),
    "ack": ("ack", False),
    "nack_requeue_true": ("nack", True),
    "nack_requeue_false": ("nack", False),
}


@route("queues", "GET")
def queues_all() -> Response:
    return json_response([json_safe(q) for s in snapshots(None) for q in s["queues"]])


@route("queues/{vhost}", "GET")
def queues_in(vhost: str) -> Response:
    return json_response([json_safe(q) for q in snapshot(inputs.vhost(vhost))["queues"]])


@route("queues/{vhost}/{name}", "GET")
def queue_get(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name")
    state = snapshot(vhost)
    queue = find(state["queues"], name, "queue", vhost)
    consumers = [c for c in state["consumers"] if c["queue"] == name]
    return json_response(
        {**json_safe(queue), "consumer_details": [consumer_info(c, vhost) for c in consumers]}
    )


@route("queues/{vhost}/{name}", "PUT")
def queue_put(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name", allow_empty=False)
    body = read_json_body(optional=True)
    durable = inputs.flag(body, "durable", True)
    auto_delete = inputs.flag(body, "auto_delete", False)
    if inputs.flag(body, "exclusive", False):
        raise bad_request(
            "the management API cannot declare exclusive queues",
            N_("an exclusive queue belongs to the client connection that declares it"),
        )
    arguments = inputs.arguments(body)
    existed = any(q["name"] == name for q in snapshot(vhost)["queues"])
    with management_channel(vhost) as channel:
        channel.queue_declare(name, False, durable, False, auto_delete, arguments)
    return Response(status=204 if existed else 201)


@route("queues/{vhost}/{name}", "DELETE")
def queue_delete(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name")
    if_unused, if_empty = inputs.query_flag("if-unused"), inputs.query_flag("if-empty")
    find(snapshot(vhost)["queues"], name, "queue", vhost)
    with management_channel(vhost) as channel:
        channel.queue_delete(name, if_unused, if_empty)
    return Response(status=204)


@route("queues/{vhost}/{name}/contents", "DELETE")
def queue_purge(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name")
    with management_channel(vhost) as channel:
        channel.queue_purge(name)
    return Response(status=204)


@route("queues/{vhost}/{name}/bindings", "GET")
def queue_bindings(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name")
    state = snapshot(vhost)
    find(state["queues"], name, "queue", vhost)
    return json_response(
        [
            b
            for b in bindings(state)
            if b["destination_type"] == "queue" and b["destination"] == name
        ]
    )


@route("queues/{vhost}/{name}/get", "POST")
def queue_get_messages(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name", allow_empty=False)
    body = read_json_body()
    count = inputs.int_field(body, "count", 1, 1, 10_000)
    ackmode = body.get("ackmode", "ack_requeue_true")
    if ackmode not in ACK_MODES:
        raise bad_request(f"'ackmode' must be one of {', '.join(ACK_MODES)}")
    encoding = body.get("encoding", "auto")
    if encoding not in ("auto", "base64"):
        raise bad_request("'encoding' must be 'auto' or 'base64'")
    truncate = body.get("truncate")
    if truncate is not None:
        truncate = inputs.int_field(body, "truncate", 0, 1, 2**31)
    verb, requeue = ACK_MODES[ackmode]
    with management_channel(vhost) as channel:
        deliveries: list[Delivery] = []
        try:
            for _ in range(count):
                delivery = channel.basic_get(name, False)
                if delivery is None:
                    break
                deliveries.append(delivery)
            out = [_got_message(d, encoding, truncate) for d in deliveries]
            for delivery in deliveries:
                if verb == "ack":
                    channel.basic_ack(delivery.delivery_tag)
                elif verb == "nack":
                    channel.basic_nack(delivery.delivery_tag, requeue=requeue)
                else:
                    channel.basic_reject(delivery.delivery_tag, requeue=requeue)
        except BaseException:
            if deliveries and not channel.closed:
                channel.close()  # requeues whatever this request still held
            raise
    return json_response(out)


def _got_message(delivery: Delivery, encoding: str, truncate: int | None) -> dict[str, Any]:
    described = describe_message(delivery.message, body_limit=truncate or 2**62)
    if encoding == "base64":
        body = delivery.message.body[: truncate or None]
        described["payload"] = base64.b64encode(body).decode()
        described["payload_encoding"] = "base64"
    return json_safe(
        {
            "payload_bytes": described["payload_bytes"],
            "redelivered": delivery.redelivered,
            "exchange": described["exchange"],
            "routing_key": described["routing_key"],
            "message_count": delivery.message_count,
            "properties": described["properties"],
            "payload": described["payload"],
            "payload_encoding": described["payload_encoding"],
            "message_id": described["message_id"],
            "truncated": described["truncated"],
        }
    )


@route("queues/{vhost}/{name}/peek", "GET")
def queue_peek(vhost: str, name: str) -> Response:
    vhost = inputs.vhost(vhost)
    inputs.text(name, "the queue name")
    count = inputs.query_int("count", 10, 1, 1_000)
    return json_response(json_safe(broker().peek(vhost, name, count)))
