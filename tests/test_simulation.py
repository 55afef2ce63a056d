"""Simulated consumers and producers, and their HTTP API."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest

from app import create_app
from broker import Broker
from simulation import SimulationError, Simulations, render
from tests.waiting import wait_for


@pytest.fixture
def simulations(broker: Broker) -> Iterator[Simulations]:
    registry = Simulations(broker)
    yield registry
    registry.stop_all()


def depth(broker: Broker, queue: str) -> tuple[int, int]:
    info = next(q for q in broker.snapshot()["queues"] if q["name"] == queue)
    return info["messages_ready"], info["messages_unacknowledged"]


def fill(broker: Broker, queue: str, count: int, **declare) -> None:
    channel = broker.connect("filler").channel()
    channel.queue_declare(queue, **declare)
    for n in range(count):
        channel.basic_publish("", queue, f"m{n}".encode())


def test_manual_ack_consumer_acks_everything(broker: Broker, simulations: Simulations) -> None:
    fill(broker, "work", 20)
    consumer = simulations.start(
        {"kind": "consumer", "queue": "work", "ack_mode": "manual", "prefetch": 5}
    )
    wait_for(lambda: consumer.counters["acked"] == 20)
    assert depth(broker, "work") == (0, 0)
    connections = {c["name"]: c for c in broker.snapshot()["connections"]}
    assert connections[f"simulated consumer {consumer.id}"]["type"] == "simulation"
    [info] = simulations.list()
    assert info["state"] == "running" and info["counters"]["received"] == 20
    simulations.stop(consumer.id)
    assert simulations.list() == []
    assert f"simulated consumer {consumer.id}" not in {
        c["name"] for c in broker.snapshot()["connections"]
    }


def test_prefetch_and_processing_time_bound_what_is_held(
    broker: Broker, simulations: Simulations
) -> None:
    fill(broker, "slow", 10)
    simulations.start({"kind": "consumer", "queue": "slow", "prefetch": 3, "processing_ms": 10_000})
    wait_for(lambda: depth(broker, "slow") == (7, 3))


def test_failures_reject_into_the_dead_letter_exchange(
    broker: Broker, simulations: Simulations
) -> None:
    channel = broker.connect("setup").channel()
    channel.exchange_declare("dlx", "fanout")
    channel.queue_declare("dead")
    channel.queue_bind("dead", "dlx")
    fill(broker, "work", 10, arguments={"x-dead-letter-exchange": "dlx"})
    consumer = simulations.start(
        {"kind": "consumer", "queue": "work", "failure_rate": 1, "on_failure": "reject-dlx"}
    )
    wait_for(lambda: depth(broker, "dead") == (10, 0))
    assert consumer.counters["rejected"] == 10 and consumer.counters["acked"] == 0
    dead = channel.basic_get("dead", no_ack=True)
    assert dead.properties.headers["x-death"][0]["reason"] == "rejected"


def test_nack_requeue_with_a_seed_is_repeatable(broker: Broker) -> None:
    outcomes = []
    for _ in range(2):
        registry = Simulations(broker)
        fill(broker, "flaky", 30)
        consumer = registry.start(
            {
                "kind": "consumer",
                "queue": "flaky",
                "failure_rate": 0.5,
                "on_failure": "nack-requeue",
                "prefetch": 1,
                "seed": 7,
            }
        )
        wait_for(lambda c=consumer: c.counters["acked"] == 30)
        outcomes.append((consumer.counters["nacked"], consumer.counters["redelivered"]))
        registry.stop_all()
    assert outcomes[0] == outcomes[1] and outcomes[0][0] > 0


def test_crash_redelivers_the_message_and_reconnects(
    broker: Broker, simulations: Simulations
) -> None:
    fill(broker, "work", 1)
    consumer = simulations.start(
        {
            "kind": "consumer",
            "queue": "work",
            "failure_rate": 1,
            "on_failure": "crash",
            "reconnect_ms": 20,
        }
    )
    wait_for(lambda: consumer.counters["crashes"] >= 2)
    deliveries = [e for e in broker.events.recent() if e.type == "delivered"]
    assert deliveries[0].get("redelivered") is False
    assert any(e.get("redelivered") for e in deliveries[1:])
    assert consumer.counters["redelivered"] >= 1
    closed = [e for e in broker.events.recent() if e.type == "connection.closed"]
    assert closed[0].get("reason") == "simulated crash"
    simulations.stop(consumer.id)
    assert depth(broker, "work") == (1, 0)  # still there, for the next consumer


def test_consumer_on_a_missing_queue_fails_at_once(simulations: Simulations) -> None:
    from broker import AMQPError

    with pytest.raises(AMQPError, match="NOT_FOUND - no queue 'nope'"):
        simulations.start({"kind": "consumer", "queue": "nope"})


def test_consumer_ends_when_its_queue_is_deleted(broker: Broker, simulations: Simulations):
    fill(broker, "brief", 0)
    consumer = simulations.start({"kind": "consumer", "queue": "brief"})
    broker.connect("admin").channel().queue_delete("brief")
    wait_for(lambda: not consumer.running)
    assert consumer.state == "finished" and consumer.error == "the queue was deleted"


def test_producer_sends_n_at_a_rate(broker: Broker, simulations: Simulations) -> None:
    channel = broker.connect("setup").channel()
    channel.exchange_declare("orders", "topic")
    for region in ("eu", "us"):
        channel.queue_declare(region)
        channel.queue_bind(region, "orders", f"order.{region}.*")
    started = time.monotonic()
    producer = simulations.start(
        {
            "kind": "producer",
            "exchange": "orders",
            "routing_key": "order.{eu|us}.{n}",
            "body": '{"order": {n}}',
            "rate": 100,
            "count": 20,
            "seed": 42,
            "headers": {"source": "sim"},
        }
    )
    assert producer.join(5)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 3
    assert producer.state == "finished" and producer.counters["published"] == 20
    rng = random.Random(42)
    expected_eu = sum(rng.choice(["eu", "us"]) == "eu" for _ in range(20))
    assert depth(broker, "eu")[0] == expected_eu
    assert depth(broker, "us")[0] == 20 - expected_eu
    first = channel.basic_get("eu" if expected_eu else "us", no_ack=True)
    assert first.body.startswith(b'{"order": ') and first.properties.headers == {"source": "sim"}


def test_templates() -> None:
    rng = random.Random(1)
    assert render("a.{n}", 7, rng) == "a.7"
    assert render('{"x": {n}}', 3, rng) == '{"x": 3}'
    assert render("{a|b}", 1, rng) in ("a", "b")
    assert render("{}", 1, rng) == "{}"


@pytest.mark.parametrize(
    "options",
    [
        {"kind": "juggler"},
        {"kind": "consumer"},
        {"kind": "consumer", "queue": "q", "failure_rate": 2},
        {"kind": "consumer", "queue": "q", "on_failure": "explode"},
        {"kind": "consumer", "queue": "q", "prefetch": 1.5},
        {"kind": "consumer", "queue": "q", "priority": "high"},
        {"kind": "consumer", "queue": "q", "priority": 2**31},
        {"kind": "consumer", "queue": "q", "colour": "red"},
        {"kind": "producer", "exchange": "x", "rate": 0},
        {"kind": "producer", "exchange": "x", "properties": {"priority": "high"}},
        {"kind": "producer", "exchange": "x", "body": 5},
    ],
)
def test_bad_options_are_refused(simulations: Simulations, options: dict) -> None:
    with pytest.raises(SimulationError):
        simulations.start(options)


def test_simulations_api(broker: Broker) -> None:
    app = create_app({"BROKER": broker, "TESTING": True})
    client = app.test_client()
    try:
        client.put("/api/queues/%2F/work")
        created = client.post(
            "/api/simulations",
            json={"kind": "consumer", "queue": "work", "ack_mode": "auto"},
        )
        assert created.status_code == 201
        sim_id = created.get_json()["id"]
        assert created.headers["Location"] == f"/api/simulations/{sim_id}"
        [listed] = client.get("/api/simulations").get_json()
        assert listed["state"] == "running" and listed["kind"] == "consumer"
        assert client.get(f"/api/simulations/{sim_id}").get_json()["id"] == sim_id
        bad = client.post("/api/simulations", json={"kind": "consumer", "queue": "work", "x": 1})
        assert bad.status_code == 400 and "unknown option" in bad.get_json()["reason"]
        missing = client.post("/api/simulations", json={"kind": "consumer", "queue": "nope"})
        assert missing.status_code == 404
        repeated = client.post(
            "/api/exchanges/%2F/amq.default/publish",
            json={"routing_key": "work", "payload": "n={n}", "repeat": 5, "rate": 500},
        )
        assert repeated.status_code == 202
        producer = repeated.get_json()["simulation"]
        assert producer["options"]["count"] == 5
        wait_for(lambda: listed_counter(client, sim_id, "received") == 5)
        assert client.delete(f"/api/simulations/{sim_id}").status_code == 204
        assert client.delete(f"/api/simulations/{sim_id}").status_code == 404
        assert client.get("/api/simulations/abc").status_code == 404
    finally:
        app.extensions["queuelab.simulations"].stop_all()


def listed_counter(client, sim_id: int, name: str) -> int:
    return client.get(f"/api/simulations/{sim_id}").get_json()["counters"][name]
