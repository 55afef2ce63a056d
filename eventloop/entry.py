"""One scheduled callback as the recorder sees it, and what kind of callback it is.

The instrumented loop wraps every callback it is given in an :class:`Entry`; asyncio holds the
wrapper, the recorder's mirror holds the entry. An entry knows what the callback is for — a
task's step, a task waking up, a future's done-callback, a timer, a call from another thread —
so the page can say it in words (see :mod:`eventloop.labels`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import introspect

# What a ready-queue entry is, as shown to students.
TASK_STEP = "task_step"  # Task.__step scheduled by call_soon (first step, or after sleep(0))
TASK_WAKEUP = "task_wakeup"  # the task's wake-up, a done-callback of the future it awaited
DONE_CALLBACK = "done_callback"  # any other done-callback of a future
TIMER = "timer"  # a call_at / call_later callback (in the timers heap until due)
THREADSAFE = "threadsafe"  # call_soon_threadsafe from another thread
IO = "io"  # a file descriptor became readable/writable (asyncio's own handle runs)
CALLBACK = "callback"  # a plain call_soon


class Entry:
    """One scheduled callback, as the recorder sees it."""

    __slots__ = (
        "id",
        "kind",
        "callback",
        "args",
        "handle",
        "when",
        "internal",
        "label_override",
        "task",
        "future",
        "set_by",
        "thread",
        "fd",
        "queued_at",
        "at_gate",
        "message_id",
    )

    def __init__(
        self,
        entry_id: int,
        callback: Any,
        args: tuple[Any, ...],
        *,
        when: float | None = None,
        internal: bool = False,
        label: str | None = None,
    ) -> None:
        self.id = entry_id
        self.kind = CALLBACK
        self.callback = callback
        self.args = args
        self.handle: asyncio.Handle | None = None
        self.when = when
        self.internal = internal
        self.label_override = label
        self.task: Any = None
        self.future: Any = None
        self.set_by: int | None = None  # id of the task that set a timer
        self.thread: str | None = None
        self.fd: int | None = None
        self.queued_at = 0.0
        self.at_gate = False
        self.message_id: int | None = None  # a broker delivery among the arguments

    def __repr__(self) -> str:
        return f"<Entry #{self.id} {self.kind} {introspect.callable_name(self.callback)}>"

    def classify(self) -> None:
        """Work out what a ``call_soon`` callback is, from its shape: a bound method of a task
        is that task's step (a wake-up when it is handed the future it awaited); a callback
        handed a finished future is that future's done-callback."""
        callback, args = self.callback, self.args
        owner = getattr(callback, "__self__", None)
        if owner is not None and introspect.is_task(owner):
            self.task = owner
            if args and asyncio.isfuture(args[0]):
                self.kind = TASK_WAKEUP
                self.future = args[0]
            else:
                self.kind = TASK_STEP
        elif args and asyncio.isfuture(args[0]) and args[0].done():
            self.kind = DONE_CALLBACK
            self.future = args[0]

    def awaited_future(self) -> Any:
        """For a timer: the future (not a task) its callback resolves, if any
        (``asyncio.sleep()`` sets one with ``future.set_result`` as a timer)."""
        owner = getattr(self.callback, "__self__", None)
        future = owner if asyncio.isfuture(owner) else None
        if future is None:
            future = next((a for a in self.args if asyncio.isfuture(a)), None)
        if future is not None and not introspect.is_task(future):
            return future
        return None
