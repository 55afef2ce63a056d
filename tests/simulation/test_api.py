"""The simulations' HTTP API (/api/simulations) and the publish form's repeat/rate."""

from __future__ import annotations

from app import create_app
from broker import Broker
from tests.waiting import wait_for


def test_simulations_api(broker: Broker) -> None:
    app = create_app({"BROKER": broker, "TESTING": True})
    client = app.test_client()
    try:
        client.put("/api/queues/%2F/work")
        created = client.post(
            "/api/simulations",
            json={"kind": "consumer", "queue": "work", "ack_mode": "auto"},
        )
        assert created.status_code == 201
        sim_id = created.get_json()["id"]
        assert created.headers["Location"] == f"/api/simulations/{sim_id}"
        [listed] = client.get("/api/simulations").get_json()
        assert listed["state"] == "running" and listed["kind"] == "consumer"
        assert client.get(f"/api/simulations/{sim_id}").get_json()["id"] == sim_id
        bad = client.post("/api/simulations", json={"kind": "consumer", "queue": "work", "x": 1})
        assert bad.status_code == 400 and "unknown option" in bad.get_json()["reason"]
        missing = client.post("/api/simulations", json={"kind": "consumer", "queue": "nope"})
        assert missing.status_code == 404
        repeated = client.post(
            "/api/exchanges/%2F/amq.default/publish",
            json={"routing_key": "work", "payload": "n={n}", "repeat": 5, "rate": 500},
        )
        assert repeated.status_code == 202
        producer = repeated.get_json()["simulation"]
        assert producer["options"]["count"] == 5
        wait_for(lambda: listed_counter(client, sim_id, "received") == 5)
        assert client.delete(f"/api/simulations/{sim_id}").status_code == 204
        assert client.delete(f"/api/simulations/{sim_id}").status_code == 404
        assert client.get("/api/simulations/abc").status_code == 404
    finally:
        app.extensions["queuelab.simulations"].stop_all()


def listed_counter(client, sim_id: int, name: str) -> int:
    return client.get(f"/api/simulations/{sim_id}").get_json()["counters"][name]
