"""The HTML pages: overview, exchanges, queues, event log and connections.

Each page is one Jinja template rendered from `broker.snapshot()` plus one small ES module under
`static/` that opens the live websocket and keeps the page current. Tables that only the server
can draw well (they come from the snapshot) are also served as fragments (`?fragment=name`):
the page's module fires a `ql-refresh` event on <body> when the live stream says something
changed, and htmx swaps in the fresh fragment. Every change to the broker goes through the JSON
API, so the pages and any other client see the same rules and the same error messages.

URLs carry the vhost and the name percent-encoded, as RabbitMQ's management UI does:
`/queues/%2F/orders`. WSGI servers hand the app a PATH_INFO with `%2F` already decoded, so the
name is read from the raw request URI when the server provides it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup
from werkzeug.routing import BaseConverter

from broker.translatable import N_
from web.i18n import translated_text

pages = Blueprint("pages", __name__)

DEFAULT_EXCHANGE_SLUG = "amq.default"  # how RabbitMQ's UI and API spell "" in a URL

NAV = (
    ("lessons.page", N_("Lessons")),
    ("pages.overview", N_("Overview")),
    ("pages.exchanges", N_("Exchanges")),
    ("pages.queues", N_("Queues")),
    ("pages.events", N_("Event log")),
    ("pages.connections", N_("Connections")),
    ("loop.page", N_("Event loop")),  # shown when the event-loop page is registered
    ("glossary.page", N_("Glossary")),
)


class RestConverter(BaseConverter):
    """Everything after the prefix: slashes (even a leading one, `%2F` → `/`) and newlines."""

    regex = r"[\s\S]*"
    part_isolating = False


@pages.record_once
def _setup(state: Any) -> None:
    state.app.url_map.converters.setdefault("ql_rest", RestConverter)


# --- URLs ------------------------------------------------------------------------------------


def exchange_url(vhost: str, name: str) -> str:
    slug = name or DEFAULT_EXCHANGE_SLUG
    return f"/exchanges/{quote(vhost, safe='')}/{quote(slug, safe='')}"


def queue_url(vhost: str, name: str) -> str:
    return f"/queues/{quote(vhost, safe='')}/{quote(name, safe='')}"


def exchange_label(name: str) -> str | Markup:
    """How a page names an exchange: its name, or for the nameless default exchange RabbitMQ's
    "(AMQP default)" in the page's language (marked so a switch in place retranslates it)."""
    return name or translated_text(N_("(AMQP default)"))


def vhost_and_name(prefix: str) -> tuple[str, str]:
    """Split `/<prefix>/<vhost>/<name>` from the raw URI, decoding each part once."""
    environ = request.environ
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # an absolute-form request target
            path = "/" + path.split("://", 1)[1].split("/", 1)[-1]
        rest = path[len(prefix) :] if path.startswith(prefix) else ""
        parts = rest.split("/", 1)
        if len(parts) == 2:
            return unquote(parts[0]), unquote(parts[1])
    # No raw URI: PATH_INFO is decoded, so only the default vhost "/" can be told apart.
    rest = request.path[len(prefix) :]
    if rest.startswith("//"):
        return "/", rest[2:]
    vhost, _, name = rest.partition("/")
    return vhost, name


# --- shared template context -----------------------------------------------------------------


@pages.app_context_processor
def _layout_context() -> dict[str, Any]:
    return {
        "nav": [(e, label) for e, label in NAV if e in current_app.view_functions],
        "amqp_url": current_app.config.get("AMQP_URL"),
        "exchange_url": exchange_url,
        "queue_url": queue_url,
        "exchange_label": exchange_label,
    }


def _broker() -> Any:
    return current_app.config["BROKER"]


def _snapshot(vhost: str) -> dict[str, Any]:
    broker = _broker()
    if vhost not in broker.vhosts:
        abort(404)
    return broker.snapshot(vhost)


def _render(template: str, fragments: dict[str, str], **context: Any) -> str:
    """The whole page, or just the fragment named by ?fragment= (for an htmx refresh)."""
    fragment = request.args.get("fragment")
    if fragment is not None:
        if fragment not in fragments:
            abort(404)
        return render_template(fragments[fragment], **context)
    return render_template(template, **context)


