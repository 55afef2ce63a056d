"""Bad input never makes the API fail with a 5xx: random paths, names, bodies and queries."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from broker import Broker
from web.api.routing import ROUTES

FUZZ = settings(
    max_examples=int(os.environ.get("QUEUELAB_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = [
    "type",
    "durable",
    "auto_delete",
    "internal",
    "exclusive",
    "arguments",
    "routing_key",
    "payload",
    "payload_encoding",
    "properties",
    "mandatory",
    "count",
    "ackmode",
    "encoding",
    "truncate",
    "repeat",
    "rate",
    "kind",
    "queue",
    "exchange",
    "vhost",
    "prefetch",
    "failure_rate",
    "on_failure",
    "ack_mode",
    "processing_ms",
    "body",
    "headers",
    "seed",
    "queues",
    "exchanges",
    "bindings",
    "vhosts",
    "source",
    "destination",
    "destination_type",
]
plausible = {
    "type": st.sampled_from(["direct", "fanout", "topic", "headers", "nope"]),
    "ackmode": st.sampled_from(["ack_requeue_true", "reject_requeue_false", "ack", "x"]),
    "kind": st.sampled_from(["consumer", "producer", "x"]),
    "payload_encoding": st.sampled_from(["string", "base64", "x"]),
    "properties": st.dictionaries(
        st.sampled_from(["headers", "delivery_mode", "expiration", "priority", "x"]),
        json_values,
        max_size=3,
    ),
    "arguments": st.dictionaries(
        st.sampled_from(["x-max-length", "x-message-ttl", "x-match", "x-overflow", "a"]),
        json_values,
        max_size=3,
    ),
    "count": st.integers(-2, 20),
    "rate": st.integers(-1, 50),
    "repeat": st.integers(-1, 5),
}
structured_bodies = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5).flatmap(
    lambda base: st.fixed_dictionaries(
        {},
        optional={key: plausible[key] for key in plausible},
    ).map(lambda extra: {**base, **extra})
)
names = st.sampled_from(["/", "q", "x", "amq.direct", "amq.default", "~", ""]) | st.text(
    max_size=12
)


def fill(parts: tuple[str, ...], values: list[str]) -> str:
    it = iter(values)
    return "/api/" + "/".join(
        quote(next(it), safe="") if part.startswith("{") else part for part in parts
    )


paths = st.sampled_from([parts for parts, _ in ROUTES]).flatmap(
    lambda parts: st.lists(names, min_size=8, max_size=8).map(lambda v: fill(parts, v))
)
queries = st.dictionaries(
    st.sampled_from(["if-unused", "if-empty", "count", "since", "limit", "type", "entity", "x"]),
    st.text(max_size=6) | st.sampled_from(["true", "false", "1", "-1"]),
    max_size=3,
)
methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"])


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    broker = Broker()
    app = create_app({"BROKER": broker, "TESTING": True, "MAX_CONTENT_LENGTH": 64 * 1024})
    client = app.test_client()
    # Something to find: a queue, an exchange, a binding, a message, a consumer.
    client.put("/api/queues/%2F/q", json={})
    client.put("/api/exchanges/%2F/x", json={"type": "topic"})
    client.post("/api/bindings/%2F/e/x/q/q", json={"routing_key": "#"})
    client.post("/api/exchanges/%2F/x/publish", json={"routing_key": "a", "payload": "m"})
    yield app
    app.extensions["queuelab.simulations"].stop_all()
    broker.close()


def check(app: Flask, method: str, path: str, body: bytes | None, content_type: str) -> None:
    client = app.test_client()
    response = client.open(path, method=method, data=body, content_type=content_type)
    try:
        assert response.status_code < 500, (method, path, body, response.get_data()[:500])
        if response.status_code >= 400 and method != "HEAD":
            assert "reason" in json.loads(response.get_data())
    finally:
        app.extensions["queuelab.simulations"].stop_all()


@FUZZ
@given(method=methods, path=paths, query=queries, body=structured_bodies)
def test_structured_requests_never_fail(app: Flask, method, path, query, body) -> None:
    url = f"{path}?{urlencode(query)}" if query else path
    check(app, method, url, json.dumps(body).encode(), "application/json")


@FUZZ
@given(
    method=methods,
    path=paths | st.text(max_size=40).map(lambda t: "/api/" + quote(t, safe="/%~")),
    body=st.none() | st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/x+json"]),
)
def test_random_requests_never_fail(app: Flask, method, path, body, content_type) -> None:
    check(app, method, path, body, content_type)
