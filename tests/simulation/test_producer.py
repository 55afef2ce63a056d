"""Simulated producers: rate, count, and routing keys and bodies from templates."""

from __future__ import annotations

import random
import time

from broker import Broker
from simulation import Simulations
from tests.simulation.queues import depth


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
