"""GET /api/overview (object and queue totals, message rates) and the vhosts."""

from __future__ import annotations

from typing import Any

from flask import Response

from broker import Broker
from web.api import inputs
from web.api.routing import route
from web.api.state import broker
from web.api.views import snapshot, snapshots
from web.toolkit import json_response, read_json_body

RATE_WINDOW = 5.0  # seconds of events the overview's message rates are counted over
_RATE_KINDS = {
    "published": "publish",
    "delivered": "deliver_get",
    "acked": "ack",
    "unroutable": "return_unroutable",
}


def message_rates(source: Broker, now: float) -> dict[str, float]:
    """Messages per second over the last few seconds, counted from the event history."""
    counts = dict.fromkeys(_RATE_KINDS.values(), 0)
    oldest = now
    for event in reversed(source.events.recent()):
        if event.time < now - RATE_WINDOW:
            oldest = now - RATE_WINDOW
            break
        oldest = event.time
        kind = _RATE_KINDS.get(event.type)
        if kind and event.get("cause", "published") == "published":
            counts[kind] += 1
    span = max(now - oldest, 1.0)
    return {kind: round(count / span, 2) for kind, count in counts.items()}


@route("overview", "GET")
def overview() -> Response:
    source = broker()
    every = snapshots(None)
    totals = every[0]["totals"] if every else dict(source.totals)
    queues = [q for s in every for q in s["queues"]]
    message_stats: dict[str, Any] = {
        "publish": totals["published"],
        "deliver_get": totals["delivered"],
        "ack": totals["acked"],
        "return_unroutable": totals["unroutable"],
    }
    for kind, rate in message_rates(source, source.clock.wall()).items():
        message_stats[f"{kind}_details"] = {"rate": rate}
    return json_response(
        {
            "product_name": "QueueLab",
            "management_version": "3.10 (QueueLab)",
            "rabbitmq_version": "3.10 (QueueLab)",
            "object_totals": {
                "connections": sum(len(s["connections"]) for s in every),
                "channels": sum(len(s["channels"]) for s in every),
                "exchanges": sum(len(s["exchanges"]) for s in every),
                "queues": len(queues),
                "consumers": sum(len(s["consumers"]) for s in every),
            },
            "queue_totals": _message_counts(queues),
            "message_stats": message_stats,
            "totals": totals,
            "event_seq": source.events.last_seq,
        }
    )


def _message_counts(queues: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "messages": sum(q["messages"] for q in queues),
        "messages_ready": sum(q["messages_ready"] for q in queues),
        "messages_unacknowledged": sum(q["messages_unacknowledged"] for q in queues),
    }


def _vhost_info(state: dict[str, Any]) -> dict[str, Any]:
    return {"name": state["vhost"], **_message_counts(state["queues"])}


@route("vhosts", "GET")
def vhosts() -> Response:
    return json_response([_vhost_info(s) for s in snapshots(None)])


@route("vhosts/{vhost}", "GET")
def vhost_get(vhost: str) -> Response:
    return json_response(_vhost_info(snapshot(inputs.vhost(vhost))))


@route("vhosts/{vhost}", "PUT")
def vhost_put(vhost: str) -> Response:
    read_json_body(optional=True)
    inputs.text(vhost, "the vhost name", allow_empty=False)
    source = broker()
    existed = vhost in source.vhosts
    source.add_vhost(vhost)
    return Response(status=204 if existed else 201)
