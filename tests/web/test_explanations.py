"""The broker's explanations in the JSON the pages get: the English field as ever, its message
beside it (`reason_i18n`), which the page's catalog says in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import AMQPError, Broker
from broker.translatable import phrase
from web.serialize import json_safe

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture
def app(broker: Broker) -> Flask:
    return create_app({"BROKER": broker, "TESTING": True})


def say(message: Any, messages: dict[str, Any]) -> str:
    """What the page's script does (static/lib/phrases.js): the message in the catalog's
    language, its message arguments said too."""
    if not isinstance(message, dict):
        return str(message)
    args = {name: say(value, messages) for name, value in message.get("args", {}).items()}
    text = messages.get(message["msgid"]) or message["msgid"]
    return PLACEHOLDER.sub(lambda m: args.get(m.group(1), m.group(0)), text)


def events_of(client: FlaskClient, type: str) -> list[dict[str, Any]]:
    return client.get(f"/api/events?type={type}").get_json()["events"]


def test_json_safe_puts_each_phrase_message_beside_its_english() -> None:
    reason = phrase("no queue named `%(queue)s`", queue="q")
    assert json_safe({"reason": reason, "other": "plain"}) == {
        "reason": "no queue named `q`",
        "reason_i18n": {"msgid": "no queue named `%(queue)s`", "args": {"queue": "q"}},
        "other": "plain",
    }
    assert json_safe([{"reason": None}]) == [{"reason": None}]


def test_an_unroutable_trace_carries_its_reasons_messages(app: Flask, broker: Broker) -> None:
    channel = broker.connect("app").channel()
    channel.exchange_declare("orders", "topic")
    channel.queue_declare("eu")
    channel.queue_bind("eu", "orders", "*.eu.#")
    channel.basic_publish("orders", "order.us.paid", b"x")
    client = app.test_client()
    (unroutable,) = events_of(client, "unroutable")
    (step,) = unroutable["trace"]
    assert step["reason"] == "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"
    assert step["reason_i18n"] == {
        "msgid": "`%(pattern)s` vs `%(key)s`: %(reason)s",
        "args": {
            "pattern": "*.eu.#",
            "key": "order.us.paid",
            "reason": {
                "msgid": "word %(position)s `%(expected)s` ≠ `%(actual)s`",
                "args": {"position": 2, "expected": "eu", "actual": "us"},
            },
        },
    }
    history = client.get(f"/api/messages/{unroutable['message_id']}/history").get_json()
    assert history["events"][1]["trace"] == unroutable["trace"]


def test_in_chinese_the_page_says_the_brokers_reasons_in_chinese(
    app: Flask, broker: Broker
) -> None:
    channel = broker.connect("app").channel()
    channel.exchange_declare("orders", "topic")
    channel.queue_declare("eu")
    channel.queue_bind("eu", "orders", "*.eu.#")
    channel.basic_publish("orders", "order.us.paid", b"x")
    channel.basic_publish("", "nobody", b"x")
    channel.queue_declare("full", arguments={"x-max-length": 1})
    channel.basic_publish("", "full", b"1")
    channel.basic_publish("", "full", b"2")
    channel.queue_delete("eu")
    channel.close()
    client = app.test_client()
    client.get("/lang/zh")
    messages = client.get("/i18n/zh.json").get_json()["messages"]

    topic, default = (e["trace"][0] for e in events_of(client, "unroutable"))
    # The English field does not change with the reader's language; its message is said.
    assert topic["reason"] == "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"
    assert (
        say(topic["reason_i18n"], messages)
        == "`*.eu.#` 对比 `order.us.paid`：第 2 个词 `eu` ≠ `us`"
    )
    assert say(default["reason_i18n"], messages) == "没有名为 `nobody` 的队列"
    (dropped,) = events_of(client, "dropped")
    assert dropped["reason"] == "queue full (x-overflow drop-head)"
    assert say(dropped["reason_i18n"], messages) == "队列已满（x-overflow drop-head）"
    (deleted,) = events_of(client, "queue.deleted")
    assert say(deleted["reason_i18n"], messages) == "已删除"
    closed = events_of(client, "channel.closed")[-1]
    assert closed["reason"] == "closed by client"
    assert say(closed["reason_i18n"], messages) == "由客户端关闭"


def test_rabbitmqs_reply_texts_come_without_a_message(app: Flask, broker: Broker) -> None:
    channel = broker.connect("app").channel()
    with pytest.raises(AMQPError, match="NOT_FOUND"):
        channel.queue_declare("missing", passive=True)
    closed = events_of(app.test_client(), "channel.closed")[-1]
    assert closed["reason"] == "NOT_FOUND - no queue 'missing' in vhost '/'"
    assert "reason_i18n" not in closed
