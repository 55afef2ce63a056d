"""The event-loop lessons in a real Chromium: the script shows as code, a prediction is an order
arranged with the arrow buttons, a fix is one line chosen with a radio button, and both are
checked by running the scenario for real — in English and in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.live_server import LiveServer

pytestmark = pytest.mark.timeout(90)


def open_lesson(page: Page, server: LiveServer, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_selector('body[data-live="open"]')
    expect(page.locator("#lesson-pane h2")).to_be_visible()


def exercise(page: Page, exercise_id: str):
    return page.locator(f'article.exercise[data-exercise="{exercise_id}"]')


def order_of(card) -> list[str]:
    return card.locator("ol.ordering li").evaluate_all("items => items.map(i => i.dataset.label)")


def move(card, label: str, direction: str, times: int = 1) -> None:
    for _ in range(times):
        card.locator(f'li[data-label="{label}"] button.move-{direction}').click()


def test_a_learner_orders_the_prints_of_a_callback_script(page: Page, server: LiveServer):
    open_lesson(page, server, "/lessons/callbacks")
    card = exercise(page, "callback-order")
    code = card.locator(".task pre code")
    expect(code).to_contain_text('    loop.call_later(0.01, print, "timer")')  # indentation kept
    assert order_of(card) == ["start", "timer", "soon", "done", "end"]

    card.locator("button.check").click()  # the order as registered: the classic mistake
    expect(card.locator(".verdict")).to_contain_text("call_later() only puts a timer")
    expect(card.locator(".hint")).not_to_be_empty()

    move(card, "end", "up", 3)
    move(card, "timer", "down", 2)
    assert order_of(card) == ["start", "end", "soon", "done", "timer"]
    card.locator("button.check").click()
    expect(card).to_have_attribute("data-solved", "true")
    expect(card.locator(".verdict")).to_contain_text("start → end → soon → done → timer")


def test_a_learner_chooses_where_the_await_goes(page: Page, server: LiveServer):
    open_lesson(page, server, "/lessons/event-loop")
    card = exercise(page, "let-others-in")
    expect(card.locator('.choices input[type="radio"]')).to_have_count(3)
    card.locator('input[value="(3)"]').check()
    card.locator("button.check").click()
    expect(card.locator(".verdict")).to_contain_text("comes too late")
    card.locator('input[value="(2)"]').check()
    card.locator("button.check").click()
    expect(card).to_have_attribute("data-solved", "true")


def test_a_chinese_learner_orders_in_chinese_and_switches_in_place(chromium, server: LiveServer):
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        open_lesson(page, server, "/lessons/event-loop")
        expect(page.locator("#lesson-pane h2")).to_have_text("异步不是并行")
        card = exercise(page, "three-workers")
        expect(card.locator(".choices legend")).to_have_text("你的预测，按顺序排列：最先的在最上面")
        expect(card.locator('li[data-label="main"] button.move-up')).to_have_attribute(
            "aria-label", "把 'main' 上移"
        )
        move(card, "main", "up", 6)
        card.locator("button.check").click()
        expect(card.locator(".verdict")).to_contain_text("工作协程的两次打印之间没有 await")
        page.select_option("#language-switch", "en")
        expect(page.locator("#lesson-pane h2")).to_have_text("Async is not parallel")
        expect(card.locator(".choices legend")).to_have_text(
            "Your prediction, in order: the first at the top"
        )
    finally:
        context.close()
