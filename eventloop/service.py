"""The service loop: an instrumented asyncio loop running in a thread of its own.

Demo services (and, later, broker consumers) run here. Other threads — the Flask app, the
broker's delivery workers, tests — talk to it only through thread-safe methods::

    svc = ServiceLoop(name="service loop").start()
    future = svc.submit(main())          # a concurrent.futures.Future
    svc.pause(); svc.step(); svc.run(); svc.set_slow_motion(0.2)
    svc.snapshot()                       # dict, JSON-able
    with svc.subscribe(maxlen=1000) as sub:
        batch = sub.get(timeout=1.0)     # Batch(events, missed)
    svc.stop()

Pausing holds only the service loop thread (see :mod:`eventloop.gate`); the caller returns at
once, and ``stop()`` works while paused.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import sys
import threading
from collections.abc import Collection, Coroutine
from typing import Any, TypeVar

from broker.translatable import N_, phrase

from . import introspect
from .instrumented import InstrumentedEventLoop
from .snapshot import take_snapshot
from .stream import Subscription

T = TypeVar("T")


class ServiceLoop:
    """An :class:`InstrumentedEventLoop` plus the thread that runs it, with thread-safe controls.

    :param name: the thread's name, shown in labels such as "call_soon_threadsafe from thread …".
    :param heartbeat: seconds between the internal timers that measure lag (0 turns them off).
    :param paused: start with the loop paused (nothing runs until ``step()`` or ``run()``).
    :param keep_done_tasks: how many finished tasks the snapshot keeps.
    :param log_unhandled: also log unhandled exceptions through asyncio's default handler.
    """

    def __init__(
        self,
        name: str = "service loop",
        *,
        heartbeat: float = 0.05,
        paused: bool = False,
        keep_done_tasks: int = 50,
        log_unhandled: bool = True,
    ) -> None:
        self.name = name
        self.loop = InstrumentedEventLoop(
            heartbeat=heartbeat,
            paused=paused,
            keep_done_tasks=keep_done_tasks,
            log_unhandled=log_unhandled,
        )
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = threading.Event()
        self._finished = threading.Event()

    # -- life cycle --------------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> ServiceLoop:
        """Start the loop thread; returns once the loop is running."""
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"{self.name!r} did not start within {timeout} s")
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the loop (even while paused): cancel its tasks, shut down, join the thread.

        Returns True when the thread has ended within ``timeout`` seconds.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError(
                "stop() called from inside the service loop would wait for itself; "
                "call it from another thread (or use loop.stop())"
            )
        if self._thread.ident is None:  # never started
            self.loop.close()
            self._finished.set()
            return True
        if not self._finished.is_set():
            self.loop.cancel_steps = True  # what was queued ends its tasks rather than runs on
            self.loop.gate.open_for_stop()
            with contextlib.suppress(RuntimeError):  # closed in the meantime
                self.loop.call_internal_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> ServiceLoop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between ``start()`` and the end of ``stop()``."""
        return self._started.is_set() and not self._finished.is_set()

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.call_internal_threadsafe(self._started.set)
            loop.run_forever()
        finally:
            try:
                self._shutdown()
            finally:
                loop.close()
                asyncio.set_event_loop(None)
                self._finished.set()
                loop.recorder.stream.close_all()

    def _shutdown(self) -> None:
        loop = self.loop
        loop.cancel_steps = False  # from here on, steps are the shutdown's own
        loop.stop_heartbeat()
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=1.0))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())

    # -- work --------------------------------------------------------------------------------

    def submit(
        self, coro: Coroutine[Any, Any, T], *, name: str | None = None
    ) -> concurrent.futures.Future[T]:
        """Run ``coro`` as a task on the service loop; returns a future for its result.

        Like ``asyncio.run_coroutine_threadsafe``, but the callback that starts the task is
        labelled "submit … start task NAME" in the ready queue, and the task gets ``name``.
        """
        if not inspect.iscoroutine(coro):
            raise TypeError(
                f"submit() takes a coroutine object such as submit(main()), not {coro!r}"
            )
        if not self.running:
            coro.close()
            raise RuntimeError(f"{self.name!r} is not running: call start() first")
        outcome: concurrent.futures.Future[T] = concurrent.futures.Future()
        task_name = name or introspect.callable_name(coro)

        def start_task() -> None:
            if not outcome.set_running_or_notify_cancel():
                coro.close()
                return
            task = self.loop.create_task(coro, name=task_name)
            task.add_done_callback(report_outcome)

        def report_outcome(task: asyncio.Task[T]) -> None:
            if task.cancelled():
                outcome.set_exception(concurrent.futures.CancelledError())
            elif task.exception() is not None:
                outcome.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                outcome.set_result(task.result())

        thread = threading.current_thread().name
        self.loop.call_soon_threadsafe_labelled(
            start_task,
            phrase(
                N_("submit from thread %(thread)s: start task %(task)s"),
                thread=thread,
                task=task_name,
            ),
        )
        return outcome

    def cancel(self, name: str) -> bool:
        """Ask the loop to cancel its unfinished tasks named ``name`` (as ``task.cancel()``).

        The request is itself a callback ("cancel task NAME"), so while the loop is paused it
        waits in the ready queue like everything else. Returns False when the loop is not
        running.
        """
        if not self.running:
            return False

        def cancel_tasks() -> None:
            for task in asyncio.all_tasks(self.loop):
                if task.get_name() == name and not task.done():
                    task.cancel()

        thread = threading.current_thread().name
        self.loop.call_soon_threadsafe_labelled(
            cancel_tasks,
            phrase(N_("from thread %(thread)s: cancel task %(task)s"), thread=thread, task=name),
        )
        return True

    # -- controls (any thread) ---------------------------------------------------------------

    def pause(self) -> None:
        """Hold the loop before its next callback. Returns at once; only the loop waits."""
        self.loop.gate.pause()
        self._control_changed()

    def run(self) -> None:
        """Let the loop run freely again."""
        self.loop.gate.run()
        self._control_changed()

    def step(self, timeout: float = 2.0) -> str | None:
        """Run exactly one callback, then stay paused; returns that callback's label.

        Waits up to ``timeout`` seconds for the next callback to come (a timer may be due later)
        and for the loop to come to rest; returns ``None`` if no callback ran in time. Heartbeat
        timers never count as a step. Call it while paused: from running, it pauses first.
        """
        gate = self.loop.gate
        target = gate.grant_step()
        self._control_changed()
        gate.wait_settled(target, timeout)
        if gate.steps_done >= target:
            return gate.last_step_label
        gate.withdraw_step()
        return None

    def set_slow_motion(self, seconds: float) -> None:
        """Wait ``seconds`` (0–5) before each callback so students can follow along."""
        self.loop.gate.set_slow_motion(seconds)
        self._control_changed()

    def settle(self, timeout: float = 2.0) -> bool:
        """Wait until the loop is at rest (paused at the gate, or idle with nothing ready)."""
        return self.loop.gate.wait_settled(0, timeout)

    def _control_changed(self) -> None:
        gate = self.loop.gate
        self.loop.recorder.control(mode=gate.mode, slow_motion=gate.slow_motion)

    # -- observing (any thread) --------------------------------------------------------------

    def snapshot(self, *, max_entries: int = 100) -> dict[str, Any]:
        """The loop's whole visible state as JSON-able data (see
        :func:`~eventloop.snapshot.take_snapshot`); at most ``max_entries`` ready callbacks and
        timers (the totals count them all)."""
        snap = take_snapshot(self.loop.recorder, max_entries=max_entries)
        snap["name"] = self.name
        if self._finished.is_set():
            snap["control"]["mode"] = "stopped"
        elif not self._started.is_set():
            snap["control"]["mode"] = "not started"
        return snap

    def running_line(self, files: Collection[str]) -> dict[str, Any] | None:
        """The line the loop thread is executing right now, in one of ``files`` (absolute
        paths), innermost first; None while it waits (in ``select()``, at the gate) or runs
        code elsewhere. Read from another thread with ``sys._current_frames()``, so a page can
        point at the ``time.sleep()`` that blocks the loop while it blocks."""
        ident = self._thread.ident
        if ident is None or not self.running:
            return None
        frame = sys._current_frames().get(ident)
        while frame is not None:
            if frame.f_code.co_filename in files:
                return introspect.frame_info(frame)
            frame = frame.f_back
        return None

    def subscribe(self, maxlen: int = 1000) -> Subscription:
        """A bounded subscription to the loop's events; ``get(timeout)`` never blocks the loop."""
        return self.loop.recorder.subscribe(maxlen)
