"""Hostile names, keys, headers and bodies are shown as text on every page, never run.

Each string of the corpus is used as an exchange name, a queue name, a routing key, a header
value, a message body, a connection name and a consumer tag. Then every page is visited (and its
JavaScript made to draw those values: the diagram, the event log, get, peek, the history of a
message): no dialog may open, no console error may appear, no request may leave the app, no
element the corpus describes may exist, and the strings must be there to read, literally.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from broker import Broker, Properties
from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(120)

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    '"><svg onload=alert(1)>',
    "<svg><script>alert(2)</script></svg>",
    "' onmouseover='alert(3)' x='",
    "</textarea><iframe src=javascript:alert(4)>",
    "{{7*7}} ${7*7} a/b?c#d%2F",
]


def q(name: str) -> str:
    return quote(name, safe="")


def assert_inert(page: Page) -> None:
    assert page.dialogs == [], page.dialogs
    assert page.console_errors == [], page.console_errors
    assert page.outside_requests == [], page.outside_requests
    found = page.evaluate(
        """() => ({
            img: document.querySelectorAll('img').length,
            iframe: document.querySelectorAll('iframe').length,
            inlineScripts: [...document.scripts].filter(
                (s) => !s.src && s.type !== 'application/json').length,
            foreignScripts: [...document.scripts].filter(
                (s) => s.src && new URL(s.src).origin !== location.origin).length,
            handlers: [...document.querySelectorAll('*')].filter((el) =>
                [...el.attributes].some((a) => a.name.toLowerCase().startsWith('on'))).length,
            jsLinks: [...document.querySelectorAll('[href],[src],[action]')].filter((el) =>
                ['href', 'src', 'action'].some((a) =>
                    (el.getAttribute(a) || '').trim().toLowerCase().startsWith('javascript:'))).length,
        })"""
    )
    assert found == {
        "img": 0,
        "iframe": 0,
        "inlineScripts": 0,
        "foreignScripts": 0,
        "handlers": 0,
        "jsLinks": 0,
    }, found


def build_hostile_world(broker: Broker) -> list[int]:
    """Every hostile string as names, keys, headers, bodies; returns some message ids."""
    setup = broker.connect("setup").channel()
    for text in HOSTILE:
        setup.exchange_declare(text, "topic")
        setup.queue_declare(text, arguments={"x-dead-letter-exchange": text})
        setup.queue_bind(text, text, text)
        setup.basic_publish(text, text, text.encode(), Properties(headers={"h": text}))
        setup.basic_publish(text, text + ".nothing", text.encode())  # unroutable, with a trace
    evil = broker.connect(HOSTILE[3], client_properties={"product": HOSTILE[0]}).channel()
    evil.queue_declare(HOSTILE[1] + " (consumed)")
    evil.basic_consume(HOSTILE[1] + " (consumed)", lambda delivery: None, consumer_tag=HOSTILE[2])
    return [e.get("message_id") for e in broker.events.recent() if e.type == "published"]


def visit(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_selector('body[data-live="open"]')


def test_hostile_strings_are_shown_literally_and_never_run(page: Page, server: LiveServer) -> None:
    message_ids = build_hostile_world(server.broker)

    visit(page, server, "/")
    names = page.locator("#diagram g[data-node]").evaluate_all(
        "nodes => nodes.map((n) => n.dataset.name)"
    )
    for text in HOSTILE:
        assert text in names
    for text in HOSTILE[-6:]:  # the list keeps the last six
        expect(page.locator("#unroutable-list")).to_contain_text(f"`{text}` vs `{text}.nothing`")
    assert_inert(page)
    # Traffic while the page draws: animated dots and an unroutable note with hostile text.
    live = server.broker.connect("live").channel()
    for text in HOSTILE:
        live.basic_publish(text, text + ".again", b"<b>bold?</b>")
    expect(page.locator("#diagram .reason-note").first).to_be_visible()
    assert_inert(page)

    for path, texts in (
        ("/exchanges", HOSTILE),
        ("/queues", HOSTILE),
        ("/connections", HOSTILE[:4]),  # client property, consumer's queue, its tag, connection
    ):
        visit(page, server, path)
        for text in texts:
            expect(page.locator("main")).to_contain_text(text)
        assert_inert(page)

    visit(page, server, "/events")
    expect(page.locator("#log-body")).to_contain_text(HOSTILE[0])
    for text in HOSTILE:
        page.locator("#filter-entity").fill(text)
        expect(page.locator("#log-body tr").first).to_contain_text(text)
    page.locator("#filter-entity").fill("")
    page.goto(f"{server.url}/events?message={message_ids[0]}")
    page.wait_for_selector('body[data-live="open"]')
    expect(page.locator("#history-body")).to_contain_text(HOSTILE[0])
    assert_inert(page)

    for text in HOSTILE:
        visit(page, server, f"/exchanges/%2F/{q(text)}")
        expect(page.locator("#entity-name")).to_have_text(text)
        expect(page.locator("#bindings-table")).to_contain_text(text)
        expect(page.locator("#trace-list")).to_contain_text(text)
        publish = page.locator("#publish")
        publish.locator('input[name="routing_key"]').fill(text)
        publish.locator('textarea[name="payload"]').fill(text)
        publish.get_by_role("button", name="+ add headers").click()
        publish.locator(".kv-row .kv-key").fill(text)
        publish.locator(".kv-row .kv-value").fill(text)
        publish.get_by_role("button", name="Publish").click()
        expect(page.locator("#publish-result")).to_contain_text(text)
        assert_inert(page)

        visit(page, server, f"/queues/%2F/{q(text)}")
        expect(page.locator("#entity-name")).to_have_text(text)
        page.get_by_role("button", name="Peek").click()
        expect(page.locator("#peek .payload").first).to_have_text(text)
        page.locator("#get").get_by_label("Count").fill("3")
        page.locator("#get").get_by_role("button", name="Get").click()
        expect(page.locator("#get-messages li.message").first).to_contain_text(text)
        assert_inert(page)


def test_a_missing_name_is_shown_literally(page: Page, server: LiveServer) -> None:
    for text in HOSTILE[:3]:
        page.goto(f"{server.url}/queues/%2F/{q(text)}")
        expect(page.locator(".notice.error")).to_contain_text(f"no queue '{text}'")
        assert page.dialogs == []
        assert page.locator("img").count() == 0
