"""One live socket as the hub sees it: its state, its bounded buffer and its non-blocking writes."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from web.live.frames import CLOSE_TOO_SLOW, Frame


@dataclass(frozen=True)
class HubSettings:
    """How a hub feeds its sockets (each page kind's come from the app's config)."""

    name: str  # for the thread and the log
    tick: float  # seconds between ticks
    send_timeout: float  # seconds a socket may take nothing before its connection is cut
    resync_interval: float  # at most one fresh snapshot per socket this often
    client_bytes: int  # bytes a socket may have waiting
    client_frames: int  # frames a socket may have waiting
    on_overflow: Literal["close", "snapshot"]  # what a socket whose buffer is full gets


class Client:
    """One socket, in three states.

    `starting`: its request thread sends the snapshot; frames for it wait in a short list.
    `live`: the hub's thread writes frames to it without ever blocking (MSG_DONTWAIT), and keeps
    what the socket did not take in `out` (bounded by the hub's client_bytes and client_frames).
    `closing`: no new frames; once `out` is written, the request thread sends the close frame.
    Only one thread writes data to the socket at a time (simple-websocket's send is not
    thread-safe); the per-client lock guards the hand-overs.
    """

    MAX_QUEUED = 100  # frames that may wait while the snapshot is being sent

    def __init__(self, ws: Any, key: str, settings: HubSettings) -> None:
        self.ws = ws
        self.sock: socket.socket = ws.sock
        self.key = key
        self.max_bytes = settings.client_bytes
        self.max_frames = settings.client_frames
        self.on_overflow = settings.on_overflow
        self.state = "starting"
        self.generation = 0
        self.snapshot_seq = 0
        self.last_snapshot = 0.0
        self.resync_pending = False
        self.behind = False  # overflowed: batches are dropped until the next snapshot
        self.send_started: float | None = None  # a blocking send (the snapshot) in progress
        self.stalled_since: float | None = None  # `out` not empty and the socket not taking it
        self.closing: tuple[int, str] | None = None
        self.finished = False  # the hub is done with the socket; its request thread closes it
        self.was_cut = False
        self.frames_sent = 0
        self.out_bytes = 0
        self._lock = threading.Lock()
        self._queued: list[Frame] = []
        self._out: deque[memoryview] = deque()
        self._head_started = False

    # --- called by the hub's thread -------------------------------------------------------

    def offer(self, frame: Frame) -> None:
        with self._lock:
            if self.closing is not None:
                return
            if self.state == "starting":
                if len(self._queued) >= self.MAX_QUEUED:
                    self._overflow()
                else:
                    self._queued.append(frame)
                return
            self._take(frame)

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

    def activate(self, generation: int, seq: int) -> None:
        """The snapshot at `seq` of `generation` is sent: from now on the hub writes."""
        with self._lock:
            self.generation, self.snapshot_seq = generation, seq
            self.last_snapshot = time.monotonic()
            if self.closing is not None:
                return
            self.state = "live"
            queued, self._queued = self._queued, []
            for frame in queued:
                self._take(frame)
            self._flush(time.monotonic())

    # --- under the lock -------------------------------------------------------------------

    def _take(self, frame: Frame) -> None:
        data = frame.data_after(self.generation, self.snapshot_seq)
        if frame.snapshot:
            if data is None:
                return
            self._drop_unstarted()  # everything waiting is older than this snapshot
            self.generation, self.snapshot_seq = frame.generation, frame.seq
            self.last_snapshot = time.monotonic()
            self.resync_pending = self.behind = False
        elif self.behind:
            return
        else:
            self.resync_pending = self.resync_pending or frame.resync
        self._enqueue(data)

    def _enqueue(self, data: bytes | None) -> None:
        if data is None:
            return
        if self.out_bytes + len(data) > self.max_bytes or len(self._out) >= self.max_frames:
            self._overflow()
            return
        self._out.append(memoryview(data))
        self.out_bytes += len(data)

    def _overflow(self) -> None:
        """Too much is waiting: drop what was not started (a started frame must be finished, or
        the stream breaks), then close, or wait for a fresh snapshot."""
        self._drop_unstarted()
        self._queued.clear()
        if self.on_overflow == "close":
            self._begin_close(CLOSE_TOO_SLOW, "too slow: reconnect for a fresh snapshot")
        else:
            self.behind = self.resync_pending = True

    def _drop_unstarted(self) -> None:
        while len(self._out) > (1 if self._head_started else 0):
            self.out_bytes -= len(self._out.pop())

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
