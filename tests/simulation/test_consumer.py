"""Simulated consumers: ack modes, prefetch, processing time, failures, crashes."""

from __future__ import annotations

import pytest

from broker import AMQPError, Broker
from simulation import Simulations
from tests.simulation.queues import depth, fill
from tests.waiting import wait_for


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
    with pytest.raises(AMQPError, match="NOT_FOUND - no queue 'nope'"):
        simulations.start({"kind": "consumer", "queue": "nope"})


def test_consumer_ends_when_its_queue_is_deleted(broker: Broker, simulations: Simulations):
    fill(broker, "brief", 0)
    consumer = simulations.start({"kind": "consumer", "queue": "brief"})
    broker.connect("admin").channel().queue_delete("brief")
    wait_for(lambda: not consumer.running)
    assert consumer.state == "finished" and consumer.error == "the queue was deleted"
