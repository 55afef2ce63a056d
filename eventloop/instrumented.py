"""An asyncio event loop that shows its work, through public hooks only.

:class:`InstrumentedEventLoop` is an ordinary ``asyncio.SelectorEventLoop`` with a few public
methods overridden and a few public settings used:

``call_soon`` / ``call_soon_threadsafe`` / ``call_at`` (``call_later`` goes through ``call_at``)
    Every callback is wrapped, so the loop thread can record it when it is queued, stop at the
    step gate before it runs, and record when it finishes. asyncio's tasks and futures schedule
    through these same methods, so task steps and done-callbacks are seen too.
the selector (a constructor argument)
    Wrapping ``select()`` marks the loop iterations: when it returns, ready I/O and then due
    timers join the ready queue — the order asyncio uses.
``set_task_factory``
    Every task is registered as it is created.
``set_exception_handler``
    Unhandled exceptions are recorded with their traceback.

Private attributes (``_ready``, ``_scheduled``) are never read: what the page shows is a
mirror kept by :class:`eventloop.recorder.LoopRecorder`.
"""

from __future__ import annotations

import asyncio
import selectors
import threading
from collections.abc import Callable, Coroutine, Mapping
from contextvars import Context
from typing import Any

from broker.translatable import N_, phrase

from .entry import THREADSAFE, Entry
from .gate import StepGate
from .recorder import LoopRecorder


