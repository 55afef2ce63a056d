"""Ours, beyond RabbitMQ: the broker's recent events, one message's history, and the event
vocabulary (every event type, its family and its fields)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

from broker.translatable import N_
from broker.vocabulary import vocabulary
from web.api import inputs
from web.api.routing import route
from web.api.state import broker
from web.serialize import event_dict
from web.toolkit import ApiError, bad_request, json_response

# The fields by which `?entity=` finds an event.
_ENTITY_FIELDS = ("queue", "exchange", "name", "source", "destination", "connection")


def _type_matcher(spec: str | None) -> Callable[[str], bool]:
    """`published,queue.*`: these types exactly, or any type starting with `queue.`."""
    if not spec:
        return lambda _type: True
    exact, prefixes = set(), []
    for part in spec.split(","):
        part = part.strip()
        if part.endswith("*"):
            prefixes.append(part[:-1])
        elif part:
            exact.add(part)
    return lambda t: t in exact or any(t.startswith(p) for p in prefixes)


@route("events", "GET")
def events() -> Response:
    """Recent events, oldest first: after `since` (the first `limit` of them), else the last
    `limit`; filtered by `type` (comma-separated, `queue.*` for a prefix), `entity` (a queue,
    exchange or connection name) and `vhost`."""
    source = broker()
    since = inputs.query_int("since", None, 0, 2**63)
    limit = inputs.query_int("limit", 100, 1, 5_000)
    wants_type = _type_matcher(request.args.get("type"))
    entity = request.args.get("entity")
    vhost = request.args.get("vhost")
    last_seq = source.events.last_seq
    found = []
    for event in source.events.recent(since_seq=since or 0):
        if not wants_type(event.type):
            continue
        if vhost is not None and event.data.get("vhost") != vhost:
            continue
        if entity is not None and not any(event.data.get(f) == entity for f in _ENTITY_FIELDS):
            continue
        found.append(event)
    found = found[:limit] if since is not None else found[-limit:]
    return json_response({"last_seq": last_seq, "events": [event_dict(e) for e in found]})


@route("messages/{message_id}/history", "GET")
def message_history(message_id: str) -> Response:
    """Every event that names this message, in order: published, routed, enqueued, delivered,
    acked, dead-lettered … (as far back as the broker's event history reaches)."""
    try:
        wanted = int(message_id)
    except ValueError:
        raise bad_request("a message id is a whole number") from None
    history = [e for e in broker().events.recent() if e.data.get("message_id") == wanted]
    if not history:
        raise ApiError(
            404,
            "not_found",
            f"NOT_FOUND - no events for message {wanted} in the recent history",
            N_("the broker keeps only the most recent events"),
            404,
        )
    return json_response(
        {
            "message_id": wanted,
            "complete": history[0].type == "published",
            "events": [event_dict(e) for e in history],
        }
    )


@route("event-types", "GET")
def event_types() -> Response:
    """The event vocabulary: {type: {"family", "fields", "problem"}} for every event type."""
    return json_response(vocabulary())
