"""Names in paths over a real server: %2F for the vhost '/', and names holding '/', '%', spaces,
'~', '?', '#' and any Unicode. A WSGI server decodes %2F before the app sees PATH_INFO, so this is
only proven against a real one."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote

from tests.live_server import LiveServer

NAMES = ["a/b", "100%", "with space", "ünïcødé ☃", "~", "a?b#c", "%2F", "/", "..", "a//b/"]


def call(server: LiveServer, method: str, path: str, body: object = None) -> tuple[int, object]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def q(name: str) -> str:
    return quote(name, safe="")


def test_queue_names_round_trip_over_a_real_server(server: LiveServer) -> None:
    for name in NAMES:
        check_queue_round_trip(server, name)


def check_queue_round_trip(server: LiveServer, name: str) -> None:
    path = f"/api/queues/%2F/{q(name)}"
    assert call(server, "PUT", path, {"durable": False})[0] == 201
    status, queue = call(server, "GET", path)
    assert status == 200 and queue["name"] == name and queue["vhost"] == "/"
    status, published = call(
        server,
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        {"routing_key": name, "payload": "hi"},
    )
    assert published["queues"] == [name]
    status, got = call(server, "POST", f"{path}/get", {"count": 1, "ackmode": "ack"})
    assert got[0]["routing_key"] == name
    assert name in [q["name"] for q in call(server, "GET", "/api/queues/%2F")[1]]
    assert call(server, "DELETE", path)[0] == 204
    assert call(server, "GET", path)[0] == 404


def test_vhost_and_binding_names_with_slashes(server: LiveServer) -> None:
    vhost, exchange, queue, key = "team/a", "x/1 %", "q/ü", "k/with space"
    assert call(server, "PUT", f"/api/vhosts/{q(vhost)}")[0] == 201
    base = f"/api/exchanges/{q(vhost)}/{q(exchange)}"
    assert call(server, "PUT", base, {"type": "direct"})[0] == 201
    assert call(server, "PUT", f"/api/queues/{q(vhost)}/{q(queue)}")[0] == 201
    bindings = f"/api/bindings/{q(vhost)}/e/{q(exchange)}/q/{q(queue)}"
    assert call(server, "POST", bindings, {"routing_key": key})[0] == 201
    status, found = call(server, "GET", f"{bindings}/{q(key)}")
    assert status == 200 and found["routing_key"] == key and found["vhost"] == vhost
    status, published = call(server, "POST", f"{base}/publish", {"routing_key": key, "payload": ""})
    assert published["queues"] == [queue]
    assert call(server, "DELETE", f"{bindings}/{q(key)}")[0] == 204
    assert call(server, "GET", f"/api/queues/{q(vhost)}")[1][0]["name"] == queue
    # The same names in vhost '/' are separate: nothing there.
    assert call(server, "GET", f"/api/queues/%2F/{q(queue)}")[0] == 404


def test_raw_utf8_and_bad_escapes_in_paths(server: LiveServer) -> None:
    import socket

    def raw(path: bytes) -> int:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(
                b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            return int(conn.recv(100).split(b" ")[1])

    call(server, "PUT", f"/api/queues/%2F/{q('ü')}")
    assert raw("/api/queues/%2F/ü".encode()) == 200  # unencoded UTF-8 is read as UTF-8
    assert raw(b"/api/queues/%2F/%C3") == 400  # half a UTF-8 character
    assert raw(b"/api/queues/%2F/%zz") == 404  # not an escape: a name '%zz', which is absent
