"""The same pika workload against QueueLab's AMQP listener and a real RabbitMQ, alternating.

    .venv/bin/python bench/amqp_vs_rabbitmq.py            # N=20000, 5 rounds
    .venv/bin/python bench/amqp_vs_rabbitmq.py -n 50000 -r 9

Workload (pika BlockingConnection, one connection per broker, a fresh queue each round):
  publish  N messages of 100 bytes, no confirms; timed until the broker reports all N in the
           queue (a passive queue.declare answered after the last publish was processed)
  consume  the N messages with manual acks, prefetch 100
  confirm  N/4 messages in confirm mode, each publish waiting for its basic.ack

QueueLab runs in a subprocess (`--serve`), not in this process: the client and the broker then
each have a core and a GIL of their own, as with RabbitMQ, which is its own OS process. In one
process pika's busy loop and the broker would take turns on one GIL and the figures would
measure that contention rather than the broker.

Prints the rate of each step for each broker (median over the rounds), and as its last line
`publish_ratio=<x> consume_ratio=<y> confirm_ratio=<z>`: QueueLab ÷ RabbitMQ (above 1: faster).
RabbitMQ is expected on 127.0.0.1:5672 with guest/guest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
BODY = b"x" * 100


def serve() -> None:
    """--serve: run a broker and its AMQP listener until stdin closes; print the port first."""
    sys.path.insert(0, str(ROOT))
    from amqp import AMQPServer
    from broker import Broker
    from gc_tuning import tune_for_broker

    tune_for_broker()  # as `python app.py` runs
    broker = Broker()
    server = AMQPServer(broker, port=0).start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()
    broker.close()


class Run:
    """One broker's side of a round: a connection, a fresh queue, and the three timed steps."""

    def __init__(self, url: str, n: int) -> None:
        import pika

        self.n = n
        self.connection = pika.BlockingConnection(pika.URLParameters(url + "?heartbeat=0"))
        self.channel = self.connection.channel()
        self.queue = f"bench-{uuid.uuid4().hex[:8]}"
        self.channel.queue_declare(self.queue)

    def publish(self) -> float:
        channel, queue, n = self.channel, self.queue, self.n
        start = time.perf_counter()
        for _ in range(n):
            channel.basic_publish("", queue, BODY)
        while channel.queue_declare(queue, passive=True).method.message_count < n:
            pass
        return n / (time.perf_counter() - start)

    def consume(self) -> float:
        channel, n = self.channel, self.n
        channel.basic_qos(prefetch_count=100)
        received = 0

        def on_message(ch, method, properties, body) -> None:  # noqa: ANN001
            nonlocal received
            ch.basic_ack(method.delivery_tag)
            received += 1
            if received == n:
                ch.stop_consuming()

        start = time.perf_counter()
        channel.basic_consume(self.queue, on_message)
        channel.start_consuming()
        return n / (time.perf_counter() - start)

    def confirm(self) -> float:
        channel = self.connection.channel()
        channel.confirm_delivery()
        count = max(1, self.n // 4)
        start = time.perf_counter()
        for _ in range(count):
            channel.basic_publish("", self.queue, BODY)
        return count / (time.perf_counter() - start)

    def close(self) -> None:
        self.connection.channel().queue_delete(self.queue)
        self.connection.close()


STEPS = ("publish", "consume", "confirm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20000, help="messages per round (default 20000)")
    parser.add_argument("-r", "--rounds", type=int, default=5, help="rounds per broker")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        targets = {
            "queuelab": f"amqp://guest:guest@127.0.0.1:{port}/%2F",
            "rabbitmq": RABBITMQ_URL,
        }
        results: dict[str, dict[str, list[float]]] = {name: {} for name in targets}
        for name in targets:  # warm up both
            warm = Run(targets[name], min(args.n, 2000))
            for step in STEPS:
                getattr(warm, step)()
            warm.close()
        for round_number in range(args.rounds):
            # Each step runs on both brokers back to back (first one, then the other, swapping
            # every round), so both see the same background load on a shared machine.
            order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
            runs = {name: Run(targets[name], args.n) for name in order}
            for step in STEPS:
                for name in order:
                    results[name].setdefault(step, []).append(getattr(runs[name], step)())
            for name in order:
                runs[name].close()
                shown = "  ".join(f"{step} {results[name][step][-1]:9,.0f}/s" for step in STEPS)
                print(f"round {round_number + 1} {name:9} {shown}", flush=True)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(10)

    medians = {
        name: {step: statistics.median(values) for step, values in steps.items()}
        for name, steps in results.items()
    }
    print(f"\nmedian over {args.rounds} rounds, N={args.n} (100-byte bodies):")
    for name, steps in medians.items():
        print(f"  {name:9} " + "  ".join(f"{s} {r:9,.0f} msg/s" for s, r in steps.items()))
    ratio = {s: medians["queuelab"][s] / medians["rabbitmq"][s] for s in medians["queuelab"]}
    print(
        f"publish_ratio={ratio['publish']:.2f} consume_ratio={ratio['consume']:.2f} "
        f"confirm_ratio={ratio['confirm']:.2f}"
    )


if __name__ == "__main__":
    main()
