"""What travels on a live socket: frames, encoded once and shared, and the feeds that make them.

A `Feed` says what one kind of page's sockets carry (web/live/broker_feed.py for the broker pages,
web/loop/feed.py for the event-loop page); the hub (web/live/hub.py) asks it for frames every
tick and writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_POLICY = 1008  # e.g. a vhost that does not exist
CLOSE_TOO_SLOW = 1013  # "try again later": the page reconnects and gets a fresh snapshot


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


class Frame:
    """One frame for the sockets watching one key, encoded once and shared by them all.

    `seq` is how recent it is (its events go up to it; a snapshot holds everything up to it),
    `generation` what it follows (the event-loop page's loop is replaced by "reset"; 0 for
    feeds that never change). A snapshot replaces a page's state; `resync` marks a batch after
    which the socket needs a fresh snapshot (events were lost)."""

    __slots__ = ("body", "text", "data", "seq", "generation", "snapshot", "resync", "_encode")

    def __init__(
        self,
        body: dict[str, Any],
        encode: Callable[[Any], str],
        *,
        seq: int,
        generation: int = 0,
        snapshot: bool = False,
        resync: bool = False,
    ) -> None:
        self.body = body
        self.text = encode(body)
        self.data = text_frame(self.text.encode())
        self.seq = seq
        self.generation = generation
        self.snapshot = snapshot
        self.resync = resync
        self._encode = encode

    def data_after(self, generation: int, seq: int) -> bytes | None:
        """The frame for a socket whose last snapshot is `seq` of `generation` (None: nothing
        new for it). A frame built before that snapshot holds nothing the snapshot lacks; one
        as recent carries no events for it, only the small state (depths, the loop's clock)."""
        if self.snapshot:
            return self.data if (self.generation, self.seq) > (generation, seq) else None
        if self.generation != generation or self.seq < seq:
            return None
        events = self.body.get("events")
        if not events or events[0]["seq"] > seq:
            return self.data
        later = [e for e in events if e["seq"] > seq]
        return text_frame(self._encode({**self.body, "events": later}).encode())


class Source(Protocol):
    """A feed's subscriptions while its hub runs: drained once a tick."""

    def frames(self, watched: Mapping[str, object], now: float) -> Iterable[tuple[str, Frame]]:
        """This tick's frames, each for a key in `watched`."""

    def close(self) -> None: ...


class Feed(Protocol):
    """What one kind of page's sockets carry."""

    def refusal(self, key: str) -> tuple[dict[str, Any], int, str] | None:
        """Why a socket may not watch `key`: (error frame, close code, close reason), or None."""

    def snapshot(self, key: str) -> Frame | None:
        """A fresh snapshot frame of `key` (None: there is nothing to watch any more)."""

    def open(self) -> Source:
        """Subscribe, before any snapshot a socket will get is taken."""
