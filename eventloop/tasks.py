"""The tasks the loop runs, as the page shows them: numbered, named, and what each awaits.

Tasks are numbered in the order the recorder first sees them (from the task factory, or from
their first step). After each step, in the loop thread, a task is read again from the outside
(:mod:`eventloop.introspect`): pending, running, done, failed or cancelled; the chain of awaits
it is suspended in; the line of student code it stopped at. Finished tasks stay in a ring of
``keep_done`` records so the page can show how they ended.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from broker.translatable import N_, joined, phrase, with_i18n

from . import introspect
from .timebase import Timebase

TERMINAL = ("done", "cancelled", "failed")


class TaskRecord:
    """What the page shows about one task; refreshed in the loop thread after each step."""

    __slots__ = (
        "id",
        "ref",
        "name",
        "coro",
        "state",
        "started",
        "created_at",
        "created_by",
        "finished_at",
        "steps",
        "awaiting",
        "stack",
        "line",
        "result",
        "error",
    )

    def __init__(self, task_id: int, task: asyncio.Task[Any], created_at: float) -> None:
        self.id = task_id
        self.ref = weakref.ref(task)
        self.name = task.get_name()
        self.coro = introspect.callable_name(task.get_coro())
        self.state = "pending"
        self.started = False
        self.created_at = created_at
        self.created_by: str | None = None  # a Phrase: "task main", "thread …"
        self.finished_at: float | None = None
        self.steps = 0
        self.awaiting: str | None = None  # a Phrase: "sleep() → future #4 …"
        self.stack: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        self.result: str | None = None
        self.error: str | None = None

    def live_name(self) -> str:
        task = self.ref()
        if task is not None:
            self.name = task.get_name()
        return self.name

    def as_dict(self, ready: bool = False) -> dict[str, Any]:
        """The task as the page gets it (``awaiting_i18n``, ``created_by_i18n``: the messages
        of those phrases, for the page to translate)."""
        data = {
            "id": self.id,
            "name": self.live_name(),
            "state": self.state,
            "ready": ready,
            "started": self.started,
            "coro": self.coro,
            "awaiting": self.awaiting,
            "line": self.line,
            "stack": self.stack,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "finished_at": self.finished_at,
            "steps": self.steps,
            "result": self.result,
            "error": self.error,
        }
        return with_i18n(data, "awaiting", "created_by")


class TaskTable:
    """Every task the recorder knows, by id; the finished ones only the last ``keep_done``."""

    def __init__(self, timebase: Timebase, keep_done: int = 50) -> None:
        self.timebase = timebase
        self.keep_done = keep_done
        self._records: dict[int, TaskRecord] = {}
        self._ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._next_id = 1
        self._done: deque[int] = deque()

    def knows(self, task: Any) -> bool:
        return task in self._ids

    def id_of(self, task: Any) -> int | None:
        return self._ids.get(task)

    def record_of(self, task: Any) -> TaskRecord | None:
        if task is None:
            return None
        tid = self._ids.get(task)
        return self._records.get(tid) if tid is not None else None

    def name_of(self, task_id: int | None) -> str | None:
        """A task's current name by id (``#7`` once its record is gone)."""
        if task_id is None:
            return None
        record = self._records.get(task_id)
        return record.live_name() if record else f"#{task_id}"

    def add(self, task: Any, created_by: str) -> TaskRecord:
        """Number a task seen for the first time."""
        record = TaskRecord(self._next_id, task, self.timebase.now())
        self._next_id += 1
        record.created_by = created_by
        self._ids[task] = record.id
        self._records[record.id] = record
        return record

    def forget_destroyed(self) -> None:
        """Drop pending tasks that nobody referenced any more: asyncio destroyed them."""
        for tid, record in list(self._records.items()):
            if record.state not in TERMINAL and record.ref() is None:
                del self._records[tid]

    def records(self) -> Iterator[TaskRecord]:
        """The records, oldest task first."""
        return (record for _, record in sorted(self._records.items()))

    def refresh(self, record: TaskRecord, task: Any, describe: Callable[[Any], str]) -> None:
        """Read a task that is not running: state, await chain, current line (loop thread).
        ``describe`` names the future at the end of the chain ("future #4")."""
        record.live_name()
        if task.done():
            self._finished(record, task)
            return
        record.state = "pending"
        coro = task.get_coro()
        frames, target = introspect.await_chain(coro)
        record.stack = frames
        record.line = introspect.user_frame(frames)
        record.started = introspect.coroutine_started(coro)
        if not record.started:
            record.awaiting = None
            return
        parts: list[str] = [f"{f['function']}()" for f in frames if f["asyncio"]]
        if target is not None:
            parts.append(describe(target) if asyncio.isfuture(target) else str(target))
        elif frames:
            parts.append(phrase(N_("nothing (yielded to the loop)")))
        record.awaiting = joined(parts, " → ") if parts else None

    def _finished(self, record: TaskRecord, task: Any) -> None:
        record.finished_at = self.timebase.now()
        record.awaiting, record.stack, record.line = None, [], None
        if task.cancelled():
            record.state = "cancelled"
        else:
            failure = introspect.failure_text(task)
            if failure is not None:
                record.state = "failed"
                record.error = failure.strip().splitlines()[-1]
            else:
                record.state = "done"
                record.result = introspect.short_repr(task.result())
        self._done.append(record.id)
        while len(self._done) > self.keep_done:
            self._records.pop(self._done.popleft(), None)
