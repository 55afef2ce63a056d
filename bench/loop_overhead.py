"""What the instrumentation costs: callbacks per second, instrumented loop vs plain asyncio.

Runs the same workloads on a plain ``asyncio.SelectorEventLoop`` and on a running (not paused)
:class:`eventloop.ServiceLoop`, best of a few rounds each, interleaved:

* batch — 1,000 ``call_soon`` callbacks queued at a time (raw callback throughput);
* chain — each callback queues the next (one loop iteration per callback);
* batch with a live subscriber draining the event stream in another thread.

The last line is ``ratio_vs_plain=<x>``: instrumented ÷ plain callbacks per second for the batch
workload without subscribers (1.0 would mean free). Usage: ``python bench/loop_overhead.py``.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventloop import ServiceLoop  # noqa: E402

CALLBACKS = 100_000
BATCH = 1_000
ROUNDS = 3


async def batch_workload(n: int = CALLBACKS, batch: int = BATCH) -> float:
    """Queue ``batch`` callbacks at a time until ``n`` have run; returns elapsed seconds."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    remaining = [n]

    def callback() -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            done.set_result(None)

    started = time.perf_counter()
    queued = 0
    while queued < n:
        for _ in range(min(batch, n - queued)):
            loop.call_soon(callback)
        queued += batch
        await asyncio.sleep(0)
    await done
    return time.perf_counter() - started


async def chain_workload(n: int = CALLBACKS // 4) -> float:
    """Each callback queues the next one, so every callback is a loop iteration of its own."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def callback(left: int) -> None:
        if left:
            loop.call_soon(callback, left - 1)
        else:
            done.set_result(None)

    started = time.perf_counter()
    loop.call_soon(callback, n - 1)
    await done
    return time.perf_counter() - started


def on_plain(workload: Callable[[], Coroutine[Any, Any, float]]) -> float:
    loop = asyncio.SelectorEventLoop()
    try:
        return loop.run_until_complete(workload())
    finally:
        loop.close()


def on_instrumented(
    workload: Callable[[], Coroutine[Any, Any, float]], subscriber: bool = False
) -> tuple[float, int]:
    """Run on a fresh service loop; returns elapsed seconds and events delivered."""
    svc = ServiceLoop(name="bench loop", log_unhandled=False).start()
    received = [0]
    stop = threading.Event()
    reader = None
    if subscriber:
        sub = svc.subscribe(maxlen=10_000)

        def drain() -> None:
            while not stop.is_set():
                received[0] += len(sub.get(timeout=0.05).events)

        reader = threading.Thread(target=drain, name="subscriber")
        reader.start()
    try:
        elapsed = svc.submit(workload(), name="bench").result(timeout=120)
    finally:
        stop.set()
        if reader is not None:
            reader.join()
        svc.stop()
    return elapsed, received[0]


def best_rate(n: int, timings: list[float]) -> float:
    return n / min(timings)


def main() -> None:
    plain_batch: list[float] = []
    plain_chain: list[float] = []
    inst_batch: list[float] = []
    inst_chain: list[float] = []
    inst_sub: list[float] = []
    events = 0
    for _ in range(ROUNDS):
        plain_batch.append(on_plain(batch_workload))
        inst_batch.append(on_instrumented(batch_workload)[0])
        plain_chain.append(on_plain(chain_workload))
        inst_chain.append(on_instrumented(chain_workload)[0])
        elapsed, events = on_instrumented(batch_workload, subscriber=True)
        inst_sub.append(elapsed)

    chain_n = CALLBACKS // 4
    rates = {
        "plain batch": best_rate(CALLBACKS, plain_batch),
        "instrumented batch": best_rate(CALLBACKS, inst_batch),
        "instrumented batch + subscriber": best_rate(CALLBACKS, inst_sub),
        "plain chain": best_rate(chain_n, plain_chain),
        "instrumented chain": best_rate(chain_n, inst_chain),
    }
    print(f"python {sys.version.split()[0]}, {CALLBACKS:,} callbacks, best of {ROUNDS}")
    for label, rate in rates.items():
        print(f"{label:>34}: {rate:>12,.0f} callbacks/s  ({1e6 / rate:6.2f} µs each)")
    print(f"{'events delivered to subscriber':>34}: {events:>12,} (last round)")
    chain_ratio = rates["instrumented chain"] / rates["plain chain"]
    print(f"{'chain ratio vs plain':>34}: {chain_ratio:12.3f}")
    print(f"ratio_vs_plain={rates['instrumented batch'] / rates['plain batch']:.3f}")


if __name__ == "__main__":
    main()
