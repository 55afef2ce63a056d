"""The durable store: durable topology survives a restart, nothing else touches the disk.

Every restart here is a cold start: the first broker is closed and a new one is built from the
same data directory, so nothing is reused from memory.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from broker import Broker
from broker.store import Store, StoreError
from broker.store.schema import FILE_NAME, SCHEMA_VERSION
from tests.waiting import wait_for


def restarted(data_dir: Path, broker: Broker) -> Broker:
    broker.close()
    return Broker(store=Store(data_dir))


def topology(broker: Broker, vhost: str = "/") -> dict[str, Any]:
    """The user-declared exchanges, the queues and the bindings, as comparable values."""
    snapshot = broker.snapshot(vhost)
    return {
        "exchanges": {
            e["name"]: (e["type"], e["durable"], e["auto_delete"], e["internal"], e["arguments"])
            for e in snapshot["exchanges"]
            if e["name"] and not e["name"].startswith("amq.")
        },
        "queues": {
            q["name"]: (q["durable"], q["exclusive"], q["auto_delete"], q["arguments"])
            for q in snapshot["queues"]
        },
        "bindings": sorted(
            (b["source"], b["destination_type"], b["destination"], b["routing_key"])
            for b in snapshot["bindings"]
            if b["source"]  # the default exchange's implicit bindings are not stored
        ),
    }


def event_types(broker: Broker) -> list[str]:
    return [event.type for event in broker.events.recent()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def declare_mixed_world(broker: Broker) -> None:
    """Durable and transient exchanges, queues and bindings; an exclusive durable queue."""
    with broker.connect("setup") as connection:
        channel = connection.channel()
        channel.exchange_declare(
            "orders", "topic", durable=True, arguments={"alternate-exchange": "unrouted"}
        )
        channel.exchange_declare("unrouted", "fanout", durable=True, internal=True)
        channel.exchange_declare("scratch", "direct")  # transient
        channel.queue_declare(
            "invoices",
            durable=True,
            arguments={"x-message-ttl": 60_000, "x-dead-letter-exchange": "unrouted"},
        )
        channel.queue_declare("parked", durable=True, auto_delete=True)
        channel.queue_declare("temp")  # transient
        channel.queue_declare("mine", durable=True, exclusive=True)
        channel.queue_bind("invoices", "orders", "order.*.paid")
        channel.queue_bind("parked", "unrouted")
        channel.queue_bind("temp", "orders", "order.#")  # a transient end: not stored
        channel.queue_bind("mine", "orders", "mine")  # an exclusive end: not stored
        channel.queue_bind("invoices", "scratch", "x")  # a transient source: not stored
        channel.queue_bind("invoices", "amq.direct", "invoices")
        channel.exchange_bind("unrouted", "amq.fanout")


def test_exactly_the_durable_topology_comes_back_with_its_arguments(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    declare_mixed_world(broker)
    broker = restarted(data_dir, broker)
    try:
        assert topology(broker) == {
            "exchanges": {
                "orders": ("topic", True, False, False, {"alternate-exchange": "unrouted"}),
                "unrouted": ("fanout", True, False, True, {}),
            },
            "queues": {
                "invoices": (
                    True,
                    False,
                    False,
                    {"x-message-ttl": 60_000, "x-dead-letter-exchange": "unrouted"},
                ),
                "parked": (True, False, True, {}),
            },
            "bindings": [
                ("amq.direct", "queue", "invoices", "invoices"),
                ("amq.fanout", "exchange", "unrouted", ""),
                ("orders", "queue", "invoices", "order.*.paid"),
                ("unrouted", "queue", "parked", "parked"),
            ],
        }
        assert str(broker.recovered) == (
            "recovered 1 vhost, 2 exchanges, 2 queues, 4 bindings"
            f" in {broker.recovered.seconds:.2f} s"
        )
    finally:
        broker.close()


def test_the_recovered_broker_routes_and_the_summary_is_an_event(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    declare_mixed_world(broker)
    broker.add_vhost("class")
    broker = restarted(data_dir, broker)
    try:
        (recovered,) = [e for e in broker.events.recent() if e.type == "broker.recovered"]
        assert recovered.data["summary"].startswith(
            "recovered 2 vhosts, 2 exchanges, 2 queues, 4 bindings in "
        )
        assert recovered.data["path"] == str(data_dir / FILE_NAME)
        assert "class" in broker.vhosts
        channel = broker.connect("after").channel()
        channel.basic_publish("orders", "order.1.paid", b"paid")
        channel.basic_publish("amq.fanout", "", b"through an exchange binding")
        assert channel.basic_get("invoices", no_ack=True).body == b"paid"
        assert channel.basic_get("parked", no_ack=True).body == b"through an exchange binding"
    finally:
        broker.close()


def test_arguments_keep_their_amqp_types(data_dir: Path) -> None:
    arguments = {
        "bytes": b"\x00\xff",
        "decimal": Decimal("1.25"),
        "time": datetime(2024, 5, 1, 12, 30),
        "nested": {"list": [1, "two", b"3", True, None, 2.5]},
    }
    broker = Broker(store=Store(data_dir))
    channel = broker.connect().channel()
    channel.exchange_declare("typed", "headers", durable=True, arguments=arguments)
    channel.queue_declare("q", durable=True)
    channel.queue_bind("q", "typed", "", {"x-match": "any", **arguments})
    broker = restarted(data_dir, broker)
    try:
        exchange = broker.snapshot()["exchanges"]
        assert next(e for e in exchange if e["name"] == "typed")["arguments"] == arguments
        (binding,) = [b for b in broker.snapshot()["bindings"] if b["source"] == "typed"]
        assert binding["arguments"] == {"x-match": "any", **arguments}
    finally:
        broker.close()


def test_deletes_and_their_cascades_stay_deleted(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    declare_mixed_world(broker)
    channel = broker.connect().channel()
    channel.queue_delete("parked")  # its binding from unrouted goes with it
    channel.queue_unbind("invoices", "amq.direct", "invoices")
    channel.exchange_delete("unrouted")  # and amq.fanout's binding to it
    channel.exchange_declare("auto", "direct", durable=True, auto_delete=True)
    channel.queue_bind("invoices", "auto", "k")
    channel.queue_unbind("invoices", "auto", "k")  # its last binding: auto goes too
    broker = restarted(data_dir, broker)
    try:
        assert topology(broker) == {
            "exchanges": {
                "orders": ("topic", True, False, False, {"alternate-exchange": "unrouted"})
            },
            "queues": {
                "invoices": (
                    True,
                    False,
                    False,
                    {"x-message-ttl": 60_000, "x-dead-letter-exchange": "unrouted"},
                )
            },
            "bindings": [("orders", "queue", "invoices", "order.*.paid")],
        }
    finally:
        broker.close()


def test_a_shutdown_keeps_a_durable_auto_delete_queue_its_consumer_leaves(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    channel = broker.connect().channel()
    channel.queue_declare("work", durable=True, auto_delete=True)
    channel.basic_consume("work", lambda delivery: None)
    broker = restarted(data_dir, broker)  # the shutdown closes the consumer's connection
    try:
        assert "work" in topology(broker)["queues"]
    finally:
        broker.close()


def test_exclusive_and_transient_things_never_reach_the_store(data_dir: Path) -> None:
    store = Store(data_dir)
    broker = Broker(store=store)
    written: list[Any] = []
    submit = store.submit
    store.submit = lambda change, seq: (written.append(change), submit(change, seq))
    try:
        channel = broker.connect().channel()
        channel.queue_declare("mine", durable=True, exclusive=True)
        channel.queue_declare("", exclusive=True)  # a server-named reply queue
        channel.queue_declare("temp", auto_delete=True)
        channel.exchange_declare("scratch", "fanout")
        channel.queue_bind("mine", "amq.topic", "#")
        channel.queue_bind("temp", "scratch")
        channel.confirm_select()
        for _ in range(100):  # transient messages: the store's code is never called
            channel.basic_publish("scratch", "", b"transient")
            channel.basic_publish("amq.topic", "a", b"transient")
        channel.basic_get("temp", no_ack=True)
        channel.queue_delete("temp")
        channel.exchange_delete("scratch")
        channel.queue_delete("mine")
        assert written == []
    finally:
        broker.close()
    assert sqlite3.connect(data_dir / FILE_NAME).execute(
        "SELECT (SELECT count(*) FROM exchanges) + (SELECT count(*) FROM queues)"
        " + (SELECT count(*) FROM bindings)"
    ).fetchone() == (0,)


def test_a_declare_answers_once_it_is_on_disk_without_holding_the_broker(
    data_dir: Path,
) -> None:
    """With the store's file locked by someone else, a durable declare waits for the disk, but
    the broker lock is free meanwhile: other clients are served at once."""
    broker = Broker(store=Store(data_dir))
    other = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # the writer cannot commit until we let go
    done = threading.Event()

    def declare_durable() -> None:
        broker.connect("waits").channel().queue_declare("slow", durable=True)
        done.set()

    waiting = threading.Thread(target=declare_durable)
    try:
        waiting.start()
        wait_for(lambda: "slow" in broker.vhosts["/"].queues, what="the declare to run")
        channel = broker.connect("meanwhile").channel()
        channel.queue_declare("fast")
        channel.basic_publish("", "fast", b"served while the disk is busy")
        assert channel.basic_get("fast", no_ack=True).body == b"served while the disk is busy"
        assert broker.queue_depths()["slow"] == (0, 0, 0)
        assert not done.is_set(), "declare-ok waits until the queue is on disk"
    finally:
        other.execute("ROLLBACK")
        other.close()
        waiting.join(timeout=30)
    assert done.is_set()
    broker = restarted(data_dir, broker)
    try:
        assert list(topology(broker)["queues"]) == ["slow"]
    finally:
        broker.close()


def test_a_failed_write_is_reported_and_later_writes_still_land(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    sabotage = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None)
    sabotage.execute("DROP TABLE exchanges")
    sabotage.close()
    channel = broker.connect().channel()
    channel.exchange_declare("lost", "direct", durable=True)
    channel.queue_declare("kept", durable=True)
    (failed,) = [e for e in broker.events.recent() if e.type == "store.failed"]
    assert "lost" in failed.data["change"] and "no such table" in failed.data["error"]
    broker.close()
    connection = sqlite3.connect(data_dir / FILE_NAME)
    assert connection.execute("SELECT name FROM queues").fetchall() == [("kept",)]


def test_no_store_means_nothing_changes(tmp_path: Path) -> None:
    broker = Broker()
    try:
        channel = broker.connect().channel()
        channel.queue_declare("q", durable=True)
        assert broker.store is None and broker.recovered is None
        assert "broker.recovered" not in event_types(broker)
    finally:
        broker.close()
    assert list(tmp_path.iterdir()) == []


# --- a store the broker will not start over ------------------------------------------------------


def test_a_corrupt_file_is_refused_naming_it(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / FILE_NAME).write_bytes(b"this is not a database at all, " * 200)
    with pytest.raises(StoreError, match=str(data_dir / FILE_NAME)) as refused:
        Store(data_dir)
    assert "will not start over it" in str(refused.value)


def test_a_damaged_store_is_refused(data_dir: Path) -> None:
    broker = Broker(store=Store(data_dir))
    channel = broker.connect().channel()
    for number in range(200):
        channel.queue_declare(f"queue-{number:03}", durable=True, arguments={"x": "y" * 100})
    broker.close()
    path = data_dir / FILE_NAME
    data = bytearray(path.read_bytes())
    page_size = 4096
    data[page_size * 2 : page_size * 4] = b"\xa5" * (page_size * 2)  # smash two pages
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(path)):
        Broker(store=Store(data_dir))


def test_another_programs_sqlite_file_is_refused(data_dir: Path) -> None:
    data_dir.mkdir()
    sqlite3.connect(data_dir / FILE_NAME).execute("CREATE TABLE notes (text)").connection.close()
    with pytest.raises(StoreError, match="not a QueueLab store"):
        Store(data_dir)


def test_a_store_from_a_newer_queuelab_is_refused(data_dir: Path) -> None:
    Store(data_dir).close()
    newer = sqlite3.connect(data_dir / FILE_NAME)
    newer.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(StoreError, match=r"written by a newer QueueLab \(schema 2"):
        Store(data_dir)


def test_an_unreadable_data_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the directory should be")
    with pytest.raises(StoreError, match=str(tmp_path / "data")):
        Store(tmp_path / "data")
