"""The app's one event loop for the event-loop page, and the demos running on it.

`LoopKeeper` keeps the app's `ServiceLoop` (eventloop/): it starts it the first time someone
uses the page (so apps that never open it start no thread), replaces it on "reset" (a new
*generation*), and stops it at shutdown (later use answers 503). It also keeps the demo runs
started on the loop, and says what the page shows of the loop now (`live_state`).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from broker import Broker
from broker.translatable import Phrase
from eventloop import ServiceLoop
from eventloop.context import DemoContext
from eventloop.demos import Demo, all_demos
from eventloop.gate import MAX_SLOW_MOTION
from web.toolkit import ApiError

ACTIONS = ("run", "pause", "step", "slow", "reset")


class DemoRun:
    """A demo started on the service loop: its task's future and how it ended."""

    def __init__(self, demo: Demo, future: concurrent.futures.Future[Any], params: dict) -> None:
        self.demo = demo
        self.future = future
        self.params = params
        self.started = time.time()
        self.finished: float | None = None

    @property
    def running(self) -> bool:
        return not self.future.done()

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.demo.name,
            "state": "running",
            "params": self.params,
            "started": self.started,
            "finished": self.finished,
            "result": None,
            "error": None,
        }
        if not self.future.done():
            return out
        if self.future.cancelled():
            out["state"] = "cancelled"
            return out
        error = self.future.exception()
        if error is None:
            out["state"] = "done"
            result = self.future.result()
            out["result"] = str(result)[:500]
            if isinstance(result, Phrase):  # a demo's result the page can translate
                out["result_i18n"] = result.message
        elif isinstance(error, concurrent.futures.CancelledError):
            out["state"] = "cancelled"
        else:
            out["state"] = "failed"
            out["error"] = f"{type(error).__name__}: {error}"[:500]
        return out


def demo_list(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every demo as the page and the API describe it, with its run (or None)."""
    by_name = {run["name"]: run for run in runs}
    return [{**demo.as_dict(), "run": by_name.get(name)} for name, demo in all_demos().items()]


class LoopKeeper:
    """The app's service loop (made on first use, replaced by reset) and the demos on it."""

    def __init__(self, broker: Broker, settings: Mapping[str, Any]) -> None:
        self.broker = broker
        self.settings = settings
        self.context = DemoContext(broker)
        self._lock = threading.RLock()
        # (loop, generation), replaced as a whole: read without the lock (see current()).
        self._state: tuple[ServiceLoop | None, int] = (None, 0)
        self._closed = False
        self._runs: dict[str, DemoRun] = {}
        self.runs_version = 0
        self.demo_files = frozenset(demo.filename for demo in all_demos().values())

    # -- the ServiceLoop -----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once the service loop exists (tests check that nothing starts it early)."""
        return self._state[0] is not None

    def current(self) -> tuple[ServiceLoop | None, int]:
        """The loop now (None before first use) and its generation (1, 2 … after resets).
        Lock-free, so a hub may ask while holding its own lock."""
        return self._state

    def loop(self) -> tuple[ServiceLoop, int]:
        """The loop and its generation, started now if this is the first use."""
        with self._lock:
            if self._closed:
                raise ApiError(
                    503,
                    "unavailable",
                    gettext("the service loop has stopped: the server is shutting down"),
                    gettext("start QueueLab again"),
                )
            svc, generation = self._state
            if svc is None:
                svc = ServiceLoop(
                    name="service loop",
                    heartbeat=self.settings["LOOP_HEARTBEAT"],
                    log_unhandled=False,
                ).start()
                generation += 1
                self._state = (svc, generation)
            return svc, generation

    def reset(self) -> int:
        """Stop the loop (cancelling every task) and start a fresh one; the new generation."""
        with self._lock:
            old, generation = self._state
            self._state = (None, generation)
            self._runs.clear()
            self.runs_version += 1
        if old is not None:
            old.stop(timeout=5)
        return self.loop()[1]

    def stop(self) -> None:
        """Stop the loop (at shutdown). Later use answers 503."""
        with self._lock:
            self._closed = True
            old, generation = self._state
            self._state = (None, generation)
        if old is not None:
            old.stop(timeout=5)

    # -- demos ---------------------------------------------------------------------------------

    def runs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [run.status() for run in self._runs.values()]

    def run_of(self, name: str) -> DemoRun | None:
        with self._lock:
            return self._runs.get(name)

    def start_demo(self, demo: Demo, params: dict[str, Any]) -> DemoRun:
        svc, _ = self.loop()
        with self._lock:
            previous = self._runs.get(demo.name)
            if previous is not None and previous.running:
                raise ApiError(
                    409,
                    "conflict",
                    gettext("demo '%(demo)s' is already running", demo=demo.name),
                    gettext(
                        "wait for it to end, or stop it (DELETE /api/loop/demos/%(demo)s)",
                        demo=demo.name,
                    ),
                )
            try:
                future = svc.submit(demo.coroutine(self.context, **params), name=demo.name)
            except RuntimeError:  # the loop stopped in between ("New loop" from another tab)
                raise ApiError(
                    409,
                    "conflict",
                    gettext("the loop was being replaced"),
                    gettext("start the demo again"),
                ) from None
            run = DemoRun(demo, future, params)
            self._runs.pop(demo.name, None)  # (re-)insert last: runs are listed in start order
            self._runs[demo.name] = run
            self.runs_version += 1
        future.add_done_callback(lambda _f: self._finished(run))
        return run

    def _finished(self, run: DemoRun) -> None:
        with self._lock:
            run.finished = time.time()
            self.runs_version += 1

    def stop_demo(self, name: str) -> DemoRun:
        run = self.run_of(name)
        if run is None or not run.running:
            raise ApiError(
                409,
                "conflict",
                gettext("demo '%(demo)s' is not running", demo=name),
                gettext("start it with POST /api/loop/demos/%(demo)s", demo=name),
            )
        svc, _ = self.loop()
        svc.cancel(name)
        return run

    # -- what the page and the API read --------------------------------------------------------

    def orders_depth(self) -> list[int] | None:
        """[ready, unacked, consumers] of the consumer-service queue, or None if it does not
        exist (read at one instant under the broker lock, like the broker pages' depths)."""
        depth = self.broker.queue_depths(self.context.vhost).get(self.context.queue)
        return list(depth) if depth is not None else None

    def live_state(self, svc: ServiceLoop) -> dict[str, Any]:
        """What every frame carries: the order of the queues, the gate, the running line."""
        recorder = svc.loop.recorder
        order = recorder.order()
        gate = svc.loop.gate
        running = None
        if order["current"] is not None:
            started = recorder.current_started
            running = {
                "line": svc.running_line(self.demo_files),
                "for": round(recorder.clock() - started, 4) if started else 0,
            }
        return {
            "order": order,
            "gate": {
                "mode": "stopped" if not svc.running else gate.mode,
                "slow_motion": gate.slow_motion,
                "steps": gate.steps_done,
                "waiting_at_gate": gate.waiting,
                "idle": gate.idle,
            },
            "running": running,
        }

    def api_state(self) -> dict[str, Any]:
        """GET /api/loop: the loop's snapshot, the controls, the demos, the consumer."""
        svc, generation = self.loop()
        return {
            "generation": generation,
            "snapshot": svc.snapshot(),
            "controls": {
                "actions": list(ACTIONS),
                "slow_motion_max": MAX_SLOW_MOTION,
                **self.live_state(svc)["gate"],
            },
            "demos": demo_list(self.runs()),
            "consumer": {"queue": self.context.queue, "depth": self.orders_depth()},
            "socket": "/ws/loop",
        }
