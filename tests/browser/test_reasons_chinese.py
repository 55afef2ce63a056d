"""The broker's explanations on the live pages in Chinese: a zh-CN browser reads why a message
was unroutable (the overview's note and list, the exchange page's routing trace) and why a message
was dropped or a queue deleted (the event log) in Chinese, and the switch says them again in
English in place, and back.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from broker import Broker
from tests.browser.test_pages_chinese import english_left, open_live, visible_text
from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(120)

SHOP, ORDERS, SMALL = "商店", "订单", "小队列"
PATTERN, KEY = "*.美国.#", "发货.欧洲"
# Why KEY went nowhere, in each language (the topic exchange's own explanation).
WHY_ZH = f"`{PATTERN}` 对比 `{KEY}`：第 2 个词 `美国` ≠ `欧洲`"
WHY_EN = f"`{PATTERN}` vs `{KEY}`: word 2 `美国` ≠ `欧洲`"


@pytest.fixture
def chinese(chromium):
    context = chromium.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def shop(broker: Broker):
    """A topic exchange whose one binding the key KEY does not match."""
    channel = broker.connect("学生").channel()
    channel.exchange_declare(SHOP, "topic")
    channel.queue_declare(ORDERS)
    channel.queue_bind(ORDERS, SHOP, PATTERN)
    return channel


def test_the_overview_says_why_a_message_was_unroutable_in_chinese(
    chinese: Page, server: LiveServer
) -> None:
    channel = shop(server.broker)
    open_live(chinese, server, "/")
    expect(chinese.locator(f'#diagram g[data-name="{SHOP}"]')).to_be_visible()
    channel.basic_publish(SHOP, KEY, b"x")
    expect(chinese.locator("#unroutable-list li .reason")).to_have_text(WHY_ZH)
    expect(chinese.locator("#diagram .reason-note")).to_contain_text("第 2 个词")
    assert english_left(visible_text(chinese)) == []

    chinese.select_option("#language-switch", "en")
    expect(chinese.locator("#unroutable-list li .reason")).to_have_text(WHY_EN)
    chinese.select_option("#language-switch", "zh")
    expect(chinese.locator("#unroutable-list li .reason")).to_have_text(WHY_ZH)
    assert chinese.console_errors == []


def test_the_exchange_page_traces_routing_in_chinese(chinese: Page, server: LiveServer) -> None:
    shop(server.broker)
    open_live(chinese, server, f"/exchanges/%2F/{quote(SHOP)}")
    chinese.locator("#publish-routing-key").fill(KEY)
    chinese.locator("#publish-body").fill("你好")
    chinese.locator("#publish-button").click()
    why = chinese.locator("#trace-list li.trace-unroutable td.why")
    expect(why).to_have_text(WHY_ZH)
    expect(chinese.locator("#publish-result .reason")).to_contain_text(WHY_ZH)
    assert english_left(visible_text(chinese)) == []

    chinese.select_option("#language-switch", "en")
    expect(why).to_have_text(WHY_EN)
    expect(chinese.locator("#publish-result .reason")).to_contain_text(WHY_EN)
    chinese.select_option("#language-switch", "zh")
    expect(why).to_have_text(WHY_ZH)
    assert chinese.console_errors == []


def test_the_event_log_says_the_brokers_reasons_in_chinese(
    chinese: Page, server: LiveServer
) -> None:
    channel = shop(server.broker)
    channel.basic_publish("", "无人", b"x")
    channel.queue_declare(SMALL, arguments={"x-max-length": 1})
    channel.basic_publish("", SMALL, b"1")
    channel.basic_publish("", SMALL, b"2")
    channel.queue_delete(SMALL)
    open_live(chinese, server, "/events")
    dropped = chinese.locator('#log-body tr[data-type="dropped"] td.details')
    deleted = chinese.locator('#log-body tr[data-type="queue.deleted"] td.details')
    unroutable = chinese.locator('#log-body tr[data-type="unroutable"] td.details')
    expect(dropped).to_have_text("队列已满（x-overflow drop-head）")
    expect(deleted).to_contain_text("已删除")
    expect(unroutable).to_contain_text("没有名为 `无人` 的队列")
    assert english_left(visible_text(chinese)) == []

    chinese.select_option("#language-switch", "en")
    expect(dropped).to_have_text("queue full (x-overflow drop-head)")
    expect(unroutable).to_contain_text("no queue named `无人`")
    chinese.select_option("#language-switch", "zh")
    expect(dropped).to_have_text("队列已满（x-overflow drop-head）")
    assert chinese.console_errors == []
