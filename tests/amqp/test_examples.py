"""Every program in examples/ runs to the end against the listener and prints what it should.

Each runs as its own process, as a student would run it, pointed through AMQP_URL at a fresh
broker's listener and then, unchanged, at the real RabbitMQ.
"""

# ruff: noqa: F811  (the fixtures imported from tests.amqp_helpers are test parameters)

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.amqp_helpers import (  # noqa: F401  (fixtures used as parameters)
    ROOT,
    amqp_broker,
    amqp_server,
    amqp_url,
    rabbitmq_url,
    target,
)

EXAMPLES = ROOT / "examples"

# What each example must print (a few telling lines).
EXPECTED = {
    "pika_work_queues.py": ["6 of 6 tasks done"],
    "aio_work_queues.py": ["6 of 6 tasks done"],
    "pika_pubsub.py": ["[subscriber 1 on", "[subscriber 2 on", "error: out of coffee"],
    "aio_pubsub.py": ["every subscriber got every message"],
    "pika_routing.py": ["[errors only] error: disk full", "[everything] warning: slow"],
    "aio_routing.py": ["[errors only] error: disk full", "[everything] warning: slow"],
    "pika_topics.py": [
        "[all kernel <- 'kern.*'] got ['kern.critical', 'kern.info']",
        "[critical <- '*.critical'] got ['kern.critical', 'cron.critical']",
    ],
    "aio_topics.py": ["[critical <- '*.critical'] got ['kern.critical', 'cron.critical']"],
    "pika_rpc.py": ["fib(25) -> reply_to amq.gen-", "Got fib(25) = 75025"],
    "aio_rpc.py": ["[server] fib(25) -> reply_to ", "Got fib(25) = 75025"],
    "pika_direct_reply_to.py": ["reply_to amq.rabbitmq.reply-to.", "fib(12) = 144"],
    "aio_direct_reply_to.py": ["reply_to amq.rabbitmq.reply-to.", "fib(12) = 144"],
    "pika_dead_letter.py": ["[dead letter] 'pears:-1' from queue 'orders': reason=rejected"],
    "aio_dead_letter.py": ["[dead letter] 'nonsense' from 'orders': reason=rejected count=1"],
    "pika_confirms.py": ["[ack] order 2", "[nack] order 3", "[returned] b'lost?': 312 NO_ROUTE"],
    "aio_confirms.py": ["[ack] order 2", "[nack] order 3", "[returned] b'lost?': 312 NO_ROUTE"],
}


def run(script: str, url: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        env={**os.environ, "AMQP_URL": url, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_example_is_covered() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")}
    assert scripts == set(EXPECTED) | {"hello_send.py", "hello_receive.py"}


@pytest.mark.timeout(40)
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs(script: str, target: str) -> None:
    """Each example, unchanged, against QueueLab and against the real RabbitMQ."""
    out = run(script, target)
    for line in EXPECTED[script]:
        assert line in out, out


@pytest.mark.timeout(40)
def test_the_articles_send_and_receive(amqp_url: str) -> None:
    assert "Sent 'Hello World!'" in run("hello_send.py", amqp_url)
    assert "Sent 'Hello World!'" in run("hello_send.py", amqp_url)
    out = run("hello_receive.py", amqp_url, HELLO_COUNT="2", HELLO_IDLE="5")
    assert out.count("Received 'Hello World!'") == 2 and "done: 2 message(s)" in out
