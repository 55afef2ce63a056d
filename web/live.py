"""The live websocket: one socket per page view, carrying the broker's events in batches.

Protocol (`/ws/live?vhost=%2F`), JSON text frames from the server:

    {"type": "snapshot", "snapshot": broker.snapshot(vhost), "simulations": [...],
     "events": [the last <= 200 events of the vhost, up to snapshot.seq]}
    {"type": "batch", "seq": N, "events": [...], "missed": 0, "sampled": 1,
     "totals": {...}, "rates": {...}, "queues": {"name": [ready, unacked, consumers]},
     "simulations": [...]   # only when some simulation changed}
    {"type": "error", "error": "not_found", "reason": "..."}   # then the socket closes

A snapshot frame comes first, and may come again at any time (after events were lost): the page
replaces its state with it. Batches follow at most every LIVE_TICK seconds (50 ms), and only
when something happened; every event in them has `seq` > the snapshot's `seq`.

How it scales. One hub per app holds ONE subscription to the broker's event stream. Every tick it
drains what arrived, groups it by vhost, samples it when the rate is high (more than
LIVE_SAMPLE_ABOVE events: about LIVE_SAMPLE_TARGET message-flow events are kept, chosen by
message id so a kept message keeps its whole story, and every entity event is kept), encodes
each vhost's frame to JSON and to a websocket frame once, and writes those bytes to every socket
watching the vhost. So the broker fans events out to one reader, not to a classroom of tabs, and
a frame is encoded once per tick, not once per socket.

Who writes. A socket's request thread sends its snapshot; from then on the hub's one thread
writes its frames, never blocking (send with MSG_DONTWAIT; what the socket does not take waits
in the socket's own buffer, up to LIVE_CLIENT_BUFFER bytes, and is written as soon as it can
be). Only one thread writes to a socket at a time (simple-websocket's send is not thread-safe).
One writer instead of a sender thread per socket, because with 100 sender threads the GIL
hand-offs (each send drops and retakes it) starved the broker and the hub: at 5,000 msgs/s the
broker lost a third of its throughput and pages fell seconds behind (bench/live_fanout.py).

Slow sockets. One whose buffer overflows is closed with close code 1013 ("try again later"),
once the frame being written is finished: the page reconnects and gets a fresh snapshot. One
that takes nothing for LIVE_SEND_TIMEOUT seconds (a peer that stopped reading) has its TCP
connection cut. Nothing here ever makes the broker or another socket wait.

Frames go out uncompressed: the permessage-deflate offer is declined, since the hub writes the
same bytes to every socket and deflate keeps a compressor per socket.
"""

from __future__ import annotations

import contextlib
import logging
import math
import selectors
import socket
import threading
import time
import weakref
from collections import deque
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from broker import Broker
from broker.events import Event, Subscription
from simulation import Simulations
from web.security import cross_site_reason
from web.serialize import FLOW_EVENTS, dumps, event_dict, json_safe

log = logging.getLogger("queuelab.live")

live = Blueprint("live", __name__)
sock = Sock()

DEFAULTS: dict[str, Any] = {
    "LIVE_TICK": 0.05,  # seconds between batches (20 Hz)
    "LIVE_SAMPLE_ABOVE": 300,  # events in one tick above which message-flow events are sampled
    "LIVE_SAMPLE_TARGET": 100,  # about how many message-flow events a sampled batch keeps
    "LIVE_CLIENT_BUFFER": 4_000_000,  # bytes a socket may have waiting before it is closed
    "LIVE_SEND_TIMEOUT": 5.0,  # seconds one send may block before the connection is cut
    "LIVE_HISTORY": 200,  # events sent with the snapshot
    # Bytes of a message body shown in a `published` event; at most HISTORY_BODY_BYTES (2048),
    # all the broker's event history keeps of a body.
    "LIVE_BODY_LIMIT": 128,
    # Which events carry their routing `trace` (why each binding did or did not match):
    # "unroutable" (the default), "all" or "none"; GET /api/messages/{id}/history always has it.
    # Never in a sampled batch.
    "LIVE_TRACE": "unroutable",
    "LIVE_HUB_BUFFER": 200_000,  # events the hub's own subscription holds between ticks
    "LIVE_RESYNC_INTERVAL": 2.0,  # at most one fresh snapshot per socket this often
}

