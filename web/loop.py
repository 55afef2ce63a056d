"""The event-loop page: a real asyncio loop in this server, shown live, one callback at a time.

    GET    /loop                     the page
    GET    /api/loop                 the loop's snapshot, the controls, the demos, the consumer
    GET    /api/loop/demos           every demo: title, two-line explanation, source code
    GET    /api/loop/demos/{name}    one demo (and whether it is running)
    POST   /api/loop/demos/{name}    start it on the service loop; body {"params": {...}} optional
    DELETE /api/loop/demos/{name}    cancel its task (a callback itself: it waits while paused)
    POST   /api/loop/control         {"action": "run" | "pause" | "step" | "reset"}
                                     {"action": "slow", "seconds": 0.5}
    WS     /ws/loop                  a snapshot frame, then batches (~20 a second)

One :class:`ServiceLoop` per app (``app.extensions["queuelab.loop"]``, a :class:`LoopService`),
created the first time someone uses it, so apps that never open the page start no thread.
Call :func:`stop_loop` at shutdown. Demos get a :class:`DemoContext` around the app's broker.

The socket (JSON text frames from the server; the page says nothing)::

    {"type": "snapshot", "generation": g, "seq": n, "snapshot": ServiceLoop.snapshot(),
     "order": ..., "gate": ..., "running": ..., "runs": [...], "flow": [...], "orders": [r, u, c]}
    {"type": "batch", "generation": g, "seq": n, "events": [loop events with seq > the snapshot's],
     "order": {"ready": [ids], "timers": [ids], "current": id, ...}, "gate": {...},
     "running": {"line": {...}, "for": seconds} | null, "skipped": 0,
     "orders": [ready, unacked, consumers] | null, "runs": [...],
     "flow": [{"message": 7, "step": "delivered", ...}]}   # only when something happened

A snapshot frame may come again at any time (a new loop after "reset", events lost, a flood of
events): the page replaces its state with it. ``order`` lets the page check the ready queue and
timers it keeps from the events against the loop's own, every frame. ``flow`` follows the
messages of the consumer-service queue through the broker (published, delivered, acked …).

How it scales: one hub per app holds one subscription to the loop's events and one (filtered)
to the broker's; every tick it builds one frame, encodes it once, and appends it to the bounded
buffer of every socket. Each socket has one sender thread (its request's thread: simple-websocket
sends are not thread-safe). A socket whose buffer is full gets a fresh snapshot instead of the
frames it missed; a send blocked longer than LOOP_SEND_TIMEOUT cuts its connection. When one
tick holds more than LOOP_MAX_EVENTS events, the hub sends a snapshot (at most every
LOOP_SNAPSHOT_INTERVAL) instead of the events. Nothing here ever makes the loop wait.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import RequestEntityTooLarge

from broker import Broker
from eventloop import ServiceLoop
from eventloop.context import DemoContext
from eventloop.demos import Demo, DemoParamError, all_demos
from eventloop.gate import MAX_SLOW_MOTION
from web.security import STATE_CHANGING, cross_site_reason

log = logging.getLogger("queuelab.loop")

loop_pages = Blueprint("loop", __name__)
sock = Sock()

EXTENSION = "queuelab.loop"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
ACTIONS = ("run", "pause", "step", "slow", "reset")

DEFAULTS: dict[str, Any] = {
    "LOOP_TICK": 0.05,  # seconds between frames (20 Hz)
    "LOOP_CLIENT_FRAMES": 100,  # frames a socket may have waiting before it gets a snapshot
    "LOOP_MAX_EVENTS": 200,  # loop events in one tick above which a snapshot is sent instead
    "LOOP_SNAPSHOT_INTERVAL": 0.5,  # at most one such snapshot this often
    "LOOP_SEND_TIMEOUT": 5.0,  # seconds one send may block before the connection is cut
    "LOOP_KEEPALIVE": 1.0,  # a frame at least this often (the page's clock for countdowns)
    "LOOP_STEP_WAIT": 3.0,  # seconds a step request waits for its callback to finish
    "LOOP_FLOW_HISTORY": 100,  # consumer-queue message events sent with a snapshot
    "LOOP_HUB_BUFFER": 50_000,  # events the hub's subscriptions hold between ticks
    "LOOP_HEARTBEAT": 0.05,  # seconds between the loop's lag-measuring heartbeats
}

# Broker events that follow a message of the consumer-service queue.
FLOW_TYPES = (
    "published",
    "routed",
    "delivered",
    "acked",
    "nacked",
    "rejected",
    "requeued",
    "expired",
    "dropped",
    "dead-lettered",
)
BODY_PREVIEW = 200  # characters of a message body shown in the page's message log
MAX_FLOW_ITEMS = 200  # message events per frame (more in one tick: only the latest)

CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 1013
_CLOSE = object()
_SNAPSHOT = object()


def dumps(value: Any) -> str:
    """Compact JSON, ASCII-only (a lone surrogate in some text cannot break a frame)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=str)


