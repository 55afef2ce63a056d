"""The class's language in a real Chromium: the browser's language first, a switch in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def chinese_page(chromium):
    context = chromium.new_context(locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def test_a_chinese_browser_gets_chinese_and_the_switch_changes_the_page_in_place(
    chinese_page, server: LiveServer
):
    page = chinese_page
    page.goto(server.url + "/")
    page.wait_for_selector('body[data-live="open"]')
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    nav = page.locator("header nav")
    expect(nav).to_contain_text("交换机")
    page.evaluate("window.stillTheSamePage = true")
    with server.broker.connect("student") as connection:
        connection.channel().queue_declare("orders")
    expect(page.locator('#diagram g[data-node="queue"][data-name="orders"]')).to_be_visible()

    page.select_option("#language-switch", "en")
    expect(nav).to_contain_text("Exchanges")
    expect(nav).not_to_contain_text("交换机")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate("window.stillTheSamePage") is True  # no reload: the live state stays
    assert page.get_attribute("#projector-toggle", "title") == "Large text for a projector"
    with server.broker.connect("student") as connection:
        connection.channel().queue_declare("invoices")
    expect(page.locator('#diagram g[data-node="queue"][data-name="invoices"]')).to_be_visible()

    page.reload()  # the choice is remembered
    page.wait_for_selector('body[data-live="open"]')
    expect(nav).to_contain_text("Exchanges")


def test_the_glossary_pairs_the_terms_and_switches_in_place(chinese_page, server: LiveServer):
    page = chinese_page
    page.goto(server.url + "/glossary")
    rows = page.locator("table.glossary tbody tr")
    expect(rows).to_have_count(25)
    exchange = page.locator("tr#exchange")
    expect(exchange).to_contain_text("交换机")
    expect(exchange).to_contain_text("生产者发布消息的地方")
    page.select_option("#language-switch", "en")
    expect(exchange).to_contain_text("Where producers publish")
    expect(exchange).to_contain_text("交换机")  # the pair stays: both terms in every language
    exchange.locator("a").click()
    page.wait_for_url("**/exchanges")
    page.wait_for_selector('body[data-live="open"]')


@pytest.mark.parametrize("path", ["/", "/queues", "/events", "/loop", "/glossary"])
def test_projector_mode_in_chinese_keeps_the_header_small(chromium, server: LiveServer, path):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        page.goto(server.url + path)
        page.click("#projector-toggle")
        expect(page.locator("html")).to_have_attribute("data-projector", "on")
        header = page.locator("header.site").bounding_box()
        page.screenshot(path=f"/tmp/projector-zh{path.replace('/', '-')}.png")
        assert header["height"] <= 0.15 * 768, header
    finally:
        context.close()