CLOSE_TOO_SLOW = 1013  # "try again later": the page reconnects and gets a fresh snapshot
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_POLICY = 1008  # e.g. a vhost that does not exist

_HUBS: weakref.WeakSet[LiveHub] = weakref.WeakSet()


def text_frame(payload: bytes) -> bytes:
    """A websocket text frame as a server sends it (unmasked, unfragmented, no extension)."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class Tick:
    """One tick's frame for one vhost, encoded once and shared by every socket that watches
    it. `frame["seq"]` is the broker's event number when the frame was built: its totals and
    queue depths are at least that recent."""

    __slots__ = ("frame", "data", "resync")

    def __init__(self, frame: dict[str, Any], resync: bool) -> None:
        self.frame = frame
        self.data = text_frame(dumps(frame).encode())
        self.resync = resync

    def data_after(self, seq: int) -> bytes | None:
        """The frame for a socket whose snapshot is at `seq` (None: nothing new for it).
        A frame built before that snapshot holds nothing the snapshot lacks."""
        if self.frame["seq"] <= seq:
            return None
        events = self.frame["events"]
        if not events or events[0]["seq"] > seq:
            return self.data
        later = [e for e in events if e["seq"] > seq]
        return text_frame(dumps({**self.frame, "events": later}).encode())


class LiveClient:
    """One socket, in three states.

    `starting`: its request thread sends the snapshot; frames for it wait in a short list.
    `live`: the hub's thread writes frames to it without ever blocking (MSG_DONTWAIT), and keeps
    what the socket did not take in `out` (bounded by LIVE_CLIENT_BUFFER bytes).
    `closing`: no new frames; once `out` is written, the request thread sends the close frame.
    Only one thread writes data to the socket at a time (simple-websocket's send is not
    thread-safe); the per-client lock guards the hand-overs.
    """

    MAX_QUEUED = 100  # frames that may wait while the snapshot is being sent

    def __init__(self, ws: Any, vhost: str, max_bytes: int) -> None:
        self.ws = ws
        self.sock: socket.socket = ws.sock
        self.vhost = vhost
        self.max_bytes = max_bytes
        self.state = "starting"
        self.snapshot_seq = 0
        self.last_snapshot = 0.0
        self.resync_pending = False
        self.send_started: float | None = None  # a blocking send (the snapshot) in progress
        self.stalled_since: float | None = None  # `out` not empty and the socket not taking it
        self.closing: tuple[int, str] | None = None
        self.finished = False  # the hub is done with the socket; its request thread closes it
        self.was_cut = False
        self.frames_sent = 0
        self.out_bytes = 0
        self.connected_at = time.time()
        self._lock = threading.Lock()
        self._queued: list[Tick] = []
        self._out: deque[memoryview] = deque()
        self._head_started = False

    # --- called by the hub's thread -------------------------------------------------------

    def offer(self, tick: Tick) -> None:
        with self._lock:
            if self.closing is not None:
                return
            if self.state == "starting":
                if len(self._queued) >= self.MAX_QUEUED:
                    self._begin_close(CLOSE_TOO_SLOW, "too slow: reconnect for a fresh snapshot")
                else:
                    self._queued.append(tick)
                return
            self.resync_pending = self.resync_pending or tick.resync
            self._enqueue(tick.data_after(self.snapshot_seq))

    def offer_snapshot(self, data: bytes, seq: int, now: float) -> None:
        """A fresh snapshot after lost events: the page starts over from it."""
        with self._lock:
            if self.closing is not None or self.state != "live":
                return
            self.resync_pending = False
            self.snapshot_seq, self.last_snapshot = seq, now
            self._enqueue(data)

    def flush(self, now: float) -> None:
        """Write what the socket takes now, without waiting."""
        with self._lock:
            self._flush(now)

    def has_output(self) -> bool:
        return bool(self._out)

    def begin_close(self, code: int, reason: str) -> None:
        with self._lock:
            self._begin_close(code, reason)

    def cut(self) -> None:
        """End a connection whose peer stopped reading: shut the TCP connection down."""
        with self._lock:
            if self.closing is None:
                self.closing = (CLOSE_TOO_SLOW, "not reading")
            self._out.clear()
            self.out_bytes = 0
            self.was_cut = True
            self._finish()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    # --- called by the request's thread ---------------------------------------------------

    def send_blocking(self, text: str) -> None:
        """Send a frame the simple-websocket way (only while `starting`)."""
        self.send_started = time.monotonic()
        try:
            self.ws.send(text)
        finally:
            self.send_started = None

    def activate(self, seq: int) -> None:
        """The snapshot at `seq` is sent: from now on the hub writes the frames."""
        with self._lock:
            self.snapshot_seq, self.last_snapshot = seq, time.monotonic()
            if self.closing is not None:
                return
            self.state = "live"
            queued, self._queued = self._queued, []
            for tick in queued:
                self.resync_pending = self.resync_pending or tick.resync
                self._enqueue(tick.data_after(seq))
            self._flush(time.monotonic())

    # --- under the lock -------------------------------------------------------------------

    def _enqueue(self, data: bytes | None) -> None:
        if data is None:
            return
        if self.out_bytes + len(data) > self.max_bytes:
            # Drop what was not started (a started frame must be finished, or the stream
            # breaks), and close: the page reconnects and starts from a fresh snapshot.
            while len(self._out) > (1 if self._head_started else 0):
                self.out_bytes -= len(self._out.pop())
            self._begin_close(CLOSE_TOO_SLOW, "too slow: reconnect for a fresh snapshot")
            return
        self._out.append(memoryview(data))
        self.out_bytes += len(data)

    def _flush(self, now: float) -> None:
        out = self._out
        while out:
            head = out[0]
            try:
                sent = self.sock.send(head, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            except (OSError, ValueError):  # gone; ValueError: a TLS socket (serve plain HTTP)
                out.clear()
                self.out_bytes = 0
                if self.closing is None:
                    self.closing = (1006, "connection lost")
                self._finish()
                return
            if not sent:
                break
            self.out_bytes -= sent
            self.stalled_since = None
            if sent == len(head):
                out.popleft()
                self._head_started = False
                self.frames_sent += 1
            else:
                out[0] = head[sent:]
                self._head_started = True
                break
        if out:
            if self.stalled_since is None:
                self.stalled_since = now
        elif self.closing is not None:
            self._finish()

    def _begin_close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
        self._queued.clear()
        if not self._out:
            self._finish()

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.ws.event.set()  # wakes the request thread


class _Runner(threading.Thread):
    """The hub's thread: every tick, drain the subscription, hand frames to the sockets and
    write them; between ticks, finish writing to sockets that could not take a whole frame."""

    def __init__(self, hub: LiveHub) -> None:
        super().__init__(name="queuelab-live-hub", daemon=True)
        self.hub = hub
        self.stopping = threading.Event()
        self.subscription: Subscription = hub.broker.events.subscribe(
            maxlen=hub.settings["LIVE_HUB_BUFFER"]
        )

    def run(self) -> None:
        interval = self.hub.settings["LIVE_TICK"]
        next_tick = time.monotonic()
        try:
            while True:
                next_tick += interval
                if time.monotonic() > next_tick:
                    next_tick = time.monotonic()  # behind: do not try to catch up in a burst
                if self._write_until(next_tick):
                    return
                events = self.subscription.get(timeout=0)
                missed = self.subscription.take_missed()
                try:
                    self.hub.tick(self, events, missed)
                except Exception:
                    log.exception("live tick failed")
        finally:
            self.subscription.close()

    def _write_until(self, deadline: float) -> bool:
        """Until `deadline`, write to sockets as they take data; True when asked to stop."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self.stopping.is_set()
            pending = [c for c in self.hub.clients() if c.has_output()]
            if not pending:
                return self.stopping.wait(left)
            with selectors.DefaultSelector() as selector:
                for client in pending:
                    with contextlib.suppress(ValueError, OSError, KeyError):
                        selector.register(client.sock, selectors.EVENT_WRITE, client)
                if not selector.get_map():
                    return self.stopping.wait(left)
                ready = selector.select(min(left, 0.05))
            now = time.monotonic()
            for key, _ in ready:
                key.data.flush(now)
            if self.stopping.is_set():
                return True


