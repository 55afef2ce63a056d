"""Shared fixtures: a fresh broker, a live server, and a real headless Chromium.

Browser tests drive Debian's /usr/bin/chromium through Playwright (no browser download). When
Chromium is missing they fail under CI (CI=true) and are skipped with a reason elsewhere, so a
green CI run always means the browser tests ran.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from broker import Broker, VirtualClock
from tests.live_server import LiveServer, live_server

CHROMIUM = os.environ.get("QUEUELAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/browser/ carry the `browser` marker (`-m "not browser"` leaves them)."""
    for item in items:
        if "browser" in item.path.parts[-3:-1]:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def broker() -> Iterator[Broker]:
    instance = Broker()
    yield instance
    instance.close()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def virtual_broker(clock: VirtualClock) -> Iterator[Broker]:
    instance = Broker(clock=clock)
    yield instance
    instance.close()


@pytest.fixture
def server(broker: Broker) -> Iterator[LiveServer]:
    with live_server(broker) as running:
        yield running


@pytest.fixture(scope="module")
def chromium():
    # Module scope, not session: a live sync_playwright() keeps an asyncio loop set on the main
    # thread, and asyncio.run() in later (non-browser) test modules would then refuse to start.
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser tab that fails the test on any dialog (e.g. an injected alert()) and
    records console errors and requests that leave the app's origin."""
    context = chromium.new_context()
    tab = context.new_page()
    tab.dialogs = []
    tab.console_errors = []
    tab.outside_requests = []
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
            tab.outside_requests.append(request.url)
            if not request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "about:"))
            else None
        ),
    )
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
