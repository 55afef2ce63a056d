"""What every JSON endpoint and socket of the web side shares: one error, one body reader, one
cross-site check.

Errors. Every error answer is JSON of one shape, whichever page or API it comes from:

    {"error": "not_found", "reason": "NOT_FOUND - no queue 'x' in vhost '/'",
     "reply_code": 404, "hint": "declare the queue first"}

The HTTP status is the AMQP reply code for 403/404/405/406, 503 for 320 (CONNECTION_FORCED), 400
for other AMQP errors and for bad input, 413 for a body over MAX_CONTENT_LENGTH, 415 for a body
that is not JSON. Bad input never gives a 500; an unexpected error is logged and answered with a
JSON 500.

Language. `error`, `reply_code` and `reason` never change with the language: the reason is
RabbitMQ's reply text, or the API's own reason in the manner of RabbitMQ's management API, and a
script or a student matches it as it is. The `hint` is for people: it is said in the request's
language (web/i18n.py), from the template and values the error keeps. A refusal of ours whose
reason is the whole explanation (a simulation's options, a message property) gets, in a language
other than English, that same sentence translated as its hint (`ApiError.refusal`).

Bodies. `read_json_body` is the one reader: a JSON object, sent as JSON, at most
MAX_JSON_DEPTH levels deep, no NaN or Infinity.

Cross-site. A browser names the page a request comes from in the `Origin` header (on every
POST/PUT/DELETE and on every websocket handshake). When it names another site than the one
serving QueueLab (the `Host` header), the request is refused. curl and scripts send no Origin and
are served: QueueLab has no users or passwords, so this guards only against other pages in the
same browser. `refuse_cross_site` runs before every request of the app (see web/__init__.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Request, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from broker import errors
from broker.errors import AMQPError
from broker.translatable import N_, Term, TranslatableError, fill
from web.i18n import text_of

log = logging.getLogger("queuelab.web")

MAX_JSON_DEPTH = 32
STATE_CHANGING = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# JSON endpoints are routed with every method, so that a 405 is the toolkit's JSON one.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
SOCKET_PATHS = "/ws/"  # every websocket of the app lives under it
# AMQP reply code -> HTTP status, where they differ from 400.
_HTTP_STATUS = {403: 403, 404: 404, 405: 405, 406: 406, 320: 503}


# --- the one error ----------------------------------------------------------------------------


def say(template: str, values: Mapping[str, Any] | None = None) -> str:
    """A text of the broker's or ours in the request's language: its Term values ("queue") are
    translated too; other values (names, numbers, user data) are put in as they are."""
    if not template:
        return ""
    args = {k: text_of(v) if isinstance(v, Term) else v for k, v in (values or {}).items()}
    return text_of(template, args)


class ApiError(Exception):
    """An error answer: HTTP status, a snake_case error name, the reason and a hint (what to do
    next), with the AMQP reply code when the broker refused (else the HTTP status). `hint` is
    the English; the answer says it in the request's language (hint template + `hint_args`)."""

    def __init__(
        self,
        status: int,
        error: str,
        reason: str,
        hint: str = "",
        reply_code: int | None = None,
        hint_args: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.hint_template = hint
        self.hint_args = dict(hint_args or {})
        self.hint = fill(hint, self.hint_args)
        self.reply_code = reply_code if reply_code is not None else status
        self.hint_restates_reason = False

    @classmethod
    def from_amqp(cls, error: AMQPError) -> ApiError:
        """The broker's refusal, with RabbitMQ's reply text: `NOT_FOUND - no queue 'x' …`."""
        return cls(
            _HTTP_STATUS.get(error.reply_code, 400),
            error.name.lower(),
            error.reply_text,
            error.hint_template,
            error.reply_code,
            error.hint_args,
        )

    @classmethod
    def refusal(cls, error: TranslatableError) -> ApiError:
        """A 400 for input refused with a sentence of ours that is the whole explanation. The
        reason is that sentence in English, whatever the language; the hint is the sentence in
        the reader's language, and empty in English (it would only repeat the reason)."""
        answer = cls(400, "bad_request", str(error), error.template, hint_args=error.values)
        answer.hint = ""
        answer.hint_restates_reason = True
        return answer

    def translated_hint(self) -> str:
        """The hint in the request's language (in English if its translation cannot be filled)."""
        try:
            hint = say(self.hint_template, self.hint_args)
        except (KeyError, TypeError, ValueError):
            log.exception("hint not translatable: %r", self.hint_template)
            return self.hint
        return "" if self.hint_restates_reason and hint == self.reason else hint

    def as_dict(self) -> dict[str, Any]:
        """The answer's body, its hint in English."""
        return {
            "error": self.error,
            "reason": self.reason,
            "reply_code": self.reply_code,
            "hint": self.hint,
        }

    def response(self) -> Response:
        """The JSON answer, its hint in the request's language."""
        return json_response({**self.as_dict(), "hint": self.translated_hint()}, self.status)


def bad_request(
    reason: str, hint: str = "", hint_args: Mapping[str, Any] | None = None
) -> ApiError:
    return ApiError(400, "bad_request", reason, hint, hint_args=hint_args)


def invalid_exchange_type(exchange_type: str) -> ApiError:
    """RabbitMQ's answer to an unknown exchange type. In AMQP it is a connection error; the API
    answers it itself, so it never closes the shared management connection."""
    return ApiError.from_amqp(errors.invalid_exchange_type(exchange_type))


def too_large() -> ApiError:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return ApiError(
        413,
        "payload_too_large",
        f"the request body is larger than the limit of {limit} bytes",
        N_("send a smaller message, or raise MAX_CONTENT_LENGTH"),
    )


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON, ASCII only (a lone surrogate in some text cannot break the answer)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)
    return Response(text, status, headers, mimetype="application/json")


