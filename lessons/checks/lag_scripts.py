"""The asyncio scripts behind the blocked-loop and callback-delay lessons: a heartbeat that wants
to run on time, and a neighbour that keeps the loop's only thread busy.

A `Heartbeat` sleeps `period` seconds at a time and records how late it woke. The neighbour is
one of the variants a learner chooses from (the exercise shows each as a line of code). The
measurements rely on lower bounds that hold on any machine: a callback that blocks for 0.8 s
makes a beat due meanwhile at least that late; a fixed variant is late by milliseconds on an idle
machine, and the checks allow a generous margin for a loaded one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from lessons.checks.loop_scripts import crunch

Variant = Callable[[], Awaitable[object]]


class Heartbeat:
    """Wants to run every `period` seconds; `worst` is the latest it woke, in seconds."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.worst = 0.0

    async def beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            self.worst = max(self.worst, loop.time() - due)


async def worst_lag(neighbour: Variant, period: float) -> float:
    """Run `neighbour` beside a heartbeat and return the heartbeat's worst lag meanwhile."""
    heartbeat = Heartbeat(period)
    beating = asyncio.create_task(heartbeat.beat())
    await asyncio.sleep(2.5 * period)  # a few beats on time first
    heartbeat.worst = 0.0
    await neighbour()
    await asyncio.sleep(3 * period)  # a beat the neighbour delayed still gets measured
    beating.cancel()
    return heartbeat.worst


# --- blocked loop: a blocking call inside a coroutine -----------------------------------------

BLOCK_SECONDS = 0.8


def fetch_report() -> str:
    time.sleep(BLOCK_SECONDS)  # a blocking library call: requests.get, a database driver …
    return "report"


async def fetch_report_async() -> str:
    return fetch_report()


async def _as_it_is() -> str:
    report = fetch_report()
    return report


async def _in_a_thread() -> str:
    report = await asyncio.to_thread(fetch_report)
    return report


async def _async_wrapper() -> str:
    report = await fetch_report_async()
    return report


async def _yield_first() -> str:
    await asyncio.sleep(0)
    report = fetch_report()
    return report


BLOCKING_FIXES: dict[str, Variant] = {
    "report = fetch_report()": _as_it_is,
    "report = await asyncio.to_thread(fetch_report)": _in_a_thread,
    "report = await fetch_report_async()": _async_wrapper,
    "await asyncio.sleep(0); report = fetch_report()": _yield_first,
}


# --- callback delay: a due timer waits behind the ready callbacks ------------------------------

NEIGHBOURS = 20
NEIGHBOUR_SECONDS = 0.01
TIMER_DUE = 0.05


def resize(image: int) -> None:
    crunch(NEIGHBOUR_SECONDS)  # computing, no await: e.g. resizing an image


async def timer_delay() -> float:
    """A timer due in 50 ms, and 20 callbacks of 10 ms queued just before it is due: how late
    does the timer run? (At least 20 × 10 − 50 = 150 ms: it waits behind all of them.)"""
    loop = asyncio.get_running_loop()
    fired: asyncio.Future[float] = loop.create_future()
    due = loop.time() + TIMER_DUE
    loop.call_at(due, lambda: fired.set_result(loop.time() - due))
    for n in range(NEIGHBOURS):
        loop.call_soon(resize, n)
    return await fired


IMAGES = 40


async def resize_all(images: range) -> None:
    for image in images:
        resize(image)


async def _in_one_go() -> None:
    await resize_all(range(IMAGES))


async def _await_between() -> None:
    for image in range(IMAGES):
        resize(image)
        await asyncio.sleep(0)


async def _a_callback_each() -> None:
    loop = asyncio.get_running_loop()
    for image in range(IMAGES):
        loop.call_soon(resize, image)


async def _a_task_of_its_own() -> None:
    await asyncio.create_task(resize_all(range(IMAGES)))


DELAY_FIXES: dict[str, Variant] = {
    "for image in images: resize(image)": _in_one_go,
    "for image in images: resize(image); await asyncio.sleep(0)": _await_between,
    "for image in images: loop.call_soon(resize, image)": _a_callback_each,
    "await asyncio.create_task(resize_all(images))": _a_task_of_its_own,
}
