"""The HTML pages without a browser: routes, raw-URI names, fragments, escaping, htmx loading,
and the rules the front end keeps (no inline script or handlers, no innerHTML in our JS)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import Broker

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/", "/exchanges", "/queues", "/events", "/connections"]


def q(name: str) -> str:
    return quote(name, safe="")


@pytest.fixture
def app(broker: Broker) -> Flask:
    return create_app({"BROKER": broker, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()


@pytest.fixture
def channel(broker: Broker):
    return broker.connect("test").channel()


class Inspector(HTMLParser):
    """Collects what a strict CSP would object to."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self.scripts.append(names)
            if not names.get("src") and names.get("type") != "application/json":
                self.inline_scripts += 1
        self.handlers += [name for name, _ in attrs if name.lower().startswith("on")]


def inspect(html: str) -> Inspector:
    parser = Inspector()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_with_nav_and_no_inline_code(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-live="connecting"' in html
    for label in ("Overview", "Exchanges", "Queues", "Event log", "Connections", "Glossary"):
        assert f'<span data-i18n="{label}">{label}</span></a>' in html
    found = inspect(html)
    assert found.inline_scripts == 0
    assert found.handlers == []
    modules = [s["src"] for s in found.scripts if s.get("type") == "module"]
    assert len(modules) == 1 and modules[0].startswith("/static/")


def test_htmx_comes_from_static_and_nothing_from_outside(client: FlaskClient) -> None:
    """Offline classrooms: every script a page loads is the app's own (set-up vendors htmx)."""
    for path in ("/", "/queues", "/exchanges", "/events", "/connections", "/loop"):
        srcs = [s.get("src") for s in inspect(client.get(path).get_data(as_text=True)).scripts]
        assert "/static/vendor/htmx.min.js" in srcs, path
        assert not [src for src in srcs if src and not src.startswith("/static/")], path


def test_amqp_url_shows_in_the_header(broker: Broker) -> None:
    app = create_app({"BROKER": broker, "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/"})
    html = app.test_client().get("/queues").get_data(as_text=True)
    assert "amqp://guest:guest@127.0.0.1:5672/" in html


def test_names_come_from_the_raw_uri(client: FlaskClient, channel) -> None:
    channel.queue_declare("two\nlines")
    assert 'id="entity-name">two\nlines</span>' in client.get("/queues/%2F/two%0Alines").get_data(
        as_text=True
    )
    channel.queue_declare("a/b %2F c")
    channel.exchange_declare("x/y", "fanout")
    html = client.get(f"/queues/%2F/{q('a/b %2F c')}").get_data(as_text=True)
    assert '<span class="entity-name" id="entity-name">a/b %2F c</span>' in html
    html = client.get(f"/exchanges/%2F/{q('x/y')}").get_data(as_text=True)
    assert 'id="entity-name">x/y</span>' in html
    assert f'href="/exchanges/%2F/{q("x/y")}"' in client.get("/exchanges").get_data(as_text=True)


def test_default_exchange_page_is_amq_default(client: FlaskClient) -> None:
    html = client.get("/exchanges/%2F/amq.default").get_data(as_text=True)
    assert "(AMQP default)" in html
    assert 'href="/exchanges/%2F/amq.default"' in client.get("/exchanges").get_data(as_text=True)


def test_a_missing_entity_is_a_teaching_404(client: FlaskClient) -> None:
    response = client.get("/queues/%2F/nope")
    assert response.status_code == 404
    assert "NOT_FOUND - no queue 'nope' in vhost '/'" in response.get_data(as_text=True)
    assert client.get("/exchanges/%2F/nope").status_code == 404
    assert client.get("/queues/nohost/x").status_code == 404
    assert client.get("/queues/%2F/nope?fragment=facts").status_code == 404
    # A page's htmx refresh that raced the deletion gets "nothing to swap", not an error.
    refresh = client.get("/queues/%2F/nope?fragment=facts", headers={"HX-Request": "true"})
    assert refresh.status_code == 204 and refresh.data == b""


def test_fragments_are_partial_html(client: FlaskClient, channel) -> None:
    channel.queue_declare("jobs")
    channel.basic_publish("", "jobs", b"first")
    table = client.get("/queues?fragment=table").get_data(as_text=True)
    assert table.lstrip().startswith("<table") and "<html" not in table
    assert 'data-name="jobs"' in table
    peek = client.get("/queues/%2F/jobs?fragment=peek&count=3").get_data(as_text=True)
    assert "first" in peek and "<html" not in peek
    assert client.get("/queues/%2F/jobs?fragment=nope").status_code == 404
    for fragment in ("facts", "consumers"):
        assert client.get(f"/queues/%2F/jobs?fragment={fragment}").status_code == 200
    assert client.get("/exchanges/%2F/amq.topic?fragment=bindings").status_code == 200
    assert client.get("/connections?fragment=tables").status_code == 200
    # Peeking leaves the message where it is.
    assert channel.basic_get("jobs", no_ack=True).body == b"first"


def test_user_data_is_escaped_everywhere(client: FlaskClient, channel) -> None:
    evil = '"><script>alert(1)</script>'
    channel.exchange_declare(evil, "direct")
    channel.queue_declare(evil, arguments={"x-dead-letter-exchange": evil})
    channel.queue_bind(evil, evil, evil)
    channel.basic_publish(evil, evil, evil.encode())
    pages = [
        "/exchanges",
        "/queues",
        f"/exchanges/%2F/{q(evil)}",
        f"/queues/%2F/{q(evil)}",
        f"/queues/%2F/{q(evil)}?fragment=peek",
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html, path
        assert "&lt;script&gt;alert(1)" in html, path


def test_our_javascript_never_writes_markup() -> None:
    forbidden = re.compile(
        r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\("
    )
    scripts = [p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts]
    assert scripts
    for script in scripts:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            assert not forbidden.search(line), f"{script.name}:{number}: {line.strip()}"


def test_templates_have_no_inline_code() -> None:
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        # <script src=…> and JSON data blocks only: nothing a strict CSP would block
        code = re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", text)
        assert not code, template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "|safe" not in text, template.name