class LiveHub:
    """The live sockets of one app: who watches which vhost, and the thread that feeds them."""

    def __init__(self, broker: Broker, simulations: Simulations, settings: dict[str, Any]):
        self.broker = broker
        self.simulations = simulations
        self.settings = settings
        self._lock = threading.Lock()
        self._clients: dict[str, set[LiveClient]] = {}
        self._runner: _Runner | None = None
        self._closed = False
        self._last_simulations: dict[str, str] = {}
        self._samples: deque[tuple[float, dict[str, int]]] = deque()
        self.ticks = 0
        self.dropped = 0
        _HUBS.add(self)

    # --- sockets coming and going ---------------------------------------------------------

    def attach(self, client: LiveClient) -> bool:
        """Start feeding a socket (subscribing first, so its snapshot can come after)."""
        with self._lock:
            if self._closed:
                return False
            self._clients.setdefault(client.vhost, set()).add(client)
            if self._runner is None:
                self._runner = _Runner(self)
                self._runner.start()
            return True

    def detach(self, client: LiveClient) -> None:
        runner = None
        with self._lock:
            watchers = self._clients.get(client.vhost)
            if watchers is not None:
                watchers.discard(client)
                if not watchers:
                    del self._clients[client.vhost]
            if not self._clients and self._runner is not None:
                runner, self._runner = self._runner, None
        if runner is not None:
            runner.stopping.set()

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._clients.values())

    def clients(self) -> list[LiveClient]:
        with self._lock:
            return [c for watchers in self._clients.values() for c in watchers]

    def begin_shutdown(self) -> None:
        """Refuse new sockets and ask every socket's sender to send a close frame (1001)."""
        with self._lock:
            self._closed = True
        for client in self.clients():
            client.begin_close(CLOSE_GOING_AWAY, "server shutting down")

    def shutdown(self, timeout: float = 2.0) -> None:
        """Close every socket with a close frame, waiting up to `timeout` for them to go."""
        self.begin_shutdown()
        _wait_closed([self], timeout)

    # --- the tick ---------------------------------------------------------------------------

    def tick(self, runner: _Runner, events: list[Event], missed: int) -> None:
        with self._lock:
            if runner is not self._runner:
                return  # replaced: a newer runner feeds the sockets now
            watched = {vhost: list(clients) for vhost, clients in self._clients.items()}
        self.ticks += 1
        now = time.monotonic()
        self._watchdog(watched, now)
        by_vhost: dict[str, list[Event]] = {}
        for event in events:
            vhost = event.data.get("vhost")
            if vhost in watched:
                by_vhost.setdefault(vhost, []).append(event)
        totals = dict(self.broker.totals)
        rates = self._rates(now, totals)
        for vhost, clients in watched.items():
            vhost_events = by_vhost.get(vhost, [])
            simulations = self._changed_simulations(vhost)
            if not vhost_events and not missed and simulations is None:
                continue
            tick = self._frame(vhost, vhost_events, missed, totals, rates, simulations)
            for client in clients:
                client.offer(tick)
        self._resync(watched, now)
        for clients in watched.values():
            for client in clients:
                client.flush(now)

    def _resync(self, watched: dict[str, list[LiveClient]], now: float) -> None:
        """Sockets that lost events get a fresh snapshot (one per vhost, at most so often)."""
        interval = self.settings["LIVE_RESYNC_INTERVAL"]
        for vhost, clients in watched.items():
            due = [
                c
                for c in clients
                if c.resync_pending and c.state == "live" and now - c.last_snapshot > interval
            ]
            if due and vhost in self.broker.vhosts:
                text, seq = self.snapshot_frame(vhost)
                data = text_frame(text.encode())
                for client in due:
                    client.offer_snapshot(data, seq, now)

    def _watchdog(self, watched: dict[str, list[LiveClient]], now: float) -> None:
        """Cut sockets whose peer stopped reading (nothing written for LIVE_SEND_TIMEOUT)."""
        limit = self.settings["LIVE_SEND_TIMEOUT"]
        for clients in watched.values():
            for client in clients:
                started = client.send_started
                stalled = client.stalled_since
                if (started is not None and now - started > limit) or (
                    stalled is not None and now - stalled > limit
                ):
                    self.dropped += 1
                    client.cut()

    def _rates(self, now: float, totals: dict[str, int]) -> dict[str, float]:
        """Broker-wide messages per second over about the last second."""
        samples = self._samples
        samples.append((now, totals))
        while len(samples) > 2 and now - samples[1][0] >= 1.0:
            samples.popleft()
        then, old = samples[0]
        span = now - then
        if span <= 0:
            return dict.fromkeys(totals, 0.0)
        return {k: round((totals[k] - old.get(k, 0)) / span, 1) for k in totals}

    def _changed_simulations(self, vhost: str) -> list[dict[str, Any]] | None:
        current = json_safe(self.simulations.list(vhost))
        text = dumps(current)
        if self._last_simulations.get(vhost) == text:
            return None
        self._last_simulations[vhost] = text
        return current

    def _queue_depths(self, vhost: str) -> dict[str, list[int]]:
        """[ready, unacked, consumers] per queue, read at one instant under the broker lock."""
        return {name: list(depth) for name, depth in self.broker.queue_depths(vhost).items()}

    def _frame(
        self,
        vhost: str,
        events: list[Event],
        missed: int,
        totals: dict[str, int],
        rates: dict[str, float],
        simulations: list[dict[str, Any]] | None,
    ) -> Tick:
        settings = self.settings
        every = 1
        if len(events) > settings["LIVE_SAMPLE_ABOVE"]:
            flow = sum(1 for e in events if e.type in FLOW_EVENTS)
            every = max(1, math.ceil(flow / settings["LIVE_SAMPLE_TARGET"]))
        if every > 1:
            kept, position = [], 0
            for event in events:
                if event.type in FLOW_EVENTS:
                    message_id = event.data.get("message_id")
                    position += 1
                    key = message_id if isinstance(message_id, int) else position
                    if key % every:
                        continue
                kept.append(event)
            events = kept
        body_limit = settings["LIVE_BODY_LIMIT"]
        traced = _traced(settings["LIVE_TRACE"]) if every == 1 else frozenset()
        frame: dict[str, Any] = {
            "type": "batch",
            "seq": self.broker.events.last_seq,
            "events": [event_dict(e, body_limit, e.type in traced, compact=True) for e in events],
            "missed": missed,
            "sampled": every,
            "totals": totals,
            "rates": rates,
            "queues": self._queue_depths(vhost),
        }
        if simulations is not None:
            frame["simulations"] = simulations
        return Tick(frame, resync=missed > 0)

    # --- what a new socket gets first -----------------------------------------------------

    def snapshot_frame(self, vhost: str) -> tuple[str, int]:
        snapshot = self.broker.snapshot(vhost)
        seq = snapshot["seq"]
        history = [
            e
            for e in self.broker.events.recent(limit=max(2_000, self.settings["LIVE_HISTORY"]))
            if e.seq <= seq and e.data.get("vhost") == vhost
        ][-self.settings["LIVE_HISTORY"] :]
        body_limit = self.settings["LIVE_BODY_LIMIT"]
        traced = _traced(self.settings["LIVE_TRACE"])
        frame = {
            "type": "snapshot",
            "snapshot": json_safe(snapshot),
            "simulations": json_safe(self.simulations.list(vhost)),
            "events": [event_dict(e, body_limit, e.type in traced, compact=True) for e in history],
        }
        return dumps(frame), seq


