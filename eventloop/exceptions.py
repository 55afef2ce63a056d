"""The loop's exception log: exceptions the program caught, and those that reached the loop.

Unhandled exceptions come from the loop's exception handler, which may run in any thread and
even inside a garbage-collector finaliser ("Task exception was never retrieved"): there it must
not take a lock. So they are only queued (:meth:`ExceptionLog.queue_unhandled`) and written at
the recorder's next hook or snapshot (:meth:`ExceptionLog.drain`). Caught exceptions, reported
by the demos with ``report_handled()``, are written at once.
"""

from __future__ import annotations

import itertools
import queue
import traceback
from collections import deque
from typing import Any

from broker.translatable import N_, phrase, with_i18n

from . import introspect
from .timebase import Timebase

ExceptionRecord = dict[str, Any]


class ExceptionLog:
    """The last ``keep`` exceptions, handled or not, with their tracebacks."""

    def __init__(self, timebase: Timebase, keep: int = 50) -> None:
        self.timebase = timebase
        self.records: deque[ExceptionRecord] = deque(maxlen=keep)
        #: The label of the last callback that raised: the handler runs after our wrapper.
        self.last_error_label: str | None = None
        self._ids = itertools.count(1)
        self._pending: queue.SimpleQueue[tuple[dict[str, Any], str | None, float]] = (
            queue.SimpleQueue()
        )

    def queue_unhandled(self, context: dict[str, Any], where: str | None, at: float) -> None:
        """From the loop's exception handler, any thread: queue it, lock nothing."""
        self._pending.put((context, where, at))

    @property
    def pending(self) -> bool:
        return not self._pending.empty()

    def drain(self) -> list[ExceptionRecord]:
        """Write down the queued unhandled exceptions; returns the new records."""
        added = []
        while True:
            try:
                context, where, at = self._pending.get_nowait()
            except queue.Empty:
                return added
            exc = context.get("exception")
            source = context.get("future") or context.get("task")
            how = context.get("message") or phrase(N_("unhandled exception"))
            if "handle" in context and where:
                how = phrase(N_("Exception in callback %(callback)s"), callback=where)
            task = source.get_name() if introspect.is_task(source) else None
            added.append(self.add(exc, handled=False, how=how, where=where, task=task, at=at))

    def add(
        self,
        exc: BaseException | None,
        *,
        handled: bool,
        how: str,
        where: str | None,
        task: str | None,
        at: float,
    ) -> ExceptionRecord:
        """Write one exception down: what, how it was met, in which callback and task (``how``
        and ``callback`` may be phrases: their messages go beside them, ``how_i18n`` …)."""
        record = {
            "id": next(self._ids),
            "t": self.timebase.rel(at),
            "handled": handled,
            "how": how,
            "type": type(exc).__name__ if exc is not None else None,
            "message": str(exc) if exc is not None else "",
            "traceback": "".join(traceback.format_exception(exc)) if exc is not None else "",
            "task": task,
            "callback": where,
        }
        self.records.append(with_i18n(record, "how", "callback"))
        return record
