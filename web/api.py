"""The HTTP API: RabbitMQ's management API paths and JSON, for the subset QueueLab supports.

    curl -s localhost:15672/api/queues/%2F
    curl -s -X PUT -H 'content-type: application/json' -d '{"durable": true}' \\
         localhost:15672/api/queues/%2F/orders

Paths. The vhost `/` is written `%2F`, and any name may hold '/', '%', spaces or any Unicode,
percent-encoded. WSGI servers hand the app PATH_INFO with `%2F` already decoded (so
`/api/queues/%2F/a%2Fb` arrives as `/api/queues///a/b`), so this module routes on the raw request
URI instead (`RAW_URI` / `REQUEST_URI`, set by Werkzeug, gunicorn and Flask's test client),
splitting it on '/' first and decoding each segment after.

Errors. Every error is JSON: `{"error": "not_found", "reason": "NOT_FOUND - no queue 'x' in vhost
'/'", "reply_code": 404, "hint": "declare the queue first"}`. The HTTP status is the AMQP reply
code for 403/404/405/406, 400 for other AMQP errors and for bad input, 413 for a body over
MAX_CONTENT_LENGTH, 415 for a body that is not JSON. Bad input never gives a 500.

Writes go through channels on one long-lived broker connection per vhost, kind "web", named
"management UI" (kept in a small pool, so pages do not flicker with channel churn); a channel a
request's error closed is dropped and a fresh one opened for the next request.

Ours, beyond RabbitMQ: `GET /api/queues/{vhost}/{name}/peek`, extra `ackmode`s on `get`,
`GET /api/events`, `GET /api/messages/{id}/history`, `/api/simulations` and `repeat`/`rate` on
publish (which start a simulated producer).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from broker import Broker, Channel, Connection, errors
from broker.errors import AMQPError
from broker.exchanges import ROUTERS
from broker.exchanges.base import properties_key
from broker.message import MAX_SHORTSTR_BYTES, describe_message, properties_from_json
from simulation import SimulationError, Simulations
from web.security import STATE_CHANGING, cross_site_reason
from web.serialize import event_dict, json_safe

log = logging.getLogger("queuelab.api")

api = Blueprint("api", __name__)

MAX_JSON_DEPTH = 32
DEFAULT_EXCHANGE_ALIAS = "amq.default"  # how RabbitMQ's API spells the default exchange
RATE_WINDOW = 5.0  # seconds of events the overview's message rates are counted over
_HTTP_STATUS = {403: 403, 404: 404, 405: 405, 406: 406, 320: 503}


# --- errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: HTTP status, a snake_case error name, the reason and a hint."""

    def __init__(
        self, status: int, error: str, reason: str, hint: str = "", reply_code: int | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.hint = hint
        self.reply_code = reply_code if reply_code is not None else status

    @classmethod
    def from_amqp(cls, error: AMQPError) -> ApiError:
        return cls(
            _HTTP_STATUS.get(error.reply_code, 400),
            error.name.lower(),
            error.reply_text,
            error.hint,
            error.reply_code,
        )

    def response(self) -> Response:
        body = {
            "error": self.error,
            "reason": self.reason,
            "reply_code": self.reply_code,
            "hint": self.hint,
        }
        return _json(body, self.status)


def bad_request(reason: str, hint: str = "") -> ApiError:
    return ApiError(400, "bad_request", reason, hint)


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(value, ensure_ascii=True, allow_nan=False)
    return Response(text, status, headers, mimetype="application/json")


def _no_content() -> Response:
    return Response(status=204)


# --- shared state: the broker, the management channels, the simulations ------------------


class ManagementChannels:
    """Channels on one "management UI" connection per vhost, reused across requests."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker
        self._lock = threading.Lock()
        self._connections: dict[str, Connection] = {}
        self._free: dict[str, list[Channel]] = {}

    @contextmanager
    def channel(self, vhost: str) -> Iterator[Channel]:
        channel = self._take(vhost)
        try:
            yield channel
        finally:
            if not channel.closed:
                with self._lock:
                    self._free.setdefault(vhost, []).append(channel)

    def _take(self, vhost: str) -> Channel:
        with self._lock:
            connection = self._connections.get(vhost)
            if connection is None or connection.closed:
                connection = self._broker.connect("management UI", vhost=vhost, kind="web")
                self._connections[vhost] = connection
                self._free[vhost] = []
            free = self._free[vhost]
            while free:
                channel = free.pop()
                if not channel.closed:
                    return channel
        return connection.channel()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            if not connection.closed:
                connection.close("management API stopped")


class ApiState:
    def __init__(self, broker: Broker, simulations: Simulations) -> None:
        self.broker = broker
        self.channels = ManagementChannels(broker)
        self.simulations = simulations


def _state() -> ApiState:
    return current_app.extensions["queuelab.api"]


def _broker() -> Broker:
    return _state().broker


# --- reading the request --------------------------------------------------------------------


def _raw_path() -> str:
    """The request path as the client sent it, still percent-encoded."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        return quote(request.path, safe="/")
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in raw.split("/", 1)[0] + "/" and raw.startswith(("http://", "https://")):
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    script = environ.get("SCRIPT_NAME", "")
    if script and raw.startswith(script):
        raw = raw[len(script) :]
    if environ.get("SERVER_SOFTWARE", "").startswith("Werkzeug/") and not raw.isascii():
        # Werkzeug's server applies the PEP 3333 latin-1 step to a line http.server already
        # decoded as latin-1, so unencoded UTF-8 bytes arrive wrapped twice: unwrap once.
        with suppress(UnicodeEncodeError, UnicodeDecodeError):
            raw = raw.encode("latin-1").decode("utf-8")
    return raw


def _segments() -> list[str]:
    """The path's segments after /api, each percent-decoded (a segment may hold '/')."""
    raw = _raw_path()
    parts = raw.split("/")[2:]  # "", "api", ...
    if parts and parts[-1] == "":
        parts.pop()  # one trailing slash is forgiven
    decoded = []
    for part in parts:
        try:
            decoded.append(unquote_to_bytes(part.encode("latin-1")).decode("utf-8"))
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise bad_request(
                "the path is not valid UTF-8 once percent-decoded",
                "percent-encode names as UTF-8, e.g. with encodeURIComponent",
            ) from None
    return decoded


def _depth_ok(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body when `optional`)."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise _too_large() from None
    if not raw.strip():
        if optional:
            return {}
        raise bad_request("a JSON object is required as the request body")
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be JSON, not {mimetype[:100]}",
            "send the header Content-Type: application/json",
        )
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise bad_request(f"the body is not valid JSON: {str(error)[:200]}") from None
    if not isinstance(value, dict):
        raise bad_request("the body must be a JSON object ({...})")
    if not _depth_ok(value):
        raise bad_request(f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
    return value


def _too_large() -> ApiError:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return ApiError(
        413,
        "payload_too_large",
        f"the request body is larger than the limit of {limit} bytes",
        "send a smaller message, or raise MAX_CONTENT_LENGTH",
    )


def _text(value: Any, what: str, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{what} must be a string")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise bad_request(f"{what} is not valid Unicode (a lone surrogate?)") from None
    if size > MAX_SHORTSTR_BYTES:
        raise bad_request(
            f"{what} is {size} bytes long in UTF-8; AMQP allows at most {MAX_SHORTSTR_BYTES}",
            "names and routing keys are AMQP short strings",
        )
    if not allow_empty and not value:
        raise bad_request(f"{what} must not be empty")
    return value


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise bad_request(f"'{key}' must be true or false")


def _arguments(body: dict[str, Any], key: str = "arguments") -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{key}' must be an object")
    for name in value:
        _text(name, f"the argument name '{name[:50]}'")
    return value


def _query_flag(name: str) -> bool:
    value = request.args.get(name)
    if value is None:
        return False
    if value in ("true", "false"):
        return value == "true"
    raise bad_request(f"the query parameter {name} must be true or false")


def _query_int(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"the query parameter {name} must be a whole number") from None
    if not low <= number <= high:
        raise bad_request(f"the query parameter {name} must be between {low} and {high}")
    return number


def _int_field(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # RabbitMQ's own UI sends numbers as strings
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{key}' must be a whole number")
    if not low <= value <= high:
        raise bad_request(f"'{key}' must be between {low} and {high}")
    return value


def _vhost(name: str) -> str:
    _text(name, "the vhost name")
    if name not in _broker().vhosts:
        raise ApiError(
            404,
            "not_found",
            f"NOT_FOUND - no vhost '{name}'",
            "the default vhost is '/', written %2F in a path",
            404,
        )
    return name


def _exchange_name(name: str) -> str:
    _text(name, "the exchange name")
    return "" if name == DEFAULT_EXCHANGE_ALIAS else name


def _amqp(call: Callable[..., Any], *args: Any) -> Any:
    """Run a broker call, turning an AMQP error into the API's error answer."""
    try:
        return call(*args)
    except AMQPError as error:
        raise ApiError.from_amqp(error) from None


# --- reading broker state -------------------------------------------------------------------


def _snapshot(vhost: str) -> dict[str, Any]:
    return _broker().snapshot(vhost)


def _snapshots(vhost: str | None) -> list[dict[str, Any]]:
    broker = _broker()
    names = [vhost] if vhost is not None else list(broker.vhosts)
    return [broker.snapshot(name) for name in names]


def _exchange_info(info: dict[str, Any]) -> dict[str, Any]:
    return {**json_safe(info), "user_who_performed_action": "guest"}


def _find(items: list[dict[str, Any]], name: str, kind: str, vhost: str) -> dict[str, Any]:
    for item in items:
        if item["name"] == name:
            return item
    raise ApiError.from_amqp(errors.not_found(kind, name, vhost))


def _binding_out(binding: dict[str, Any]) -> dict[str, Any]:
    return json_safe(binding)


def _bindings(snapshot: dict[str, Any], with_default: bool = True) -> list[dict[str, Any]]:
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
    out.extend(_binding_out(b) for b in snapshot["bindings"])
    return out


def _consumer_out(consumer: dict[str, Any], vhost: str) -> dict[str, Any]:
    return {
        **json_safe(consumer),
        "queue": {"name": consumer["queue"], "vhost": vhost},
        "channel_details": {
            "name": consumer["channel"],
            "connection_name": consumer["connection"],
        },
    }


# --- routing on the raw path ----------------------------------------------------------------

Handler = Callable[..., Response]
_ROUTES: list[tuple[tuple[str, ...], dict[str, Handler]]] = []


def route(pattern: str, *methods: str) -> Callable[[Handler], Handler]:
    """Register a handler for a path under /api; `{name}` segments are passed as arguments."""
    parts = tuple(pattern.strip("/").split("/")) if pattern.strip("/") else ()

    def decorate(handler: Handler) -> Handler:
        for existing, table in _ROUTES:
            if existing == parts:
                for method in methods:
                    table[method] = handler
                return handler
        _ROUTES.append((parts, dict.fromkeys(methods, handler)))
        return handler

    return decorate


def _match(segments: list[str]) -> tuple[dict[str, Handler], list[str]] | None:
    for parts, table in _ROUTES:
        if len(parts) != len(segments):
            continue
        args = []
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{"):
                if segment == "":
                    break
                args.append(segment)
            elif part != segment:
                break
        else:
            return table, args
    return None


@api.route(
    "/api/",
    defaults={"_rest": "/"},  # not "" as below, or Werkzeug redirects one to the other
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
    merge_slashes=False,
)
@api.route(
    "/api",
    defaults={"_rest": ""},
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
    merge_slashes=False,
)
@api.route(
    "/api/<anything:_rest>",
    methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
    merge_slashes=False,
)
def dispatch(_rest: str) -> Response:
    """Every /api request comes here and is routed on its raw, still-encoded path."""
    try:
        if request.method in STATE_CHANGING:
            reason = cross_site_reason(request)
            if reason:
                raise ApiError(
                    403,
                    "forbidden",
                    f"cross-site request refused: {reason}",
                    "use QueueLab's own pages, or a script or curl (which send no Origin)",
                )
        matched = _match(_segments())
        if matched is None:
            raise ApiError(404, "not_found", "Not Found", "see /api for the list of endpoints")
        table, args = matched
        method = "GET" if request.method == "HEAD" else request.method
        handler = table.get(method)
        if handler is None:
            allowed = ", ".join(sorted(table))
            error = ApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed}",
                "",
            )
            response = error.response()
            response.headers["Allow"] = allowed
            return response
        return handler(*args)
    except ApiError as error:
        return error.response()
    except AMQPError as error:
        return ApiError.from_amqp(error).response()
    except RequestEntityTooLarge:
        return _too_large().response()
    except HTTPException as error:
        return ApiError(
            error.code or 400, "bad_request", error.description or error.name
        ).response()
    except Exception:
        log.exception("API request failed: %s %s", request.method, request.path)
        return ApiError(
            500, "internal_error", "an unexpected error; it is logged", "please report it"
        ).response()


# --- overview, vhosts -----------------------------------------------------------------------


@route("/", "GET")
def index() -> Response:
    endpoints = []
    for parts, table in _ROUTES:
        path = "/api/" + "/".join(parts) if parts else "/api"
        endpoints.append({"path": path, "methods": sorted(table)})
    return _json({"endpoints": endpoints})


def _rates(broker: Broker, now: float) -> dict[str, float]:
    """Messages per second over the last few seconds, counted from the event history."""
    events = broker.events.recent()
    counts = {"publish": 0, "deliver_get": 0, "ack": 0, "return_unroutable": 0}
    kinds = {
        "published": "publish",
        "delivered": "deliver_get",
        "acked": "ack",
        "unroutable": "return_unroutable",
    }
    oldest = now
    for event in reversed(events):
        if event.time < now - RATE_WINDOW:
            oldest = now - RATE_WINDOW
            break
        oldest = event.time
        kind = kinds.get(event.type)
        if kind and event.get("cause", "published") == "published":
            counts[kind] += 1
    span = max(now - oldest, 1.0)
    return {kind: round(count / span, 2) for kind, count in counts.items()}


@route("overview", "GET")
def overview() -> Response:
    broker = _broker()
    snapshots = _snapshots(None)
    totals = snapshots[0]["totals"] if snapshots else dict(broker.totals)
    rates = _rates(broker, broker.clock.wall())
    queues = [q for s in snapshots for q in s["queues"]]
    message_stats: dict[str, Any] = {
        "publish": totals["published"],
        "deliver_get": totals["delivered"],
        "ack": totals["acked"],
        "return_unroutable": totals["unroutable"],
    }
    for kind, rate in rates.items():
        message_stats[f"{kind}_details"] = {"rate": rate}
    return _json(
        {
            "product_name": "QueueLab",
            "management_version": "3.10 (QueueLab)",
            "rabbitmq_version": "3.10 (QueueLab)",
            "object_totals": {
                "connections": sum(len(s["connections"]) for s in snapshots),
                "channels": sum(len(s["channels"]) for s in snapshots),
                "exchanges": sum(len(s["exchanges"]) for s in snapshots),
                "queues": len(queues),
                "consumers": sum(len(s["consumers"]) for s in snapshots),
            },
            "queue_totals": {
                "messages": sum(q["messages"] for q in queues),
                "messages_ready": sum(q["messages_ready"] for q in queues),
                "messages_unacknowledged": sum(q["messages_unacknowledged"] for q in queues),
            },
            "message_stats": message_stats,
            "totals": totals,
            "event_seq": broker.events.last_seq,
        }
    )


def _vhost_info(snapshot: dict[str, Any]) -> dict[str, Any]:
    queues = snapshot["queues"]
    return {
        "name": snapshot["vhost"],
        "messages": sum(q["messages"] for q in queues),
        "messages_ready": sum(q["messages_ready"] for q in queues),
        "messages_unacknowledged": sum(q["messages_unacknowledged"] for q in queues),
    }


@route("vhosts", "GET")
def vhosts() -> Response:
    return _json([_vhost_info(s) for s in _snapshots(None)])


@route("vhosts/{vhost}", "GET")
def vhost_get(vhost: str) -> Response:
    return _json(_vhost_info(_snapshot(_vhost(vhost))))


@route("vhosts/{vhost}", "PUT")
def vhost_put(vhost: str) -> Response:
    json_body(optional=True)
    _text(vhost, "the vhost name", allow_empty=False)
    broker = _broker()
    existed = vhost in broker.vhosts
    broker.add_vhost(vhost)
    return _no_content() if existed else Response(status=201)


# --- exchanges ------------------------------------------------------------------------------


@route("exchanges", "GET")
def exchanges_all() -> Response:
    return _json([_exchange_info(e) for s in _snapshots(None) for e in s["exchanges"]])


@route("exchanges/{vhost}", "GET")
def exchanges_in(vhost: str) -> Response:
    return _json([_exchange_info(e) for e in _snapshot(_vhost(vhost))["exchanges"]])


@route("exchanges/{vhost}/{name}", "GET")
def exchange_get(vhost: str, name: str) -> Response:
    vhost, name = _vhost(vhost), _exchange_name(name)
    snapshot = _snapshot(vhost)
    found = _find(snapshot["exchanges"], name, "exchange", vhost)
    return _json(_exchange_info(found))


@route("exchanges/{vhost}/{name}", "PUT")
def exchange_put(vhost: str, name: str) -> Response:
    vhost, name = _vhost(vhost), _exchange_name(name)
    body = json_body(optional=True)
    if "type" not in body:
        raise bad_request("'type' is required", "one of direct, fanout, topic, headers")
    exchange_type = _text(body["type"], "'type'")
    if exchange_type not in ROUTERS:
        # A connection error in AMQP; here it must not close the shared management connection.
        raise ApiError.from_amqp(
            AMQPError(
                errors.COMMAND_INVALID,
                f"invalid exchange type '{exchange_type}'",
                "use direct, fanout, topic or headers",
            )
        )
    durable = _flag(body, "durable", True)
    auto_delete = _flag(body, "auto_delete", False)
    internal = _flag(body, "internal", False)
    arguments = _arguments(body)
    existed = any(e["name"] == name for e in _snapshot(vhost)["exchanges"])
    with _state().channels.channel(vhost) as channel:
        _amqp(
            channel.exchange_declare,
            name,
            exchange_type,
            False,
            durable,
            auto_delete,
            internal,
            arguments,
        )
    return _no_content() if existed else Response(status=201)


@route("exchanges/{vhost}/{name}", "DELETE")
def exchange_delete(vhost: str, name: str) -> Response:
    vhost, name = _vhost(vhost), _exchange_name(name)
    if_unused = _query_flag("if-unused")
    if name and not name.startswith("amq."):
        _find(_snapshot(vhost)["exchanges"], name, "exchange", vhost)
    with _state().channels.channel(vhost) as channel:
        _amqp(channel.exchange_delete, name, if_unused)
    return _no_content()


@route("exchanges/{vhost}/{name}/bindings/source", "GET")
def exchange_bindings_source(vhost: str, name: str) -> Response:
    vhost, name = _vhost(vhost), _exchange_name(name)
    snapshot = _snapshot(vhost)
    _find(snapshot["exchanges"], name, "exchange", vhost)
    return _json([b for b in _bindings(snapshot) if b["source"] == name])


@route("exchanges/{vhost}/{name}/bindings/destination", "GET")
def exchange_bindings_destination(vhost: str, name: str) -> Response:
    vhost, name = _vhost(vhost), _exchange_name(name)
    snapshot = _snapshot(vhost)
    _find(snapshot["exchanges"], name, "exchange", vhost)
    return _json(
        [
            b
            for b in _bindings(snapshot, with_default=False)
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
    vhost, name = _vhost(vhost), _exchange_name(name)
    body = json_body()
    routing_key = _text(body.get("routing_key", ""), "'routing_key'")
    payload = _payload(body)
    try:
        properties = properties_from_json(body.get("properties"))
    except ValueError as error:
        raise bad_request(str(error)) from None
    mandatory = _flag(body, "mandatory", False)
    repeat = _int_field(body, "repeat", 1, 1, 1_000_000)
    if repeat > 1 or "rate" in body:
        return _publish_repeated(vhost, name, body, routing_key, repeat)
    with _state().channels.channel(vhost) as channel:
        result = _amqp(channel.basic_publish, name, routing_key, payload, properties, mandatory)
    return _json(
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
    rate = body.get("rate", 10)
    options = {
        "kind": "producer",
        "vhost": vhost,
        "exchange": exchange,
        "routing_key": routing_key,
        "body": body.get("payload", ""),
        "count": repeat,
        "rate": rate,
        "properties": body.get("properties") or {},
    }
    simulation = _start_simulation(options)
    return _json({"simulation": json_safe(simulation)}, 202)


# --- queues ---------------------------------------------------------------------------------


def _queue_detail(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    vhost = snapshot["vhost"]
    queue = _find(snapshot["queues"], name, "queue", vhost)
    consumers = [c for c in snapshot["consumers"] if c["queue"] == name]
    return {
        **json_safe(queue),
        "consumer_details": [_consumer_out(c, vhost) for c in consumers],
    }


@route("queues", "GET")
def queues_all() -> Response:
    return _json([json_safe(q) for s in _snapshots(None) for q in s["queues"]])


@route("queues/{vhost}", "GET")
def queues_in(vhost: str) -> Response:
    return _json([json_safe(q) for q in _snapshot(_vhost(vhost))["queues"]])


@route("queues/{vhost}/{name}", "GET")
def queue_get(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name")
    return _json(_queue_detail(_snapshot(vhost), name))


@route("queues/{vhost}/{name}", "PUT")
def queue_put(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name", allow_empty=False)
    body = json_body(optional=True)
    durable = _flag(body, "durable", True)
    auto_delete = _flag(body, "auto_delete", False)
    if _flag(body, "exclusive", False):
        raise bad_request(
            "the management API cannot declare exclusive queues",
            "an exclusive queue belongs to the client connection that declares it",
        )
    arguments = _arguments(body)
    existed = any(q["name"] == name for q in _snapshot(vhost)["queues"])
    with _state().channels.channel(vhost) as channel:
        _amqp(channel.queue_declare, name, False, durable, False, auto_delete, arguments)
    return _no_content() if existed else Response(status=201)


@route("queues/{vhost}/{name}", "DELETE")
def queue_delete(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name")
    if_unused, if_empty = _query_flag("if-unused"), _query_flag("if-empty")
    _find(_snapshot(vhost)["queues"], name, "queue", vhost)
    with _state().channels.channel(vhost) as channel:
        _amqp(channel.queue_delete, name, if_unused, if_empty)
    return _no_content()


@route("queues/{vhost}/{name}/contents", "DELETE")
def queue_purge(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name")
    with _state().channels.channel(vhost) as channel:
        _amqp(channel.queue_purge, name)
    return _no_content()


@route("queues/{vhost}/{name}/bindings", "GET")
def queue_bindings(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name")
    snapshot = _snapshot(vhost)
    _find(snapshot["queues"], name, "queue", vhost)
    return _json(
        [
            b
            for b in _bindings(snapshot)
            if b["destination_type"] == "queue" and b["destination"] == name
        ]
    )


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


def _got_message(delivery: Any, encoding: str, truncate: int | None) -> dict[str, Any]:
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


@route("queues/{vhost}/{name}/get", "POST")
def queue_get_messages(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name", allow_empty=False)
    body = json_body()
    count = _int_field(body, "count", 1, 1, 10_000)
    ackmode = body.get("ackmode", "ack_requeue_true")
    if ackmode not in ACK_MODES:
        raise bad_request(f"'ackmode' must be one of {', '.join(ACK_MODES)}")
    encoding = body.get("encoding", "auto")
    if encoding not in ("auto", "base64"):
        raise bad_request("'encoding' must be 'auto' or 'base64'")
    truncate = body.get("truncate")
    if truncate is not None:
        truncate = _int_field(body, "truncate", 0, 1, 2**31)
    verb, requeue = ACK_MODES[ackmode]
    out = []
    with _state().channels.channel(vhost) as channel:
        deliveries = []
        try:
            for _ in range(count):
                delivery = _amqp(channel.basic_get, name, False)
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
    return _json(out)


@route("queues/{vhost}/{name}/peek", "GET")
def queue_peek(vhost: str, name: str) -> Response:
    vhost = _vhost(vhost)
    _text(name, "the queue name")
    count = _query_int("count", 10, 1, 1_000)
    return _json(json_safe(_amqp(_broker().peek, vhost, name, count)))


# --- bindings -------------------------------------------------------------------------------


@route("bindings", "GET")
def bindings_all() -> Response:
    return _json([b for s in _snapshots(None) for b in _bindings(s)])


@route("bindings/{vhost}", "GET")
def bindings_in(vhost: str) -> Response:
    return _json(_bindings(_snapshot(_vhost(vhost))))


def _between(vhost: str, source: str, kind: str, destination: str) -> list[dict[str, Any]]:
    snapshot = _snapshot(vhost)
    _find(snapshot["exchanges"], source, "exchange", vhost)
    if kind == "queue":
        _find(snapshot["queues"], destination, "queue", vhost)
    else:
        _find(snapshot["exchanges"], destination, "exchange", vhost)
    return [
        b
        for b in _bindings(snapshot)
        if b["source"] == source
        and b["destination_type"] == kind
        and b["destination"] == destination
    ]


def _binding_args(vhost: str, source: str, destination: str, kind: str) -> tuple[str, str, str]:
    vhost, source = _vhost(vhost), _exchange_name(source)
    if kind == "queue":
        _text(destination, "the queue name")
    else:
        destination = _exchange_name(destination)
    return vhost, source, destination


def _bindings_list(vhost: str, source: str, destination: str, kind: str) -> Response:
    vhost, source, destination = _binding_args(vhost, source, destination, kind)
    return _json(_between(vhost, source, kind, destination))


def _binding_create(vhost: str, source: str, destination: str, kind: str) -> Response:
    vhost, source, destination = _binding_args(vhost, source, destination, kind)
    body = json_body(optional=True)
    routing_key = _text(body.get("routing_key", ""), "'routing_key'")
    arguments = _arguments(body)
    with _state().channels.channel(vhost) as channel:
        _amqp(channel.bind, source, kind, destination, routing_key, arguments)
    props = properties_key(routing_key, arguments)
    letter = "q" if kind == "queue" else "e"
    location = "/api/bindings/{}/e/{}/{}/{}/{}".format(
        *(quote(part, safe="") for part in (vhost, source or DEFAULT_EXCHANGE_ALIAS)),
        letter,
        *(quote(part, safe="") for part in (destination, props)),
    )
    return Response(status=201, headers={"Location": location})


def _binding_find(vhost: str, source: str, destination: str, kind: str, props: str) -> dict:
    vhost, source, destination = _binding_args(vhost, source, destination, kind)
    for binding in _between(vhost, source, kind, destination):
        if binding["properties_key"] == props:
            return binding
    raise ApiError(
        404,
        "not_found",
        f"NOT_FOUND - no binding '{props}' from exchange '{source}' to {kind} '{destination}' "
        f"in vhost '{vhost}'",
        "list the bindings between the two to see their properties_key",
        404,
    )


def _binding_delete(vhost: str, source: str, destination: str, kind: str, props: str) -> Response:
    binding = _binding_find(vhost, source, destination, kind, props)
    vhost, source, destination = _binding_args(vhost, source, destination, kind)
    with _state().channels.channel(vhost) as channel:
        _amqp(
            channel.unbind,
            source,
            kind,
            destination,
            binding["routing_key"],
            binding["arguments"],
        )
    return _no_content()


@route("bindings/{vhost}/e/{source}/q/{destination}", "GET")
def bindings_eq(vhost: str, source: str, destination: str) -> Response:
    return _bindings_list(vhost, source, destination, "queue")


@route("bindings/{vhost}/e/{source}/q/{destination}", "POST")
def bindings_eq_create(vhost: str, source: str, destination: str) -> Response:
    return _binding_create(vhost, source, destination, "queue")


@route("bindings/{vhost}/e/{source}/q/{destination}/{props}", "GET")
def binding_eq(vhost: str, source: str, destination: str, props: str) -> Response:
    return _json(_binding_find(vhost, source, destination, "queue", props))


@route("bindings/{vhost}/e/{source}/q/{destination}/{props}", "DELETE")
def binding_eq_delete(vhost: str, source: str, destination: str, props: str) -> Response:
    return _binding_delete(vhost, source, destination, "queue", props)


@route("bindings/{vhost}/e/{source}/e/{destination}", "GET")
def bindings_ee(vhost: str, source: str, destination: str) -> Response:
    return _bindings_list(vhost, source, destination, "exchange")


@route("bindings/{vhost}/e/{source}/e/{destination}", "POST")
def bindings_ee_create(vhost: str, source: str, destination: str) -> Response:
    return _binding_create(vhost, source, destination, "exchange")


@route("bindings/{vhost}/e/{source}/e/{destination}/{props}", "GET")
def binding_ee(vhost: str, source: str, destination: str, props: str) -> Response:
    return _json(_binding_find(vhost, source, destination, "exchange", props))


@route("bindings/{vhost}/e/{source}/e/{destination}/{props}", "DELETE")
def binding_ee_delete(vhost: str, source: str, destination: str, props: str) -> Response:
    return _binding_delete(vhost, source, destination, "exchange", props)


# --- consumers, connections, channels ---------------------------------------------------------


@route("consumers", "GET")
def consumers_all() -> Response:
    return _json([_consumer_out(c, s["vhost"]) for s in _snapshots(None) for c in s["consumers"]])


@route("consumers/{vhost}", "GET")
def consumers_in(vhost: str) -> Response:
    snapshot = _snapshot(_vhost(vhost))
    return _json([_consumer_out(c, snapshot["vhost"]) for c in snapshot["consumers"]])


@route("connections", "GET")
def connections_all() -> Response:
    return _json([json_safe(c) for s in _snapshots(None) for c in s["connections"]])


@route("vhosts/{vhost}/connections", "GET")
def connections_in(vhost: str) -> Response:
    return _json([json_safe(c) for c in _snapshot(_vhost(vhost))["connections"]])


@route("channels", "GET")
def channels_all() -> Response:
    return _json([json_safe(c) for s in _snapshots(None) for c in s["channels"]])


@route("vhosts/{vhost}/channels", "GET")
def channels_in(vhost: str) -> Response:
    return _json([json_safe(c) for c in _snapshot(_vhost(vhost))["channels"]])


# --- definitions ----------------------------------------------------------------------------


def _definitions(vhost: str | None) -> dict[str, Any]:
    exchanges, queues, bindings = [], [], []
    snapshots = _snapshots(vhost)
    for snapshot in snapshots:
        for e in snapshot["exchanges"]:
            if e["name"] == "" or e["name"].startswith("amq."):
                continue
            exchanges.append(
                {
                    "name": e["name"],
                    "vhost": e["vhost"],
                    "type": e["type"],
                    "durable": e["durable"],
                    "auto_delete": e["auto_delete"],
                    "internal": e["internal"],
                    "arguments": e["arguments"],
                }
            )
        exclusive = {q["name"] for q in snapshot["queues"] if q["exclusive"]}
        for q in snapshot["queues"]:
            if q["name"] in exclusive:
                continue
            queues.append(
                {
                    "name": q["name"],
                    "vhost": q["vhost"],
                    "durable": q["durable"],
                    "auto_delete": q["auto_delete"],
                    "arguments": q["arguments"],
                }
            )
        for b in snapshot["bindings"]:
            if b["destination_type"] == "queue" and b["destination"] in exclusive:
                continue
            bindings.append(
                {
                    "source": b["source"],
                    "vhost": b["vhost"],
                    "destination": b["destination"],
                    "destination_type": b["destination_type"],
                    "routing_key": b["routing_key"],
                    "arguments": b["arguments"],
                }
            )
    return json_safe(
        {
            "rabbit_version": "3.10.8",
            "product_name": "QueueLab",
            "users": [],
            "vhosts": [{"name": s["vhost"]} for s in snapshots],
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
    return _json(_definitions(None))


@route("definitions/{vhost}", "GET")
def definitions_get_vhost(vhost: str) -> Response:
    return _json(_definitions(_vhost(vhost)))


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request(f"'{key}' must be a list of objects")
    return items


def _import(body: dict[str, Any], only_vhost: str | None) -> dict[str, int]:
    """Check every entry first, then declare vhosts, exchanges, queues and bindings in turn."""

    def vhost_of(item: dict[str, Any]) -> str:
        if only_vhost is not None:
            return only_vhost
        return _text(item.get("vhost", "/"), "'vhost'", allow_empty=False)

    vhost_names = [
        _text(v.get("name"), "a vhost's 'name'", allow_empty=False) for v in _items(body, "vhosts")
    ]
    exchanges = []
    for e in _items(body, "exchanges"):
        exchange_type = _text(e.get("type", "direct"), "an exchange's 'type'")
        if exchange_type not in ROUTERS:
            raise bad_request(f"invalid exchange type '{exchange_type}'")
        exchanges.append(
            (
                vhost_of(e),
                _text(e.get("name"), "an exchange's 'name'", allow_empty=False),
                exchange_type,
                _flag(e, "durable", True),
                _flag(e, "auto_delete", False),
                _flag(e, "internal", False),
                _arguments(e),
            )
        )
    queues = [
        (
            vhost_of(q),
            _text(q.get("name"), "a queue's 'name'", allow_empty=False),
            _flag(q, "durable", True),
            _flag(q, "auto_delete", False),
            _arguments(q),
        )
        for q in _items(body, "queues")
    ]
    bindings = []
    for b in _items(body, "bindings"):
        kind = b.get("destination_type", "queue")
        if kind not in ("queue", "exchange"):
            raise bad_request("a binding's 'destination_type' must be 'queue' or 'exchange'")
        bindings.append(
            (
                vhost_of(b),
                _text(b.get("source"), "a binding's 'source'"),
                kind,
                _text(b.get("destination"), "a binding's 'destination'", allow_empty=False),
                _text(b.get("routing_key", ""), "a binding's 'routing_key'"),
                _arguments(b),
            )
        )
    broker, channels = _broker(), _state().channels
    for name in vhost_names:
        if only_vhost is None:
            broker.add_vhost(name)
    wanted = {e[0] for e in exchanges} | {q[0] for q in queues} | {b[0] for b in bindings}
    for name in wanted:
        _vhost(name)
    for vhost, name, exchange_type, *flags in exchanges:
        with channels.channel(vhost) as channel:
            _amqp(channel.exchange_declare, name, exchange_type, False, *flags)
    for vhost, name, durable, auto_delete, arguments in queues:
        with channels.channel(vhost) as channel:
            _amqp(channel.queue_declare, name, False, durable, False, auto_delete, arguments)
    for vhost, source, kind, destination, key, arguments in bindings:
        with channels.channel(vhost) as channel:
            _amqp(channel.bind, source, kind, destination, key, arguments)
    return {
        "vhosts": len(vhost_names),
        "exchanges": len(exchanges),
        "queues": len(queues),
        "bindings": len(bindings),
    }


@route("definitions", "POST")
def definitions_post() -> Response:
    return _json({"imported": _import(json_body(), None)}, 201)


@route("definitions/{vhost}", "POST")
def definitions_post_vhost(vhost: str) -> Response:
    return _json({"imported": _import(json_body(), _vhost(vhost))}, 201)


# --- events and message history (ours) ------------------------------------------------------

_ENTITY_FIELDS = ("queue", "exchange", "name", "source", "destination", "connection")


def _type_matcher(spec: str | None) -> Callable[[str], bool]:
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
    broker = _broker()
    since = _query_int("since", None, 0, 2**63)
    limit = _query_int("limit", 100, 1, 5_000)
    wants_type = _type_matcher(request.args.get("type"))
    entity = request.args.get("entity")
    vhost = request.args.get("vhost")
    last_seq = broker.events.last_seq
    found = []
    for event in broker.events.recent(since_seq=since or 0):
        if not wants_type(event.type):
            continue
        if vhost is not None and event.data.get("vhost") != vhost:
            continue
        if entity is not None and not any(event.data.get(f) == entity for f in _ENTITY_FIELDS):
            continue
        found.append(event)
    found = found[:limit] if since is not None else found[-limit:]
    return _json({"last_seq": last_seq, "events": [event_dict(e) for e in found]})


@route("messages/{message_id}/history", "GET")
def message_history(message_id: str) -> Response:
    """Every event that names this message, in order: published, routed, enqueued, delivered,
    acked, dead-lettered … (as far back as the broker's event history reaches)."""
    try:
        wanted = int(message_id)
    except ValueError:
        raise bad_request("a message id is a whole number") from None
    history = [e for e in _broker().events.recent() if e.data.get("message_id") == wanted]
    if not history:
        raise ApiError(
            404,
            "not_found",
            f"NOT_FOUND - no events for message {wanted} in the recent history",
            "the broker keeps only the most recent events",
            404,
        )
    return _json(
        {
            "message_id": wanted,
            "complete": history[0].type == "published",
            "events": [event_dict(e) for e in history],
        }
    )


# --- simulations (ours) ---------------------------------------------------------------------


def _start_simulation(options: dict[str, Any]) -> dict[str, Any]:
    vhost = options.get("vhost", "/")
    if isinstance(vhost, str):
        _vhost(vhost)
    try:
        return _state().simulations.start(options).info()
    except SimulationError as error:
        raise bad_request(str(error)) from None


@route("simulations", "GET")
def simulations_list() -> Response:
    return _json(json_safe(_state().simulations.list(request.args.get("vhost"))))


@route("simulations", "POST")
def simulations_start() -> Response:
    info = _start_simulation(json_body())
    return _json(json_safe(info), 201, {"Location": f"/api/simulations/{info['id']}"})


def _simulation_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(404, "not_found", f"NOT_FOUND - no simulation '{text[:50]}'") from None


@route("simulations/{id}", "GET")
def simulation_get(sim_id: str) -> Response:
    simulation = _state().simulations.get(_simulation_id(sim_id))
    if simulation is None:
        raise ApiError(404, "not_found", f"NOT_FOUND - no simulation '{sim_id[:50]}'")
    return _json(json_safe(simulation.info()))


@route("simulations/{id}", "DELETE")
def simulation_delete(sim_id: str) -> Response:
    if not _state().simulations.stop(_simulation_id(sim_id)):
        raise ApiError(404, "not_found", f"NOT_FOUND - no simulation '{sim_id[:50]}'")
    return _no_content()
