"""The recorder: a mirror of what the event loop holds, built from public hooks only.

asyncio keeps its ready queue and timer heap in private attributes. The instrumented loop
(:mod:`eventloop.instrumented`) tells the recorder about every callback as it is queued
(``call_soon``), every timer as it is set (``call_at``), every loop iteration (its selector),
every task (its task factory) and every unhandled exception (its exception handler). From
that the recorder keeps, in the same order as asyncio:

* ``ready`` — callbacks waiting to run, first in, first out;
* ``timers`` — callbacks waiting for a time, due first;
* the callback running now; every task and what it awaits; exceptions; loop lag.

Memory stays bounded: the mirror holds one small :class:`Entry` per callback asyncio itself
holds; finished tasks, exceptions, lag samples and notes live in ring buffers.

All state is guarded by one re-entrant lock: the loop thread writes, other threads call
:meth:`LoopRecorder.snapshot` and schedule with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import queue
import threading
import time
import traceback
import weakref
from collections import OrderedDict, deque
from typing import Any

from . import introspect
from .gate import StepGate
from .stream import Event, EventStream, Subscription

# What a ready-queue entry is, as shown to students.
TASK_STEP = "task_step"  # Task.__step scheduled by call_soon (first step, or after sleep(0))
TASK_WAKEUP = "task_wakeup"  # the task's wake-up, a done-callback of the future it awaited
DONE_CALLBACK = "done_callback"  # any other done-callback of a future
TIMER = "timer"  # a call_at / call_later callback (in the timers heap until due)
THREADSAFE = "threadsafe"  # call_soon_threadsafe from another thread
IO = "io"  # a file descriptor became readable/writable (asyncio's own handle runs)
CALLBACK = "callback"  # a plain call_soon

_TERMINAL = ("done", "cancelled", "failed")


def _r(seconds: float) -> float:
    return round(seconds, 6)


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
        self.created_by: str | None = None
        self.finished_at: float | None = None
        self.steps = 0
        self.awaiting: str | None = None
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
        return {
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


class LoopRecorder:
    """Mirror of one loop's ready queue, timers, tasks, exceptions and lag (see module doc)."""

    def __init__(
        self,
        *,
        gate: StepGate,
        clock: Any = time.monotonic,
        keep_done_tasks: int = 50,
        keep_exceptions: int = 50,
        keep_lag_samples: int = 200,
        keep_notes: int = 100,
    ) -> None:
        self.lock = threading.RLock()
        self.gate = gate
        self.clock = clock
        self.t0 = clock()
        self.started_wall = time.time()
        self.stream = EventStream()
        self.resolution = time.get_clock_info("monotonic").resolution
        self.keep_done_tasks = keep_done_tasks
        self._ids = itertools.count(1)
        self.ready: OrderedDict[int, Entry] = OrderedDict()
        self.timers: dict[int, Entry] = {}
        self._timer_heap: list[tuple[float, int, Entry]] = []
        self._io_ids: list[int] = []
        self._last_prune = 0.0
        self.current: Entry | None = None
        self.current_started = 0.0
        self._tasks: dict[int, TaskRecord] = {}
        self._task_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._task_counter = itertools.count(1)
        self._done_tasks: deque[int] = deque()
        self._future_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._future_counter = itertools.count(1)
        self._future_timer: dict[int, int] = {}  # future id -> id of the timer that resolves it
        self._announce: list[tuple[TaskRecord, Entry | None]] = []
        self.behind = False  # set when _announce or _pending_exceptions has something
        self._pending_exceptions: queue.SimpleQueue[tuple[dict[str, Any], str | None, float]] = (
            queue.SimpleQueue()
        )
        self._exception_ids = itertools.count(1)
        self._last_error_label: str | None = None
        self.exceptions: deque[dict[str, Any]] = deque(maxlen=keep_exceptions)
        self.lag: deque[dict[str, Any]] = deque(maxlen=keep_lag_samples)
        self.notes: deque[dict[str, Any]] = deque(maxlen=keep_notes)
        self.stats = {
            "callbacks_run": 0,
            "internal_callbacks_run": 0,
            "timers_fired": 0,
            "tasks_created": 0,
            "exceptions": 0,
        }

    # -- time and names ----------------------------------------------------------------------

    def rel(self, when: float) -> float:
        """Loop time as seconds since the recorder started."""
        return _r(when - self.t0)

    def new_entry(self, callback: Any, args: tuple[Any, ...], **kw: Any) -> Entry:
        return Entry(next(self._ids), callback, args, **kw)

    def future_id(self, future: Any) -> int:
        fid = self._future_ids.get(future)
        if fid is None:
            fid = self._future_ids[future] = next(self._future_counter)
        return fid

    def describe_future(self, future: Any, *, with_timer: bool = True) -> str:
        """``task B``, ``future #4``, ``future #9 (_GatheringFuture)``, ``… by timer #3``."""
        if introspect.is_task(future):
            tid = self._task_ids.get(future)
            return f"task {future.get_name()}" if tid is not None else "a task"
        fid = self.future_id(future)
        kind = type(future).__name__
        text = f"future #{fid}" if kind == "Future" else f"future #{fid} ({kind})"
        timer = self._future_timer.get(fid) if with_timer else None
        if timer is not None and timer in self.timers:
            text += f", resolved by timer #{timer}"
        return text

    def task_name(self, task_id: int | None) -> str | None:
        if task_id is None:
            return None
        record = self._tasks.get(task_id)
        return record.live_name() if record else f"#{task_id}"

    def label(self, entry: Entry) -> str:
        """What a student reads for one ready-queue or timer entry."""
        if entry.label_override:
            return entry.label_override
        fn = introspect.callable_name(entry.callback)
        owner = getattr(entry.callback, "__self__", None)
        if owner is not None and asyncio.isfuture(owner) and not introspect.is_task(owner):
            fn += f" of {self.describe_future(owner, with_timer=False)}"
        kind = entry.kind
        if kind == TASK_STEP:
            return f"step of task {entry.task.get_name()}"
        if kind == TASK_WAKEUP:
            name = entry.task.get_name()
            done = self.describe_future(entry.future, with_timer=False)
            return f"step of task {name} (wake-up: {done} is done)"
        if kind == DONE_CALLBACK:
            return f"done-callback of {self.describe_future(entry.future)}: {fn}"
        if kind == TIMER:
            if introspect.callable_name(entry.callback) == "_set_result_unless_cancelled":
                what = f"asyncio.sleep() of task {self.task_name(entry.set_by)} is over"
            else:
                what = fn
                if entry.set_by is not None:
                    what += f" (set by task {self.task_name(entry.set_by)})"
            if entry.id in self.timers:
                return f"timer #{entry.id}: {what}"
            return f"timer #{entry.id} fired: {what}"
        if entry.message_id is not None:
            fn += f"(message #{entry.message_id})"
        if kind == THREADSAFE:
            return f"call_soon_threadsafe from thread {entry.thread}: {fn}"
        return fn

    # -- events ------------------------------------------------------------------------------

    def _event(self, kind: str, **fields: Any) -> Event:
        return {"seq": 0, "t": self.rel(self.clock()), "type": kind, **fields}

    def _emit(self, kind: str, **fields: Any) -> None:
        self.stream.emit(self._event(kind, **fields))

    def entry_dict(self, entry: Entry) -> dict[str, Any]:
        task = self._task_ids.get(entry.task) if entry.task is not None else None
        data: dict[str, Any] = {
            "id": entry.id,
            "kind": entry.kind,
            "label": self.label(entry),
            "task": task,
            "queued_at": self.rel(entry.queued_at),
        }
        if entry.when is not None:
            data["when"] = self.rel(entry.when)
            data["set_by"] = entry.set_by
        if entry.message_id is not None:
            data["message"] = entry.message_id
        return data

    def subscribe(self, maxlen: int = 1000) -> Subscription:
        """A bounded subscription to the event stream (see :mod:`eventloop.stream`)."""
        with self.lock:
            return self.stream.subscribe(maxlen)

    def _sync(self) -> None:
        """Catch up on work deferred from places where it could not be done (lock held)."""
        self.behind = False
        if self._announce:
            self._flush_new_tasks()
        if not self._pending_exceptions.empty():
            self._drain_exceptions()

    # -- scheduling hooks (called by the instrumented loop) ----------------------------------

    def classify(self, entry: Entry) -> bool:
        """Work out what a call_soon callback is; returns True for a brand-new task."""
        callback, args = entry.callback, entry.args
        owner = getattr(callback, "__self__", None)
        if owner is not None and introspect.is_task(owner):
            entry.task = owner
            if args and asyncio.isfuture(args[0]):
                entry.kind = TASK_WAKEUP
                entry.future = args[0]
            else:
                entry.kind = TASK_STEP
            if owner not in self._task_ids:
                self.register_task(owner, entry)
                return True
        elif args and asyncio.isfuture(args[0]) and args[0].done():
            entry.kind = DONE_CALLBACK
            entry.future = args[0]
        return False

    def add_ready(self, entry: Entry) -> None:
        """A callback joined the back of the ready queue (lock held by the caller)."""
        if self.behind:
            self._sync()
        new_task = self.classify(entry) if entry.kind == CALLBACK else False
        if entry.args:
            entry.message_id = introspect.delivered_message_id(entry.args)
        entry.queued_at = self.clock()
        self.ready[entry.id] = entry
        if self.stream.active and not new_task:
            self._emit("ready", entry=self.entry_dict(entry))

    def add_timer(self, entry: Entry, current_task: Any) -> None:
        """A timer was pushed onto the heap (lock held by the caller)."""
        if self.behind:
            self._sync()
        entry.kind = TIMER
        entry.queued_at = self.clock()
        if current_task is not None:
            entry.set_by = self._task_ids.get(current_task)
        owner = getattr(entry.callback, "__self__", None)
        future = owner if asyncio.isfuture(owner) else None
        if future is None:
            future = next((a for a in entry.args if asyncio.isfuture(a)), None)
        if future is not None and not introspect.is_task(future):
            entry.future = future
            self._future_timer[self.future_id(future)] = entry.id
        self.timers[entry.id] = entry
        heapq.heappush(self._timer_heap, (entry.when, entry.id, entry))
        if self.stream.active:
            self._emit("timer", entry=self.entry_dict(entry))

    def _remove_timer(self, entry: Entry) -> None:
        del self.timers[entry.id]
        if entry.future is not None:
            fid = self._future_ids.get(entry.future)
            if fid is not None and self._future_timer.get(fid) == entry.id:
                del self._future_timer[fid]

    def before_select(self, timeout: float | None) -> None:
        """Start of a loop iteration's wait: the previous iteration's I/O callbacks have run."""
        with self.lock:
            if self.behind:
                self._sync()
            for eid in self._io_ids:
                if self.ready.pop(eid, None) is not None and self.stream.active:
                    self._emit("removed", id=eid, reason="ran")
            self._io_ids.clear()
            if timeout != 0 and self.ready:
                # asyncio only sleeps when its ready queue is empty: what is left was cancelled.
                self._prune(force=True)
            elif len(self.timers) <= 256 or self.clock() - self._last_prune > 0.1:
                self._prune()

    def after_select(self, events: list[tuple[Any, int]], internal_fds: frozenset[int]) -> None:
        """The wait is over: I/O callbacks, then due timers, join the ready queue (as asyncio)."""
        with self.lock:
            if self.behind:
                self._sync()
            for key, mask in events:
                if key.fd in internal_fds:
                    continue
                for bit, what in ((1, "readable"), (2, "writable")):
                    if mask & bit:
                        entry = self.new_entry(None, (), label=f"I/O ready: fd {key.fd} is {what}")
                        entry.kind, entry.fd, entry.queued_at = IO, key.fd, self.clock()
                        self.ready[entry.id] = entry
                        self._io_ids.append(entry.id)
                        if self.stream.active:
                            self._emit("ready", entry=self.entry_dict(entry))
            limit = self.clock() + self.resolution
            heap = self._timer_heap
            while heap and heap[0][0] < limit:
                _, eid, entry = heapq.heappop(heap)
                if eid in self.timers and not entry.handle.cancelled():
                    self._timer_due(entry)

    def _timer_due(self, entry: Entry) -> None:
        self._remove_timer(entry)
        self.ready[entry.id] = entry
        if self.stream.active:
            self._emit("timer_due", entry=self.entry_dict(entry))

    def _prune(self, force: bool = False) -> None:
        """Drop cancelled handles: asyncio skips them, so must the mirror."""
        self._last_prune = self.clock()
        for eid, entry in list(self.timers.items()):
            if entry.handle is not None and entry.handle.cancelled():
                self._remove_timer(entry)
                if self.stream.active:
                    self._emit("removed", id=eid, reason="cancelled")
        if force or len(self.ready) <= 256:
            for eid, entry in list(self.ready.items()):
                if entry.handle is not None and entry.handle.cancelled() and not entry.at_gate:
                    del self.ready[eid]
                    if self.stream.active:
                        self._emit("removed", id=eid, reason="cancelled")
        if len(self._timer_heap) > 2 * len(self.timers) + 64:
            self._timer_heap = [item for item in self._timer_heap if item[1] in self.timers]
            heapq.heapify(self._timer_heap)

    # -- running a callback ------------------------------------------------------------------

    def arrive(self, entry: Entry) -> None:
        """The loop reached ``entry``; it may now wait at the gate. Measures timer lag."""
        with self.lock:
            if self.behind:
                self._sync()
            if entry.when is not None:
                if entry.id in self.timers:  # due a hair later than our check in after_select
                    self._timer_due(entry)
                    self.ready.move_to_end(entry.id, last=False)
                self._lag_sample(entry)
            self._drop_stale_before(entry)
            entry.at_gate = True

    def internal_fired(self, entry: Entry) -> None:
        """An internal timer (the heartbeat) fired: a lag sample, never a step."""
        with self.lock:
            if self.behind:
                self._sync()
            self.stats["internal_callbacks_run"] += 1
            self._lag_sample(entry)

    def _lag_sample(self, entry: Entry) -> None:
        """How late a timer fires, leaving out time the controls held the loop on purpose."""
        now = self.clock()
        late = now - entry.when - self.gate.held_between(entry.when, now)
        sample = {
            "t": self.rel(now),
            "lag": _r(max(0.0, late)),
            "source": "heartbeat" if entry.internal else f"timer #{entry.id}",
        }
        self.lag.append(sample)
        self.stats["timers_fired"] += 1
        if self.stream.active:
            self._emit("lag", **sample)

    def _drop_stale_before(self, entry: Entry) -> None:
        # Entries ahead of the one running have run already (I/O handles, which asyncio runs
        # without our wrapper) or were cancelled. Anything else stays: it runs later.
        if entry.id not in self.ready:
            return
        for eid, other in list(self.ready.items()):
            if eid == entry.id:
                return
            if other.kind == IO or (other.handle is not None and other.handle.cancelled()):
                del self.ready[eid]
                if self.stream.active:
                    self._emit("removed", id=eid, reason="ran" if other.kind == IO else "cancelled")

    def start(self, entry: Entry) -> None:
        """``entry`` leaves the ready queue and becomes the running callback."""
        with self.lock:
            if self.behind:
                self._sync()
            if self.ready.pop(entry.id, None) is None and entry.id in self.timers:
                self._remove_timer(entry)  # (skipped arrive(): running without the gate)
            entry.at_gate = False
            self.current = entry
            self.current_started = self.clock()
            record = self._record_of(entry.task)
            if record is not None:
                record.state = "running"
                record.started = True
            if self.stream.active:
                self._emit("run", entry=self.entry_dict(entry))

    def finish(self, entry: Entry, error: BaseException | None) -> str | None:
        """The callback returned (or raised). Updates its task; returns its label if stepping."""
        with self.lock:
            if self.behind:
                self._sync()
            self.current = None
            self.stats["callbacks_run"] += 1
            if error is not None:
                self._last_error_label = self.label(entry)
            record = self._record_of(entry.task)
            if record is not None:
                record.steps += 1
                self._refresh_task(record, entry.task)
            stepping = self.gate.mode != "running"
            if stepping and len(self.timers) <= 256:
                self._prune()  # show a cancelled timer gone right after the step that cancelled it
            if self.stream.active:
                duration = _r(self.clock() - self.current_started)
                fields: dict[str, Any] = {"id": entry.id, "duration": duration}
                if error is not None:
                    fields["error"] = introspect.short_repr(error)
                self._emit("ran", **fields)
                if record is not None:
                    self._emit("task", task=record.as_dict())
            return self.label(entry) if stepping else None

    # -- tasks -------------------------------------------------------------------------------

    def register_task(self, task: Any, first_step: Entry | None = None) -> None:
        """Start tracking a task (from the task factory, or on first sight of its step)."""
        with self.lock:
            if task in self._task_ids:
                return
            record = TaskRecord(next(self._task_counter), task, self.rel(self.clock()))
            creator = asyncio.current_task(task.get_loop())
            if creator is not None and creator is not task:
                record.created_by = f"task {creator.get_name()}"
            elif self.current is not None:
                record.created_by = self.label(self.current)
            else:
                record.created_by = f"thread {threading.current_thread().name}"
            self._task_ids[task] = record.id
            self._tasks[record.id] = record
            self.stats["tasks_created"] += 1
            self._refresh_task(record, task)
            # The name is set by create_task() after the factory returns: announce it later.
            self._announce.append((record, first_step))
            self.behind = True

    def _flush_new_tasks(self) -> None:
        announce, self._announce = self._announce, []
        if not self.stream.active:
            return
        for record, entry in announce:
            self._emit("task", task=record.as_dict(ready=True))
            if entry is not None and entry.id in self.ready:
                self._emit("ready", entry=self.entry_dict(entry))

    def _record_of(self, task: Any) -> TaskRecord | None:
        if task is None:
            return None
        tid = self._task_ids.get(task)
        return self._tasks.get(tid) if tid is not None else None

    def _refresh_task(self, record: TaskRecord, task: Any) -> None:
        """Read a task that is not running: state, await chain, current line (loop thread)."""
        record.live_name()
        if task.done():
            record.finished_at = self.rel(self.clock())
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
            self._done_tasks.append(record.id)
            while len(self._done_tasks) > self.keep_done_tasks:
                self._tasks.pop(self._done_tasks.popleft(), None)
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
        parts = [f"{f['function']}()" for f in frames if f["asyncio"]]
        if target is not None:
            parts.append(self.describe_future(target) if asyncio.isfuture(target) else str(target))
        elif frames:
            parts.append("nothing (yielded to the loop)")
        record.awaiting = " → ".join(parts) if parts else None

    # -- exceptions and notes ----------------------------------------------------------------

    def unhandled(self, context: dict[str, Any]) -> None:
        """From the loop's exception handler: may run in any thread, even inside a finaliser,
        so it only queues; the record is written at the next hook or snapshot."""
        current = self.current
        if current is not None:
            where: str | None = self.label(current)
        elif "handle" in context:  # our wrapper already returned: it saved the label
            where = self._last_error_label
        else:
            where = None
        self._pending_exceptions.put((context, where, self.clock()))
        self.behind = True

    def _drain_exceptions(self) -> None:
        while True:
            try:
                context, where, at = self._pending_exceptions.get_nowait()
            except queue.Empty:
                return
            exc = context.get("exception")
            source = context.get("future") or context.get("task")
            how = context.get("message", "unhandled exception")
            if "handle" in context and where:
                how = f"Exception in callback {where}"
            self._add_exception(
                exc,
                handled=False,
                how=how,
                where=where,
                task=source.get_name() if introspect.is_task(source) else None,
                at=at,
            )

    def handled(self, exc: BaseException, how: str) -> None:
        """Record an exception the program caught itself (called by the demos)."""
        with self.lock:
            if self.behind:
                self._sync()
            current = self.current
            task = asyncio.current_task() if current is not None else None
            self._add_exception(
                exc,
                handled=True,
                how=how,
                where=self.label(current) if current is not None else None,
                task=task.get_name() if task is not None else None,
                at=self.clock(),
            )

    def _add_exception(
        self,
        exc: BaseException | None,
        *,
        handled: bool,
        how: str,
        where: str | None,
        task: str | None,
        at: float,
    ) -> None:
        record = {
            "id": next(self._exception_ids),
            "t": self.rel(at),
            "handled": handled,
            "how": how,
            "type": type(exc).__name__ if exc is not None else None,
            "message": str(exc) if exc is not None else "",
            "traceback": "".join(traceback.format_exception(exc)) if exc is not None else "",
            "task": task,
            "callback": where,
        }
        self.exceptions.append(record)
        self.stats["exceptions"] += 1
        if self.stream.active:
            self._emit("exception", exception=record)

    def note(self, text: str) -> None:
        """A line of narration from a demo ("waiter A woke up")."""
        with self.lock:
            if self.behind:
                self._sync()
            task = asyncio.current_task() if self.current is not None else None
            item = {
                "t": self.rel(self.clock()),
                "text": text,
                "task": task.get_name() if task is not None else None,
            }
            self.notes.append(item)
            if self.stream.active:
                self._emit("note", **item)

    def control(self, **fields: Any) -> None:
        """A control changed (mode, slow motion): tell the subscribers."""
        with self.lock:
            if self.stream.active:
                self._emit("control", **fields)

    # -- snapshot ----------------------------------------------------------------------------

    def snapshot(self, *, max_entries: int = 100) -> dict[str, Any]:
        """Everything the page draws, as plain JSON-able data (consistent: taken under lock)."""
        with self.lock:
            if self.behind:
                self._sync()
            self._prune(force=True)
            for tid, record in list(self._tasks.items()):
                if record.state not in _TERMINAL and record.ref() is None:
                    del self._tasks[tid]  # a pending task nobody referenced was destroyed
            now = self.clock()
            ready_tasks = {self._task_ids.get(e.task) for e in self.ready.values() if e.task}
            timers = sorted(self.timers.values(), key=lambda e: (e.when, e.id))
            current = self.current
            gate = self.gate
            return {
                "seq": self.stream.seq,
                "now": self.rel(now),
                "started_wall": self.started_wall,
                "control": {
                    "mode": gate.mode,
                    "slow_motion": gate.slow_motion,
                    "steps": gate.steps_done,
                    "waiting_at_gate": gate.waiting,
                    "idle": gate.idle,
                },
                "current": None
                if current is None
                else {
                    **self.entry_dict(current),
                    "started": self.rel(self.current_started),
                    "running_for": _r(now - self.current_started),
                },
                "ready": [
                    {**self.entry_dict(e), "at_gate": e.at_gate}
                    for e in itertools.islice(self.ready.values(), max_entries)
                ],
                "ready_total": len(self.ready),
                "timers": [
                    {**self.entry_dict(e), "due_in": _r(e.when - now)} for e in timers[:max_entries]
                ],
                "timers_total": len(timers),
                "tasks": [
                    record.as_dict(ready=tid in ready_tasks)
                    for tid, record in sorted(self._tasks.items())
                ],
                "exceptions": list(self.exceptions),
                "lag": self._lag_summary(),
                "notes": list(self.notes),
                "stats": dict(self.stats),
            }

    def order(self, *, max_entries: int = 100) -> dict[str, Any]:
        """Just the ids, in order: the ready queue (first in first), the timers (due first) and
        the running callback. Cheap enough to send with every live frame, so a page that keeps
        its own copy from the events can check it against the loop (and never drift)."""
        with self.lock:
            timers = heapq.nsmallest(
                max_entries, self.timers.values(), key=lambda e: (e.when, e.id)
            )
            return {
                "seq": self.stream.seq,
                "now": self.rel(self.clock()),
                "ready": list(itertools.islice(self.ready, max_entries)),
                "ready_total": len(self.ready),
                "timers": [e.id for e in timers],
                "timers_total": len(self.timers),
                "current": None if self.current is None else self.current.id,
            }

    def _lag_summary(self) -> dict[str, Any]:
        samples = list(self.lag)
        lags = [s["lag"] for s in samples]
        return {
            "last": lags[-1] if lags else None,
            "max": max(lags) if lags else None,
            "samples": samples,
        }
