"""The live hub's socket buffer and frames, without a server: what a socket that falls behind
gets, and which frames a socket whose snapshot is newer still needs."""

from __future__ import annotations

import json
import threading
from typing import Any

from web.live.client import Client, HubSettings
from web.live.frames import Frame


class SocketThatTakesNothing:
    """A socket whose peer stopped reading: every non-blocking send would block."""

    def send(self, data: bytes, flags: int = 0) -> int:
        raise BlockingIOError

    def shutdown(self, how: int) -> None:
        pass


class FakeWebSocket:
    def __init__(self) -> None:
        self.sock = SocketThatTakesNothing()
        self.event = threading.Event()


def settings(on_overflow: str, frames: int = 3) -> HubSettings:
    return HubSettings(
        name="test",
        tick=0.05,
        send_timeout=5.0,
        resync_interval=0.0,
        client_bytes=1_000_000,
        client_frames=frames,
        on_overflow=on_overflow,
    )


def batch(seq: int, generation: int = 1, events: list[dict[str, Any]] | None = None) -> Frame:
    body = {"type": "batch", "generation": generation, "seq": seq, "events": events or []}
    return Frame(body, json.dumps, seq=seq, generation=generation)


def snapshot(seq: int, generation: int = 1) -> Frame:
    body = {"type": "snapshot", "generation": generation, "seq": seq}
    return Frame(body, json.dumps, seq=seq, generation=generation, snapshot=True)


def payload(data: bytes) -> dict[str, Any]:
    """The JSON of a short unmasked text frame (a 2-byte header)."""
    assert data[0] == 0x81 and data[1] < 126
    return json.loads(data[2:])


def test_a_slow_socket_gets_a_snapshot_instead_of_a_backlog() -> None:
    client = Client(FakeWebSocket(), "loop", settings("snapshot"))
    client.activate(generation=1, seq=0)
    for seq in range(1, 5):
        client.offer(batch(seq))
    assert client.resync_pending  # marker: build a fresh snapshot
    assert not client.has_output() and client.out_bytes == 0  # the backlog is gone
    client.offer(batch(5))
    assert not client.has_output()  # behind: batches wait for the snapshot
    fresh = snapshot(6)
    client.offer(fresh)
    assert client.out_bytes == len(fresh.data) and not client.resync_pending
    assert (client.generation, client.snapshot_seq) == (1, 6)
    tick = batch(9, events=[{"seq": 8}, {"seq": 9}])
    assert payload(tick.data_after(1, 8))["events"] == [{"seq": 9}]
    assert tick.data_after(1, 7) is tick.data


def test_a_slow_socket_of_a_closing_feed_is_closed_with_1013() -> None:
    ws = FakeWebSocket()
    client = Client(ws, "/", settings("close"))
    client.activate(generation=0, seq=0)
    for seq in range(1, 5):
        client.offer(batch(seq, generation=0))
    assert client.closing == (1013, "too slow: reconnect for a fresh snapshot")
    assert client.finished and ws.event.is_set()  # its request thread sends the close frame


def test_frames_older_than_a_sockets_snapshot_are_not_sent() -> None:
    assert batch(5).data_after(1, 6) is None  # built before the snapshot
    assert payload(batch(6).data_after(1, 6))["events"] == []  # as recent: only the state
    assert batch(7, generation=1).data_after(2, 0) is None  # from before a reset
    assert snapshot(3, generation=1).data_after(1, 3) is None  # nothing new
    assert snapshot(1, generation=2).data_after(1, 50) is not None  # a new loop
