"""The event-loop page in a real browser: every demo stepped one callback at a time, the blocking
call's lag spike, the consumer service handling a message (with a hostile body), live controls.

Each test waits for conditions (Playwright's auto-waiting `expect`), never for fixed times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from broker import Broker
from tests.live_server import LiveServer, live_server
from web.loop import stop_loop

pytestmark = pytest.mark.timeout(60)

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def loop_site() -> Iterator[LiveServer]:
    """One server for the module; each test gets a fresh loop ("New loop"), like a class does."""
    broker = Broker()
    with live_server(broker) as server:
        yield server
        stop_loop(server.app)
    broker.close()


@pytest.fixture(scope="module")
def loop_tab(chromium, loop_site: LiveServer) -> Iterator[Page]:
    """One tab for the module, recording dialogs, console errors and requests that leave the
    app's origin (as the `page` fixture does)."""
    context = chromium.new_context()
    tab = context.new_page()
    tab.dialogs, tab.console_errors, tab.outside_requests = [], [], []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    tab.on(
        "console",
        lambda message: (
            tab.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    tab.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:"))
            else tab.outside_requests.append(request.url)
        ),
    )
    tab.set_default_timeout(10_000)
    tab.goto(f"{loop_site.url}/loop", wait_until="domcontentloaded")
    tab.wait_for_selector('body[data-loop-live="open"]', state="attached")
    yield tab
    context.close()


@pytest.fixture
def loop_page(loop_tab: Page, loop_site: LiveServer) -> Iterator[Page]:
    page = loop_tab
    generation = page.evaluate("Number(document.body.dataset.loopGeneration)")
    with loop_site.broker.connect("test cleanup") as connection:
        connection.channel().queue_delete("orders")  # (no error when there is none)
    page.click("#btn-reset")
    page.wait_for_selector(f'body[data-loop-generation="{generation + 1}"]', state="attached")
    expect(page.locator("body")).to_have_attribute("data-loop-mode", "running")
    page.click("#log-clear")
    yield page
    assert page.dialogs == []
    assert page.console_errors == []
    assert page.outside_requests == []


def pause(page: Page) -> None:
    page.click("#btn-pause")
    expect(page.locator("body")).to_have_attribute("data-loop-mode", "paused")


def start(page: Page, demo: str) -> None:
    page.click(f'.demo-start[data-demo="{demo}"]')
    expect(page.locator(f'li.demo[data-demo="{demo}"]')).to_have_attribute("data-state", "running")


def step(page: Page, times: int = 1) -> None:
    for _ in range(times):
        before = int(page.locator("body").get_attribute("data-loop-steps") or 0)
        page.click("#btn-step")
        expect(page.locator("body")).to_have_attribute("data-loop-steps", str(before + 1))


