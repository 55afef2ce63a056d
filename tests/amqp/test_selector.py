"""The listener's selector polls after traffic, sleeps when quiet, and keeps asyncio's timers."""

from __future__ import annotations

import selectors
import socket
import threading
import time

import pytest

from amqp.selector import SpinThenSleepSelector

SPIN = 0.3  # long enough to tell spinning from sleeping by the CPU time it costs


@pytest.fixture
def pair():
    left, right = socket.socketpair()
    selector = SpinThenSleepSelector(spin=SPIN)
    selector.register(left, selectors.EVENT_READ)
    yield selector, left, right
    selector.close()
    left.close()
    right.close()


def wake(selector: SpinThenSleepSelector, left: socket.socket, right: socket.socket) -> None:
    """Traffic: one ready socket, read, so that the next select starts a spin."""
    right.send(b"x")
    assert selector.select(1.0)
    left.recv(1)


def cpu_of(call) -> tuple[float, float, object]:
    """(wall seconds, this thread's CPU seconds, result) of one call."""
    wall, cpu = time.monotonic(), time.thread_time()
    result = call()
    return time.monotonic() - wall, time.thread_time() - cpu, result


def test_quiet_listener_sleeps_without_spinning(pair) -> None:
    selector, _, _ = pair
    wall, cpu, ready = cpu_of(lambda: selector.select(0.2))
    assert ready == []
    assert wall >= 0.19
    assert cpu < 0.05, "nothing happened, so nothing should have been polled"


def test_after_traffic_it_polls_then_sleeps(pair) -> None:
    selector, left, right = pair
    wake(selector, left, right)
    wall, cpu, ready = cpu_of(lambda: selector.select(0.6))
    assert ready == []
    assert wall >= 0.59
    assert SPIN * 0.5 < cpu < SPIN + 0.15, "polled for about SPIN seconds, then slept"


def test_frame_during_the_spin_is_returned_at_once(pair) -> None:
    selector, left, right = pair
    wake(selector, left, right)
    threading.Timer(0.05, right.send, args=(b"y",)).start()
    wall, _, ready = cpu_of(lambda: selector.select(5.0))
    assert [key.fileobj for key, _ in ready] == [left]
    assert wall < SPIN


def test_timers_fire_on_time_despite_the_spin(pair) -> None:
    """asyncio passes the time to its next timer: the spin counts against it."""
    selector, left, right = pair
    wake(selector, left, right)
    wall, _, ready = cpu_of(lambda: selector.select(0.1))
    assert ready == []
    assert 0.09 <= wall < 0.1 + 0.05


def test_spinning_leaves_the_gil_to_other_threads(pair) -> None:
    selector, left, right = pair

    def count_for(seconds: float) -> int:
        done, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            done += 1
        return done

    def count_beside(select_timeout: float, work_seconds: float) -> int:
        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(count_for(work_seconds)))
        worker.start()
        selector.select(select_timeout)
        worker.join()
        return result[0]

    sleeping = count_beside(0.0, 0.2)
    wake(selector, left, right)
    spinning = count_beside(0.25, 0.2)  # the whole count runs inside the spin window
    assert spinning > sleeping * 0.2, (spinning, sleeping)
