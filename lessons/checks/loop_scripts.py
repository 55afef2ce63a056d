"""The short asyncio scripts whose print order the event-loop lessons ask for, run for real.

Each script is the code the exercise shows (its `print` is handed in, so the check records what
it prints instead of writing to a console). Their order follows from asyncio's rules alone, never
from a race: callbacks run in the order they were queued, a due timer joins the back of the ready
queue, timers fire in the order they are due, waiters wake in the order they began to wait. So
the order is the same on a loaded machine as on an idle one.

`explain(yours, actual)` gives the message for the first place where a prediction goes wrong:
`yours` is the learner's label there (it really came later), `actual` the one that ran there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from broker.translatable import N_

Say = Callable[[str], None]

LATER = N_("The loop printed %(order)s. '%(label)s' came later than you said.")


@dataclass(frozen=True)
class OrderScript:
    """A script, the labels it prints, and what a wrong place in a prediction means."""

    main: Callable[[Say], Awaitable[None]]
    labels: tuple[str, ...]
    explain: Callable[[str, str], str]


def crunch(seconds: float) -> None:
    """Compute for `seconds` without an await, as real work on the loop's thread would."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


# --- callback: registering is not running -------------------------------------------------------


async def callbacks(print: Say) -> None:
    loop = asyncio.get_running_loop()
    print("start")
    loop.call_later(0.01, print, "timer")
    loop.call_soon(print, "soon")
    future = loop.create_future()
    future.add_done_callback(lambda f: print("done"))
    future.set_result("ok")
    print("end")
    await asyncio.sleep(0.1)


def _explain_callbacks(yours: str, actual: str) -> str:
    if yours == "timer":
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: call_later() "
            "only puts a timer on the heap; when it is due, it joins the back of the ready "
            "queue, behind the callbacks queued before it."
        )
    if yours == "soon":
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: call_soon() "
            "only queues the callback; it runs when main gives the loop back at its await, "
            "not when it is registered."
        )
    if yours == "done":
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: set_result() "
            "does not call the done-callback; it queues it (call_soon) behind what was queued "
            "before, to run once main reaches its await."
        )
    return LATER


# --- event: set() wakes the listeners, it does not call them ------------------------------------


async def listeners(print: Say) -> None:
    async def listener(name, event):  # as the exercise shows it
        await event.wait()
        print(name)

    event = asyncio.Event()
    billing = asyncio.create_task(listener("billing", event))
    audit = asyncio.create_task(listener("audit", event))
    await asyncio.sleep(0)  # both listeners are waiting now
    print("set")
    event.set()
    print("after set")
    await asyncio.gather(billing, audit)


def _explain_listeners(yours: str, actual: str) -> str:
    if yours == "audit" and actual == "billing":
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: listeners wake "
            "in the order they began to wait, and billing's task began waiting first."
        )
    if yours in ("billing", "audit"):
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: event.set() does "
            "not call the listeners; it wakes them (their tasks join the ready queue), and they "
            "run once main reaches its next await."
        )
    return LATER


# --- event loop: one callback at a time; an await lets the others in ---------------------------


async def workers(print: Say, pause_at: str = "") -> None:
    async def worker(name):  # as the exercise shows it
        if pause_at == "(1)":
            await asyncio.sleep(0)
        print(name + "1")
        if pause_at == "(2)":
            await asyncio.sleep(0)
        crunch(0.02)  # 20 ms of computing, no await
        print(name + "2")
        if pause_at == "(3)":
            await asyncio.sleep(0)

    tasks = [asyncio.create_task(worker(name)) for name in "ABC"]
    print("main")
    await asyncio.gather(*tasks)


def _explain_workers(yours: str, actual: str) -> str:
    if actual == "main":
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: create_task() "
            "only schedules a worker; the workers start when main gives the loop back at its "
            "await."
        )
    if actual.endswith("2") and yours != actual:
        return N_(
            "The loop printed %(order)s. '%(label)s' came later than you said: a worker has no "
            "await between its prints, so it keeps the loop until it has printed both. Async "
            "is not parallel: one callback runs at a time."
        )
    return LATER


ORDER_SCRIPTS: dict[str, OrderScript] = {
    "callbacks": OrderScript(
        callbacks, ("start", "timer", "soon", "done", "end"), _explain_callbacks
    ),
    "listeners": OrderScript(
        listeners, ("set", "billing", "audit", "after set"), _explain_listeners
    ),
    "workers": OrderScript(workers, ("main", "A1", "A2", "B1", "B2", "C1", "C2"), _explain_workers),
}

PAUSE_POSITIONS = ("(1)", "(2)", "(3)")


async def record(script: Callable[..., Awaitable[None]], **options: str) -> list[str]:
    """Run a script and return what it printed, in order."""
    printed: list[str] = []
    await script(printed.append, **options)
    return printed
