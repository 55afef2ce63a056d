"""Messages per second through the broker vs queue.Queue, measured in the same run.

Broker path: one producer thread publishes 100-byte bodies to a direct exchange; one consumer
(the blocking client: its callback runs on the consumer's worker thread) acks each message.
Baseline: queue.Queue put on one thread, get on another — the cheapest hand-off Python has.
Both run with the garbage-collector setting the app uses (gc_tuning.py), as printed;
each side's figure is its median over five rounds, taken in turn with the other side's.
Last line: ratio_vs_queue=<broker msgs/s ÷ queue.Queue msgs/s> (goal ≥ 0.25).
"""

from __future__ import annotations

import gc
import queue
import statistics
import threading
import time

import _common  # noqa: F401  (puts the repository on sys.path)

from broker import Broker
from clients.blocking import BlockingConnection
from gc_tuning import tune_for_broker

MESSAGES = 100_000
# Each side's median over alternating rounds: one round of either side can be far off (seen:
# queue.Queue at twice its usual rate once in twenty rounds), and a best-of would keep that one.
ROUNDS = 5
BODY = b"x" * 100


def queue_rate() -> float:
    channel: queue.Queue[bytes] = queue.Queue()

    def consume() -> None:
        for _ in range(MESSAGES):
            channel.get()

    consumer = threading.Thread(target=consume)
    started = time.perf_counter()
    consumer.start()
    for _ in range(MESSAGES):
        channel.put(BODY)
    consumer.join()
    return MESSAGES / (time.perf_counter() - started)


def broker_rate() -> float:
    broker = Broker()
    done = threading.Event()
    received = 0

    def on_message(channel, method, properties, body) -> None:
        nonlocal received
        channel.basic_ack(method.delivery_tag)
        received += 1
        if received == MESSAGES:
            done.set()

    consumer = BlockingConnection(broker, "consumer").channel()
    consumer.exchange_declare("bench", "direct")
    consumer.queue_declare("bench")
    consumer.queue_bind("bench", "bench", "key")
    consumer.basic_qos(prefetch_count=1000)
    consumer.basic_consume("bench", on_message)
    producer = broker.connect("producer").channel()
    started = time.perf_counter()
    for _ in range(MESSAGES):
        producer.basic_publish("bench", "key", BODY)
    done.wait()
    elapsed = time.perf_counter() - started
    broker.close()
    return MESSAGES / elapsed


def main() -> None:
    previous = tune_for_broker()
    print(f"gc thresholds {previous} -> {gc.get_threshold()} (as the app runs)")
    baselines, ours = [], []
    for _ in range(ROUNDS):  # alternating, so both see the same background load
        baselines.append(queue_rate())
        ours.append(broker_rate())
    baseline, rate = statistics.median(baselines), statistics.median(ours)
    print(f"queue.Queue put/get across threads: {baseline:,.0f} msgs/s")
    print(f"broker publish→route→deliver→ack:   {rate:,.0f} msgs/s")
    print(f"ratio_vs_queue={rate / baseline:.3f}")


if __name__ == "__main__":
    main()