# --- errors -----------------------------------------------------------------------------------


class LoopApiError(Exception):
    """An error answer: HTTP status, a snake_case name, the reason, and what to do next."""

    def __init__(self, status: int, error: str, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.hint = hint

    def response(self) -> Response:
        body = {"error": self.error, "reason": self.reason, "hint": self.hint}
        return _json(body, self.status)


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status, headers, mimetype="application/json")


def _bad(reason: str, hint: str = "") -> LoopApiError:
    return LoopApiError(400, "bad_request", reason, hint)


# --- one demo run -----------------------------------------------------------------------------


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
            out["result"] = str(self.future.result())[:500]
        elif isinstance(error, concurrent.futures.CancelledError):
            out["state"] = "cancelled"
        else:
            out["state"] = "failed"
            out["error"] = f"{type(error).__name__}: {error}"[:500]
        return out


# --- the app's loop ---------------------------------------------------------------------------


class LoopService:
    """The app's service loop (made on first use), the demos running on it, and the hub."""

    def __init__(self, broker: Broker, settings: dict[str, Any]) -> None:
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
        self.hub = LoopHub(self)

    # -- the ServiceLoop -----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once the service loop exists (tests check that nothing starts it early)."""
        return self._state[0] is not None

    def current(self) -> tuple[ServiceLoop | None, int]:
        """The loop now (None before first use) and its generation (1, 2 … after resets).
        Lock-free, so the hub may ask while holding its own lock."""
        return self._state

    def service(self) -> tuple[ServiceLoop, int]:
        """The loop, started now if this is the first use."""
        with self._lock:
            if self._closed:
                raise LoopApiError(
                    503,
                    "unavailable",
                    "the service loop has stopped: the server is shutting down",
                    "start QueueLab again",
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
                self.hub.loop_replaced()
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
        self.hub.clear_flow()  # a new loop: a fresh message log too
        return self.service()[1]

    def stop(self) -> None:
        """Close the sockets and stop the loop (at shutdown). Later use answers 503."""
        with self._lock:
            self._closed = True
            old, generation = self._state
            self._state = (None, generation)
        self.hub.shutdown()
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
        svc, _ = self.service()
        with self._lock:
            previous = self._runs.get(demo.name)
            if previous is not None and previous.running:
                raise LoopApiError(
                    409,
                    "conflict",
                    f"demo '{demo.name}' is already running",
                    f"wait for it to end, or stop it (DELETE /api/loop/demos/{demo.name})",
                )
            try:
                future = svc.submit(demo.coroutine(self.context, **params), name=demo.name)
            except RuntimeError:  # the loop stopped in between ("New loop" from another tab)
                raise LoopApiError(
                    409, "conflict", "the loop was being replaced", "start the demo again"
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
            raise LoopApiError(
                409,
                "conflict",
                f"demo '{name}' is not running",
                f"start it with POST /api/loop/demos/{name}",
            )
        svc, _ = self.service()
        svc.cancel(name)
        return run

    # -- what the page and the API read --------------------------------------------------------

    def orders_depth(self) -> list[int] | None:
        """[ready, unacked, consumers] of the consumer-service queue, or None if it does not
        exist. Read without the broker lock, like the live hub (len() and ints are atomic)."""
        state = self.broker.vhosts.get(self.context.vhost)
        queue = state.queues.get(self.context.queue) if state is not None else None
        if queue is None:
            return None
        return [len(queue.ready), queue.unacked, len(queue.consumers)]

    def live_state(self, svc: ServiceLoop) -> dict[str, Any]:
        """What every frame carries: the order of the queues, the gate, the running line."""
        recorder = svc.loop.recorder
        order = recorder.order()
        gate = svc.loop.gate
        mode = "stopped" if not svc.running else gate.mode
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
                "mode": mode,
                "slow_motion": gate.slow_motion,
                "steps": gate.steps_done,
                "waiting_at_gate": gate.waiting,
                "idle": gate.idle,
            },
            "running": running,
        }

    def snapshot_frame(self) -> tuple[str, int, int]:
        """A snapshot frame of the loop now: (JSON text, generation, seq)."""
        svc, generation = self.service()
        snapshot = svc.snapshot()
        frame = {
            "type": "snapshot",
            "generation": generation,
            "seq": snapshot["seq"],
            "snapshot": snapshot,
            **self.live_state(svc),
            "runs": self.runs(),
            "flow": self.hub.flow_history(),
            "orders": self.orders_depth(),
            "queue": self.context.queue,
        }
        return dumps(frame), generation, snapshot["seq"]

    def api_state(self) -> dict[str, Any]:
        svc, generation = self.service()
        runs = {run["name"]: run for run in self.runs()}
        return {
            "generation": generation,
            "snapshot": svc.snapshot(),
            "controls": {
                "actions": list(ACTIONS),
                "slow_motion_max": MAX_SLOW_MOTION,
                **self.live_state(svc)["gate"],
            },
            "demos": [{**demo.as_dict(), "run": runs.get(name)} for name, demo in _demos()],
            "consumer": {"queue": self.context.queue, "depth": self.orders_depth()},
            "socket": "/ws/loop",
        }


