"""The live websocket over a real server: snapshot first, then batches; sampling under a flood;
slow sockets dropped without slowing the broker or other sockets; close frames on shutdown."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from simple_websocket import Client, ConnectionClosed, ConnectionError

from broker import Broker, Properties
from tests.live_server import LiveServer, live_server
from tests.waiting import events_of, frames_until, wait_for
from web.live.broker_feed import live_clients
from web.live.frames import CLOSE_GOING_AWAY
from web.live.hub import Hub, all_hubs, shutdown_all


def connect(server: LiveServer, vhost: str = "%2F", **kwargs: Any) -> Client:
    return Client.connect(f"ws://127.0.0.1:{server.port}/ws/live?vhost={vhost}", **kwargs)


def frame(ws: Client, timeout: float = 5.0) -> dict[str, Any]:
    data = ws.receive(timeout=timeout)
    assert data is not None, "no frame in time"
    return json.loads(data)


def quietly_close(ws: Client) -> None:
    with contextlib.suppress(ConnectionClosed, OSError):
        ws.close()


@pytest.fixture
def live_hub(server: LiveServer) -> Hub:
    return server.app.extensions["queuelab.live"]


def test_snapshot_first_then_batches(broker: Broker, server: LiveServer, live_hub) -> None:
    channel = broker.connect("app").channel()
    channel.queue_declare("orders")
    channel.basic_publish("", "orders", b"before")
    ws = connect(server)
    try:
        first = frame(ws)
        assert first["type"] == "snapshot"
        snapshot = first["snapshot"]
        assert [q["name"] for q in snapshot["queues"]] == ["orders"]
        assert snapshot["queues"][0]["messages_ready"] == 1
        assert first["simulations"] == []
        assert [e["type"] for e in first["events"]][-3:] == ["published", "routed", "enqueued"]
        assert live_clients(server.app) == 1

        channel.basic_publish("", "orders", b"after")
        delivery = channel.basic_get("orders")
        channel.basic_ack(delivery.delivery_tag)
        seen = frames_until(ws, lambda fs: "acked" in [e["type"] for e in events_of(fs)])
        batch = seen[-1]
        assert set(batch) >= {"type", "seq", "events", "missed", "sampled", "totals", "queues"}
        assert batch["missed"] == 0 and batch["sampled"] == 1
        events = events_of(seen)
        assert all(e["seq"] > snapshot["seq"] for e in events)
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
        published = next(e for e in events if e["type"] == "published")
        assert published["message"]["payload"] == "after"
        assert batch["queues"]["orders"] == [1, 0, 0]
        assert batch["totals"]["published"] == 2 and batch["totals"]["acked"] == 1
    finally:
        quietly_close(ws)
    wait_for(lambda: live_hub.client_count == 0)


def test_bodies_and_headers_are_json_safe_and_cut(broker: Broker) -> None:
    with live_server(broker, LIVE_BODY_LIMIT=4) as server:
        ws = connect(server)
        try:
            frame(ws)
            channel = broker.connect("app").channel()
            channel.queue_declare("bin")
            headers = {"raw": b"\xff\x00", "when": b"now"}
            channel.basic_publish("", "bin", b"\xff" * 10, Properties(headers=headers))
            seen = frames_until(ws, lambda fs: "enqueued" in [e["type"] for e in events_of(fs)])
            [published] = [e for e in events_of(seen) if e["type"] == "published"]
            message = published["message"]
            assert message["payload_encoding"] == "base64" and message["truncated"] is True
            assert base64.b64decode(message["payload"]) == b"\xff" * 4
            assert message["properties"]["headers"] == {"raw": "/wA=", "when": "now"}
            # Routing traces: sent for unroutable messages (why), not for routed ones.
            channel.queue_bind("bin", "amq.direct", "known")
            channel.basic_publish("amq.direct", "unknown", b"")
            seen = frames_until(ws, lambda fs: "unroutable" in [e["type"] for e in events_of(fs)])
            [unroutable] = [e for e in events_of(seen) if e["type"] == "unroutable"]
            assert unroutable["trace"][0]["reason"]
            assert all("trace" not in e for e in events_of(seen) if e["type"] == "routed")
        finally:
            quietly_close(ws)


def test_unknown_vhost_gets_an_error_frame(server: LiveServer) -> None:
    ws = connect(server, vhost="nope")
    try:
        assert frame(ws) == {"type": "error", "error": "not_found", "reason": "no vhost 'nope'"}
        with pytest.raises(ConnectionClosed):
            for _ in range(10):
                ws.receive(timeout=1)
    finally:
        quietly_close(ws)


def test_a_rebound_host_cannot_open_the_live_socket(server: LiveServer) -> None:
    """A DNS-rebinding page's handshake: Host and Origin agree, but name another site."""
    name = f"evil.example:{server.port}"
    handshake = (
        f"GET /ws/live?vhost=%2F HTTP/1.1\r\nHost: {name}\r\nOrigin: http://{name}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(handshake.encode())
        status = raw.recv(4096).split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 403 FORBIDDEN"


def test_cross_site_handshake_is_refused(server: LiveServer) -> None:
    with pytest.raises(ConnectionError):
        connect(server, headers={"Origin": "http://evil.example"})
    # simple-websocket's client sends "Host: 127.0.0.1" without the port; a browser would not.
    ws = connect(server, headers={"Origin": "http://127.0.0.1"})
    assert frame(ws)["type"] == "snapshot"
    quietly_close(ws)


def test_a_flood_is_sampled_but_entity_events_all_arrive(broker: Broker) -> None:
    config = {"LIVE_TICK": 0.2, "LIVE_SAMPLE_ABOVE": 300, "LIVE_SAMPLE_TARGET": 60}
    with live_server(broker, **config) as server:
        ws = connect(server)
        try:
            frame(ws)
            channel = broker.connect("flood").channel()
            channel.queue_declare("flood")
            for n in range(3000):
                channel.basic_publish("", "flood", b"x")
                if n == 1500:
                    channel.queue_declare("in-the-middle")
            channel.queue_declare("at-the-end")
            seen = frames_until(
                ws,
                lambda fs: any(
                    e.get("name") == "at-the-end" for e in events_of(fs) if e["type"] != "routed"
                ),
            )
        finally:
            quietly_close(ws)
    sampled = [f for f in seen if f["type"] == "batch" and f["sampled"] > 1]
    assert sampled, "a 3,000-message flood in 0.2 s ticks must be sampled"
    for batch in sampled:
        flow = [e for e in batch["events"] if e["type"] in ("published", "routed", "enqueued")]
        assert len(flow) <= 3 * 60
        assert all("trace" not in e for e in flow)
        # A kept message keeps its whole story (sampled by message id).
        ids = {e["message_id"] for e in flow}
        assert all(i % batch["sampled"] == 0 for i in ids)
    declared = [e["name"] for e in events_of(seen) if e["type"] == "queue.declared"]
    assert declared == ["flood", "in-the-middle", "at-the-end"]
    assert seen[-1]["queues"]["flood"][0] == 3000
    assert seen[-1]["totals"]["published"] == 3000


def test_lost_events_bring_a_fresh_snapshot(broker: Broker) -> None:
    config = {"LIVE_TICK": 0.3, "LIVE_HUB_BUFFER": 100, "LIVE_RESYNC_INTERVAL": 0.5}
    with live_server(broker, **config) as server:
        ws = connect(server)
        try:
            frame(ws)
            channel = broker.connect("flood").channel()
            channel.queue_declare("q")
            for _ in range(500):
                channel.basic_publish("", "q", b"x")
            seen = frames_until(ws, lambda fs: fs and fs[-1]["type"] == "snapshot")
        finally:
            quietly_close(ws)
    assert any(f["type"] == "batch" and f["missed"] > 0 for f in seen)
    assert seen[-1]["snapshot"]["queues"][0]["messages_ready"] == 500


def raw_socket_that_never_reads(port: int, extra: bytes = b"") -> tuple[socket.socket, bytes]:
    """A websocket client that completes the handshake and then reads nothing at all."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws/live?vhost=%2F HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n" + extra + b"\r\n"
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response
    return sock, response


def test_compression_offer_is_declined(server: LiveServer) -> None:
    offer = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    sock, response = raw_socket_that_never_reads(server.port, offer)
    sock.close()
    assert b"permessage-deflate" not in response.lower()


def test_a_slow_socket_is_dropped_without_slowing_anyone(broker: Broker) -> None:
    config = {"LIVE_CLIENT_BUFFER": 500_000, "LIVE_SEND_TIMEOUT": 1.0}
    with live_server(broker, **config) as server:
        hub = server.app.extensions["queuelab.live"]
        good = connect(server)
        frame(good)
        slow, _ = raw_socket_that_never_reads(server.port)
        wait_for(lambda: hub.client_count == 2)
        received: list[float] = []
        stop = threading.Event()

        def read_good() -> None:
            while not stop.is_set():
                data = good.receive(timeout=0.2)
                if data is not None:
                    received.append(time.monotonic())

        reader = threading.Thread(target=read_good, daemon=True)
        reader.start()
        channel = broker.connect("publisher").channel()
        channel.queue_declare("big")
        # Big frames, to fill the stuck socket soon: pages get a body's first bytes only, but
        # every header.
        bulky = Properties(headers={"padding": "x" * 60_000})
        slowest = 0.0
        dropped_at = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            started = time.monotonic()
            channel.basic_publish("", "big", b"x", bulky)
            slowest = max(slowest, time.monotonic() - started)
            if dropped_at is None and hub.client_count == 1:
                dropped_at = time.monotonic()
            if dropped_at is not None and time.monotonic() - dropped_at > 0.5:
                break
            time.sleep(0.01)
        stop.set()
        reader.join(2)
        slow.close()
        quietly_close(good)
    assert dropped_at is not None, "the socket that never reads was not dropped"
    # Had the broker waited for the stuck socket, a publish would have taken until the cut (1 s).
    assert slowest < 0.5, f"a publish took {slowest:.3f}s while a socket was stuck"
    assert any(t > dropped_at for t in received), "the good socket stopped getting frames"
    gaps = [b - a for a, b in zip(received, received[1:], strict=False)]
    assert max(gaps) < 2.0


def test_shutdown_all_sends_close_frames(broker: Broker, server: LiveServer, live_hub) -> None:
    sockets = []
    for _ in range(3):
        # One at a time: in full-suite runs a third socket opened in the same instant sometimes
        # got no snapshot within 5 s (never reproduced alone or in 120 concurrent opens).
        sockets.append(connect(server))
        assert frame(sockets[-1], timeout=10)["type"] == "snapshot"
    wait_for(lambda: live_hub.client_count == 3)
    shutdown_all(timeout=3)
    assert live_hub.client_count == 0
    for ws in sockets:
        with pytest.raises(ConnectionClosed):
            for _ in range(20):
                ws.receive(timeout=0.5)
        assert ws.close_reason == CLOSE_GOING_AWAY
    with pytest.raises((ConnectionError, ConnectionClosed)):
        late = connect(server)
        late.receive(timeout=2)
        late.receive(timeout=2)


@pytest.fixture(autouse=True)
def _no_leftover_sockets() -> Iterator[None]:
    yield
    # Every test closes what it opened; make sure the hub threads stop too.
    for hub in all_hubs():
        wait_for(lambda h=hub: h.client_count == 0 or h.closed, timeout=5)
