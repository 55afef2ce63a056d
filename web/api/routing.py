"""Routing /api requests on the raw, still percent-encoded path.

The vhost `/` is written `%2F`, and any name may hold '/', '%', spaces or any Unicode,
percent-encoded. WSGI servers hand the app PATH_INFO with `%2F` already decoded (so
`/api/queues/%2F/a%2Fb` arrives as `/api/queues///a/b`), so the API routes on the raw request
URI instead (`RAW_URI` / `REQUEST_URI`, set by Werkzeug, gunicorn and Flask's test client),
splitting it on '/' first and decoding each segment after.

Resource modules register their handlers with `@route("queues/{vhost}/{name}", "GET")`; every
/api request comes to `dispatch`, which finds the handler and answers errors as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from urllib.parse import quote, unquote_to_bytes

from flask import Blueprint, Response, request

from broker.translatable import N_
from web.toolkit import (
    ALL_METHODS,
    ApiError,
    answer,
    bad_request,
    json_response,
    method_not_allowed,
)

api = Blueprint("api", __name__)

Handler = Callable[..., Response]
# (path parts, {method: handler}) in registration order: the order `GET /api` lists them in.
ROUTES: list[tuple[tuple[str, ...], dict[str, Handler]]] = []


def route(pattern: str, *methods: str) -> Callable[[Handler], Handler]:
    """Register a handler for a path under /api; `{name}` segments are passed as arguments."""
    parts = tuple(pattern.strip("/").split("/")) if pattern.strip("/") else ()

    def decorate(handler: Handler) -> Handler:
        for existing, table in ROUTES:
            if existing == parts:
                for method in methods:
                    table[method] = handler
                return handler
        ROUTES.append((parts, dict.fromkeys(methods, handler)))
        return handler

    return decorate


def raw_path() -> str:
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


def segments() -> list[str]:
    """The path's segments after /api, each percent-decoded (a segment may hold '/')."""
    parts = raw_path().split("/")[2:]  # "", "api", ...
    if parts and parts[-1] == "":
        parts.pop()  # one trailing slash is forgiven
    decoded = []
    for part in parts:
        try:
            decoded.append(unquote_to_bytes(part.encode("latin-1")).decode("utf-8"))
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise bad_request(
                "the path is not valid UTF-8 once percent-decoded",
                N_("percent-encode names as UTF-8, e.g. with encodeURIComponent"),
            ) from None
    return decoded


def match(path: list[str]) -> tuple[dict[str, Handler], list[str]] | None:
    """The handlers of the route matching these segments, and the values of its `{…}` parts."""
    for parts, table in ROUTES:
        if len(parts) != len(path):
            continue
        args = []
        for part, segment in zip(parts, path, strict=True):
            if part.startswith("{"):
                if segment == "":
                    break
                args.append(segment)
            elif part != segment:
                break
        else:
            return table, args
    return None


def endpoints() -> list[dict[str, object]]:
    """Every path and its methods, as `GET /api` lists them."""
    return [
        {"path": "/api/" + "/".join(parts) if parts else "/api", "methods": sorted(table)}
        for parts, table in ROUTES
    ]


# "/api/" defaults to "/", not "" as "/api" does, or Werkzeug redirects one to the other.
@api.route("/api/", defaults={"_rest": "/"}, methods=ALL_METHODS, merge_slashes=False)
@api.route("/api", defaults={"_rest": ""}, methods=ALL_METHODS, merge_slashes=False)
@api.route("/api/<anything:_rest>", methods=ALL_METHODS, merge_slashes=False)
def dispatch(_rest: str) -> Response:
    """Every /api request comes here and is routed on its raw, still-encoded path."""
    return answer(_route)


def _route() -> Response:
    matched = match(segments())
    if matched is None:
        raise ApiError(404, "not_found", "Not Found", N_("see /api for the list of endpoints"))
    table, args = matched
    handler = table.get("GET" if request.method == "HEAD" else request.method)
    if handler is None:
        return method_not_allowed(sorted(table))
    return handler(*args)


@route("/", "GET")
def index() -> Response:
    return json_response({"endpoints": endpoints()})