def _demos() -> list[tuple[str, Demo]]:
    return list(all_demos().items())


# --- the live hub -----------------------------------------------------------------------------


class Tick:
    """One frame, shared by every socket: encoded once (and again only when cut for a socket
    whose snapshot is newer than some of its events)."""

    __slots__ = ("frame", "text", "generation", "snapshot")

    def __init__(self, frame: dict[str, Any], snapshot: bool = False) -> None:
        self.frame = frame
        self.text = dumps(frame)
        self.generation = frame["generation"]
        self.snapshot = snapshot

    def text_after(self, seq: int) -> str | None:
        events = self.frame.get("events") or []
        if not events or events[0]["seq"] > seq:
            return self.text
        kept = [e for e in events if e["seq"] > seq]
        return dumps({**self.frame, "events": kept})


class LoopClient:
    """One socket: its bounded buffer of frames and the state of its sender."""

    def __init__(self, ws: Any, max_frames: int) -> None:
        self.ws = ws
        self.max_frames = max_frames
        self.generation = 0
        self.snapshot_seq = 0
        self.needs_snapshot = False
        self.closing: tuple[int, str] | None = None
        self.send_started: float | None = None
        self._frames: deque[Tick] = deque()
        self._cond = threading.Condition(threading.Lock())

    def offer(self, tick: Tick) -> None:
        """Called by the hub; never waits for the socket."""
        with self._cond:
            if self.closing is not None:
                return
            if tick.snapshot:
                self._frames.clear()
                self.needs_snapshot = False
                self._frames.append(tick)
            elif len(self._frames) >= self.max_frames:
                self._frames.clear()  # too far behind: a fresh snapshot replaces them all
                self.needs_snapshot = True
            elif not self.needs_snapshot:
                self._frames.append(tick)
            self._cond.notify()

    def close(self, code: int, reason: str) -> None:
        with self._cond:
            if self.closing is None:
                self.closing = (code, reason)
            self._cond.notify()

    def next(self, timeout: float) -> Any:
        """A Tick, _SNAPSHOT (build one), _CLOSE, or None after `timeout`."""
        with self._cond:
            if not self._frames and self.closing is None and not self.needs_snapshot:
                self._cond.wait(timeout)
            if self.closing is not None:
                return _CLOSE
            if self.needs_snapshot:
                self.needs_snapshot = False
                return _SNAPSHOT
            return self._frames.popleft() if self._frames else None

    def send(self, text: str) -> None:
        self.send_started = time.monotonic()
        try:
            self.ws.send(text)
        finally:
            self.send_started = None

    def cut(self) -> None:
        self.close(CLOSE_TOO_SLOW, "send timed out")
        with contextlib.suppress(OSError, AttributeError):
            self.ws.sock.shutdown(socket.SHUT_RDWR)


