"""The event-loop page's websocket (web/loop/feed.py through the live hub): a snapshot, then
batches of new events; a fresh snapshot after a reset; the consumer queue's message flow;
cross-site refusal and close frames at shutdown."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from simple_websocket import Client, ConnectionClosed, ConnectionError

from broker import Broker
from tests.live_server import LiveServer
from tests.waiting import events_of, frames_until, wait_for
from web.loop import stop_loop
from web.loop.routes import HUB

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def loop_server(server: LiveServer) -> Iterator[LiveServer]:
    yield server
    stop_loop(server.app)


def connect(server: LiveServer, **kwargs: Any) -> Client:
    return Client.connect(f"ws://127.0.0.1:{server.port}/ws/loop", **kwargs)


@contextlib.contextmanager
def socket_to(server: LiveServer, **kwargs: Any) -> Iterator[Client]:
    ws = connect(server, **kwargs)
    try:
        yield ws
    finally:
        with contextlib.suppress(ConnectionClosed, OSError):
            ws.close()


def post(server: LiveServer, path: str, body: dict[str, Any] | None = None) -> Any:
    return server.app.test_client().post(path, json=body if body is not None else {})


def test_socket_sends_a_snapshot_then_batches_of_new_events(loop_server: LiveServer) -> None:
    with socket_to(loop_server) as ws:
        (first,) = frames_until(ws, lambda seen: len(seen) == 1)
        assert first["type"] == "snapshot" and first["generation"] == 1
        assert first["snapshot"]["control"]["mode"] == "running"
        assert {"order", "gate", "runs", "flow", "orders"} <= set(first)
        assert first["queue"] == "orders"
        seq = first["seq"]
        post(loop_server, "/api/loop/demos/event_loop")
        frames = frames_until(
            ws,
            lambda seen: any(
                e["type"] == "note" and "C round 3" in e["text"] for e in events_of(seen)
            ),
        )
        events = events_of(frames)
        assert all(e["seq"] > seq for e in events)
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        runs = [e["entry"]["label"] for e in events if e["type"] == "run"]
        assert runs[1:5] == [
            "step of task event_loop",
            "step of task A",
            "step of task B",
            "step of task C",
        ]
        batch = next(f for f in frames if f["type"] == "batch")
        assert set(batch["order"]) >= {"ready", "timers", "current", "ready_total", "now"}
        assert batch["gate"]["mode"] == "running"
        assert any(f.get("runs") for f in frames)


def test_socket_follows_a_reset_with_a_fresh_snapshot(loop_server: LiveServer) -> None:
    with socket_to(loop_server) as ws:
        frames_until(ws, lambda seen: len(seen) == 1)
        post(loop_server, "/api/loop/control", {"action": "reset"})
        frames = frames_until(
            ws, lambda seen: any(f["type"] == "snapshot" and f["generation"] == 2 for f in seen)
        )
        assert all(f["generation"] == 1 for f in frames[:-1])


def test_socket_carries_the_message_flow_of_the_consumer_queue(
    broker: Broker, loop_server: LiveServer
) -> None:
    with socket_to(loop_server) as ws:
        frames_until(ws, lambda seen: len(seen) == 1)
        post(loop_server, "/api/loop/demos/consumer_service", {"params": {"work": 0.01}})
        frames_until(ws, lambda seen: any(f.get("orders") == [0, 0, 1] for f in seen))
        answer = (
            loop_server.app.test_client()
            .post(
                "/api/exchanges/%2F/amq.default/publish",
                json={
                    "routing_key": "orders",
                    "payload": "<b>hi</b>",
                    "payload_encoding": "string",
                },
            )
            .json
        )
        message_id = answer["message_id"]
        frames = frames_until(
            ws,
            lambda seen: any(
                i["message"] == message_id and i["step"] == "acked"
                for f in seen
                for i in f.get("flow", [])
            ),
        )
        flow = [i for f in frames for i in f.get("flow", []) if i["message"] == message_id]
        assert [i["step"] for i in flow] == ["published", "delivered", "acked"]
        assert flow[0]["body"] == "<b>hi</b>"
        labels = [e["entry"]["label"] for e in events_of(frames) if e["type"] == "ready"]
        assert any(label.endswith(f"Queue.put_nowait(message #{message_id})") for label in labels)
        readies = [e["entry"] for e in events_of(frames) if e["type"] == "ready"]
        assert any(entry.get("message") == message_id for entry in readies)
        names = [e["task"]["name"] for e in events_of(frames) if e["type"] == "task"]
        assert f"handle-message-{message_id}" in names


def test_socket_refuses_another_site_and_closes_at_shutdown(loop_server: LiveServer) -> None:
    with pytest.raises(ConnectionError):
        connect(loop_server, headers={"Origin": "http://evil.example"})
    ws = connect(loop_server)
    frames_until(ws, lambda seen: len(seen) == 1)
    hub = loop_server.app.extensions[HUB]
    assert hub.client_count == 1
    stop_loop(loop_server.app)
    with pytest.raises(ConnectionClosed):
        for _ in range(100):
            ws.receive(timeout=0.1)
    assert ws.close_reason == 1001
    wait_for(lambda: hub.client_count == 0, what="the socket to go")