def method_not_allowed(allowed: list[str]) -> Response:
    """405 with the Allow header, in the error shape."""
    names = ", ".join(allowed)
    reason = f"{request.method} is not allowed here; use {names}"
    error = ApiError(405, "method_not_allowed", reason)
    response = error.response()
    response.headers["Allow"] = names
    return response


def answer(handler: Callable[..., Response], *args: Any, **kwargs: Any) -> Response:
    """Run an endpoint; whatever goes wrong becomes a JSON error answer, never an HTML page."""
    try:
        return handler(*args, **kwargs)
    except ApiError as error:
        return error.response()
    except AMQPError as error:
        return ApiError.from_amqp(error).response()
    except RequestEntityTooLarge:
        return too_large().response()
    except HTTPException as error:
        return ApiError(
            error.code or 400, "bad_request", error.description or error.name
        ).response()
    except Exception:
        log.exception("request failed: %s %s", request.method, request.path)
        return ApiError(
            500, "internal_error", "an unexpected error; it is logged", N_("please report it")
        ).response()


def json_endpoint(*methods: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """A Flask view that answers JSON: 405 (with Allow) for other methods, errors as JSON. Route
    it with ALL_METHODS."""

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(handler)
        def view(**kwargs: Any) -> Response:
            if ("GET" if request.method == "HEAD" else request.method) not in methods:
                return method_not_allowed(list(methods))
            return answer(handler, **kwargs)

        return view

    return decorate


# --- the one body reader ----------------------------------------------------------------------

_BODY_HINT = N_("send a JSON object ({...}) with the header Content-Type: application/json")


def read_json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body when `optional`)."""
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large() from None
    if not raw.strip():
        if optional:
            return {}
        raise bad_request("the request needs a JSON body", _BODY_HINT)
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be JSON, not {mimetype[:100]}",
            N_("send the header Content-Type: application/json"),
        )
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise bad_request(f"the body is not valid JSON: {str(error)[:200]}", _BODY_HINT) from None
    if not isinstance(value, dict):
        raise bad_request("the body must be a JSON object ({...})", _BODY_HINT)
    if not _depth_ok(value):
        raise bad_request(f"the body is nested more than {MAX_JSON_DEPTH} levels deep", _BODY_HINT)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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


# --- the one cross-site check -----------------------------------------------------------------


# The names the app answers to on any bind; `allowed_hosts` adds the bind address, the machine's
# names and addresses when serving the network, and the --allow-host names.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def refuse_foreign_host() -> Response | None:
    """Before every request: refuse a Host the app does not serve. A DNS-rebinding page the
    teacher visits reaches a 127.0.0.1 instance under its own name (`Host: evil.example`), and
    then its Origin matches that Host: only the Host itself gives it away."""
    host = _hostname(request.host or "")
    if host in current_app.config.get("ALLOWED_HOSTS", LOOPBACK_HOSTS):
        return None
    return ApiError(
        403,
        "forbidden",
        f"host '{host[:100]}' is not one this QueueLab serves",
        N_("open QueueLab by the address it printed; a teacher adds other names with --allow-host"),
    ).response()


def _hostname(host: str) -> str:
    """'Example.org:15672' -> 'example.org'; '[::1]:15672' -> '::1'."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refuse_cross_site() -> Response | None:
    """Before every request: refuse a write or a websocket handshake from another site."""
    websocket = request.path.startswith(SOCKET_PATHS)
    if request.method not in STATE_CHANGING and not websocket:
        return None
    reason = cross_site_reason(request)
    if reason is None:
        return None
    what = "websocket" if websocket else "request"
    return ApiError(
        403,
        "forbidden",
        f"cross-site {what} refused: {reason}",
        N_("use QueueLab's own pages, or a script or curl (which send no Origin)"),
    ).response()


def cross_site_reason(req: Request) -> str | None:
    """Why this request looks cross-site (a sentence for the error), or None when it is fine."""
    origin = req.headers.get("Origin")
    if origin is None:
        if req.headers.get("Sec-Fetch-Site") == "cross-site":
            return "the browser says this request comes from another site (Sec-Fetch-Site)"
        return None
    try:
        parts = urlsplit(origin)
        netloc = parts.netloc.lower()
        scheme = parts.scheme.lower()
    except ValueError:
        return f"the Origin header '{origin[:100]}' is not a URL"
    if origin == "null" or not netloc:
        return "requests from a page without an origin (a file or sandbox) are refused"
    host = (req.host or "").lower()
    if scheme not in ("http", "https"):
        return f"requests from origin '{origin[:100]}' are refused"
    if _with_port(netloc, scheme) != _with_port(host, req.scheme):
        return f"requests from origin '{origin[:100]}' to host '{host[:100]}' are refused"
    return None


def _with_port(netloc: str, scheme: str) -> str:
    """host:port with the scheme's default port written out, so 'h' and 'h:80' compare equal."""
    if netloc.endswith("]") or ":" not in netloc.rsplit("]", 1)[-1]:
        return f"{netloc}:{443 if scheme == 'https' else 80}"
    return netloc