class LoopHub:
    """The sockets watching the loop, and the thread that feeds them while there are any."""

    def __init__(self, service: LoopService) -> None:
        self.service = service
        self.settings = service.settings
        self._lock = threading.RLock()
        self._clients: set[LoopClient] = set()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closed = False
        self._loop_sub: Any = None
        self._broker_sub: Any = None
        self._generation = 0
        self._snapshot_due = False
        self._last_snapshot = 0.0
        self._last_frame = 0.0
        self._last_depth: list[int] | None = None
        self._runs_version = -1
        self._flow: deque[dict[str, Any]] = deque(maxlen=self.settings["LOOP_FLOW_HISTORY"])

    # -- sockets coming and going --------------------------------------------------------------

    def attach(self, client: LoopClient) -> bool:
        """Start feeding a socket: subscribe first (so its snapshot, taken after, fits)."""
        self.service.service()  # first use starts the loop (and calls loop_replaced)
        with self._lock:
            if self._closed:
                return False
            self._clients.add(client)
            if self._thread is None:
                self._subscribe()
                self._stopping = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stopping,), name="queuelab-loop-hub", daemon=True
                )
                self._thread.start()
            return True

    def detach(self, client: LoopClient) -> None:
        with self._lock:
            self._clients.discard(client)
            if self._clients or self._thread is None:
                return
            self._stopping.set()
            self._thread = None
            self._unsubscribe()

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    def loop_replaced(self) -> None:
        """A new ServiceLoop (first use, or reset): follow it and send everyone a snapshot."""
        with self._lock:
            if self._thread is not None:
                self._subscribe(replaced=True)

    def _subscribe(self, *, replaced: bool = False) -> None:
        """Follow the current loop (and the broker). Each new socket takes its own snapshot
        after this; only a loop replaced under running sockets needs a snapshot for all."""
        self._unsubscribe()
        svc, generation = self.service.current()
        maxlen = self.settings["LOOP_HUB_BUFFER"]
        if svc is not None:
            self._loop_sub = svc.subscribe(maxlen=maxlen)
        self._broker_sub = self.service.broker.events.subscribe(maxlen=maxlen, types=FLOW_TYPES)
        self._generation = generation
        self._snapshot_due = replaced

    def _unsubscribe(self) -> None:
        for sub in (self._loop_sub, self._broker_sub):
            if sub is not None:
                sub.close()
        self._loop_sub = self._broker_sub = None

    def shutdown(self, timeout: float = 2.0) -> None:
        """Close every socket with 1001 (going away) and stop the thread."""
        with self._lock:
            self._closed = True
            clients = list(self._clients)
        for client in clients:
            client.close(CLOSE_GOING_AWAY, "server shutting down")
        deadline = time.monotonic() + timeout
        while self.client_count and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            for client in self._clients:
                client.cut()
            self._stopping.set()
            self._thread = None
            self._unsubscribe()

    def clear_flow(self) -> None:
        with self._lock:
            self._flow.clear()

    def flow_history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._flow)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self, stopping: threading.Event) -> None:
        interval = self.settings["LOOP_TICK"]
        next_tick = time.monotonic()
        while True:
            next_tick += interval
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick, delay = time.monotonic(), 0
            if stopping.wait(delay):
                return
            try:
                self.tick(stopping)
            except Exception:
                log.exception("loop page tick failed")

    def tick(self, stopping: threading.Event | None = None) -> None:
        """Drain both subscriptions and hand one frame to every socket."""
        with self._lock:
            if stopping is not None and stopping.is_set():
                return
            clients = list(self._clients)
            loop_sub, broker_sub, generation = self._loop_sub, self._broker_sub, self._generation
            svc, current_generation = self.service.current()
            if svc is None or current_generation != generation or loop_sub is None:
                return  # a reset is between stopping the old loop and starting the new one
        now = time.monotonic()
        self._watchdog(clients, now)
        batch = loop_sub.get(timeout=0)
        flow = self._flow_items(broker_sub.get(timeout=0)) if broker_sub is not None else []
        events, missed = batch.events, batch.missed
        settings = self.settings
        skipped = 0
        if missed or len(events) > settings["LOOP_MAX_EVENTS"]:
            skipped = len(events) + missed
            events = []
            self._snapshot_due = True
        if self._snapshot_due and (
            now - self._last_snapshot >= settings["LOOP_SNAPSHOT_INTERVAL"] or not skipped
        ):
            self._snapshot_due = False
            self._last_snapshot = self._last_frame = now
            self._offer(clients, self._snapshot_tick(svc, generation))
            return
        # Every frame carries the whole of the small state (queue depth, demo runs, gate,
        # order), not just changes: a socket that took its own snapshot between two ticks may
        # get a frame built just before it, and the next frame puts that right.
        depth = self.service.orders_depth()
        runs_version = self.service.runs_version
        live = self.service.live_state(svc)
        frame: dict[str, Any] = {
            "type": "batch",
            "generation": generation,
            "seq": live["order"]["seq"],
            "events": events,
            "skipped": skipped,
            **live,
            "orders": depth,
            "runs": self.service.runs(),
        }
        changed = bool(events or flow or skipped or live["running"])
        if flow:
            frame["flow"] = flow
        if depth != self._last_depth or runs_version != self._runs_version:
            self._last_depth, self._runs_version = depth, runs_version
            changed = True
        if not changed and now - self._last_frame < settings["LOOP_KEEPALIVE"]:
            return
        self._last_frame = now
        self._offer(clients, Tick(frame))

    def _snapshot_tick(self, svc: ServiceLoop, generation: int) -> Tick:
        snapshot = svc.snapshot()
        self._last_depth = self.service.orders_depth()
        self._runs_version = self.service.runs_version
        frame = {
            "type": "snapshot",
            "generation": generation,
            "seq": snapshot["seq"],
            "snapshot": snapshot,
            **self.service.live_state(svc),
            "runs": self.service.runs(),
            "flow": self.flow_history(),
            "orders": self._last_depth,
            "queue": self.service.context.queue,
        }
        return Tick(frame, snapshot=True)

    def _offer(self, clients: list[LoopClient], tick: Tick) -> None:
        for client in clients:
            client.offer(tick)

    def _watchdog(self, clients: list[LoopClient], now: float) -> None:
        limit = self.settings["LOOP_SEND_TIMEOUT"]
        for client in clients:
            started = client.send_started
            if started is not None and now - started > limit:
                client.cut()

    def _flow_items(self, events: list[Any]) -> list[dict[str, Any]]:
        """The broker events of the consumer-service queue, as the page's message log needs."""
        vhost, queue = self.service.context.vhost, self.service.context.queue
        svc, _ = self.service.current()
        # Broker events carry wall time; the page places them among the loop's events.
        started_wall = svc.loop.recorder.started_wall if svc is not None else 0.0
        bodies: dict[int, str] = {}
        items: list[dict[str, Any]] = []
        for event in events:
            data = event.data
            if data.get("vhost") != vhost:
                continue
            message_id = data.get("message_id")
            if event.type == "published":
                message = data.get("message")
                body = getattr(message, "body", b"")
                bodies[message_id] = body[:BODY_PREVIEW].decode("utf-8", "replace")
                continue
            if event.type == "routed":
                if queue not in (data.get("queues") or ()):
                    continue
                step, extra = "published", {"body": bodies.get(message_id, "")}
            elif data.get("queue") != queue:
                continue
            else:
                step = event.type
                extra = {}
                if event.type == "delivered":
                    extra = {"redelivered": bool(data.get("redelivered"))}
                elif event.type in ("nacked", "rejected"):
                    extra = {"requeue": bool(data.get("requeue"))}
                elif event.type == "dropped":
                    extra = {"reason": str(data.get("reason", ""))}
            t = round(event.time - started_wall, 6)
            items.append({"message": message_id, "step": step, "time": event.time, "t": t, **extra})
        if len(items) > MAX_FLOW_ITEMS:  # a flood: the page shows the latest ones
            items = items[-MAX_FLOW_ITEMS:]
        if items:
            with self._lock:
                self._flow.extend(items)
        return items


