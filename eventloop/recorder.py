"""The recorder: what the event loop holds, kept up to date from public hooks only.

The instrumented loop (:mod:`eventloop.instrumented`) tells the recorder about every callback
as it is queued (``call_soon``), every timer as it is set (``call_at``), every loop iteration
(its selector), every task (its task factory) and every unhandled exception (its exception
handler). The recorder keeps, in asyncio's order:

* the ready queue and the timers (:class:`~eventloop.queues.QueueMirror`);
* the callback running now; every task and what it awaits (:mod:`eventloop.tasks`);
* exceptions (:mod:`eventloop.exceptions`), lag samples and notes from the demos;

and turns each change into an event on its stream (:mod:`eventloop.stream`). The page's
full picture is read with :func:`eventloop.snapshot.take_snapshot`; :meth:`LoopRecorder.order`
is the cheap version sent with every live frame.

Memory stays bounded: the mirror holds one small entry per callback asyncio itself holds;
finished tasks, exceptions, lag samples and notes live in ring buffers.

All state is guarded by one re-entrant lock: the loop thread writes, other threads read and
schedule with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from broker.translatable import N_, phrase, with_i18n

from . import introspect
from .entry import CALLBACK, IO, TIMER, Entry
from .exceptions import ExceptionLog
from .gate import StepGate
from .labels import Labels
from .queues import SCAN_LIMIT, QueueMirror
from .stream import EventStream, Subscription
from .tasks import TaskRecord, TaskTable
from .timebase import Timebase, micro

#: The label of an I/O callback (a file descriptor became ready).
IO_READABLE = N_("I/O ready: fd %(fd)s is readable")
IO_WRITABLE = N_("I/O ready: fd %(fd)s is writable")
#: While timers pile up, cancelled ones are looked for at most this often (seconds).
PRUNE_EVERY = 0.1


class LoopRecorder:
    """Mirror of one loop's ready queue, timers, tasks, exceptions and lag (see module doc)."""

    def __init__(
        self,
        *,
        gate: StepGate,
        clock: Callable[[], float] = time.monotonic,
        keep_done_tasks: int = 50,
        keep_exceptions: int = 50,
        keep_lag_samples: int = 200,
        keep_notes: int = 100,
    ) -> None:
        self.lock = threading.RLock()
        self.gate = gate
        self.timebase = Timebase(clock)
        self.clock = clock
        self.started_wall = self.timebase.started_wall
        self.stream = EventStream()
        self.resolution = time.get_clock_info("monotonic").resolution
        self.queues = QueueMirror()
        self.tasks = TaskTable(self.timebase, keep_done_tasks)
        self.labels = Labels(self.tasks, self.queues.timers, self.timebase)
        self.exceptions = ExceptionLog(self.timebase, keep_exceptions)
        self.lag: deque[dict[str, Any]] = deque(maxlen=keep_lag_samples)
        self.notes: deque[dict[str, Any]] = deque(maxlen=keep_notes)
        self.stats = {
            "callbacks_run": 0,
            "internal_callbacks_run": 0,
            "timers_fired": 0,
            "tasks_created": 0,
            "exceptions": 0,
        }
        self.current: Entry | None = None
        self.current_started = 0.0
        self._ids = itertools.count(1)
        self._last_prune = 0.0
        self._announce: list[tuple[TaskRecord, Entry | None]] = []
        self.behind = False  # set when _announce or pending exceptions have something

    def new_entry(self, callback: Any, args: tuple[Any, ...], **kw: Any) -> Entry:
        return Entry(next(self._ids), callback, args, **kw)

    # -- events ------------------------------------------------------------------------------

    def subscribe(self, maxlen: int = 1000) -> Subscription:
        """A bounded subscription to the event stream (see :mod:`eventloop.stream`)."""
        with self.lock:
            return self.stream.subscribe(maxlen)

    def _emit(self, kind: str, **fields: Any) -> None:
        self.stream.emit({"seq": 0, "t": self.timebase.now(), "type": kind, **fields})

    def _emit_entry(self, kind: str, entry: Entry) -> None:
        self._emit(kind, entry=self.labels.entry_dict(entry))

    def _emit_removed(self, ids: list[int], reason: str) -> None:
        for eid in ids:
            self._emit("removed", id=eid, reason=reason)

    def control(self, **fields: Any) -> None:
        """A control changed (mode, slow motion): tell the subscribers."""
        with self.lock:
            if self.stream.active:
                self._emit("control", **fields)

    # -- catching up -------------------------------------------------------------------------

    def _sync(self) -> None:
        """Catch up on work deferred from places where it could not be done (lock held)."""
        self.behind = False
        if self._announce:
            self._flush_new_tasks()
        if self.exceptions.pending:
            for record in self.exceptions.drain():
                self._exception_added(record)

    def catch_up(self) -> None:
        """Bring everything up to date before reading it whole (lock held): deferred work,
        cancelled handles, tasks destroyed without finishing."""
        if self.behind:
            self._sync()
        self._prune(force=True)
        self.tasks.forget_destroyed()

    def _prune(self, force: bool = False) -> None:
        self._last_prune = self.clock()
        dropped = self.queues.prune(force)
        if dropped and self.stream.active:
            self._emit_removed(dropped, "cancelled")

    # -- scheduling hooks (called by the instrumented loop) ----------------------------------

    def add_ready(self, entry: Entry) -> None:
        """A callback joined the back of the ready queue (lock held by the caller)."""
        if self.behind:
            self._sync()
        new_task = False
        if entry.kind == CALLBACK:
            entry.classify()
            if entry.task is not None and not self.tasks.knows(entry.task):
                self.register_task(entry.task, entry)
                new_task = True  # announced with its task, once the task has its name
        if entry.args:
            entry.message_id = introspect.delivered_message_id(entry.args)
        entry.queued_at = self.clock()
        self.queues.ready[entry.id] = entry
        if self.stream.active and not new_task:
            self._emit_entry("ready", entry)

    def add_timer(self, entry: Entry, current_task: Any) -> None:
        """A timer was pushed onto the heap (lock held by the caller)."""
        if self.behind:
            self._sync()
        entry.kind = TIMER
        entry.queued_at = self.clock()
        if current_task is not None:
            entry.set_by = self.tasks.id_of(current_task)
        future = entry.awaited_future()
        if future is not None:
            entry.future = future
            self.labels.timer_resolves(future, entry)
        self.queues.add_timer(entry)
        if self.stream.active:
            self._emit_entry("timer", entry)

    def before_select(self, timeout: float | None) -> None:
        """Start of a loop iteration's wait: the previous iteration's I/O callbacks have run."""
        with self.lock:
            if self.behind:
                self._sync()
            ran = self.queues.io_ran()
            if ran and self.stream.active:
                self._emit_removed(ran, "ran")
            if timeout != 0 and self.queues.ready:
                # asyncio only sleeps when its ready queue is empty: what is left was cancelled.
                self._prune(force=True)
            elif (
                len(self.queues.timers) <= SCAN_LIMIT
                or self.clock() - self._last_prune > PRUNE_EVERY
            ):
                self._prune()

    def after_select(self, events: list[tuple[Any, int]], internal_fds: frozenset[int]) -> None:
        """The wait is over: I/O callbacks, then due timers, join the ready queue (as asyncio)."""
        with self.lock:
            if self.behind:
                self._sync()
            for key, mask in events:
                if key.fd in internal_fds:
                    continue
                for bit, what in ((1, IO_READABLE), (2, IO_WRITABLE)):
                    if mask & bit:
                        entry = self.new_entry(None, (), label=phrase(what, fd=key.fd))
                        entry.kind, entry.fd, entry.queued_at = IO, key.fd, self.clock()
                        self.queues.add_io(entry)
                        if self.stream.active:
                            self._emit_entry("ready", entry)
            for entry in self.queues.pop_due(self.clock() + self.resolution):
                if self.stream.active:
                    self._emit_entry("timer_due", entry)

    # -- running a callback ------------------------------------------------------------------

    def arrive(self, entry: Entry) -> None:
        """The loop reached ``entry``; it may now wait at the gate. Measures timer lag."""
        with self.lock:
            if self.behind:
                self._sync()
            if entry.when is not None:
                if entry.id in self.queues.timers:  # due a hair later than after_select saw
                    self.queues.timer_due(entry)
                    self.queues.ready.move_to_end(entry.id, last=False)
                    if self.stream.active:
                        self._emit_entry("timer_due", entry)
                self._lag_sample(entry)
            stale = self.queues.stale_before(entry)
            if self.stream.active:
                for eid, reason in stale:
                    self._emit("removed", id=eid, reason=reason)
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
            "t": self.timebase.rel(now),
            "lag": micro(max(0.0, late)),
            "source": "heartbeat" if entry.internal else f"timer #{entry.id}",
        }
        self.lag.append(sample)
        self.stats["timers_fired"] += 1
        if self.stream.active:
            self._emit("lag", **sample)

    def start(self, entry: Entry) -> None:
        """``entry`` leaves the ready queue and becomes the running callback."""
        with self.lock:
            if self.behind:
                self._sync()
            self.queues.take(entry)
            entry.at_gate = False
            self.current = entry
            self.current_started = self.clock()
            record = self.tasks.record_of(entry.task)
            if record is not None:
                record.state = "running"
                record.started = True
            if self.stream.active:
                self._emit_entry("run", entry)

    def finish(self, entry: Entry, error: BaseException | None) -> str | None:
        """The callback returned (or raised). Updates its task; returns its label if stepping."""
        with self.lock:
            if self.behind:
                self._sync()
            self.current = None
            self.stats["callbacks_run"] += 1
            if error is not None:
                self.exceptions.last_error_label = self.labels.label(entry)
            record = self.tasks.record_of(entry.task)
            if record is not None:
                record.steps += 1
                self.tasks.refresh(record, entry.task, self.labels.future)
            stepping = self.gate.mode != "running"
            if stepping and len(self.queues.timers) <= SCAN_LIMIT:
                self._prune()  # show a cancelled timer gone right after the step that cancelled it
            if self.stream.active:
                self._emit_finished(entry, error, record)
            return self.labels.label(entry) if stepping else None

    def _emit_finished(
        self, entry: Entry, error: BaseException | None, record: TaskRecord | None
    ) -> None:
        fields: dict[str, Any] = {
            "id": entry.id,
            "duration": micro(self.clock() - self.current_started),
        }
        if error is not None:
            fields["error"] = introspect.short_repr(error)
        self._emit("ran", **fields)
        if record is not None:
            self._emit("task", task=record.as_dict())

    # -- tasks -------------------------------------------------------------------------------

    def register_task(self, task: Any, first_step: Entry | None = None) -> None:
        """Start tracking a task (from the task factory, or on first sight of its step)."""
        with self.lock:
            if self.tasks.knows(task):
                return
            creator = asyncio.current_task(task.get_loop())
            if creator is not None and creator is not task:
                created_by = phrase(N_("task %(task)s"), task=creator.get_name())
            elif self.current is not None:
                created_by = self.labels.label(self.current)
            else:
                thread = threading.current_thread().name
                created_by = phrase(N_("thread %(thread)s"), thread=thread)
            record = self.tasks.add(task, created_by)
            self.stats["tasks_created"] += 1
            self.tasks.refresh(record, task, self.labels.future)
            # The name is set by create_task() after the factory returns: announce it later.
            self._announce.append((record, first_step))
            self.behind = True

    def _flush_new_tasks(self) -> None:
        announce, self._announce = self._announce, []
        if not self.stream.active:
            return
        for record, entry in announce:
            self._emit("task", task=record.as_dict(ready=True))
            if entry is not None and entry.id in self.queues.ready:
                self._emit_entry("ready", entry)

    # -- exceptions and notes ----------------------------------------------------------------

    def unhandled(self, context: dict[str, Any]) -> None:
        """From the loop's exception handler: may run in any thread, even inside a finaliser,
        so it only queues; the record is written at the next hook or snapshot."""
        current = self.current
        if current is not None:
            where: str | None = self.labels.label(current)
        elif "handle" in context:  # our wrapper already returned: it saved the label
            where = self.exceptions.last_error_label
        else:
            where = None
        self.exceptions.queue_unhandled(context, where, self.clock())
        self.behind = True

    def handled(self, exc: BaseException, how: str) -> None:
        """Record an exception the program caught itself (called by the demos); ``how`` may be
        a Phrase."""
        with self.lock:
            if self.behind:
                self._sync()
            current = self.current
            task = asyncio.current_task() if current is not None else None
            record = self.exceptions.add(
                exc,
                handled=True,
                how=how,
                where=self.labels.label(current) if current is not None else None,
                task=task.get_name() if task is not None else None,
                at=self.clock(),
            )
            self._exception_added(record)

    def _exception_added(self, record: dict[str, Any]) -> None:
        self.stats["exceptions"] += 1
        if self.stream.active:
            self._emit("exception", exception=record)

    def note(self, text: str) -> None:
        """A line of narration from a demo ("waiter A woke up"); a Phrase goes with its message
        (``text_i18n``), for the page to translate."""
        with self.lock:
            if self.behind:
                self._sync()
            task = asyncio.current_task() if self.current is not None else None
            item = {
                "t": self.timebase.now(),
                "text": text,
                "task": task.get_name() if task is not None else None,
            }
            with_i18n(item, "text")
            self.notes.append(item)
            if self.stream.active:
                self._emit("note", **item)

    # -- the cheap view ----------------------------------------------------------------------

    def order(self, *, max_entries: int = 100) -> dict[str, Any]:
        """Just the ids, in order: the ready queue (first in first), the timers (due first) and
        the running callback. Cheap enough to send with every live frame, so a page that keeps
        its own copy from the events can check it against the loop (and never drift)."""
        with self.lock:
            queues = self.queues
            timers = heapq.nsmallest(
                max_entries, queues.timers.values(), key=lambda e: (e.when, e.id)
            )
            return {
                "seq": self.stream.seq,
                "now": self.timebase.now(),
                "ready": list(itertools.islice(queues.ready, max_entries)),
                "ready_total": len(queues.ready),
                "timers": [e.id for e in timers],
                "timers_total": len(queues.timers),
                "current": None if self.current is None else self.current.id,
            }