def _by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["name"])


# --- pages -----------------------------------------------------------------------------------


@pages.get("/")
def overview() -> str:
    snapshot = _snapshot("/")
    return render_template("overview.html", snapshot=snapshot, vhost="/")


@pages.get("/exchanges")
def exchanges() -> str:
    snapshot = _snapshot("/")
    return _render(
        "exchanges.html",
        {"table": "fragments/exchanges_table.html"},
        vhost="/",
        exchanges=_by_name(snapshot["exchanges"]),
    )


@pages.get("/exchanges/<ql_rest:rest>", merge_slashes=False)
def exchange(rest: str) -> tuple[str, int] | str:
    vhost, slug = vhost_and_name("/exchanges/")
    name = "" if slug == DEFAULT_EXCHANGE_SLUG else slug
    snapshot = _snapshot(vhost)
    found = next((e for e in snapshot["exchanges"] if e["name"] == name), None)
    if found is None:
        return _missing("exchange", name, vhost)
    # The API names a binding by RabbitMQ's properties_key (key plus a hash of its arguments).
    bindings = snapshot["bindings"]
    return _render(
        "exchange.html",
        {"facts": "fragments/exchange_facts.html", "bindings": "fragments/exchange_bindings.html"},
        vhost=vhost,
        exchange=found,
        outgoing=[b for b in bindings if b["source"] == name],
        incoming=[
            b for b in bindings if b["destination_type"] == "exchange" and b["destination"] == name
        ],
        queue_names=sorted(q["name"] for q in snapshot["queues"]),
        exchange_names=sorted(e["name"] for e in snapshot["exchanges"] if e["name"]),
    )


@pages.get("/queues")
def queues() -> str:
    snapshot = _snapshot("/")
    return _render(
        "queues.html",
        {"table": "fragments/queues_table.html"},
        vhost="/",
        queues=_by_name(snapshot["queues"]),
        exchange_names=sorted(e["name"] for e in snapshot["exchanges"] if e["name"]),
    )


@pages.get("/queues/<ql_rest:rest>", merge_slashes=False)
def queue(rest: str) -> tuple[str, int] | str:
    vhost, name = vhost_and_name("/queues/")
    snapshot = _snapshot(vhost)
    found = next((q for q in snapshot["queues"] if q["name"] == name), None)
    if found is None:
        return _missing("queue", name, vhost)
    peek: list[dict[str, Any]] = []
    if request.args.get("fragment") == "peek":
        count = request.args.get("count", "5")
        count = max(1, min(50, int(count))) if count.isdigit() else 5
        peek = _broker().peek(vhost, name, count)
    return _render(
        "queue.html",
        {
            "facts": "fragments/queue_facts.html",
            "consumers": "fragments/queue_consumers.html",
            "peek": "fragments/peek.html",
        },
        vhost=vhost,
        queue=found,
        consumers=[c for c in snapshot["consumers"] if c["queue"] == name],
        bindings=[
            b
            for b in snapshot["bindings"]
            if b["destination_type"] == "queue" and b["destination"] == name
        ],
        peek=peek,
        exchange_names=sorted(e["name"] for e in snapshot["exchanges"] if e["name"]),
    )


@pages.get("/events")
def events() -> str:
    return render_template("events.html", vhost="/")


@pages.get("/connections")
def connections() -> str:
    snapshot = _snapshot("/")
    return _render(
        "connections.html",
        {"tables": "fragments/connections_tables.html"},
        vhost="/",
        connections=snapshot["connections"],
        channels=snapshot["channels"],
        consumers=snapshot["consumers"],
    )


def _missing(kind: str, name: str, vhost: str) -> tuple[str, int]:
    """A teaching 404: the same words RabbitMQ uses, and what to do about it."""
    if request.args.get("fragment") is not None:
        if request.headers.get("HX-Request") == "true":
            # A page's own refresh that crossed the deletion: nothing to swap (htmx leaves the
            # fragment alone on 204), and the page hears of the deletion on its live socket.
            return "", 204
        abort(404)
    return (
        render_template("missing.html", kind=kind, name=name, vhost=vhost),
        404,
    )