# --- HTTP -------------------------------------------------------------------------------------


def _service() -> LoopService:
    return current_app.extensions[EXTENSION]


def _endpoint(methods: tuple[str, ...]) -> Callable[[Callable[..., Response]], Callable[..., Any]]:
    """JSON errors for everything (never an HTML 500), and 405 for the other methods."""

    def decorate(handler: Callable[..., Response]) -> Callable[..., Any]:
        @wraps(handler)
        def wrapper(**kwargs: Any) -> Response:
            try:
                method = "GET" if request.method == "HEAD" else request.method
                if method not in methods:
                    allowed = ", ".join(methods)
                    error = LoopApiError(
                        405,
                        "method_not_allowed",
                        f"{request.method} is not allowed here; use {allowed}",
                    )
                    response = error.response()
                    response.headers["Allow"] = allowed
                    return response
                return handler(**kwargs)
            except LoopApiError as error:
                return error.response()
            except RequestEntityTooLarge:
                return LoopApiError(413, "too_large", "the request body is too large").response()
            except Exception:
                log.exception("loop API request failed: %s %s", request.method, request.path)
                return LoopApiError(
                    500, "internal_error", "an unexpected error; it is logged", "please report it"
                ).response()

        return wrapper

    return decorate


def _json_body(required: bool) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise _bad(
                "the request needs a JSON body",
                'for example {"action": "step"} with Content-Type: application/json',
            )
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _bad(
            "the body is not valid JSON", 'send an object such as {"action": "run"}'
        ) from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object", 'for example {"action": "run"}')
    return body


