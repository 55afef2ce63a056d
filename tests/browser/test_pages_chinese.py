"""The live pages in Chinese: a zh-CN browser sees no English but the protocol's own words, and
the header's switch changes a page in place, text its script wrote included, and back.

The world is named in Chinese (queues, exchanges, keys, connections, consumer tags), so any
English word left on a page is the page's own: it must be on the short allow-list below.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from broker import Broker
from broker.vocabulary import EVENT_TYPES
from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(120)

# Words a Chinese page keeps in English, because a student meets them as they are elsewhere.
PRODUCTS = {"QueueLab", "RabbitMQ", "AMQP", "pika", "aio-pika", "Python", "English"}
# RabbitMQ's abbreviations (its management UI's flags and features) and the terms the class keeps
# beside their Chinese: 确认（ack）, 否认（nack）, 虚拟主机（vhost）, TTL.
ABBREVIATIONS = {"AD", "Excl", "TTL", "DLX", "ack", "nack", "vhost", "ms"}
# AMQP 0-9-1 and RabbitMQ vocabulary: methods, flags, properties, arguments and their values,
# exchange types and the system exchanges' prefix, the default user.
PROTOCOL = {
    *("basic.get", "basic.consume", "basic.get-empty", "basic.ack", "basic.nack", "no_ack"),
    *("mandatory", "redelivered", "requeue", "true", "false", "expiration", "base64", "guest"),
    *("x-message-ttl", "x-expires", "x-max-length", "x-max-length-bytes", "x-max-priority"),
    *("x-overflow", "drop-head", "reject-publish", "reject-publish-dlx", "x-priority"),
    *("x-dead-letter-exchange", "x-dead-letter-routing-key", "x-single-active-consumer"),
    *("x-match", "all", "any", "direct", "fanout", "topic", "headers", "amq"),
    *("reply-to", "delivery_mode", "content_type", "message_id", "correlation_id", "reply_to"),
}
# RabbitMQ's own names: its system exchanges, server-named queues and consumer tags (amq.…).
SYSTEM_NAME = re.compile(r"^amq\.")
# The broker's event types, shown as the broker names them (with their Chinese beside them).
EVENTS = set(EVENT_TYPES)
# The name the web layer gives its own connection (the management API's, as RabbitMQ's own UI).
SERVER_DATA = {"management", "UI"}
ALLOWED = PRODUCTS | ABBREVIATIONS | PROTOCOL | EVENTS | SERVER_DATA

WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.*#-]*[A-Za-z]")
# RabbitMQ's reply texts stay as the broker says them: `NOT_FOUND - no queue 'x' in vhost '/'`.
REPLY_TEXT = re.compile(r"\b[A-Z_]{3,} - [^\n]*")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")

# The world, in Chinese.
STUDENT, WORKER = "学生", "工人"
SHOP, NOBODY, DEAD = "商店", "无人", "死信"
ORDERS, PARKED = "订单", "停放"
TAG = "工人一"
NAMES = {STUDENT, WORKER, SHOP, NOBODY, DEAD, ORDERS, PARKED, TAG}
DATA = NAMES | {"你好", "直达", "某键", "简体中文"}  # and the switch's own name for Chinese


def english_left(text: str) -> list[str]:
    """The English words in a page's text that are not on the allow-list."""
    text = REPLY_TEXT.sub("", text)
    words = {w.strip(".-") for w in WORD.findall(text)}
    return sorted(w for w in words if w not in ALLOWED and not SYSTEM_NAME.match(w))


def chinese_left(text: str) -> list[str]:
    """The Chinese in a page's text that is not the world's own names."""
    for name in sorted(DATA, key=len, reverse=True):
        text = text.replace(name, "")
    return sorted(set(CJK.findall(text)) - {"（", "）", "，", "：", "。", "、"})


def build_world(broker: Broker) -> None:
    """Exchanges, queues, a binding, a consumer holding messages, and an unroutable message (to
    an exchange without bindings, so its reason is the page's own words)."""
    channel = broker.connect(STUDENT).channel()
    channel.exchange_declare(SHOP, "topic")
    channel.exchange_declare(DEAD, "fanout")
    channel.exchange_declare(NOBODY, "direct")
    channel.queue_declare(
        ORDERS, arguments={"x-message-ttl": 60_000, "x-dead-letter-exchange": DEAD}
    )
    channel.queue_declare(PARKED)
    channel.queue_bind(PARKED, DEAD, "")
    channel.queue_bind(ORDERS, SHOP, f"{ORDERS}.#")
    worker = broker.connect(WORKER).channel()
    worker.basic_qos(2)
    worker.basic_consume(ORDERS, lambda delivery: None, consumer_tag=TAG)
    for n in range(4):
        channel.basic_publish(SHOP, f"{ORDERS}.{n}", "你好".encode())
    channel.basic_publish(NOBODY, "某键", "你好".encode())
    channel.basic_publish("", ORDERS, "直达".encode())


