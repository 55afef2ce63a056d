"""What a student reads for each thing in the loop: "step of task A", "future #4", "timer #9".

Futures get a number the first time the recorder meets one (a task is called by its name). A
future that a timer will resolve — what ``asyncio.sleep()`` awaits — remembers that timer, so
a waiting task reads "sleep() → future #4, resolved by timer #9".
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Container
from typing import Any

from . import introspect
from .entry import DONE_CALLBACK, TASK_STEP, TASK_WAKEUP, THREADSAFE, TIMER, Entry
from .tasks import TaskTable
from .timebase import Timebase


class Labels:
    """Numbers for futures and the words for futures, tasks and entries.

    :param timers: the ids of the timers still waiting (the mirror's timers), so a label can
        say "timer #3" while it waits and "timer #3 fired" once it is due.
    """

    def __init__(self, tasks: TaskTable, timers: Container[int], timebase: Timebase) -> None:
        self.tasks = tasks
        self.timers = timers
        self.timebase = timebase
        self._future_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._next_future_id = 1
        # The last timer set to resolve a future; it counts only while that timer still waits.
        self._resolving_timer: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def future_id(self, future: Any) -> int:
        fid = self._future_ids.get(future)
        if fid is None:
            fid = self._future_ids[future] = self._next_future_id
            self._next_future_id += 1
        return fid

    def timer_resolves(self, future: Any, timer: Entry) -> None:
        """``timer`` will resolve ``future`` (numbered now, in the order timers are set)."""
        self.future_id(future)
        self._resolving_timer[future] = timer.id

    def future(self, future: Any, *, with_timer: bool = True) -> str:
        """``task B``, ``future #4``, ``future #9 (_GatheringFuture)``, ``… by timer #3``."""
        if introspect.is_task(future):
            known = self.tasks.knows(future)
            return f"task {future.get_name()}" if known else "a task"
        fid = self.future_id(future)
        kind = type(future).__name__
        text = f"future #{fid}" if kind == "Future" else f"future #{fid} ({kind})"
        timer = self._resolving_timer.get(future) if with_timer else None
        if timer is not None and timer in self.timers:
            text += f", resolved by timer #{timer}"
        return text

    def label(self, entry: Entry) -> str:
        """What a student reads for one ready-queue or timer entry."""
        if entry.label_override:
            return entry.label_override
        fn = introspect.callable_name(entry.callback)
        owner = getattr(entry.callback, "__self__", None)
        if owner is not None and asyncio.isfuture(owner) and not introspect.is_task(owner):
            fn += f" of {self.future(owner, with_timer=False)}"
        kind = entry.kind
        if kind == TASK_STEP:
            return f"step of task {entry.task.get_name()}"
        if kind == TASK_WAKEUP:
            name = entry.task.get_name()
            done = self.future(entry.future, with_timer=False)
            return f"step of task {name} (wake-up: {done} is done)"
        if kind == DONE_CALLBACK:
            return f"done-callback of {self.future(entry.future)}: {fn}"
        if kind == TIMER:
            return self._timer_label(entry, fn)
        if entry.message_id is not None:
            fn += f"(message #{entry.message_id})"
        if kind == THREADSAFE:
            return f"call_soon_threadsafe from thread {entry.thread}: {fn}"
        return fn

    def _timer_label(self, entry: Entry, fn: str) -> str:
        if introspect.callable_name(entry.callback) == "_set_result_unless_cancelled":
            what = f"asyncio.sleep() of task {self.tasks.name_of(entry.set_by)} is over"
        else:
            what = fn
            if entry.set_by is not None:
                what += f" (set by task {self.tasks.name_of(entry.set_by)})"
        if entry.id in self.timers:
            return f"timer #{entry.id}: {what}"
        return f"timer #{entry.id} fired: {what}"

    def entry_dict(self, entry: Entry) -> dict[str, Any]:
        """One entry as the page gets it, in events and in the snapshot."""
        task = self.tasks.id_of(entry.task) if entry.task is not None else None
        rel = self.timebase.rel
        data: dict[str, Any] = {
            "id": entry.id,
            "kind": entry.kind,
            "label": self.label(entry),
            "task": task,
            "queued_at": rel(entry.queued_at),
        }
        if entry.when is not None:
            data["when"] = rel(entry.when)
            data["set_by"] = entry.set_by
        if entry.message_id is not None:
            data["message"] = entry.message_id
        return data