def ready(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#ready-list li.entry .entry-label")


def timers(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#timer-list li.entry .entry-label")


def task(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#task-list li.task[data-task-name="{name}"]')


# --- every demo in step mode ----------------------------------------------------------------------


def test_event_loop_demo_tasks_take_turns_in_fifo_order(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "event_loop")
    expect(ready(page)).to_have_text([re.compile(r"submit from thread .*: start task event_loop")])
    step(page, 2)
    expect(ready(page)).to_have_text(["step of task A", "step of task B", "step of task C"])
    expect(page.locator("#ready-list li.entry.head .next-tag")).to_have_text("next (held)")
    step(page)  # A runs to its sleep(0) and goes to the back of the queue
    expect(ready(page)).to_have_text(["step of task B", "step of task C", "step of task A"])
    expect(task(page, "A")).to_contain_text("await asyncio.sleep(0)")
    # The code view shows where each task stands: A waits at its await; B, next, has not
    # started yet (so it is at its `def`), and neither has C.
    waiting = page.locator("#code-view li.line-waiting").filter(has_text="await asyncio.sleep(0)")
    expect(waiting.locator(".line-tags")).to_have_text("◀ A")
    expect(page.locator("#code-view li.line-next")).to_contain_text("async def worker")
    expect(page.locator("#code-view li.line-next .line-tags")).to_have_text("◀ B: runs next, C")
    expect(page.locator("#running")).to_contain_text("step of task B")
    expect(page.locator("#log")).to_contain_text("▶ step of task A")


def test_event_demo_sets_a_timer_and_queues_every_waiter(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "event")
    step(page, 2)
    expect(ready(page)).to_have_text(
        ["step of task waiter 1", "step of task waiter 2", "step of task waiter 3"]
    )
    expect(timers(page)).to_have_text(
        [re.compile(r"timer #\d+: asyncio.sleep\(\) of task event is over")]
    )
    expect(page.locator("#timer-list .countdown")).to_contain_text(
        re.compile(r"due in|waits for the paused loop")
    )
    step(page, 3)
    for waiter in ("waiter 1", "waiter 2", "waiter 3"):
        expect(task(page, waiter)).to_contain_text("Event.wait()")
    expect(ready(page).filter(has_text="waiter")).to_have_count(0)


def test_callback_demo_runs_the_done_callback_before_the_wake_up(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "callback")
    step(page, 2)
    expect(timers(page)).to_have_text(
        [re.compile(r"timer #\d+: Future.set_result of future #1 \(set by task callback\)")]
    )
    expect(task(page, "callback")).to_contain_text("value = await box")
    step(page)  # waits for the timer (0.5 s), then runs it
    expect(ready(page)).to_have_text(
        [
            "done-callback of future #1: callback_demo.<locals>.on_done",
            "step of task callback (wake-up: future #1 is done)",
        ]
    )
    expect(page.locator("#timer-list li.empty")).to_be_visible()


def test_timeout_demo_handles_the_timeout_error(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "timeout")
    step(page, 3)
    # wait_for's timer (0.5 s) and the slow operation's sleep: timers until due, then (the loop
    # being paused) entries waiting in the ready queue.
    entries = page.locator("#timer-list li.entry, #ready-list li.entry")
    expect(entries.filter(has_text="_release_waiter (set by task timeout)")).to_have_count(1)
    expect(
        entries.filter(has_text=re.compile(r"asyncio.sleep\(\) of task Task-\d+ is over"))
    ).to_have_count(1)
    step(page, 5)
    exception = page.locator("#exception-list li.exception.handled")
    expect(exception).to_contain_text("TimeoutError")
    expect(exception).to_contain_text("wait_for() gave up after 0.5 s")
    expect(page.locator("#task-list li.task.state-cancelled")).to_have_count(1)


def test_error_handling_demo_shows_handled_and_unhandled(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "error_handling")
    step(page, 6)
    exceptions = page.locator("#exception-list li.exception")
    expect(exceptions).to_have_count(2)
    expect(exceptions.nth(0)).to_contain_text("unhandled")
    expect(exceptions.nth(0)).to_contain_text("RuntimeError: a callback crashed")
    expect(exceptions.nth(1)).to_contain_text("ValueError: caught by the awaiter")
    expect(task(page, "awaited failure")).to_have_attribute("data-state", "failed")
    page.locator("#exception-list li.exception.unhandled summary").click()
    expect(page.locator("#exception-list li.exception.unhandled pre.traceback")).to_contain_text(
        'raise RuntimeError("a callback crashed")'
    )


def test_blocking_call_demo_starts_a_ticker_and_two_timers(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "blocking_call")
    step(page, 3)
    # Two sleeps: the ticker's (0.1 s) and the demo's (0.2 s). Each is a timer until it is
    # due, then (the loop being paused) an entry waiting in the ready queue.
    entries = page.locator("#timer-list li.entry, #ready-list li.entry")
    expect(entries.filter(has_text="asyncio.sleep() of task ticker is over")).to_have_count(1)
    expect(entries.filter(has_text="asyncio.sleep() of task blocking_call is over")).to_have_count(
        1
    )
    expect(task(page, "ticker")).to_contain_text("await asyncio.sleep(tick)")
    expect(task(page, "blocking_call")).to_contain_text("await asyncio.sleep(2.5 * tick)")


def test_callback_delay_demo_queues_fifty_callbacks_ahead_of_its_timer(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    # Started through the API with a timer far off: the page's default (50 ms) could come due
    # while a loaded machine runs the test, and a due timer of a paused loop is a ready entry.
    origin = page.url.split("/loop")[0]
    answer = page.request.post(
        f"{origin}/api/loop/demos/callback_delay", data={"params": {"delay": 10}}
    )
    assert answer.ok, answer.text()
    expect(page.locator('li.demo[data-demo="callback_delay"]')).to_have_attribute(
        "data-state", "running"
    )
    step(page, 2)
    expect(page.locator("#ready-count")).to_have_text("50")
    expect(ready(page)).to_have_count(50)
    expect(ready(page).first).to_have_text("callback_delay_demo.<locals>.busy_callback")
    expect(timers(page)).to_have_text([re.compile(r"timer_fired \(set by task callback_delay\)")])
    step(page)
    expect(page.locator("#ready-count")).to_have_text("49")


def test_consumer_service_in_step_mode(loop_page: Page) -> None:
    page = loop_page
    pause(page)
    start(page, "consumer_service")
    step(page, 2)
    expect(page.locator("#queue-depth")).to_have_text("0 ready · 0 unacked · 1 consumer")
    expect(task(page, "consumer_service")).to_contain_text("Queue.get()")
    expect(page.locator("#code-view li.line-waiting")).to_contain_text(
        "async for message in messages"
    )
    page.fill("#publish-body", "order 7")
    page.click("#publish-button")
    published = page.locator("#publish-result .notice.ok")
    expect(published).to_contain_text("published message #")
    message_id = int(re.search(r"#(\d+)", published.inner_text()).group(1))
    # The delivery reached the paused loop as a callback from the web request's thread.
    expect(ready(page)).to_have_text(
        [
            re.compile(
                rf"call_soon_threadsafe from thread .*: Queue.put_nowait\(message #{message_id}\)"
            )
        ]
    )
    step(page)  # put_nowait wakes the service
    expect(ready(page)).to_have_text([re.compile(r"step of task consumer_service \(wake-up")])
    step(page)  # the service starts one task for the message
    expect(ready(page)).to_have_text([f"step of task handle-message-{message_id}"])
    step(page)  # the task works: a timer for its sleep(work)
    expect(timers(page)).to_have_text(
        [re.compile(rf"asyncio.sleep\(\) of task handle-message-{message_id} is over")]
    )
    row = page.locator(f'#message-list li[data-message="{message_id}"]')
    expect(row).to_contain_text("published → delivered")
    expect(row).to_contain_text(f"task handle-message-{message_id} (pending)")
    page.click("#btn-run")
    expect(row).to_have_attribute("data-done", "acked")


# --- the lessons ----------------------------------------------------------------------------------


# Checked on every animation frame while the blocking call runs (it lasts 1.5 s: too short to
# look at one thing after another with Playwright's polling back-off).
WATCH_BLOCKING = """() => {
  const seen = window.__seen = {};
  const text = (sel) => [...document.querySelectorAll(sel)].map((el) => el.textContent).join("\\n");
  const check = () => {
    if (document.querySelector("#running.blocking")) seen.blocking = true;
    if (text("#running").includes("time.sleep(block)")) seen.runningLine = true;
    if (text("#code-view li.line-running").includes("time.sleep(block)")) seen.codeLine = true;
    if (text("#timer-list li.entry.late").includes("the loop is busy")) seen.lateTimer = true;
    if (text("#ready-list li.entry.late").includes("the loop is busy")) seen.lateFired = true;
    if (text("#ready-list li.entry").includes("Queue.put_nowait(message #")) seen.piledUp = true;
    if (/[1-9]\\d* unacked/.test(text("#queue-depth"))) seen.unacked = true;
    requestAnimationFrame(check);
  };
  check();
}"""


def test_blocking_call_spikes_the_lag_and_orders_pile_up(loop_page: Page) -> None:
    page = loop_page
    start(page, "consumer_service")
    expect(page.locator("#queue-depth")).to_contain_text("1 consumer")
    page.evaluate(WATCH_BLOCKING)
    start(page, "blocking_call")  # time.sleep(1.5) on the loop, with orders fed meanwhile
    # Afterwards the chart shows the spike: at least the sleep, less one 50 ms heartbeat.
    page.wait_for_function("Number(document.getElementById('lag-max').dataset.seconds) >= 1.45")
    lag_text = page.locator("#lag-max").inner_text()
    assert re.fullmatch(r"1\.\d\d s", lag_text) and float(lag_text[:-2]) >= 1.45
    expect(page.locator("#lag-spike-label")).to_have_text(f"{lag_text} late")
    expect(page.locator("#lag-max")).to_have_class(re.compile("spike"))
    # While it blocked: the running pane said so and pointed at the line, the code view too,
    # timers went late, and deliveries queued up as callbacks nobody could run.
    seen = page.evaluate("window.__seen")
    seen.pop("lateFired", None)  # a timer that came due just before the block: not always
    assert seen == {
        "blocking": True,
        "runningLine": True,
        "codeLine": True,
        "lateTimer": True,
        "piledUp": True,
        "unacked": True,
    }
    # The orders published meanwhile get handled once the loop is free again.
    expect(page.locator("#queue-depth")).to_have_text(
        "0 ready · 0 unacked · 1 consumer", timeout=15_000
    )


def test_consumer_service_handles_a_hostile_message_literally(loop_page: Page) -> None:
    page = loop_page
    start(page, "consumer_service")
    expect(page.locator("#queue-depth")).to_contain_text("1 consumer")
    page.fill("#publish-body", HOSTILE)
    page.click("#publish-button")
    published = page.locator("#publish-result .notice.ok")
    expect(published).to_contain_text("published message #")
    message_id = int(re.search(r"#(\d+)", published.inner_text()).group(1))
    row = page.locator(f'#message-list li[data-message="{message_id}"]')
    expect(row).to_have_attribute("data-done", "acked")
    expect(row.locator(".message-body")).to_have_text(HOSTILE)
    expect(row).to_contain_text(f"task handle-message-{message_id} (done)")
    log = page.locator("#log")
    expect(log).to_contain_text(f"message #{message_id} → task handle-message-{message_id} → acked")
    expect(log).to_contain_text(f"b'{HOSTILE}'")  # the handler's narration, literal too
    row.click()
    expect(task(page, f"handle-message-{message_id}")).to_have_class(re.compile("selected"))
    expect(row).to_have_class(re.compile("selected"))
    assert page.locator("img").count() == 0
    assert page.dialogs == []


def test_controls_are_live_in_every_tab_and_from_the_keyboard(
    loop_page: Page, loop_site: LiveServer
) -> None:
    page = loop_page
    other = page.context.new_page()
    try:
        other.goto(f"{loop_site.url}/loop")
        other.wait_for_selector('body[data-loop-live="open"]', state="attached")
        page.keyboard.press("p")
        expect(other.locator("#mode")).to_have_text("paused")
        page.locator("#slow").evaluate(
            "el => { el.value = '0.5'; el.dispatchEvent(new Event('input')); }"
        )
        expect(other.locator("#mode")).to_contain_text("slow motion 0.5 s")
        expect(other.locator("#slow-value")).to_have_text("0.50 s")
        other.keyboard.press("r")
        expect(page.locator("#mode")).to_contain_text("running")
        generation = int(page.evaluate("document.body.dataset.loopGeneration"))
        page.click("#btn-reset")
        expect(page.locator("#control-result")).to_contain_text("a fresh loop")
        expect(other.locator("#log")).to_contain_text(f"a new loop (#{generation + 1})")
    finally:
        other.close()