@pytest.fixture
def chinese(chromium):
    context = chromium.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def open_live(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_selector('body[data-live="open"]')


def visible_text(page: Page) -> str:
    return page.evaluate("document.body.innerText")


def use_queue_page(page: Page) -> None:
    """Let the queue page's script write: a get (its result and messages), a peek, a publish."""
    page.locator("#get-button").click()
    expect(page.locator("#get-messages li.message")).to_have_count(1)
    page.locator("#peek-button").click()
    expect(page.locator("#peek li.message").first).to_be_visible()
    page.locator("#publish-body").fill("你好")
    page.locator("#publish-button").click()
    expect(page.locator("#publish-result .notice")).to_be_visible()


def use_exchange_page(page: Page) -> None:
    page.locator("#publish-routing-key").fill(f"{ORDERS}.9")
    page.locator("#publish-body").fill("你好")
    page.locator("#publish-button").click()
    expect(page.locator("#publish-result .notice.ok")).to_be_visible()
    expect(page.locator("#trace-list li.trace tr.match").first).to_be_visible()


def use_events_page(page: Page) -> None:
    expect(page.locator('#log-body tr[data-type="unroutable"]')).to_have_count(1)
    page.locator('#log-body tr[data-type="published"] button[data-message-id]').first.click()
    expect(page.locator("#history-body .timeline li").first).to_be_visible()
    page.get_by_role("button", name="暂停").click()
    expect(page.locator("#log-status")).to_contain_text("已暂停")


def use_overview(page: Page) -> None:
    expect(page.locator(f'#diagram g[data-node="queue"][data-name="{ORDERS}"]')).to_be_visible()
    expect(page.locator("#unroutable-list li .reason")).to_contain_text(NOBODY)


PAGES = {
    "overview": ("/", use_overview),
    "queues": ("/queues", None),
    "queue": (f"/queues/%2F/{quote(ORDERS)}", use_queue_page),
    "exchanges": ("/exchanges", None),
    "exchange": (f"/exchanges/%2F/{quote(SHOP)}", use_exchange_page),
    "default exchange": ("/exchanges/%2F/amq.default", None),
    "events": ("/events", use_events_page),
    "connections": ("/connections", None),
    "missing queue": ("/queues/%2F/%E6%B2%A1%E6%9C%89", None),
}


def test_a_chinese_browser_sees_no_english_on_the_live_pages(
    chinese: Page, server: LiveServer
) -> None:
    build_world(server.broker)
    for name, (path, use) in PAGES.items():
        open_live(chinese, server, path)
        if use:
            use(chinese)
        assert english_left(visible_text(chinese)) == [], name
    # The missing page answers 404 (as it should); nothing else may go wrong.
    assert [e for e in chinese.console_errors if "404 (NOT FOUND)" not in e] == []


@pytest.mark.slow
def test_the_switch_changes_each_page_in_place_and_back(chinese: Page, server: LiveServer) -> None:
    build_world(server.broker)
    nav = chinese.locator("header nav")
    for name in ("overview", "queue", "exchange", "events"):
        path, use = PAGES[name]
        open_live(chinese, server, path)
        use(chinese)
        chinese.evaluate("window.stillTheSamePage = true")
        written = visible_text(chinese)

        chinese.select_option("#language-switch", "en")
        expect(nav).to_contain_text("Exchanges")
        assert chinese_left(visible_text(chinese)) == [], name
        assert chinese_left(chinese.title()) == [], name
        assert visible_text(chinese) != written

        chinese.select_option("#language-switch", "zh")
        expect(nav).to_contain_text("交换机")
        assert english_left(visible_text(chinese)) == [], name
        assert english_left(chinese.title()) == [], name
        assert chinese.evaluate("window.stillTheSamePage") is True, name  # no reload
    assert chinese.console_errors == []