def _traced(setting: Any) -> frozenset[str]:
    if setting in (True, "all"):
        return frozenset({"routed", "unroutable"})
    if setting == "unroutable":
        return frozenset({"unroutable"})
    return frozenset()


def _hub() -> LiveHub:
    return current_app.extensions["queuelab.live"]


@live.before_request
def _check_handshake() -> Any:
    reason = cross_site_reason(request)
    if reason:
        return {"error": "forbidden", "reason": f"cross-site websocket refused: {reason}"}, 403
    # The hub writes the same frame bytes to every socket, which permessage-deflate would
    # break (its compressor state is per socket); so the offer is declined.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return None


@sock.route("/ws/live", bp=live)
def live_socket(ws: Any) -> None:
    """Send the snapshot, hand the socket to the hub, and wait until it must close."""
    hub = _hub()
    vhost = request.args.get("vhost", "/")
    if vhost not in hub.broker.vhosts:
        ws.send(dumps({"type": "error", "error": "not_found", "reason": f"no vhost '{vhost}'"}))
        _close(ws, CLOSE_POLICY, "no such vhost")
        return
    client = LiveClient(ws, vhost, hub.settings["LIVE_CLIENT_BUFFER"])
    if not hub.attach(client):
        _close(ws, CLOSE_GOING_AWAY, "server shutting down")
        return
    try:
        text, seq = hub.snapshot_frame(vhost)
        client.send_blocking(text)
        client.activate(seq)
        while ws.connected and not client.finished:
            ws.event.wait(1.0)
            ws.event.clear()
            while ws.input_buffer:  # pages have nothing to say; do not let it pile up
                ws.input_buffer.pop(0)
        if client.finished and not client.was_cut:
            code, reason = client.closing or (1000, "")
            _close(ws, code, reason)
    except (ConnectionClosed, OSError):
        pass
    finally:
        hub.detach(client)


