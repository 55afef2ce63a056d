"""The broker lessons' checks, on the branches no shipped attempt reaches: answers of the wrong
shape, a missing slow consumer, auto-ack hiding the wait, a server that answers wrongly, and the
reading of the event log (the order of handling, each consumer's speed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker import Broker, Delivery, Properties
from lessons.checks.delay import wait_stays_short
from lessons.checks.fair_dispatch import tasks_done_in_time
from lessons.checks.lab import Lab
from lessons.checks.ordering import _first_overtaken
from lessons.checks.predict_overflow import predict_overflow
from lessons.checks.rpc import fib, replies_match_requests
from lessons.checks.subscribers import every_subscriber_gets_all
from lessons.checks.trail import Trail
from lessons.checks.verdict import Verdict
from simulation import Simulations


@pytest.fixture
def lab(broker: Broker) -> Iterator[Lab]:
    yield Lab(broker, "/")


@pytest.fixture
def simulations(broker: Broker) -> Iterator[Simulations]:
    running = Simulations(broker)
    yield running
    running.stop_all()


def declare(lab: Lab, queue: str, **arguments: object) -> None:
    with lab.connect() as connection:
        connection.channel().queue_declare(queue, arguments=arguments or None)


def consumer(simulations: Simulations, queue: str, **options: object) -> None:
    simulations.start({"kind": "consumer", "queue": queue, **options})


def said(verdict: Verdict) -> str:
    """The why as an English-speaking learner reads it."""
    return verdict.why % verdict.args


def test_a_prediction_must_be_a_list_of_message_numbers(lab: Lab):
    declare(lab, "prices", **{"x-max-length": 3})
    verdict = predict_overflow(lab, {"queue": "prices", "messages": 5}, "3, 4, 5")
    assert not verdict.solved
    assert "Answer with the messages you expect" in said(verdict)


def test_a_consumer_emptying_the_queue_spoils_the_prediction(lab: Lab, simulations):
    declare(lab, "prices", **{"x-max-length": 3})
    consumer(simulations, "prices", ack_mode="manual", prefetch=0)
    verdict = predict_overflow(lab, {"queue": "prices", "messages": 5}, ["3", "4", "5"])
    assert not verdict.solved
    assert "stop it, so the queue fills up" in said(verdict)


def test_two_fast_consumers_are_not_the_fast_and_the_slow_one(lab: Lab, simulations):
    declare(lab, "tasks")
    for _ in range(2):
        consumer(simulations, "tasks", ack_mode="manual", prefetch=1, processing_ms=20)
    params = {"queue": "tasks", "tasks": 6, "seconds": 1.0, "slow_ms": 300}
    verdict = tasks_done_in_time(lab, params, None)
    assert not verdict.solved
    assert "No consumer of 'tasks' takes 300 ms a task" in said(verdict)


def test_auto_ack_hides_the_wait_from_the_delay_check(lab: Lab, simulations):
    declare(lab, "thumbnails")
    consumer(simulations, "thumbnails", ack_mode="auto", processing_ms=50)
    verdict = wait_stays_short(lab, {"queue": "thumbnails", "messages": 4, "seconds": 1.0}, None)
    assert not verdict.solved
    assert "auto-ack" in said(verdict)


def test_a_subscriber_needs_the_exchange_to_exist(lab: Lab):
    verdict = every_subscriber_gets_all(lab, {"exchange": "logs"}, None)
    assert not verdict.solved
    assert verdict.args == {"name": "logs"}


def test_a_wrong_answer_from_the_rpc_server_is_named(broker: Broker, lab: Lab):
    declare(lab, "rpc_queue")
    with broker.connect("server") as connection:
        channel = connection.channel()

        def answer_wrongly(request: Delivery) -> None:
            props = Properties(correlation_id=request.properties.correlation_id)
            channel.basic_publish("", request.properties.reply_to, b"42", props)

        channel.basic_consume("rpc_queue", answer_wrongly, no_ack=True)
        params = {"queue": "rpc_queue", "requests": [10], "seconds": 1.0}
        verdict = replies_match_requests(lab, params, None)
    assert not verdict.solved
    assert verdict.args["got"] == "42" and verdict.args["want"] == fib(10) == 55


def test_the_first_message_overtaken_is_named_with_the_one_that_overtook_it():
    assert _first_overtaken([1, 2, 3]) is None
    assert _first_overtaken([2, 4, 6, 1, 3, 5]) == (2, 1)
    assert _first_overtaken([1, 3, 2]) == (3, 2)


def test_the_trail_reads_order_and_speed_from_the_events(lab: Lab, simulations):
    declare(lab, "work")
    since = lab.last_seq()
    ids = [r.message_id for r in lab.publish_many("", "work", [b"a", b"b", b"c"])]
    consumer(simulations, "work", ack_mode="manual", prefetch=0, processing_ms=100)
    assert lab.wait_until(lambda: Trail(lab, since, ids).all_acked(), timeout=3)
    trail = Trail(lab, since, ids)
    assert trail.ack_order() == ids
    assert trail.delivered_to() == {"simulated consumer 1": 3}
    # Handed all three at once, it works one after the other: ~100 ms each, not 100, 200, 300.
    assert 90 <= trail.processing_ms("simulated consumer 1") < 200
