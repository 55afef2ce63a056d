"""The event-loop page and its HTTP API (web/loop/): the loop's life cycle, controls, demos,
bad input, and the consumer-service demo end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import Broker
from eventloop.demos import BROKER_DEMOS, DEMOS
from tests.waiting import wait_for
from web.loop import stop_loop
from web.loop.keeper import LoopKeeper
from web.loop.routes import KEEPER

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(broker: Broker) -> Iterator[Flask]:
    application = create_app({"BROKER": broker, "TESTING": True})
    yield application
    stop_loop(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def control(client: FlaskClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/loop/control", json=body)
    assert response.status_code == 200, response.json
    return response.json


def run_state(client: FlaskClient, name: str) -> dict[str, Any] | None:
    return client.get(f"/api/loop/demos/{name}").json["run"]


# --- life cycle ---------------------------------------------------------------------------------


def test_the_loop_starts_on_first_use_and_stops_with_stop_loop(app: Flask, client) -> None:
    service: LoopKeeper = app.extensions[KEEPER]
    assert not service.started  # an app that never opens the page starts no thread
    state = client.get("/api/loop").json
    assert service.started
    assert state["controls"]["mode"] == "running"
    assert state["socket"] == "/ws/loop"
    assert state["consumer"] == {"queue": "orders", "depth": None}
    assert state["snapshot"]["ready"] == [] and state["snapshot"]["control"]["mode"] == "running"
    svc, _ = service.current()
    stop_loop(app)
    assert not svc.running
    response = client.get("/api/loop")
    assert response.status_code == 503
    assert "shutting down" in response.json["reason"]
    assert client.get("/loop").status_code == 503
    assert client.post("/api/loop/control", json={"action": "run"}).status_code == 503
    stop_loop(app)  # idempotent


def test_the_page_renders_every_demo_with_its_explanation(client) -> None:
    response = client.get("/loop")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'type="module" src="/static/loop.js"' in html
    for demo in [*DEMOS.values(), *BROKER_DEMOS.values()]:
        assert f'data-demo="{demo.name}"' in html
        for line in demo.explanation.splitlines():
            assert line.replace("'", "&#39;").replace('"', "&#34;") in html


# --- demos --------------------------------------------------------------------------------------


def test_demo_list_has_title_two_line_explanation_and_source(client) -> None:
    demos = client.get("/api/loop/demos").json
    names = [demo["name"] for demo in demos]
    assert names == [*DEMOS, *BROKER_DEMOS]
    assert "consumer_service" in names
    for demo in demos:
        assert demo["title"]
        assert len(demo["explanation"].splitlines()) == 2
        assert demo["source"].startswith("async def ")
        assert demo["file"].endswith("eventloop/demos.py")
        assert demo["first_line"] > 1
        assert demo["run"] is None
    consumer = next(d for d in demos if d["name"] == "consumer_service")
    assert consumer["needs_broker"] and consumer["params"] == {"prefetch": 5, "work": 0.5}
    one = client.get("/api/loop/demos/event").json
    assert one["name"] == "event" and one["run"] is None


def test_a_demo_runs_to_completion_with_overridden_params(client) -> None:
    response = client.post("/api/loop/demos/event", json={"params": {"delay": 0.01, "waiters": 2}})
    assert response.status_code == 202
    assert response.json["task"] == "event"
    assert response.json["run"]["params"] == {"delay": 0.01, "waiters": 2}
    run = wait_for(
        lambda: (r := run_state(client, "event")) and r["state"] != "running" and r, what="end"
    )
    assert run["state"] == "done"
    assert run["result"] == "woke in order: waiter 1, waiter 2"
    # Once it ended it may start again.
    assert client.post("/api/loop/demos/event", json={"params": {"delay": 0}}).status_code == 202


def test_step_mode_runs_the_event_loop_demo_one_callback_at_a_time(client) -> None:
    control(client, action="pause")
    assert client.post("/api/loop/demos/event_loop").json["hint"].startswith("the loop is paused")
    ran = [control(client, action="step")["ran"] for _ in range(6)]
    assert ran[0].endswith(": start task event_loop")
    assert ran[1:] == [
        "step of task event_loop",
        "step of task A",
        "step of task B",
        "step of task C",
        "step of task A",
    ]
    snapshot = client.get("/api/loop").json["snapshot"]
    assert [e["label"] for e in snapshot["ready"]] == [
        "step of task B",
        "step of task C",
        "step of task A",
    ]
    assert snapshot["control"]["mode"] == "paused" and snapshot["control"]["steps"] == 6
    tasks = {t["name"]: t for t in snapshot["tasks"]}
    assert tasks["A"]["line"]["code"] == "await asyncio.sleep(0)  # give the others a turn"
    control(client, action="run")
    wait_for(lambda: run_state(client, "event_loop")["state"] == "done", what="the demo")
    assert run_state(client, "event_loop")["result"] == "A1 B1 C1 A2 B2 C2 A3 B3 C3"


def test_step_with_nothing_to_run_answers_at_once(client) -> None:
    started = time.monotonic()
    answer = control(client, action="step")
    assert time.monotonic() - started < 1.0
    assert answer["ran"] is None
    assert "nothing to run" in answer["message"]


def test_the_api_answers_in_the_request_language_and_sends_the_message_beside_it(client) -> None:
    chinese = {"Accept-Language": "zh-CN"}
    answer = client.post("/api/loop/control", json={"action": "step"}, headers=chinese).json
    assert answer["message"].startswith("没有可运行的")
    assert answer["message_i18n"]["msgid"].startswith("nothing to run")
    control(client, action="pause")
    started = client.post("/api/loop/demos/callback", json={}, headers=chinese).json
    assert started["hint"].startswith("事件循环已暂停")
    assert started["hint_i18n"] == {
        "msgid": "the loop is paused: press Step (or Run) to let it happen"
    }
    stepped = client.post("/api/loop/control", json={"action": "step"}, headers=chinese).json
    assert stepped["message"].startswith("已运行：来自线程 ")
    assert stepped["message_i18n"]["args"]["label"]["msgid"].startswith("submit from thread")
    refused = client.post("/api/loop/demos/callback", json={}, headers=chinese)
    assert refused.status_code == 409
    assert refused.json["reason"] == "演示 'callback' 已在运行"
    control(client, action="run")
    wait_for(lambda: run_state(client, "callback")["state"] == "done")
    run = run_state(client, "callback")
    assert run["result"] == "awaited 'pong'"  # the English stays, its message beside it
    assert run["result_i18n"] == {"msgid": "awaited %(value)s", "args": {"value": "'pong'"}}
    assert answer["control"]["mode"] == "paused"


def test_step_waits_for_a_timer_that_is_due_soon(client) -> None:
    control(client, action="pause")
    client.post("/api/loop/demos/callback", json={"params": {"delay": 0.2}})
    assert control(client, action="step")["ran"].endswith("start task callback")
    assert control(client, action="step")["ran"] == "step of task callback"
    timers = client.get("/api/loop").json["snapshot"]["timers"]
    assert [t["label"] for t in timers] == [
        f"timer #{timers[0]['id']}: Future.set_result of future #1 (set by task callback)"
    ]
    # Nothing is ready; the step waits for the timer (0.2 s), then runs it.
    assert control(client, action="step")["ran"].startswith(f"timer #{timers[0]['id']} fired")


def test_slow_motion_and_run(client) -> None:
    answer = control(client, action="slow", seconds=0.25)
    assert answer["control"]["slow_motion"] == 0.25
    assert control(client, action="slow", seconds=0)["control"]["slow_motion"] == 0
    control(client, action="pause")
    assert control(client, action="run")["control"]["mode"] == "running"


def test_stop_a_demo_and_reset_the_loop(app: Flask, client) -> None:
    client.post("/api/loop/demos/timeout", json={"params": {"slow": 5, "limit": 5}})
    wait_for(lambda: run_state(client, "timeout")["state"] == "running")
    response = client.delete("/api/loop/demos/timeout")
    assert response.status_code == 202 and response.json["cancelling"] == "timeout"
    wait_for(lambda: run_state(client, "timeout")["state"] == "cancelled", what="cancelled")
    assert client.delete("/api/loop/demos/timeout").status_code == 409

    service: LoopKeeper = app.extensions[KEEPER]
    old, generation = service.current()
    client.post("/api/loop/demos/timeout", json={"params": {"slow": 5, "limit": 5}})
    answer = control(client, action="reset")
    assert answer["generation"] == generation + 1
    assert not old.running
    state = client.get("/api/loop").json
    assert state["generation"] == generation + 1
    assert state["snapshot"]["tasks"] == []
    assert all(demo["run"] is None for demo in state["demos"])


def test_consumer_service_handles_and_acks_each_message(broker: Broker, client) -> None:
    response = client.post("/api/loop/demos/consumer_service", json={"params": {"work": 0.01}})
    assert response.status_code == 202
    wait_for(
        lambda: client.get("/api/loop").json["consumer"]["depth"] == [0, 0, 1], what="consumer"
    )
    channel = broker.connect("test publisher").channel()
    ids = []
    for n in range(3):
        before = broker.events.last_seq
        channel.basic_publish("", "orders", f"order {n}".encode())
        ids += [e.data["message_id"] for e in broker.events.recent(since_seq=before)][:1]

    def acked() -> set[int]:
        return {e.data["message_id"] for e in broker.events.recent() if e.type == "acked"}

    wait_for(lambda: set(ids) <= acked(), what="acks")
    snapshot = client.get("/api/loop").json["snapshot"]
    handled = {t["name"]: t["state"] for t in snapshot["tasks"]}
    for message_id in ids:
        assert handled[f"handle-message-{message_id}"] == "done"
    notes = [n["text"] for n in snapshot["notes"]]
    assert f"message #{ids[0]} → task handle-message-{ids[0]}: b'order 0'" in notes
    assert f"message #{ids[0]} acked" in notes
    assert client.delete("/api/loop/demos/consumer_service").status_code == 202
    wait_for(lambda: run_state(client, "consumer_service")["state"] == "cancelled")
    assert client.get("/api/loop").json["consumer"]["depth"] == [0, 0, 0]


def test_a_failing_demo_reports_its_error(broker: Broker, client) -> None:
    channel = broker.connect("dashboard").channel()
    channel.queue_declare("orders", durable=True)  # the consumer declares it non-durable
    client.post("/api/loop/demos/consumer_service")
    run = wait_for(lambda: (r := run_state(client, "consumer_service"))["state"] != "running" and r)
    assert run["state"] == "failed"
    assert "PRECONDITION_FAILED" in run["error"] and "durable" in run["error"]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "needs a JSON body"),
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({}, 'missing "action"'),
        ({"action": "explode"}, "unknown action 'explode'"),
        ({"action": 3}, "unknown action 3"),
        ({"action": "slow"}, '"slow" needs "seconds"'),
        ({"action": "slow", "seconds": "fast"}, '"slow" needs "seconds"'),
        ({"action": "slow", "seconds": True}, '"slow" needs "seconds"'),
        ({"action": "slow", "seconds": 6}, "from 0 to 5 seconds"),
        ({"action": "slow", "seconds": -1}, "from 0 to 5 seconds"),
    ],
)
def test_bad_control_input_is_a_400_with_a_reason(client, body: Any, reason: str) -> None:
    if body is None:
        response = client.post("/api/loop/control")
    elif isinstance(body, str):
        response = client.post("/api/loop/control", data=body, content_type="application/json")
    else:
        response = client.post("/api/loop/control", json=body)
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    assert reason in response.json["reason"]
    assert response.json["hint"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"params": {"nope": 1}}, "has no parameter 'nope' (it takes: waiters, delay)"),
        ({"params": {"delay": "soon"}}, "must be a number"),
        ({"params": {"delay": None}}, "must be a number"),
        ({"params": {"delay": True}}, "must be a number"),
        ({"params": {"delay": 11}}, "from 0 to 10 seconds"),
        ({"params": {"delay": -0.5}}, "from 0 to 10 seconds"),
        ({"params": {"waiters": 2.5}}, "whole number"),
        ({"params": {"waiters": 10_000}}, "from 0 to 200"),
        ({"params": [1]}, '"params" must be an object'),
        ({"speed": 2}, "unknown field 'speed'"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_demo_input_is_a_400_and_starts_nothing(client, body: Any, reason: str) -> None:
    if isinstance(body, str):
        response = client.post("/api/loop/demos/event", data=body, content_type="application/json")
    else:
        response = client.post("/api/loop/demos/event", json=body)
    assert response.status_code == 400
    assert reason in response.json["reason"]
    assert run_state(client, "event") is None


def test_unknown_demo_wrong_method_conflicts_and_cross_site(client) -> None:
    response = client.post("/api/loop/demos/nope")
    assert response.status_code == 404
    assert response.json["reason"] == "no demo named 'nope'"
    assert "event_loop" in response.json["hint"]
    response = client.put("/api/loop/demos/event")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST, DELETE"
    assert client.get("/api/loop/control").status_code == 405
    assert client.delete("/api/loop").status_code == 405
    assert client.delete("/api/loop/demos/event").status_code == 409  # not running
    control(client, action="pause")
    assert client.post("/api/loop/demos/event").status_code == 202
    again = client.post("/api/loop/demos/event")
    assert again.status_code == 409 and "already running" in again.json["reason"]
    evil = {"Origin": "http://evil.example"}
    response = client.post("/api/loop/control", json={"action": "run"}, headers=evil)
    assert response.status_code == 403 and "cross-site" in response.json["reason"]
    assert client.post("/api/loop/demos/callback", headers=evil).status_code == 403
    same = {"Origin": "http://localhost"}
    assert client.post("/api/loop/control", json={"action": "run"}, headers=same).status_code == 200


def test_a_body_over_the_limit_is_a_413(app: Flask, client) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(
        "/api/loop/control",
        data=json.dumps({"action": "run", "x": "y" * 2000}),
        content_type="application/json",
    )
    # The one body reader's 413, the same as the broker API's (it was "too_large" here).
    assert response.status_code == 413 and response.json["error"] == "payload_too_large"


def test_loop_bodies_get_the_same_checks_as_the_api(client) -> None:
    """One body reader: the loop's API refuses what the broker API refuses."""
    form = client.post("/api/loop/control", data="action=run", content_type="text/plain")
    assert form.status_code == 415 and form.json["error"] == "unsupported_media_type"
    deep = '{"action": "run", "x": ' + "[" * 100 + "]" * 100 + "}"
    nested = client.post("/api/loop/control", data=deep, content_type="application/json")
    assert nested.status_code == 400 and "nested" in nested.json["reason"]
    nan = client.post("/api/loop/control", data='{"action": NaN}', content_type="application/json")
    assert nan.status_code == 400
    assert set(nan.json) == {"error", "reason", "reply_code", "hint"}