def _close(ws: Any, code: int, reason: str, wait: float = 1.0) -> None:
    """Send a close frame and give the peer a moment to answer it: the server closes the TCP
    connection right after, and a peer that has not yet read the close frame would otherwise
    see a reset instead of the code and reason."""
    if ws.connected:
        ws.close(code, reason)
        ws.thread.join(wait)


# --- for the app and tests --------------------------------------------------------------------


def init_app(app: Flask, broker: Broker, simulations: Simulations) -> LiveHub:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 64 * 1024})
    settings = {key: app.config[key] for key in DEFAULTS}
    hub = LiveHub(broker, simulations, settings)
    app.extensions["queuelab.live"] = hub
    app.register_blueprint(live)
    return hub


def live_clients(app: Flask) -> int:
    """How many live sockets this app is feeding now."""
    return app.extensions["queuelab.live"].client_count


def shutdown_all(timeout: float = 2.0) -> None:
    """Close every live socket of every app in this process with a close frame (1001, going
    away); pages then show that the server stopped and retry. Call on SIGINT/SIGTERM."""
    hubs = list(_HUBS)
    for hub in hubs:
        hub.begin_shutdown()
    _wait_closed(hubs, timeout)


def _wait_closed(hubs: list[LiveHub], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(hub.client_count for hub in hubs) and time.monotonic() < deadline:
        time.sleep(0.02)
    for hub in hubs:
        for client in hub.clients():
            client.cut()  # a sender stuck on a peer that stopped reading
