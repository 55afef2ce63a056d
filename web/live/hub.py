"""The one websocket fan-out hub: every live page's socket is fed by a hub like this one.

A page opens one socket. Its request thread sends a snapshot first; from then on the hub's one
thread writes its frames. What a page kind's sockets carry comes from a `Feed`
(web/live/broker_feed.py for the broker pages, web/loop/feed.py for the event-loop page): the hub
asks it, every tick, for the frames of the keys being watched (a vhost, or "loop"), and for a
fresh snapshot when a socket needs one. A frame is encoded once and its bytes written to every
socket watching its key (web/live/frames.py); each socket's buffer and writes are a `Client`
(web/live/client.py).

Who writes. Only one thread writes to a socket at a time (simple-websocket's send is not
thread-safe): its request thread while it sends the snapshot, then the hub's thread, which never
blocks (send with MSG_DONTWAIT; what the socket does not take waits in the socket's own buffer,
bounded in bytes and in frames, and is written as soon as it can be). One writer instead of a
sender thread per socket, because with 100 sender threads the GIL hand-offs (each send drops and
retakes it) starved the broker and the hub: at 5,000 msgs/s the broker lost a third of its
throughput and pages fell seconds behind (bench/live_fanout.py).

Slow sockets. One whose buffer overflows is either closed with close code 1013 ("try again
later", once the frame being written is finished: the page reconnects and gets a fresh snapshot)
or, for a feed that prefers it, given a fresh snapshot instead of the frames it missed. One that
takes nothing for `send_timeout` seconds (a peer that stopped reading) has its TCP connection
cut. Nothing here ever makes the broker, the loop or another socket wait.

Frames go out uncompressed: the permessage-deflate offer is declined (`decline_compression`),
since the hub writes the same bytes to every socket and deflate keeps a compressor per socket.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import threading
import time
import weakref
from typing import Any

from flask import request
from simple_websocket import ConnectionClosed

from web.live.client import Client, HubSettings
from web.live.frames import CLOSE_GOING_AWAY, Feed
from web.serialize import dumps
from web.toolkit import SOCKET_PATHS, ApiError

log = logging.getLogger("queuelab.hub")

_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()


class _Runner(threading.Thread):
    """The hub's thread: every tick, ask the feed for frames, hand them to the sockets and
    write them; between ticks, finish writing to sockets that could not take a whole frame."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(name=f"queuelab-{hub.settings.name}-hub", daemon=True)
        self.hub = hub
        self.stopping = threading.Event()
        self.source = hub.feed.open()

    def run(self) -> None:
        interval = self.hub.settings.tick
        next_tick = time.monotonic()
        try:
            while True:
                next_tick += interval
                if time.monotonic() > next_tick:
                    next_tick = time.monotonic()  # behind: do not try to catch up in a burst
                if self._write_until(next_tick):
                    return
                try:
                    self.hub.tick(self)
                except Exception:
                    log.exception("%s tick failed", self.hub.settings.name)
        finally:
            self.source.close()

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


