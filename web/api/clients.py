"""Who is connected: connections, channels and consumers (read only)."""

from __future__ import annotations

from flask import Response

from web.api import inputs
from web.api.routing import route
from web.api.views import consumer_info, snapshot, snapshots
from web.serialize import json_safe
from web.toolkit import json_response


@route("consumers", "GET")
def consumers_all() -> Response:
    return json_response(
        [consumer_info(c, s["vhost"]) for s in snapshots(None) for c in s["consumers"]]
    )


@route("consumers/{vhost}", "GET")
def consumers_in(vhost: str) -> Response:
    state = snapshot(inputs.vhost(vhost))
    return json_response([consumer_info(c, state["vhost"]) for c in state["consumers"]])


@route("connections", "GET")
def connections_all() -> Response:
    return json_response([json_safe(c) for s in snapshots(None) for c in s["connections"]])


@route("vhosts/{vhost}/connections", "GET")
def connections_in(vhost: str) -> Response:
    return json_response([json_safe(c) for c in snapshot(inputs.vhost(vhost))["connections"]])


@route("channels", "GET")
def channels_all() -> Response:
    return json_response([json_safe(c) for s in snapshots(None) for c in s["channels"]])


@route("vhosts/{vhost}/channels", "GET")
def channels_in(vhost: str) -> Response:
    return json_response([json_safe(c) for c in snapshot(inputs.vhost(vhost))["channels"]])
