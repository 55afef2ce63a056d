"""The HTTP API: RabbitMQ's management paths and JSON, its error texts, and bad input."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import Broker, Properties
from broker.vocabulary import vocabulary


def q(name: str) -> str:
    return quote(name, safe="")


@pytest.fixture
def app(broker: Broker) -> Flask:
    return create_app({"BROKER": broker, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    yield app.test_client()
    app.extensions["queuelab.simulations"].stop_all()


def error_of(response) -> tuple[int, str, str]:
    body = response.get_json()
    assert set(body) >= {"error", "reason", "reply_code", "hint"}
    return response.status_code, body["error"], body["reason"]


# --- overview, vhosts, lists --------------------------------------------------------------


def test_overview_counts_objects_and_messages(client: FlaskClient, broker: Broker) -> None:
    channel = broker.connect("app").channel()
    channel.queue_declare("orders")
    channel.basic_publish("", "orders", b"one")
    body = client.get("/api/overview").get_json()
    assert body["object_totals"]["queues"] == 1
    assert body["object_totals"]["exchanges"] == 6  # "" and the five amq.* ones
    assert body["queue_totals"]["messages_ready"] == 1
    assert body["message_stats"]["publish"] == 1
    assert body["message_stats"]["publish_details"]["rate"] >= 0


def test_vhosts_and_index(client: FlaskClient) -> None:
    assert client.get("/api/vhosts").get_json()[0]["name"] == "/"
    assert client.get("/api/vhosts/%2F").status_code == 200
    assert client.get("/api/vhosts/nope").status_code == 404
    paths = {e["path"] for e in client.get("/api").get_json()["endpoints"]}
    assert "/api/queues/{vhost}/{name}" in paths
    assert client.get("/api/").status_code == 200


# --- exchanges ----------------------------------------------------------------------------


def test_exchange_put_get_delete(client: FlaskClient) -> None:
    response = client.put("/api/exchanges/%2F/orders", json={"type": "topic"})
    assert response.status_code == 201
    assert client.put("/api/exchanges/%2F/orders", json={"type": "topic"}).status_code == 204
    exchange = client.get("/api/exchanges/%2F/orders").get_json()
    assert exchange["type"] == "topic" and exchange["durable"] is True
    assert "orders" in [e["name"] for e in client.get("/api/exchanges/%2F").get_json()]
    assert "orders" in [e["name"] for e in client.get("/api/exchanges").get_json()]
    assert client.delete("/api/exchanges/%2F/orders").status_code == 204
    assert error_of(client.get("/api/exchanges/%2F/orders")) == (
        404,
        "not_found",
        "NOT_FOUND - no exchange 'orders' in vhost '/'",
    )


def test_exchange_errors_have_rabbitmq_texts(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/x", json={"type": "direct"})
    assert error_of(client.put("/api/exchanges/%2F/x", json={"type": "direct", "durable": False}))[
        2
    ] == (
        "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'x' in vhost '/': "
        "received 'false' but current is 'true'"
    )
    assert error_of(client.put("/api/exchanges/%2F/amq.foo", json={"type": "direct"})) == (
        403,
        "access_refused",
        "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'",
    )
    assert error_of(client.delete("/api/exchanges/%2F/amq.direct")) == (
        403,
        "access_refused",
        "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
    )
    status, error, reason = error_of(client.put("/api/exchanges/%2F/y", json={"type": "foo"}))
    assert (status, error) == (400, "command_invalid")
    assert reason == "COMMAND_INVALID - invalid exchange type 'foo'"
    assert error_of(client.put("/api/exchanges/%2F/y", json={}))[0] == 400
    # None of that broke the management connection.
    assert client.put("/api/exchanges/%2F/y", json={"type": "fanout"}).status_code == 201


def test_exchange_delete_if_unused(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/x", json={"type": "direct"})
    client.put("/api/queues/%2F/q")
    client.post("/api/bindings/%2F/e/x/q/q", json={"routing_key": "k"})
    assert error_of(client.delete("/api/exchanges/%2F/x?if-unused=true")) == (
        406,
        "precondition_failed",
        "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use",
    )
    assert client.delete("/api/exchanges/%2F/x?if-unused=maybe").status_code == 400
    assert client.delete("/api/exchanges/%2F/x").status_code == 204


def test_default_exchange_is_amq_default_in_paths(client: FlaskClient) -> None:
    assert client.get("/api/exchanges/%2F/amq.default").get_json()["name"] == ""
    client.put("/api/queues/%2F/q")
    assert error_of(client.post("/api/bindings/%2F/e/amq.default/q/q", json={})) == (
        403,
        "access_refused",
        "ACCESS_REFUSED - operation not permitted on the default exchange",
    )


# --- publish ------------------------------------------------------------------------------


def test_publish_routes_and_reports(client: FlaskClient, broker: Broker) -> None:
    client.put("/api/queues/%2F/q")
    response = client.post(
        "/api/exchanges/%2F/amq.default/publish",
        json={
            "routing_key": "q",
            "payload": "hello",
            "payload_encoding": "string",
            "properties": {"delivery_mode": 2, "headers": {"a": 1}, "content_type": "text/plain"},
        },
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["routed"] is True and body["queues"] == ["q"]
    assert isinstance(body["message_id"], int)
    [message] = client.get("/api/queues/%2F/q/peek").get_json()
    assert message["payload"] == "hello"
    assert message["properties"] == {
        "content_type": "text/plain",
        "delivery_mode": 2,
        "headers": {"a": 1},
    }
    unrouted = client.post(
        "/api/exchanges/%2F/amq.direct/publish",
        json={"routing_key": "nowhere", "payload": "x", "mandatory": True},
    ).get_json()
    assert unrouted["routed"] is False and unrouted["returned"] is True


def test_publish_base64_and_bad_input(client: FlaskClient) -> None:
    client.put("/api/queues/%2F/q")
    raw = bytes(range(256))
    response = client.post(
        "/api/exchanges/%2F/amq.default/publish",
        json={
            "routing_key": "q",
            "payload": base64.b64encode(raw).decode(),
            "payload_encoding": "base64",
        },
    )
    assert response.get_json()["routed"] is True
    got = client.post(
        "/api/queues/%2F/q/get", json={"count": 1, "ackmode": "ack", "encoding": "base64"}
    ).get_json()
    assert base64.b64decode(got[0]["payload"]) == raw
    publish = "/api/exchanges/%2F/amq.default/publish"
    for bad in (
        {"payload": "!!", "payload_encoding": "base64"},
        {"payload": "x", "payload_encoding": "rot13"},
        {"payload": 5},
        {"payload": "x", "properties": {"delivery_mode": "2"}},
        {"payload": "x", "properties": {"colour": "red"}},
        {"payload": "x", "properties": {"headers": {"CC": 5}}},
        {"payload": "x", "routing_key": "k" * 256},
        {"payload": "x", "mandatory": "yes"},
    ):
        assert client.post(publish, json=bad).status_code == 400, bad


def test_publish_errors_close_only_a_management_channel(client: FlaskClient) -> None:
    assert error_of(
        client.post("/api/exchanges/%2F/nope/publish", json={"routing_key": "", "payload": ""})
    ) == (404, "not_found", "NOT_FOUND - no exchange 'nope' in vhost '/'")
    expiring = client.post(
        "/api/exchanges/%2F/amq.direct/publish",
        json={"payload": "x", "properties": {"expiration": "abc"}},
    )
    assert error_of(expiring) == (
        406,
        "precondition_failed",
        "PRECONDITION_FAILED - invalid expiration 'abc': no_integer",
    )
    replying = client.post(
        "/api/exchanges/%2F/amq.default/publish",
        json={"payload": "x", "properties": {"reply_to": "amq.rabbitmq.reply-to"}},
    )
    assert error_of(replying) == (
        406,
        "precondition_failed",
        "PRECONDITION_FAILED - fast reply consumer does not exist",
    )
    client.put("/api/exchanges/%2F/inside", json={"type": "fanout", "internal": True})
    assert error_of(client.post("/api/exchanges/%2F/inside/publish", json={"payload": ""}))[0] == (
        403
    )
    ok = client.post("/api/exchanges/%2F/amq.direct/publish", json={"payload": "fine"})
    assert ok.status_code == 200


# --- queues -------------------------------------------------------------------------------


def test_queue_put_get_delete(client: FlaskClient) -> None:
    assert client.put("/api/queues/%2F/q", json={"durable": False}).status_code == 201
    assert client.put("/api/queues/%2F/q", json={"durable": False}).status_code == 204
    queue = client.get("/api/queues/%2F/q").get_json()
    assert queue["durable"] is False and queue["messages"] == 0
    assert queue["consumer_details"] == []
    assert [q["name"] for q in client.get("/api/queues").get_json()] == ["q"]
    assert client.delete("/api/queues/%2F/q").status_code == 204
    assert error_of(client.delete("/api/queues/%2F/q")) == (
        404,
        "not_found",
        "NOT_FOUND - no queue 'q' in vhost '/'",
    )


def test_queue_errors_have_rabbitmq_texts(client: FlaskClient, broker: Broker) -> None:
    client.put("/api/queues/%2F/q", json={"durable": False})
    assert error_of(client.put("/api/queues/%2F/q", json={"durable": True}))[2] == (
        "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': "
        "received 'true' but current is 'false'"
    )
    assert error_of(client.put("/api/queues/%2F/r", json={"arguments": {"x-max-length": -1}})) == (
        406,
        "precondition_failed",
        "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'r' in vhost '/': "
        "{value_negative,-1}",
    )
    assert error_of(client.put("/api/queues/%2F/amq.q")) == (
        403,
        "access_refused",
        "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'",
    )
    assert client.put("/api/queues/%2F/e", json={"exclusive": True}).status_code == 400
    owner = broker.connect("owner").channel()
    owner.queue_declare("mine", exclusive=True)
    assert error_of(client.delete("/api/queues/%2F/mine")) == (
        405,
        "resource_locked",
        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine' in vhost '/'. "
        "It could be originally declared on another connection or the exclusive property value "
        "does not match that of the original declaration.",
    )


def test_queue_delete_conditions_and_purge(client: FlaskClient, broker: Broker) -> None:
    client.put("/api/queues/%2F/q")
    channel = broker.connect("app").channel()
    channel.basic_publish("", "q", b"m")
    assert error_of(client.delete("/api/queues/%2F/q?if-empty=true"))[2] == (
        "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty"
    )
    channel.basic_consume("q", lambda d: None)
    assert error_of(client.delete("/api/queues/%2F/q?if-unused=true"))[2] == (
        "PRECONDITION_FAILED - queue 'q' in vhost '/' in use"
    )
    client.put("/api/queues/%2F/p")
    channel.basic_publish("", "p", b"1")
    channel.basic_publish("", "p", b"2")
    assert client.delete("/api/queues/%2F/p/contents").status_code == 204
    assert client.get("/api/queues/%2F/p").get_json()["messages"] == 0
    detail = client.get("/api/queues/%2F/q").get_json()
    assert detail["consumer_details"][0]["queue"] == {"name": "q", "vhost": "/"}


def publish_n(client: FlaskClient, queue: str, count: int) -> None:
    for n in range(count):
        client.post(
            "/api/exchanges/%2F/amq.default/publish",
            json={"routing_key": queue, "payload": f"m{n}"},
        )


def test_get_ackmodes(client: FlaskClient) -> None:
    client.put("/api/queues/%2F/q")
    publish_n(client, "q", 3)
    got = client.post("/api/queues/%2F/q/get", json={"count": 2, "ackmode": "ack_requeue_true"})
    first = got.get_json()
    assert [m["payload"] for m in first] == ["m0", "m1"]
    assert [m["message_count"] for m in first] == [2, 1]
    assert set(first[0]) >= {
        "payload_bytes",
        "redelivered",
        "exchange",
        "routing_key",
        "message_count",
        "properties",
        "payload",
        "payload_encoding",
    }
    again = client.post("/api/queues/%2F/q/get", json={"count": 5, "ackmode": "ack_requeue_false"})
    assert [(m["payload"], m["redelivered"]) for m in again.get_json()] == [
        ("m0", True),
        ("m1", True),
        ("m2", False),
    ]
    assert client.post("/api/queues/%2F/q/get", json={"count": 1}).get_json() == []
    publish_n(client, "q", 1)
    cut = client.post(
        "/api/queues/%2F/q/get", json={"count": 1, "ackmode": "nack_requeue_true", "truncate": 1}
    ).get_json()
    assert cut[0]["payload"] == "m" and cut[0]["payload_bytes"] == 2
    assert client.post("/api/queues/%2F/q/get", json={"ackmode": "maybe"}).status_code == 400
    assert client.post("/api/queues/%2F/q/get", json={"count": 0}).status_code == 400
    assert client.post("/api/queues/%2F/nope/get", json={"count": 1}).status_code == 404


def test_get_reject_requeue_false_dead_letters(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/dlx", json={"type": "fanout"})
    client.put("/api/queues/%2F/dead")
    client.post("/api/bindings/%2F/e/dlx/q/dead", json={})
    client.put("/api/queues/%2F/work", json={"arguments": {"x-dead-letter-exchange": "dlx"}})
    publish_n(client, "work", 1)
    client.post("/api/queues/%2F/work/get", json={"count": 1, "ackmode": "reject_requeue_false"})
    [dead] = client.get("/api/queues/%2F/dead/peek").get_json()
    death = dead["properties"]["headers"]["x-death"][0]
    assert death["reason"] == "rejected" and death["queue"] == "work"
    assert isinstance(death["time"], str)  # a datetime, shown as ISO 8601


def test_peek_is_not_destructive(client: FlaskClient) -> None:
    client.put("/api/queues/%2F/q")
    publish_n(client, "q", 3)
    assert len(client.get("/api/queues/%2F/q/peek?count=2").get_json()) == 2
    assert client.get("/api/queues/%2F/q").get_json()["messages_ready"] == 3
    assert client.get("/api/queues/%2F/q/peek?count=zero").status_code == 400
    assert client.get("/api/queues/%2F/nope/peek").status_code == 404


# --- bindings -----------------------------------------------------------------------------


def test_bindings_queue(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/x", json={"type": "direct"})
    client.put("/api/queues/%2F/q")
    created = client.post("/api/bindings/%2F/e/x/q/q", json={"routing_key": "a/b"})
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/bindings/%2F/e/x/q/q/a%2Fb"
    client.post("/api/bindings/%2F/e/x/q/q", json={})
    keys = sorted(b["properties_key"] for b in client.get("/api/bindings/%2F/e/x/q/q").get_json())
    assert keys == ["a/b", "~"]
    assert client.get("/api/bindings/%2F/e/x/q/q/a%2Fb").get_json()["routing_key"] == "a/b"
    assert client.get("/api/bindings/%2F/e/x/q/q/~").get_json()["routing_key"] == ""
    everything = client.get("/api/bindings/%2F").get_json()
    assert {"source": "", "destination": "q", "routing_key": "q"}.items() <= everything[0].items()
    source = client.get("/api/exchanges/%2F/x/bindings/source").get_json()
    assert len(source) == 2
    assert len(client.get("/api/queues/%2F/q/bindings").get_json()) == 3  # with the default
    assert client.delete("/api/bindings/%2F/e/x/q/q/~").status_code == 204
    assert client.delete("/api/bindings/%2F/e/x/q/q/~").status_code == 404
    assert client.get("/api/bindings/%2F/e/x/q/nope").status_code == 404
    assert error_of(client.post("/api/bindings/%2F/e/nope/q/q", json={}))[2] == (
        "NOT_FOUND - no exchange 'nope' in vhost '/'"
    )


def test_bindings_with_arguments_and_exchange_to_exchange(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/h", json={"type": "headers"})
    client.put("/api/exchanges/%2F/down", json={"type": "fanout"})
    bad = client.post("/api/bindings/%2F/e/h/e/down", json={"arguments": {"x-match": "foo"}})
    assert error_of(bad)[2] == (
        'PRECONDITION_FAILED - Invalid x-match field value <<"foo">>; '
        "expected all, any, all-with-x, or any-with-x"
    )
    for value in ("1", "2"):
        response = client.post(
            "/api/bindings/%2F/e/h/e/down", json={"arguments": {"x-match": "all", "a": value}}
        )
        assert response.status_code == 201
    listed = client.get("/api/bindings/%2F/e/h/e/down").get_json()
    keys = {b["properties_key"] for b in listed}
    assert len(keys) == 2 and all(k.startswith("~") for k in keys)
    destination = client.get("/api/exchanges/%2F/down/bindings/destination").get_json()
    assert len(destination) == 2
    key = listed[0]["properties_key"]
    assert client.delete(f"/api/bindings/%2F/e/h/e/down/{q(key)}").status_code == 204
    assert len(client.get("/api/bindings/%2F/e/h/e/down").get_json()) == 1


# --- consumers, connections, channels -------------------------------------------------------


def test_consumers_connections_channels(client: FlaskClient, broker: Broker) -> None:
    channel = broker.connect("worker").channel()
    channel.queue_declare("q")
    channel.basic_consume("q", lambda d: None, consumer_tag="c1")
    client.put("/api/queues/%2F/other")
    [consumer] = client.get("/api/consumers").get_json()
    assert consumer["consumer_tag"] == "c1"
    assert consumer["queue"] == {"name": "q", "vhost": "/"}
    assert client.get("/api/consumers/%2F").get_json() == [consumer]
    connections = {c["name"]: c for c in client.get("/api/connections").get_json()}
    assert connections["management UI"]["type"] == "web"
    assert "worker" in connections
    assert len(client.get("/api/vhosts/%2F/connections").get_json()) == 2
    assert client.get("/api/channels").get_json()
    assert client.get("/api/vhosts/%2F/channels").get_json()


# --- definitions --------------------------------------------------------------------------


def test_definitions_round_trip(client: FlaskClient) -> None:
    client.put("/api/exchanges/%2F/orders", json={"type": "topic", "durable": True})
    client.put("/api/queues/%2F/eu", json={"durable": True, "arguments": {"x-message-ttl": 60000}})
    client.post("/api/bindings/%2F/e/orders/q/eu", json={"routing_key": "order.eu.#"})
    definitions = client.get("/api/definitions").get_json()
    assert [e["name"] for e in definitions["exchanges"]] == ["orders"]
    assert definitions["queues"][0]["arguments"] == {"x-message-ttl": 60000}

    fresh = Broker()
    try:
        other = create_app({"BROKER": fresh, "TESTING": True}).test_client()
        response = other.post("/api/definitions", json=definitions)
        assert response.status_code == 201
        assert response.get_json()["imported"]["bindings"] == 1
        again = other.get("/api/definitions").get_json()
        for key in ("exchanges", "queues", "bindings", "vhosts"):
            assert again[key] == definitions[key]
        assert other.get("/api/definitions/%2F").get_json()["queues"] == definitions["queues"]
        bad = other.post("/api/definitions", json={"queues": [{"name": 5}]})
        assert bad.status_code == 400
        assert other.post("/api/definitions", json={"queues": "no"}).status_code == 400
        # An unknown exchange type is refused as PUT /api/exchanges refuses it.
        odd = other.post("/api/definitions", json={"exchanges": [{"name": "y", "type": "foo"}]})
        assert error_of(odd) == (
            400,
            "command_invalid",
            "COMMAND_INVALID - invalid exchange type 'foo'",
        )
    finally:
        fresh.close()


# --- events and message history -------------------------------------------------------------


def test_events_filters(client: FlaskClient, broker: Broker) -> None:
    client.put("/api/queues/%2F/q")
    client.put("/api/queues/%2F/r")
    publish_n(client, "q", 2)
    everything = client.get("/api/events").get_json()
    assert everything["last_seq"] == broker.events.last_seq
    declared = client.get("/api/events?type=queue.*").get_json()["events"]
    assert [e["name"] for e in declared] == ["q", "r"]
    about_q = client.get("/api/events?entity=q&type=enqueued").get_json()["events"]
    assert len(about_q) == 2
    since = declared[0]["seq"]
    paged = client.get(f"/api/events?since={since}&limit=1").get_json()["events"]
    assert paged[0]["seq"] == since + 1
    assert client.get("/api/events?limit=0").status_code == 400
    assert client.get("/api/events?since=x").status_code == 400


def test_message_history(client: FlaskClient, broker: Broker) -> None:
    client.put("/api/queues/%2F/q")
    message_id = client.post(
        "/api/exchanges/%2F/amq.default/publish", json={"routing_key": "q", "payload": "story"}
    ).get_json()["message_id"]
    client.post("/api/queues/%2F/q/get", json={"count": 1, "ackmode": "ack"})
    history = client.get(f"/api/messages/{message_id}/history").get_json()
    assert history["complete"] is True
    types = [e["type"] for e in history["events"]]
    assert types == ["published", "routed", "enqueued", "delivered", "acked"]
    assert history["events"][0]["message"]["payload"] == "story"
    assert history["events"][1]["trace"][0]["matched"] is True
    assert client.get("/api/messages/999999/history").status_code == 404
    assert client.get("/api/messages/abc/history").status_code == 400


def test_event_types_are_the_broker_vocabulary(client: FlaskClient) -> None:
    body = client.get("/api/event-types").get_json()
    assert body == vocabulary()
    assert body["published"]["family"] == "flow"
    assert body["dropped"]["problem"] is True
    assert "message_id" in body["acked"]["fields"]
    assert client.post("/api/event-types").status_code == 405


# --- HTTP-level errors and security ---------------------------------------------------------


def test_http_errors_are_json(client: FlaskClient) -> None:
    assert error_of(client.get("/api/nothing-here"))[0:2] == (404, "not_found")
    response = client.post("/api/queues/%2F")
    assert error_of(response)[0:2] == (405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"
    bad_json = client.put("/api/queues/%2F/q", data="{nope", content_type="application/json")
    assert error_of(bad_json)[0:2] == (400, "bad_request")
    not_object = client.put("/api/queues/%2F/q", data="[1]", content_type="application/json")
    assert error_of(not_object)[0] == 400
    nan = client.put("/api/queues/%2F/q", data='{"a": NaN}', content_type="application/json")
    assert nan.status_code == 400
    form = client.put(
        "/api/queues/%2F/q",
        data="durable=true",
        content_type="application/x-www-form-urlencoded",  # what curl -d sends
    )
    assert error_of(form)[0:2] == (415, "unsupported_media_type")
    deep = '{"arguments": ' + "[" * 100 + "]" * 100 + "}"
    assert client.put(
        "/api/queues/%2F/q", data=deep, content_type="application/json"
    ).status_code == (400)
    long_name = q("é" * 128)  # 256 bytes of UTF-8
    assert "255" in error_of(client.put(f"/api/queues/%2F/{long_name}"))[2]
    assert client.get("/api/queues/%2F/%FF").status_code == 400
    assert client.get("/api/queues/nope").status_code == 404


def test_body_over_the_limit_is_413(broker: Broker) -> None:
    app = create_app({"BROKER": broker, "TESTING": True, "MAX_CONTENT_LENGTH": 1000})
    response = app.test_client().post(
        "/api/exchanges/%2F/amq.direct/publish", json={"payload": "x" * 2000}
    )
    assert error_of(response)[0:2] == (413, "payload_too_large")


def test_cross_site_writes_are_refused(client: FlaskClient) -> None:
    foreign = client.put("/api/queues/%2F/q", headers={"Origin": "http://evil.example"})
    assert error_of(foreign)[0:2] == (403, "forbidden")
    assert client.put("/api/queues/%2F/q", headers={"Origin": "null"}).status_code == 403
    cross = client.put("/api/queues/%2F/q", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert client.get("/api/queues/%2F/q").status_code == 404  # nothing was declared
    # Reading is not refused; the same origin and no origin (curl) may write.
    assert client.get("/api/queues", headers={"Origin": "http://evil.example"}).status_code == 200
    same = client.put("/api/queues/%2F/q", headers={"Origin": "http://localhost"})
    assert same.status_code == 201
    assert client.delete("/api/queues/%2F/q").status_code == 204


def test_properties_with_binary_headers_are_json_safe(client: FlaskClient, broker: Broker) -> None:
    channel = broker.connect("app").channel()
    channel.queue_declare("q")
    channel.basic_publish(
        "", "q", b"\xff\xfe", Properties(headers={"raw": b"\x00\xff", "t": b"ok"})
    )
    [message] = client.get("/api/queues/%2F/q/peek").get_json()
    assert message["payload_encoding"] == "base64"
    assert message["properties"]["headers"] == {"raw": "AP8=", "t": "ok"}


def test_a_host_the_app_does_not_serve_is_refused_even_with_a_matching_origin(
    client: FlaskClient,
) -> None:
    """DNS rebinding: evil.example resolves to 127.0.0.1, so its page's requests reach us with
    Host and Origin both evil.example. Only the Host gives it away."""
    evil = {"Host": "evil.example:15672", "Origin": "http://evil.example:15672"}
    refused = client.put("/api/queues/%2F/q", headers=evil)
    assert refused.status_code == 403
    assert refused.get_json()["reason"] == "host 'evil.example' is not one this QueueLab serves"
    assert client.get("/api/queues", headers={"Host": "evil.example"}).status_code == 403
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403
    for host in ("localhost:15672", "127.0.0.1:15672", "[::1]:15672", "LOCALHOST"):
        assert client.get("/api/overview", headers={"Host": host}).status_code == 200, host


def test_a_teacher_allows_the_names_a_class_uses(broker: Broker) -> None:
    from app import allowed_hosts

    served = allowed_hosts("0.0.0.0", ["queuelab.school.example"])
    assert {"localhost", "127.0.0.1", "::1", "queuelab.school.example"} <= served
    assert "evil.example" not in served
    assert allowed_hosts("192.168.1.20", []) >= {"192.168.1.20", "localhost"}
    app = create_app({"BROKER": broker, "ALLOWED_HOSTS": served})
    client = app.test_client()
    assert (
        client.get("/api/overview", headers={"Host": "queuelab.school.example"}).status_code == 200
    )