class InstrumentedSelector(selectors.BaseSelector):
    """A selector that reports each ``select()`` call to the loop, and delegates the rest."""

    def __init__(self, inner: selectors.BaseSelector | None = None) -> None:
        self._inner = inner if inner is not None else selectors.DefaultSelector()
        self.observer: InstrumentedEventLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        observer = self.observer
        if observer is None:
            return self._inner.select(timeout)
        observer._before_select(timeout)
        try:
            events = self._inner.select(timeout)
        finally:
            observer._after_select_started()
        observer._after_select(events)
        return events

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class InstrumentedEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop that records its ready queue, timers, tasks, exceptions and lag.

    Usually created and run by :class:`eventloop.ServiceLoop` in a thread of its own; it is
    also a complete loop on its own (``loop.run_until_complete(...)``).

    :param heartbeat: seconds between internal heartbeat timers, which measure loop lag even
        when no demo sets timers. Heartbeats are hidden from the queues and never take a step.
    :param paused: start with the step gate closed.
    :param log_unhandled: also pass unhandled exceptions to asyncio's default handler (logs).
    """

    def __init__(
        self,
        *,
        heartbeat: float = 0.05,
        paused: bool = False,
        keep_done_tasks: int = 50,
        log_unhandled: bool = True,
    ) -> None:
        self.gate = StepGate(paused=paused)
        self.recorder = LoopRecorder(gate=self.gate, keep_done_tasks=keep_done_tasks)
        self.heartbeat_interval = heartbeat
        self.log_unhandled = log_unhandled
        #: Set by ServiceLoop.stop() until the loop's own shutdown: a task's next step cancels it.
        self.cancel_steps = False
        self._heartbeat_timer: asyncio.TimerHandle | None = None
        selector = InstrumentedSelector()
        super().__init__(selector)
        # Whatever asyncio registered while starting up is its own wake-up pipe: internal.
        self._wakeup_fds = frozenset(key.fd for key in selector.get_map().values())
        selector.observer = self
        self.set_task_factory(self._make_task)
        self.set_exception_handler(self._on_unhandled)

    # -- scheduling: the public methods asyncio and user code call ---------------------------

    def call_soon(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        """Queue ``callback(*args)`` at the back of the ready queue (recorded)."""
        rec = self.recorder
        entry = rec.new_entry(callback, args)
        with rec.lock:
            handle = super().call_soon(self._run_entry, entry, context=context)
            entry.handle = handle
            rec.add_ready(entry)
        return handle

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        """Like ``call_soon`` but callable from any thread; recorded with the caller's thread."""
        return self._threadsafe(callback, args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        """Run ``callback(*args)`` once ``loop.time()`` reaches ``when`` (recorded as a timer)."""
        rec = self.recorder
        entry = rec.new_entry(callback, args, when=when)
        with rec.lock:
            handle = super().call_at(when, self._run_entry, entry, context=context)
            entry.handle = handle
            rec.add_timer(entry, asyncio.current_task(self))
        return handle

    def call_soon_threadsafe_labelled(
        self, callback: Callable[..., object], label: str, *args: Any
    ) -> asyncio.Handle:
        """``call_soon_threadsafe`` with the label students see (e.g. "submit … start task X")."""
        return self._threadsafe(callback, args, label=label)

    def _threadsafe(
        self,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        *,
        context: Context | None = None,
        label: str | None = None,
        internal: bool = False,
    ) -> asyncio.Handle:
        rec = self.recorder
        entry = rec.new_entry(callback, args, internal=internal, label=label)
        if internal:
            return super().call_soon_threadsafe(self._run_entry, entry, context=context)
        entry.kind = THREADSAFE
        entry.thread = threading.current_thread().name
        # One lock around both queues keeps the mirror in the real queue's order.
        with rec.lock:
            handle = super().call_soon_threadsafe(self._run_entry, entry, context=context)
            entry.handle = handle
            rec.add_ready(entry)
        return handle

    def call_internal_threadsafe(self, callback: Callable[..., object]) -> asyncio.Handle:
        """Schedule loop machinery (start-up, stop): not shown, not gated, never a step."""
        return self._threadsafe(callback, (), internal=True)

    # -- running a callback ------------------------------------------------------------------

    def _run_entry(self, entry: Entry) -> None:
        """Runs in the loop thread in place of every callback: record, gate, run, record."""
        rec = self.recorder
        gate = self.gate
        if entry.internal:
            if entry.when is not None:
                rec.internal_fired(entry)
            entry.callback(*entry.args)
            return
        if entry.when is not None or not gate.is_open():
            rec.arrive(entry)
            gate.hold()  # while paused, the loop thread waits here (and only this thread)
            if self.cancel_steps and entry.task is not None and not entry.task.done():
                # stop() while paused: a task's next step ends it (CancelledError at its await)
                # rather than running on, maybe into a blocking call.
                entry.task.cancel()
        rec.start(entry)
        gate.slow_down()
        try:
            entry.callback(*entry.args)
        except BaseException as exc:
            gate.step_finished(rec.finish(entry, exc))
            raise  # asyncio's Handle passes it to the exception handler
        gate.step_finished(rec.finish(entry, None))

    # -- the selector tells us about loop iterations -----------------------------------------

    def _before_select(self, timeout: float | None) -> None:
        self.recorder.before_select(timeout)
        self.gate.set_idle(timeout is None or timeout > 0)

    def _after_select_started(self) -> None:
        self.gate.idle = False

    def _after_select(self, events: list[tuple[selectors.SelectorKey, int]]) -> None:
        self.recorder.after_select(events, self._wakeup_fds)

    # -- tasks, exceptions, heartbeat --------------------------------------------------------

    def _make_task(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: Context | None = None,
    ) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, context=context)
        self.recorder.register_task(task)
        return task

    def _on_unhandled(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.recorder.unhandled(context)
        if self.log_unhandled:
            self.default_exception_handler(context)

    def run_forever(self) -> None:
        """Run until ``stop()``; starts the lag heartbeat the first time."""
        if self._heartbeat_timer is None and self.heartbeat_interval > 0:
            self._schedule_heartbeat()
        super().run_forever()

    def _schedule_heartbeat(self) -> None:
        entry = self.recorder.new_entry(
            self._heartbeat, (), when=self.time() + self.heartbeat_interval, internal=True
        )
        self._heartbeat_timer = super().call_at(entry.when, self._run_entry, entry)

    def _heartbeat(self) -> None:
        if self.heartbeat_interval > 0 and not self.is_closed():
            self._schedule_heartbeat()

    def stop_heartbeat(self) -> None:
        """Cancel the heartbeat (before shutting the loop down)."""
        if self._heartbeat_timer is not None:
            self._heartbeat_timer.cancel()
        self.heartbeat_interval = 0


def report_handled(exc: BaseException, how: str = N_("handled"), **args: Any) -> None:
    """Record an exception your code caught, so it shows in the loop's exception log.

    ``how`` may be a message with named placeholders filled from ``args``, marked for
    translation: ``report_handled(exc, N_("gave up after %(limit)s s"), limit=limit)``.
    Call it from an ``except`` block of a coroutine running on the service loop. On any other
    loop it does nothing, so demo code also runs under plain ``asyncio.run``.
    """
    loop = asyncio.get_running_loop()
    if isinstance(loop, InstrumentedEventLoop):
        loop.recorder.handled(exc, phrase(how, **args))


def note(text: str, **args: Any) -> None:
    """Add a line of narration to the loop's notes ("waiter A woke up"): a message marked for
    translation, its named placeholders filled from ``args`` (``note(N_("%(name)s woke up"),
    name=name)``), so the page can tell it in the reader's language."""
    loop = asyncio.get_running_loop()
    if isinstance(loop, InstrumentedEventLoop):
        loop.recorder.note(phrase(text, **args))
