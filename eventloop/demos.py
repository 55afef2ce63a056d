"""Demo services for the event-loop page: small coroutines that each show one idea.

Each demo is an ``async def`` registered with :func:`register_demo`, which gives it a title and
a two-line explanation; the page shows its source (:attr:`Demo.source`) next to the live loop.
Start one on the service loop with ``svc.submit(DEMOS["event"].func(), name="event")``, or, for
any demo, ``svc.submit(demo.coroutine(ctx), name=demo.name)``.

Every parameter has a classroom-friendly default; tests pass shorter times. Two registries:

* :data:`DEMOS` — plain asyncio: each runs under ``asyncio.run`` as well as on the service loop.
  A demo may take an optional ``ctx`` (:class:`~eventloop.context.DemoContext`) to do more
  when the app's broker is there (the blocking-call demo then feeds the ``orders`` queue).
* :data:`BROKER_DEMOS` — demos that need the broker: their first parameter is ``ctx``
  (``register_demo(..., needs_broker=True)``), e.g. the consumer service.

:func:`all_demos` lists both, in the order they were registered. To add a demo::

    @register_demo("name", N_("A title"), N_("first line…\nsecond line…"))
    async def name_demo(delay: float = 0.5) -> str: ...

``note()`` adds narration to the page, ``report_handled()`` logs a caught exception; both do
nothing on a plain asyncio loop, so every demo in DEMOS also runs under ``asyncio.run``. What
the page shows is English marked with ``N_()`` (titles, explanations, notes, results: the
results as :func:`~broker.translatable.phrase`), with named placeholders, so the page can say it
in the reader's language (translations/loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import textwrap
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from broker.translatable import N_, phrase
from clients.aio import IncomingMessage, connect

from . import introspect
from .context import DemoContext
from .instrumented import note, report_handled

DemoFunc = Callable[..., Coroutine[Any, Any, Any]]

#: Limits for parameters a caller may override (the web API checks them).
MAX_SECONDS = 10.0
MAX_COUNT = 200


class DemoParamError(ValueError):
    """A parameter override a demo cannot take (unknown name, wrong type, out of range); its
    argument is a :class:`~broker.translatable.Phrase` (the web layer translates it)."""


@dataclass(frozen=True)
class Demo:
    """One demo: what the page lists, explains and shows."""

    name: str
    title: str
    explanation: str  # exactly two lines
    func: DemoFunc
    needs_broker: bool = False

    @cached_property
    def _lines(self) -> tuple[list[str], int]:
        lines, first = inspect.getsourcelines(self.func)
        lines = textwrap.dedent("".join(lines)).splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("async def"))
        return lines[start:], first + start

    @property
    def source(self) -> str:
        """The demo's own code, from ``async def`` on (the registration is left out)."""
        return "".join(self._lines[0])

    @property
    def first_line(self) -> int:
        """The line number of ``async def`` in :attr:`filename` (to point at a running line)."""
        return self._lines[1]

    @property
    def filename(self) -> str:
        """The absolute path of the file the demo is written in."""
        return self.func.__code__.co_filename

    @property
    def takes_context(self) -> bool:
        return "ctx" in inspect.signature(self.func).parameters

    @property
    def params(self) -> dict[str, int | float]:
        """The numeric parameters a caller may override, with their defaults."""
        out: dict[str, int | float] = {}
        for param in inspect.signature(self.func).parameters.values():
            default = param.default
            if isinstance(default, int | float) and not isinstance(default, bool):
                out[param.name] = default
        return out

    def check_params(self, overrides: dict[str, Any]) -> dict[str, int | float]:
        """``overrides`` checked against :attr:`params`; raises :class:`DemoParamError`."""
        known = self.params
        checked: dict[str, int | float] = {}
        for key, value in overrides.items():
            if key not in known:
                names = ", ".join(known) or "none"
                raise DemoParamError(
                    phrase(
                        N_("demo %(demo)s has no parameter %(param)s (it takes: %(names)s)"),
                        demo=repr(self.name),
                        param=repr(key),
                        names=names,
                    )
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DemoParamError(
                    phrase(
                        N_("parameter %(param)s must be a number, not %(value)s"),
                        param=repr(key),
                        value=repr(value),
                    )
                )
            if isinstance(known[key], int):
                if not isinstance(value, int) and not float(value).is_integer():
                    raise DemoParamError(
                        phrase(N_("parameter %(param)s must be a whole number"), param=repr(key))
                    )
                value = int(value)
                if not 0 <= value <= MAX_COUNT:
                    raise DemoParamError(
                        phrase(
                            N_("parameter %(param)s must be from 0 to %(max)s"),
                            param=repr(key),
                            max=MAX_COUNT,
                        )
                    )
            else:
                value = float(value)
                if not 0 <= value <= MAX_SECONDS:
                    raise DemoParamError(
                        phrase(
                            N_("parameter %(param)s must be from 0 to %(max)s seconds"),
                            param=repr(key),
                            max=f"{MAX_SECONDS:g}",
                        )
                    )
            checked[key] = value
        return checked

    def coroutine(self, ctx: DemoContext | None = None, **params: Any) -> Coroutine[Any, Any, Any]:
        """The demo's coroutine object, with ``ctx`` passed when the demo takes one."""
        if self.needs_broker and ctx is None:
            raise ValueError(f"demo {self.name!r} needs a DemoContext with the app's broker")
        if self.takes_context and ctx is not None:
            params["ctx"] = ctx
        return self.func(**params)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able description for the page."""
        return {
            "name": self.name,
            "title": self.title,
            "explanation": self.explanation,
            "source": self.source,
            "file": introspect.short_path(self.filename),
            "first_line": self.first_line,
            "needs_broker": self.needs_broker,
            "params": self.params,
        }


DEMOS: dict[str, Demo] = {}
BROKER_DEMOS: dict[str, Demo] = {}


def all_demos() -> dict[str, Demo]:
    """Every demo, plain ones first, each group in the order it was registered."""
    return {**DEMOS, **BROKER_DEMOS}


def register_demo(
    name: str, title: str, explanation: str, *, needs_broker: bool = False
) -> Callable[[DemoFunc], DemoFunc]:
    """Decorator: add a coroutine function to :data:`DEMOS` (or :data:`BROKER_DEMOS`)."""
    if name in DEMOS or name in BROKER_DEMOS:
        raise ValueError(f"a demo named {name!r} is already registered")
    if len(explanation.strip().splitlines()) != 2:
        raise ValueError(f"demo {name!r}: the explanation must be exactly two lines")

    def decorator(func: DemoFunc) -> DemoFunc:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"demo {name!r} must be an async def function")
        if needs_broker and next(iter(inspect.signature(func).parameters), None) != "ctx":
            raise TypeError(f"demo {name!r} needs the broker: its first parameter must be ctx")
        registry = BROKER_DEMOS if needs_broker else DEMOS
        registry[name] = Demo(name, title, explanation.strip(), func, needs_broker)
        return func

    return decorator


@register_demo(
    "callback",
    N_("A future's done-callback"),
    N_(
        "A Future is a box for a result that arrives later; "
        "add_done_callback() asks to be called.\n"
        "set_result() does not call anyone: it queues the done-callbacks, and the loop runs them."
    ),
)
async def callback_demo(delay: float = 0.5) -> str:
    loop = asyncio.get_running_loop()
    box = loop.create_future()

    def on_done(future: asyncio.Future[str]) -> None:
        note(N_("done-callback: the future holds %(value)s"), value=repr(future.result()))

    box.add_done_callback(on_done)
    loop.call_later(delay, box.set_result, "pong")  # a timer fills the box later
    note(N_("waiting for the future…"))
    value = await box  # waking this task is a done-callback too, queued after on_done
    return phrase(N_("awaited %(value)s"), value=repr(value))


@register_demo(
    "event",
    N_("asyncio.Event with several waiters"),
    N_(
        "Each waiter suspends in event.wait(): no callback of theirs is queued while they wait.\n"
        "event.set() wakes all of them at once: one step per waiter "
        "joins the ready queue, in order."
    ),
)
async def event_demo(waiters: int = 3, delay: float = 0.5) -> str:
    event = asyncio.Event()
    woke: list[str] = []

    async def waiter(name: str) -> None:
        note(N_("%(name)s waits for the event"), name=name)
        await event.wait()
        woke.append(name)
        note(N_("%(name)s woke up"), name=name)

    tasks = [
        asyncio.create_task(waiter(f"waiter {i}"), name=f"waiter {i}")
        for i in range(1, waiters + 1)
    ]
    await asyncio.sleep(delay)  # by now every waiter is blocked in event.wait()
    note("event.set()")
    event.set()
    await asyncio.gather(*tasks)
    return phrase(N_("woke in order: %(names)s"), names=", ".join(woke))


@register_demo(
    "event_loop",
    N_("Tasks take turns at each await"),
    N_(
        "One thread runs every task: a task runs until its next "
        "await, then the next one gets a turn.\n"
        "await asyncio.sleep(0) sends the task to the back of the "
        "ready queue, so A, B, C interleave."
    ),
)
async def event_loop_demo(rounds: int = 3) -> str:
    order: list[str] = []

    async def worker(name: str) -> None:
        for i in range(1, rounds + 1):
            order.append(f"{name}{i}")
            note(N_("%(name)s round %(round)s"), name=name, round=i)
            await asyncio.sleep(0)  # give the others a turn

    await asyncio.gather(*(asyncio.create_task(worker(n), name=n) for n in "ABC"))
    return " ".join(order)


@register_demo(
    "timeout",
    N_("Giving up on a slow operation"),
    N_(
        "wait_for() and asyncio.timeout() set a timer; if it fires "
        "first, the operation is cancelled.\n"
        "The caller gets TimeoutError and handles it; the cancelled sleep's timer leaves the heap."
    ),
)
async def timeout_demo(slow: float = 2.0, limit: float = 0.5) -> str:
    async def slow_operation() -> str:
        await asyncio.sleep(slow)
        return "finished"

    outcomes = []
    try:
        await asyncio.wait_for(slow_operation(), timeout=limit)
    except TimeoutError as exc:
        report_handled(exc, N_("wait_for() gave up after %(limit)s s"), limit=limit)
        outcomes.append(phrase(N_("wait_for: TimeoutError handled")))
    try:
        async with asyncio.timeout(limit):
            await slow_operation()
    except TimeoutError as exc:
        report_handled(exc, N_("asyncio.timeout(%(limit)s) cancelled the block"), limit=limit)
        outcomes.append(phrase(N_("timeout: TimeoutError handled")))
    return phrase(N_("%(first)s; %(second)s"), first=outcomes[0], second=outcomes[1])


@register_demo(
    "error_handling",
    N_("Exceptions: handled and unhandled"),
    N_(
        "An exception in a task you await comes back to you at the await: catch it there.\n"
        "Nobody awaits a crashed callback or a forgotten task: the "
        "loop's exception handler gets them."
    ),
)
async def error_handling_demo() -> str:
    loop = asyncio.get_running_loop()

    async def fail(message: str) -> None:
        await asyncio.sleep(0)
        raise ValueError(message)

    # 1. Handled: the coroutine that awaits the task catches its exception.
    try:
        await asyncio.create_task(fail("caught by the awaiter"), name="awaited failure")
    except ValueError as exc:
        report_handled(exc, N_("caught by the coroutine that awaited the task"))

    # 2. Unhandled: a plain callback raises; the loop catches it and calls its handler.
    def broken_callback() -> None:
        raise RuntimeError("a callback crashed")

    loop.call_soon(broken_callback)
    await asyncio.sleep(0)  # broken_callback is ahead of us in the ready queue

    # 3. Unhandled: a task fails and nobody awaits it. asyncio reports it when the task object
    #    is destroyed ("Task exception was never retrieved"); gc.collect() makes that happen now.
    forgotten = asyncio.create_task(fail("nobody awaited me"), name="forgotten failure")
    await asyncio.sleep(0.01)
    del forgotten
    gc.collect()
    return phrase(N_("1 exception handled, 2 reached the loop's exception handler"))


@register_demo(
    "blocking_call",
    N_("A blocking call freezes the loop"),
    N_(
        "time.sleep() inside a coroutine blocks the only thread: timers fire late, lag spikes.\n"
        "await asyncio.to_thread(...) runs it in a worker thread, and the loop keeps its rhythm."
    ),
)
async def blocking_call_demo(
    block: float = 1.5, tick: float = 0.1, ctx: DemoContext | None = None
) -> str:
    loop = asyncio.get_running_loop()
    worst = {"late": 0.0}

    async def ticker() -> None:  # wants to run every `tick` seconds
        while True:
            due = loop.time() + tick
            await asyncio.sleep(tick)
            worst["late"] = max(worst["late"], loop.time() - due)

    ticking = asyncio.create_task(ticker(), name="ticker")
    # On the page, with the consumer service running, a thread publishes orders meanwhile.
    with ctx.feed_orders(every=2 * tick) if ctx else contextlib.nullcontext():
        await asyncio.sleep(2.5 * tick)  # the ticker ticks twice, on time

        worst["late"] = 0.0
        note(N_("time.sleep(%(block)s): the whole loop stops"), block=block)
        time.sleep(block)  # wrong inside a coroutine: nothing else can run meanwhile
        await asyncio.sleep(2 * tick)
        blocked = worst["late"]

        worst["late"] = 0.0
        note(
            N_("await asyncio.to_thread(time.sleep, %(block)s): the loop keeps going"), block=block
        )
        await asyncio.to_thread(time.sleep, block)  # the fix: a worker thread waits instead
        fixed = worst["late"]

    ticking.cancel()
    return phrase(
        N_("ticker late by %(blocked)s s with time.sleep, %(fixed)s s with to_thread"),
        blocked=f"{blocked:.3f}",
        fixed=f"{fixed:.3f}",
    )


@register_demo(
    "callback_delay",
    N_("A timer stuck behind ready callbacks"),
    N_(
        "A due timer only joins the back of the ready queue; "
        "everything queued before it runs first.\n"
        "Many (or slow) ready callbacks make the timer fire late, even though its time has come."
    ),
)
async def callback_delay_demo(callbacks: int = 50, work: float = 0.01, delay: float = 0.05) -> str:
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    due = loop.time() + delay

    def timer_fired() -> None:
        fired.set_result(loop.time() - due)

    def busy_callback(n: int) -> None:
        end = time.perf_counter() + work
        while time.perf_counter() < end:  # computes for `work` seconds
            pass

    loop.call_at(due, timer_fired)
    for n in range(callbacks):
        loop.call_soon(busy_callback, n)
    late = await fired
    return phrase(
        N_(
            "timer due after %(delay)s ms fired %(late)s ms late, behind "
            "%(n)s callbacks of %(work)s ms"
        ),
        delay=f"{delay * 1000:.0f}",
        late=f"{late * 1000:.0f}",
        n=callbacks,
        work=f"{work * 1000:.0f}",
    )


@register_demo(
    "consumer_service",
    N_("A consumer service"),
    N_(
        "The broker hands each message to the loop from its own thread: call_soon_threadsafe.\n"
        "That callback wakes the service; it starts one task per message, which works, then acks."
    ),
    needs_broker=True,
)
async def consumer_service_demo(ctx: DemoContext, prefetch: int = 5, work: float = 0.5) -> str:
    connection = await connect(ctx.broker, name="consumer service (event loop)", vhost=ctx.vhost)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)  # at most `prefetch` unacked at a time
        queue = await channel.declare_queue(ctx.queue)  # "orders"

        async def handle(message: IncomingMessage) -> None:
            n = message.broker_message_id
            note(
                N_("message #%(n)s → task handle-message-%(n)s: %(body)s"),
                n=n,
                body=repr(message.body),
            )
            await asyncio.sleep(work)  # the work (a database call …): other tasks run meanwhile
            await message.ack()  # done: the broker can forget the message
            note(N_("message #%(n)s acked"), n=n)

        note(
            N_("consuming queue %(queue)s, prefetch %(prefetch)s"),
            queue=repr(ctx.queue),
            prefetch=prefetch,
        )
        # The task group keeps every handler task referenced, and cancels them when we stop.
        async with asyncio.TaskGroup() as handlers, queue.iterator() as messages:
            async for message in messages:  # wakes up when a delivery callback has run
                name = f"handle-message-{message.broker_message_id}"
                handlers.create_task(handle(message), name=name)
    return phrase(N_("the queue was deleted: nothing left to consume"))
