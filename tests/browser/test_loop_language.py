"""The event-loop page in Chinese: no English left while demos run, and a switch of language
changes the live page in place (the text its scripts wrote included) and back.

What may stay in English is named here, and short: product and library names, Python's words
(code is code: <code>, <pre>, <kbd> and the names the loop fills into its sentences, its tasks,
threads and callables, are left out), and the AMQP word beside its Chinese term, "确认 (ack)".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from broker import Broker
from tests.live_server import LiveServer, live_server
from web.loop import stop_loop

pytestmark = pytest.mark.timeout(90)

# Words that read the same in a Chinese page: names, Python's own words, the AMQP term's English.
ALLOWED = {
    "QueueLab",  # the product
    "English",  # the language switch names each language in itself
    "asyncio",  # the library the page is about
    "await",  # a Python keyword
    "Future",  # asyncio.Future, a class
    "TimeoutError",  # a Python exception class
    "ack",  # 确认 (ack): the AMQP word beside the term
    "ms",  # the unit
}
# Left out of the text: code, and the names the loop's sentences fill in (program data).
NOT_PROSE = "code, pre, kbd, .loop-name, .task-name, .message-body"
VISIBLE_PROSE = """(selector) => {
  const hidden = [...document.querySelectorAll(selector)];
  const displays = hidden.map((el) => el.style.display);
  hidden.forEach((el) => { el.style.display = "none"; });
  const text = document.body.innerText;
  hidden.forEach((el, i) => { el.style.display = displays[i]; });
  return text;
}"""
TOKEN = re.compile(r"[A-Za-z][\w.\-()<>#/]*")


def english_words(page: Page) -> set[str]:
    """Plain English words in the page's visible prose (identifiers such as `select()`,
    `asyncio.Event`, `call_later` are code, not words)."""
    text = page.evaluate(VISIBLE_PROSE, NOT_PROSE)
    words = {token for token in TOKEN.findall(text) if re.fullmatch(r"[A-Za-z]{2,}", token)}
    allowed = {word.lower() for word in ALLOWED}
    return {word for word in words if word.lower() not in allowed}  # (CSS may upper-case)


@pytest.fixture(scope="module")
def loop_site() -> Iterator[LiveServer]:
    broker = Broker()
    with live_server(broker) as server:
        yield server
        stop_loop(server.app)
    broker.close()


@pytest.fixture
def chinese_loop(chromium, loop_site: LiveServer) -> Iterator[Page]:
    """The loop page in a Chinese browser, on a fresh loop, with no consumer queue left."""
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: page.console_errors.append(message.text) if message.type == "error" else 0,
    )
    page.set_default_timeout(10_000)
    with loop_site.broker.connect("test cleanup") as connection:
        connection.channel().queue_delete("orders")
    page.goto(f"{loop_site.url}/loop")
    page.wait_for_selector('body[data-loop-live="open"]', state="attached")
    generation = page.evaluate("Number(document.body.dataset.loopGeneration)")
    page.click("#btn-reset")
    page.wait_for_selector(f'body[data-loop-generation="{generation + 1}"]', state="attached")
    yield page
    assert page.console_errors == []
    context.close()


def start(page: Page, demo: str) -> None:
    page.click(f'.demo-start[data-demo="{demo}"]')
    expect(page.locator(f'li.demo[data-demo="{demo}"]')).to_have_attribute("data-state", "running")


def step(page: Page, times: int) -> None:
    for _ in range(times):
        before = int(page.locator("body").get_attribute("data-loop-steps") or 0)
        page.click("#btn-step")
        expect(page.locator("body")).to_have_attribute("data-loop-steps", str(before + 1))


def test_the_loop_page_in_chinese_while_demos_run_has_no_english_left(chinese_loop: Page) -> None:
    page = chinese_loop
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    start(page, "consumer_service")
    expect(page.locator("#queue-depth")).to_have_text("0 就绪 · 0 未确认 · 1 个消费者")
    page.click("#publish-button")
    expect(page.locator("#publish-result .notice.ok")).to_contain_text("已发布消息 #")
    expect(page.locator("#message-list li[data-done='acked']")).to_have_count(1)
    page.click("#btn-pause")
    start(page, "event_loop")
    start(page, "error_handling")
    step(page, 8)
    expect(page.locator("#ready-list .entry-label").first).to_contain_text("的一步")
    expect(page.locator("#log")).to_contain_text("▶ 任务")
    expect(page.locator("#control-result")).to_contain_text("已运行：")
    assert english_words(page) == set()
    page.click("#btn-run")
    expect(page.locator('li.demo[data-demo="error_handling"]')).to_have_attribute(
        "data-state", "done"
    )
    expect(page.locator('li.demo[data-demo="event_loop"]')).to_have_attribute("data-state", "done")
    expect(page.locator("#exception-list li.exception")).to_have_count(3)
    assert english_words(page) == set()


def test_the_switch_changes_the_live_loop_page_in_place_and_back(chinese_loop: Page) -> None:
    page = chinese_loop
    page.evaluate("window.stillTheSamePage = true")
    page.click("#btn-pause")
    start(page, "event_loop")
    step(page, 3)
    ready = page.locator("#ready-list .entry-label")
    expect(ready).to_have_text(["任务 B 的一步", "任务 C 的一步", "任务 A 的一步"])
    log, mode, result = page.locator("#log"), page.locator("#mode"), page.locator("#control-result")
    expect(log).to_contain_text("▶ 任务 A 的一步")
    expect(log).to_contain_text("A 第 1 轮")
    expect(mode).to_have_text("已暂停：停在下一个回调之前")
    expect(result).to_contain_text("已运行：任务 A 的一步")
    expect(page.locator("#code-title")).to_have_text("代码：任务在每个 await 处轮流运行")
    expect(page.locator("#task-list")).to_contain_text("等待")

    page.select_option("#language-switch", "en")
    expect(ready).to_have_text(["step of task B", "step of task C", "step of task A"])
    expect(log).to_contain_text("▶ step of task A")
    expect(log).to_contain_text("A round 1")
    expect(log).not_to_contain_text("任务")
    expect(mode).to_have_text("paused: held before the next callback")
    expect(result).to_have_text("ran: step of task A")
    expect(page.locator("#code-title")).to_have_text("Code: Tasks take turns at each await")
    expect(page.locator(".page-head h1")).to_contain_text("Event loop")
    expect(page.locator('.demo-start[data-demo="event_loop"]')).to_have_text(
        "▶ Tasks take turns at each await"
    )
    expect(page.locator("#live-status")).to_have_text("loop live")
    assert page.evaluate("document.documentElement.lang") == "en"
    step(page, 1)  # the page stays live: new text comes in English
    expect(ready).to_have_text(["step of task C", "step of task A", "step of task B"])

    page.select_option("#language-switch", "zh")
    expect(ready).to_have_text(["任务 C 的一步", "任务 A 的一步", "任务 B 的一步"])
    expect(log).to_contain_text("▶ 任务 B 的一步")
    expect(result).to_have_text("已运行：任务 B 的一步")
    expect(page.locator(".demo-explanation").first).to_contain_text("Future 是一个")
    assert page.evaluate("window.stillTheSamePage") is True
    page.click("#btn-run")


def test_in_projector_mode_the_header_keeps_within_15_percent(chinese_loop: Page) -> None:
    page = chinese_loop
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#projector-toggle")
    expect(page.locator("html")).to_have_attribute("data-projector", "on")
    height = page.evaluate("document.querySelector('header.site').getBoundingClientRect().height")
    assert height <= 0.15 * 768
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
