"""Per-message routing cost on a topic exchange with 1,000 bindings vs 10, same run.

Bindings look like a real system's (`order.<region>.<n>.#`, `*.<region>.shipped`, …), so the
trie has breadth and `*`/`#` branches. Each message is routed by publishing it; only a few
bindings match, so the figure is the cost of finding them. Last line: ratio_1000_vs_10=<x>
(goal ≤ 2.0: routing must not scan every binding).
"""

from __future__ import annotations

import time

from _common import best_of

from broker import Broker

MESSAGES = 20_000
REGIONS = ["eu", "us", "ap", "sa", "af"]


def binding_keys(count: int) -> list[str]:
    keys = []
    for n in range(count):
        region = REGIONS[n % len(REGIONS)]
        shape = n % 4
        if shape == 0:
            keys.append(f"order.{region}.{n}.#")
        elif shape == 1:
            keys.append(f"*.{region}.shipped.{n}")
        elif shape == 2:
            keys.append(f"invoice.{region}.{n}")
        else:
            keys.append(f"audit.#.{n}")
    return keys


def routing_cost(count: int) -> float:
    """Seconds per publish on an exchange with `count` bindings (one queue each)."""
    broker = Broker()
    channel = broker.connect("bench").channel()
    channel.exchange_declare("events", "topic")
    for index, key in enumerate(binding_keys(count)):
        queue = f"q{index}"
        channel.queue_declare(queue, arguments={"x-max-length": 10})
        channel.queue_bind(queue, "events", key)
    routing_keys = [f"order.{REGIONS[i % 5]}.{i % 12}.paid" for i in range(MESSAGES)]

    def rate() -> float:
        started = time.perf_counter()
        for key in routing_keys:
            channel.basic_publish("events", key, b"x" * 100)
        return MESSAGES / (time.perf_counter() - started)

    best = best_of(3, rate)
    broker.close()
    return 1 / best


def main() -> None:
    small = routing_cost(10)
    large = routing_cost(1000)
    print(f"10 bindings:    {small * 1e6:.1f} µs per message")
    print(f"1,000 bindings: {large * 1e6:.1f} µs per message")
    print(f"ratio_1000_vs_10={large / small:.2f}")


if __name__ == "__main__":
    main()