def _demo(name: str) -> Demo:
    demo = all_demos().get(name)
    if demo is None:
        names = ", ".join(all_demos())
        raise LoopApiError(
            404, "not_found", f"no demo named '{name[:100]}'", f"the demos are: {names}"
        )
    return demo


@loop_pages.before_request
def _refuse_cross_site() -> Any:
    websocket = request.path == "/ws/loop"
    if request.method in STATE_CHANGING or websocket:
        reason = cross_site_reason(request)
        if reason:
            return LoopApiError(
                403,
                "forbidden",
                f"cross-site request refused: {reason}",
                "use QueueLab's own pages, or a script or curl (which send no Origin)",
            ).response()
    if websocket:
        # permessage-deflate would cost zlib time per socket per frame; frames are small.
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return None


@loop_pages.get("/loop")
def page() -> str | Response:
    """The event-loop page (the live state comes over /ws/loop)."""
    service = _service()
    try:
        service.service()
    except LoopApiError as error:
        return error.response()
    demos = [demo.as_dict() for _, demo in _demos()]
    return render_template("loop.html", demos=demos, queue=service.context.queue)


@loop_pages.route("/api/loop", methods=ALL_METHODS)
@_endpoint(("GET",))
def loop_state() -> Response:
    return _json(_service().api_state())


@loop_pages.route("/api/loop/demos", methods=ALL_METHODS)
@_endpoint(("GET",))
def demo_list() -> Response:
    runs = {run["name"]: run for run in _service().runs()}
    return _json([{**demo.as_dict(), "run": runs.get(name)} for name, demo in _demos()])


@loop_pages.route("/api/loop/demos/<name>", methods=ALL_METHODS)
@_endpoint(("GET", "POST", "DELETE"))
def demo_item(name: str) -> Response:
    demo = _demo(name)
    service = _service()
    if request.method in ("GET", "HEAD"):
        run = service.run_of(name)
        return _json({**demo.as_dict(), "run": run.status() if run else None})
    if request.method == "DELETE":
        run = service.stop_demo(name)
        return _json({"cancelling": name, "run": run.status(), **_paused_hint(service)}, 202)
    body = _json_body(required=False)
    unknown = sorted(set(body) - {"params"})
    if unknown:
        raise _bad(f"unknown field '{unknown[0][:100]}'", 'the body may hold only "params"')
    params = body.get("params", {})
    if not isinstance(params, dict):
        raise _bad('"params" must be an object', f"this demo takes: {_defaults(demo)}")
    try:
        checked = demo.check_params(params)
    except DemoParamError as error:
        raise _bad(str(error), f"this demo takes: {_defaults(demo)}") from None
    run = service.start_demo(demo, checked)
    return _json({"started": name, "task": name, "run": run.status(), **_paused_hint(service)}, 202)


def _defaults(demo: Demo) -> str:
    return ", ".join(f"{key}={value}" for key, value in demo.params.items()) or "no parameters"


def _paused_hint(service: LoopService) -> dict[str, str]:
    svc, _ = service.service()
    if svc.loop.gate.mode == "paused":
        return {"hint": "the loop is paused: press Step (or Run) to let it happen"}
    return {}


