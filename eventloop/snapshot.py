"""The snapshot: everything the event-loop page draws, as plain JSON-able data.

Taken under the recorder's lock, so it is consistent: the ready queue, the timers, the running
callback, the tasks, the exception log, lag and notes all describe the same instant, and
``seq`` says which events it already contains (subscribe first, then take a snapshot).
"""

from __future__ import annotations

import itertools
from typing import Any

from .recorder import LoopRecorder
from .timebase import micro


def take_snapshot(recorder: LoopRecorder, *, max_entries: int = 100) -> dict[str, Any]:
    """The recorder's whole picture; at most ``max_entries`` ready callbacks and timers (the
    totals count them all)."""
    with recorder.lock:
        recorder.catch_up()
        now = recorder.clock()
        queues, labels, gate = recorder.queues, recorder.labels, recorder.gate
        ready_tasks = {recorder.tasks.id_of(e.task) for e in queues.ready.values() if e.task}
        timers = sorted(queues.timers.values(), key=lambda e: (e.when, e.id))
        return {
            "seq": recorder.stream.seq,
            "now": recorder.timebase.rel(now),
            "started_wall": recorder.started_wall,
            "control": {
                "mode": gate.mode,
                "slow_motion": gate.slow_motion,
                "steps": gate.steps_done,
                "waiting_at_gate": gate.waiting,
                "idle": gate.idle,
            },
            "current": _current(recorder, now),
            "ready": [
                {**labels.entry_dict(e), "at_gate": e.at_gate}
                for e in itertools.islice(queues.ready.values(), max_entries)
            ],
            "ready_total": len(queues.ready),
            "timers": [
                {**labels.entry_dict(e), "due_in": micro(e.when - now)}
                for e in timers[:max_entries]
            ],
            "timers_total": len(timers),
            "tasks": [
                record.as_dict(ready=record.id in ready_tasks)
                for record in recorder.tasks.records()
            ],
            "exceptions": list(recorder.exceptions.records),
            "lag": lag_summary(list(recorder.lag)),
            "notes": list(recorder.notes),
            "stats": dict(recorder.stats),
        }


def _current(recorder: LoopRecorder, now: float) -> dict[str, Any] | None:
    current = recorder.current
    if current is None:
        return None
    return {
        **recorder.labels.entry_dict(current),
        "started": recorder.timebase.rel(recorder.current_started),
        "running_for": micro(now - recorder.current_started),
    }


def lag_summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The last and the worst lag among ``samples``, and the samples themselves."""
    lags = [s["lag"] for s in samples]
    return {
        "last": lags[-1] if lags else None,
        "max": max(lags) if lags else None,
        "samples": samples,
    }
