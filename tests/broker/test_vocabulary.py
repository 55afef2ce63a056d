"""The event vocabulary names every event the broker records, with exactly the fields it carries."""

from __future__ import annotations

import sqlite3

import pytest

from broker import AMQPError, Broker, Properties, VirtualClock
from broker.store import Store
from broker.store.schema import FILE_NAME
from broker.vocabulary import EVENT_TYPES, FLOW_EVENTS, vocabulary


def run_every_kind_of_event(broker: Broker) -> None:
    """One session that makes the broker record each event type at least once."""
    with broker.connect("all") as connection:
        channel = connection.channel()
        channel.confirm_select()
        channel.exchange_declare("dlx", "fanout")
        channel.queue_declare("dead")
        channel.queue_bind("dead", "dlx")
        channel.queue_declare(
            "q",
            arguments={
                "x-dead-letter-exchange": "dlx",
                "x-max-length": 2,
                "x-message-ttl": 1000,
            },
        )
        channel.exchange_declare("e", "direct")
        channel.queue_bind("q", "e", "k")
        channel.basic_publish("e", "k", b"1")
        channel.basic_publish("e", "nowhere", b"2", mandatory=True)
        for body in (b"3", b"4"):
            channel.basic_publish("", "q", body)  # the third over max-length drops the head
        first = channel.basic_get("q")
        channel.basic_ack(first.delivery_tag)
        second = channel.basic_get("q")
        channel.basic_nack(second.delivery_tag, requeue=True)
        again = channel.basic_get("q")
        channel.basic_reject(again.delivery_tag, requeue=False)
        channel.basic_get("q")  # the queue is empty now: get.empty
        channel.basic_publish("", "q", b"5", Properties(expiration="0"))
        broker.clock.advance(1)
        channel.basic_get("q")
        tag = channel.basic_consume("dead", lambda delivery: None)
        channel.basic_cancel(tag)
        channel.queue_purge("dead")
        channel.queue_unbind("q", "e", "k")
        channel.exchange_delete("e")
        channel.queue_delete("q")
        with pytest.raises(AMQPError):
            channel.queue_declare("missing", passive=True)  # closes the channel: channel.closed


def run_the_store_events(broker: Broker, data_dir) -> None:
    """A broker with a store records its recovery, and a write the store could not make."""
    broken = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None)
    broken.execute("DROP TABLE queues")
    broken.close()
    with broker.connect("store") as connection:
        connection.channel().queue_declare("durable", durable=True)


def test_every_recorded_event_is_named_with_its_fields(tmp_path):
    broker = Broker(clock=VirtualClock())
    stored = Broker(clock=VirtualClock(), store=Store(tmp_path))
    try:
        run_every_kind_of_event(broker)
        broker.add_vhost("other")
        run_the_store_events(stored, tmp_path)
        seen = {}
        for event in [*broker.events.recent(), *stored.events.recent()]:
            assert event.type in EVENT_TYPES, f"{event.type} is not in the vocabulary"
            assert set(event.data) == set(EVENT_TYPES[event.type].fields), event.type
            seen[event.type] = event
        assert set(seen) == set(EVENT_TYPES), f"never recorded: {set(EVENT_TYPES) - set(seen)}"
    finally:
        broker.close()
        stored.close()


def test_the_pages_get_the_table_as_plain_data():
    table = vocabulary()
    assert table["dead-lettered"] == {
        "family": "flow",
        "fields": ["vhost", "queue", "message_id", "reason", "exchange", "routing_keys"],
        "problem": True,
    }
    assert "queue.declared" not in FLOW_EVENTS and "acked" in FLOW_EVENTS
