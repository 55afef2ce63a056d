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

from broker.translatable import N_, Phrase, phrase, with_i18n

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

    def future(self, future: Any, *, with_timer: bool = True) -> Phrase:
        """``task B``, ``future #4``, ``future #9 (_GatheringFuture)``, ``… by timer #3``."""
        if introspect.is_task(future):
            if self.tasks.knows(future):
                return phrase(N_("task %(task)s"), task=future.get_name())
            return phrase(N_("a task"))
        fid = self.future_id(future)
        kind = type(future).__name__
        if kind == "Future":
            text = phrase(N_("future #%(id)s"), id=fid)
        else:
            text = phrase(N_("future #%(id)s (%(kind)s)"), id=fid, kind=kind)
        timer = self._resolving_timer.get(future) if with_timer else None
        if timer is not None and timer in self.timers:
            text = phrase(N_("%(future)s, resolved by timer #%(timer)s"), future=text, timer=timer)
        return text

    def label(self, entry: Entry) -> str:
        """What a student reads for one ready-queue or timer entry (a :class:`Phrase`, or the
        callable's own name)."""
        if entry.label_override:
            return entry.label_override
        fn: str = introspect.callable_name(entry.callback)
        owner = getattr(entry.callback, "__self__", None)
        if owner is not None and asyncio.isfuture(owner) and not introspect.is_task(owner):
            future = self.future(owner, with_timer=False)
            fn = phrase(N_("%(callback)s of %(future)s"), callback=fn, future=future)
        kind = entry.kind
        if kind == TASK_STEP:
            return phrase(N_("step of task %(task)s"), task=entry.task.get_name())
        if kind == TASK_WAKEUP:
            name = entry.task.get_name()
            done = self.future(entry.future, with_timer=False)
            return phrase(
                N_("step of task %(task)s (wake-up: %(future)s is done)"), task=name, future=done
            )
        if kind == DONE_CALLBACK:
            future = self.future(entry.future)
            return phrase(
                N_("done-callback of %(future)s: %(callback)s"), future=future, callback=fn
            )
        if kind == TIMER:
            return self._timer_label(entry, fn)
        if entry.message_id is not None:
            fn = phrase(
                N_("%(callback)s(message #%(message)s)"), callback=fn, message=entry.message_id
            )
        if kind == THREADSAFE:
            return phrase(
                N_("call_soon_threadsafe from thread %(thread)s: %(callback)s"),
                thread=entry.thread,
                callback=fn,
            )
        return fn

    def _timer_label(self, entry: Entry, fn: str) -> Phrase:
        if introspect.callable_name(entry.callback) == "_set_result_unless_cancelled":
            task = self.tasks.name_of(entry.set_by)
            what = phrase(N_("asyncio.sleep() of task %(task)s is over"), task=task)
        elif entry.set_by is not None:
            task = self.tasks.name_of(entry.set_by)
            what = phrase(N_("%(callback)s (set by task %(task)s)"), callback=fn, task=task)
        else:
            what = fn
        if entry.id in self.timers:
            return phrase(N_("timer #%(id)s: %(what)s"), id=entry.id, what=what)
        return phrase(N_("timer #%(id)s fired: %(what)s"), id=entry.id, what=what)

    def entry_dict(self, entry: Entry) -> dict[str, Any]:
        """One entry as the page gets it, in events and in the snapshot (``label_i18n``: the
        label's message, for the page to translate)."""
        task = self.tasks.id_of(entry.task) if entry.task is not None else None
        rel = self.timebase.rel
        data: dict[str, Any] = {
            "id": entry.id,
            "kind": entry.kind,
            "label": self.label(entry),
            "task": task,
            "queued_at": rel(entry.queued_at),
        }
        with_i18n(data, "label")
        if entry.when is not None:
            data["when"] = rel(entry.when)
            data["set_by"] = entry.set_by
        if entry.message_id is not None:
            data["message"] = entry.message_id
        return data
