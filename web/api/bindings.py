"""Bindings: from an exchange to a queue (`e/{source}/q/{queue}`) or to an exchange
(`e/{source}/e/{exchange}`), named by RabbitMQ's properties_key (the routing key plus a hash of
the arguments)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response

from broker.exchanges.base import properties_key
from broker.translatable import N_
from web.api import inputs
from web.api.routing import route
from web.api.state import management_channel
from web.api.views import bindings, find, snapshot, snapshots
from web.toolkit import ApiError, json_response, read_json_body


@route("bindings", "GET")
def bindings_all() -> Response:
    return json_response([b for s in snapshots(None) for b in bindings(s)])


@route("bindings/{vhost}", "GET")
def bindings_in(vhost: str) -> Response:
    return json_response(bindings(snapshot(inputs.vhost(vhost))))


def _between(vhost: str, source: str, kind: str, destination: str) -> list[dict[str, Any]]:
    """The bindings from `source` to `destination` (both must exist)."""
    state = snapshot(vhost)
    find(state["exchanges"], source, "exchange", vhost)
    find(state["queues" if kind == "queue" else "exchanges"], destination, kind, vhost)
    return [
        b
        for b in bindings(state)
        if b["source"] == source
        and b["destination_type"] == kind
        and b["destination"] == destination
    ]


def _names(vhost: str, source: str, destination: str, kind: str) -> tuple[str, str, str]:
    vhost, source = inputs.vhost(vhost), inputs.exchange_name(source)
    if kind == "queue":
        inputs.text(destination, "the queue name")
    else:
        destination = inputs.exchange_name(destination)
    return vhost, source, destination


def _list(vhost: str, source: str, destination: str, kind: str) -> Response:
    vhost, source, destination = _names(vhost, source, destination, kind)
    return json_response(_between(vhost, source, kind, destination))


def _create(vhost: str, source: str, destination: str, kind: str) -> Response:
    vhost, source, destination = _names(vhost, source, destination, kind)
    body = read_json_body(optional=True)
    routing_key = inputs.text(body.get("routing_key", ""), "'routing_key'")
    arguments = inputs.arguments(body)
    with management_channel(vhost) as channel:
        channel.bind(source, kind, destination, routing_key, arguments)
    props = properties_key(routing_key, arguments)
    letter = "q" if kind == "queue" else "e"
    location = "/api/bindings/{}/e/{}/{}/{}/{}".format(
        *(quote(part, safe="") for part in (vhost, source or inputs.DEFAULT_EXCHANGE_ALIAS)),
        letter,
        *(quote(part, safe="") for part in (destination, props)),
    )
    return Response(status=201, headers={"Location": location})


def _find(vhost: str, source: str, destination: str, kind: str, props: str) -> dict[str, Any]:
    vhost, source, destination = _names(vhost, source, destination, kind)
    for binding in _between(vhost, source, kind, destination):
        if binding["properties_key"] == props:
            return binding
    raise ApiError(
        404,
        "not_found",
        f"NOT_FOUND - no binding '{props}' from exchange '{source}' to {kind} '{destination}' "
        f"in vhost '{vhost}'",
        N_("list the bindings between the two to see their properties_key"),
        404,
    )


def _delete(vhost: str, source: str, destination: str, kind: str, props: str) -> Response:
    binding = _find(vhost, source, destination, kind, props)
    vhost, source, destination = _names(vhost, source, destination, kind)
    with management_channel(vhost) as channel:
        channel.unbind(source, kind, destination, binding["routing_key"], binding["arguments"])
    return Response(status=204)


@route("bindings/{vhost}/e/{source}/q/{destination}", "GET")
def bindings_eq(vhost: str, source: str, destination: str) -> Response:
    return _list(vhost, source, destination, "queue")


@route("bindings/{vhost}/e/{source}/q/{destination}", "POST")
def bindings_eq_create(vhost: str, source: str, destination: str) -> Response:
    return _create(vhost, source, destination, "queue")


@route("bindings/{vhost}/e/{source}/q/{destination}/{props}", "GET")
def binding_eq(vhost: str, source: str, destination: str, props: str) -> Response:
    return json_response(_find(vhost, source, destination, "queue", props))


@route("bindings/{vhost}/e/{source}/q/{destination}/{props}", "DELETE")
def binding_eq_delete(vhost: str, source: str, destination: str, props: str) -> Response:
    return _delete(vhost, source, destination, "queue", props)


@route("bindings/{vhost}/e/{source}/e/{destination}", "GET")
def bindings_ee(vhost: str, source: str, destination: str) -> Response:
    return _list(vhost, source, destination, "exchange")


@route("bindings/{vhost}/e/{source}/e/{destination}", "POST")
def bindings_ee_create(vhost: str, source: str, destination: str) -> Response:
    return _create(vhost, source, destination, "exchange")


@route("bindings/{vhost}/e/{source}/e/{destination}/{props}", "GET")
def binding_ee(vhost: str, source: str, destination: str, props: str) -> Response:
    return json_response(_find(vhost, source, destination, "exchange", props))


@route("bindings/{vhost}/e/{source}/e/{destination}/{props}", "DELETE")
def binding_ee_delete(vhost: str, source: str, destination: str, props: str) -> Response:
    return _delete(vhost, source, destination, "exchange", props)