class Hub:
    """The sockets of one page kind: who watches which key, and the thread that feeds them
    (running only while some socket is attached)."""

    def __init__(self, feed: Feed, settings: HubSettings) -> None:
        self.feed = feed
        self.settings = settings
        self._lock = threading.Lock()
        self._clients: dict[str, set[Client]] = {}
        self._runner: _Runner | None = None
        self.closed = False
        self.ticks = 0
        self.dropped = 0
        _HUBS.add(self)

    # --- sockets coming and going ---------------------------------------------------------

    def attach(self, client: Client) -> bool:
        """Start feeding a socket (subscribing first, so its snapshot can come after)."""
        with self._lock:
            if self.closed:
                return False
            self._clients.setdefault(client.key, set()).add(client)
            if self._runner is None:
                self._runner = _Runner(self)
                self._runner.start()
            return True

    def detach(self, client: Client) -> None:
        runner = None
        with self._lock:
            watchers = self._clients.get(client.key)
            if watchers is not None:
                watchers.discard(client)
                if not watchers:
                    del self._clients[client.key]
            if not self._clients and self._runner is not None:
                runner, self._runner = self._runner, None
        if runner is not None:
            runner.stopping.set()

    @property
    def client_count(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._clients.values())

    def clients(self) -> list[Client]:
        with self._lock:
            return [c for watchers in self._clients.values() for c in watchers]

    def begin_shutdown(self) -> None:
        """Refuse new sockets and ask every socket's sender to send a close frame (1001)."""
        with self._lock:
            self.closed = True
        for client in self.clients():
            client.begin_close(CLOSE_GOING_AWAY, "server shutting down")

    def shutdown(self, timeout: float = 2.0) -> None:
        """Close every socket with a close frame, waiting up to `timeout` for them to go."""
        self.begin_shutdown()
        _wait_closed([self], timeout)

    # --- the tick ---------------------------------------------------------------------------

    def tick(self, runner: _Runner) -> None:
        with self._lock:
            if runner is not self._runner:
                return  # replaced: a newer runner feeds the sockets now
            watched = {key: list(clients) for key, clients in self._clients.items()}
        self.ticks += 1
        now = time.monotonic()
        self._watchdog(watched, now)
        for key, frame in runner.source.frames(watched, now):
            for client in watched.get(key, ()):
                client.offer(frame)
        self._resync(watched, now)
        for clients in watched.values():
            for client in clients:
                client.flush(now)

    def _resync(self, watched: dict[str, list[Client]], now: float) -> None:
        """Sockets that lost frames get a fresh snapshot (one per key, at most so often)."""
        interval = self.settings.resync_interval
        for key, clients in watched.items():
            due = [
                c
                for c in clients
                if c.resync_pending and c.state == "live" and now - c.last_snapshot > interval
            ]
            frame = self.feed.snapshot(key) if due else None
            if frame is not None:
                for client in due:
                    client.offer(frame)

    def _watchdog(self, watched: dict[str, list[Client]], now: float) -> None:
        """Cut sockets whose peer stopped reading (nothing written for send_timeout)."""
        limit = self.settings.send_timeout
        for clients in watched.values():
            for client in clients:
                started = client.send_started
                stalled = client.stalled_since
                if (started is not None and now - started > limit) or (
                    stalled is not None and now - stalled > limit
                ):
                    self.dropped += 1
                    client.cut()


# --- a socket's request thread ----------------------------------------------------------------


def serve_socket(hub: Hub, ws: Any, key: str) -> None:
    """Send the snapshot, hand the socket to the hub, and wait until it must close."""
    refusal = hub.feed.refusal(key)
    if refusal is not None:
        error, code, reason = refusal
        ws.send(dumps(error))
        close_socket(ws, code, reason)
        return
    client = Client(ws, key, hub.settings)
    if not hub.attach(client):
        close_socket(ws, CLOSE_GOING_AWAY, "server shutting down")
        return
    try:
        snapshot = hub.feed.snapshot(key)
        if snapshot is None:
            return
        client.send_blocking(snapshot.text)
        client.activate(snapshot.generation, snapshot.seq)
        while ws.connected and not client.finished:
            ws.event.wait(1.0)
            ws.event.clear()
            while ws.input_buffer:  # pages have nothing to say; do not let it pile up
                ws.input_buffer.pop(0)
        if client.finished and not client.was_cut:
            code, reason = client.closing or (1000, "")
            close_socket(ws, code, reason)
    except (ConnectionClosed, OSError, ApiError):
        pass
    finally:
        hub.detach(client)


def close_socket(ws: Any, code: int, reason: str, wait: float = 1.0) -> None:
    """Send a close frame and give the peer a moment to answer it: the server closes the TCP
    connection right after, and a peer that has not yet read the close frame would otherwise
    see a reset instead of the code and reason."""
    if ws.connected:
        ws.close(code, reason)
        ws.thread.join(wait)


def decline_compression() -> None:
    """Before a websocket handshake: decline permessage-deflate (the hub writes the same frame
    bytes to every socket, and deflate keeps a compressor per socket)."""
    if request.path.startswith(SOCKET_PATHS):
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


# --- for the app, tests and benchmarks --------------------------------------------------------


def shutdown_all(timeout: float = 2.0) -> None:
    """Close every live socket of every hub in this process with a close frame (1001, going
    away); pages then show that the server stopped and retry. Call on SIGINT/SIGTERM."""
    hubs = list(_HUBS)
    for hub in hubs:
        hub.begin_shutdown()
    _wait_closed(hubs, timeout)


def all_hubs() -> list[Hub]:
    return list(_HUBS)


def _wait_closed(hubs: list[Hub], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(hub.client_count for hub in hubs) and time.monotonic() < deadline:
        time.sleep(0.02)
    for hub in hubs:
        for client in hub.clients():
            client.cut()  # a sender stuck on a peer that stopped reading