@loop_pages.route("/api/loop/control", methods=ALL_METHODS)
@_endpoint(("POST",))
def control() -> Response:
    body = _json_body(required=True)
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise _bad(
            f"unknown action {action!r}"[:150] if action is not None else 'missing "action"',
            f"use one of: {', '.join(ACTIONS)}",
        )
    service = _service()
    svc, _ = service.service()
    out: dict[str, Any] = {"action": action}
    if action == "run":
        svc.run()
    elif action == "pause":
        svc.pause()
    elif action == "slow":
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise _bad('"slow" needs "seconds": a number', f"from 0 to {MAX_SLOW_MOTION:g}")
        if not 0 <= seconds <= MAX_SLOW_MOTION:
            raise _bad(
                f"slow motion must be from 0 to {MAX_SLOW_MOTION:g} seconds, not {seconds}",
                "0 turns slow motion off",
            )
        svc.set_slow_motion(float(seconds))
    elif action == "reset":
        out["generation"] = service.reset()
        svc, _ = service.service()
    else:
        out.update(_step(service, svc))
    out["control"] = service.live_state(svc)["gate"]
    return _json(out)


def _step(service: LoopService, svc: ServiceLoop) -> dict[str, Any]:
    """One callback. Answers at once when there is nothing to run; otherwise waits (up to
    LOOP_STEP_WAIT, or until the next timer is due) for the callback to finish."""
    snapshot = svc.snapshot(max_entries=1)
    wait = service.settings["LOOP_STEP_WAIT"]
    if not snapshot["ready_total"] and snapshot["current"] is None:
        if not snapshot["timers_total"]:
            svc.pause()
            return {
                "ran": None,
                "message": "nothing to run: the ready queue is empty and no timer is set "
                "(start a demo, then step)",
            }
        due = max(0.0, snapshot["timers"][0]["due_in"])
        wait = min(wait + due, max(wait, due + 0.5))
    label = svc.step(timeout=wait)
    if label is None:
        return {
            "ran": None,
            "message": f"no callback finished within {wait:.1f} s: a callback may be blocking "
            "the loop, or the next timer is not due yet",
        }
    return {"ran": label, "message": f"ran: {label}"}


# --- the socket -------------------------------------------------------------------------------


@sock.route("/ws/loop", bp=loop_pages)
def loop_socket(ws: Any) -> None:
    """A snapshot, then batches, until the page goes or the socket must close."""
    service = _service()
    client = LoopClient(ws, service.settings["LOOP_CLIENT_FRAMES"])
    try:
        attached = service.hub.attach(client)
    except LoopApiError as error:
        ws.send(dumps({"type": "error", "error": error.error, "reason": error.reason}))
        ws.close(CLOSE_GOING_AWAY, "server shutting down")
        return
    if not attached:
        ws.close(CLOSE_GOING_AWAY, "server shutting down")
        return
    try:
        _serve(service, client)
    except (ConnectionClosed, OSError, LoopApiError):
        pass
    finally:
        service.hub.detach(client)


def _send_snapshot(service: LoopService, client: LoopClient) -> None:
    text, generation, seq = service.snapshot_frame()
    client.generation, client.snapshot_seq = generation, seq
    client.send(text)


def _serve(service: LoopService, client: LoopClient) -> None:
    ws = client.ws
    _send_snapshot(service, client)
    while True:
        item = client.next(timeout=0.5)
        if item is _CLOSE:
            code, reason = client.closing or (1000, "")
            if ws.connected:
                ws.close(code, reason)
            return
        if not ws.connected:
            return
        while ws.input_buffer:  # the page has nothing to say; do not let it pile up
            ws.input_buffer.pop(0)
        if item is None:
            continue
        if item is _SNAPSHOT:
            _send_snapshot(service, client)
            continue
        if item.snapshot:
            client.generation = item.generation
            client.snapshot_seq = item.frame["seq"]
            client.send(item.text)
            continue
        if item.generation != client.generation:
            continue  # from before a reset: the snapshot of the new loop is on its way
        text = item.text_after(client.snapshot_seq)
        if text is not None:
            client.send(text)


# --- for the app ------------------------------------------------------------------------------


def init_loop(app: Flask) -> LoopService:
    """Register the page, API and socket; the loop itself starts on first use."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    settings = {key: app.config[key] for key in DEFAULTS}
    service = LoopService(app.config["BROKER"], settings)
    app.extensions[EXTENSION] = service
    app.register_blueprint(loop_pages)
    return service


def stop_loop(app: Flask) -> None:
    """Close the page's sockets and stop the service loop (call at shutdown; idempotent)."""
    service = app.extensions.get(EXTENSION)
    if service is not None:
        service.stop()
