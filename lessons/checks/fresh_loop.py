"""A fresh asyncio event loop in a worker thread, for checks that run a scripted scenario.

The event-loop lessons' checks run small asyncio scripts for real: the print order, a
heartbeat's lag, a timer's delay. Each run gets a loop of its own (never the app's service loop,
whose page a class may be watching) in a thread of its own (the request's thread has no loop,
and a scenario that blocks its loop must not block the request), and a bound on its time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class ScenarioTimeout(RuntimeError):
    """The scenario did not finish within its bound."""


def run_on_fresh_loop(main: Callable[[], Awaitable[T]], timeout: float = 5.0) -> T:
    """Run `main()` under asyncio.run in a worker thread and return its result (or raise its
    exception). Raises ScenarioTimeout if it takes longer than `timeout` seconds."""
    outcome: dict[str, object] = {}

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout)

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(bounded())
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="lesson check loop", daemon=True)
    thread.start()
    # wait_for cannot interrupt a callback that blocks the loop: the join has its own bound.
    thread.join(timeout + 2.0)
    if thread.is_alive() or isinstance(outcome.get("error"), TimeoutError):
        raise ScenarioTimeout(f"the scenario took longer than {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
