"""The broker's explanations for people: the same English as ever, and each keeps its message.

A routing trace's reasons, why a message was dropped, why a queue was deleted, why a channel or
connection closed: each is a `Phrase`, the English text itself that also remembers its message id
and arguments, so a page can say it in its reader's language. RabbitMQ's reply texts and the
reasons a program gives stay plain text.
"""

from __future__ import annotations

import json

from broker import Broker
from broker.exchanges import Binding
from broker.exchanges.direct import DirectRouter
from broker.exchanges.headers import HeadersRouter
from broker.exchanges.topic import explain_topic
from broker.translatable import Phrase, joined, message_of, phrase, with_i18n
from tests.broker.expect import raises


def test_a_phrase_is_its_english_text_and_keeps_its_message() -> None:
    future = phrase("future #%(id)s", id=4)
    label = phrase("step of task %(task)s (wake-up: %(future)s is done)", task="A", future=future)
    assert label == "step of task A (wake-up: future #4 is done)"
    assert isinstance(label, str) and json.dumps(label) == json.dumps(str(label))
    assert label.message == {
        "msgid": "step of task %(task)s (wake-up: %(future)s is done)",
        "args": {"task": "A", "future": {"msgid": "future #%(id)s", "args": {"id": 4}}},
    }
    assert phrase("a task").message == {"msgid": "a task"}
    assert message_of("plain") == "plain"


def test_joined_parts_stay_translatable_and_records_get_their_messages() -> None:
    chain = joined(["sleep()", phrase("future #%(id)s", id=2)], " → ")
    assert chain == "sleep() → future #2"
    assert isinstance(chain, Phrase) and chain.message["args"]["p1"]["msgid"] == "future #%(id)s"
    assert joined(["Queue.get()"], " → ") == "Queue.get()"
    record = with_i18n({"how": phrase("handled"), "callback": "plain"}, "how", "callback")
    assert record == {"how": "handled", "callback": "plain", "how_i18n": {"msgid": "handled"}}


def test_topic_reasons_keep_their_english_and_their_message() -> None:
    reason = explain_topic("*.eu.#", "order.us.paid")
    assert reason == "`*.eu.#` vs `order.us.paid`: word 2 `eu` ≠ `us`"
    assert reason.message == {
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
    short = explain_topic("a.b", "a")
    assert short == "`a.b` vs `a`: the key has 1 words; the pattern needs more (`b`)"
    assert short.args["reason"].args == {"count": 1, "word": "b"}
    extra = explain_topic("a", "a.b")
    assert extra == "`a` vs `a.b`: extra word 2 `b` after the pattern ends"
    assert extra.args["reason"].msgid == "extra word %(position)s `%(word)s` after the pattern ends"
    assert explain_topic("a.#", "a.b.c") is None


def _headers_reason(arguments: dict, headers: dict) -> Phrase | None:
    router = HeadersRouter()
    binding = Binding("h", "q", "queue", "", arguments)
    router.add(binding)
    return router.explain(binding, "", headers)


def test_headers_reasons_keep_their_english_and_their_message() -> None:
    missing = _headers_reason({"a": 1}, {})
    assert missing == "header `a` missing"
    assert missing.message == {"msgid": "header `%(header)s` missing", "args": {"header": "a"}}
    void = _headers_reason({"a": None}, {"a": None})
    assert void == "header `a` has no value" and void.args == {"header": "a"}
    differs = _headers_reason({"a": 1}, {"a": "1"})
    assert differs == "header `a`: `'1'` ≠ `1`"
    assert differs.args == {"header": "a", "actual": "'1'", "expected": "1"}
    both = _headers_reason({"a": 1, "b": 2}, {"b": 3})
    assert both == "header `a` missing; header `b`: `3` ≠ `2`"
    assert [part["msgid"] for part in both.message["args"].values()] == [
        "header `%(header)s` missing",
        "header `%(header)s`: `%(actual)s` ≠ `%(expected)s`",
    ]
    none_matched = _headers_reason({"x-match": "any", "a": 1}, {"a": 2})
    assert none_matched == "no header matched (x-match any)"
    assert none_matched.message == {"msgid": "no header matched (x-match any)"}
    assert _headers_reason({"x-match": "any"}, {"a": 1}) == "x-match any with no headers"
    assert _headers_reason({"x-match": "any", "a": 1, "b": 2}, {"b": 2}) is None


def test_a_direct_reason_has_no_words_to_translate() -> None:
    router = DirectRouter()
    reason = router.explain(Binding("d", "q", "queue", "a"), "b", {})
    assert reason == "`a` ≠ `b`" and not isinstance(reason, Phrase)


def _last(broker: Broker, type: str):
    return next(e for e in reversed(broker.events.recent()) if e.type == type)


def test_the_default_exchange_says_which_queue_it_did_not_find(channel, broker) -> None:
    channel.basic_publish("", "nobody", b"x")
    (step,) = _last(broker, "unroutable").get("trace")
    assert step["reason"] == "no queue named `nobody`"
    assert step["reason"].message == {
        "msgid": "no queue named `%(queue)s`",
        "args": {"queue": "nobody"},
    }


def test_why_messages_were_dropped(channel, broker) -> None:
    channel.queue_declare("head", arguments={"x-max-length": 1})
    channel.basic_publish("", "head", b"1")
    channel.basic_publish("", "head", b"2")
    reason = _last(broker, "dropped").get("reason")
    assert reason == "queue full (x-overflow drop-head)"
    assert reason.message == {
        "msgid": "queue full (x-overflow %(overflow)s)",
        "args": {"overflow": "drop-head"},
    }
    arguments = {"x-max-length": 1, "x-overflow": "reject-publish"}
    channel.queue_declare("refuse", arguments=arguments)
    channel.basic_publish("", "refuse", b"1")
    channel.basic_publish("", "refuse", b"2")
    reason = _last(broker, "dropped").get("reason")
    assert reason == "queue full (x-overflow reject-publish)"
    assert reason.args == {"overflow": "reject-publish"}

    channel.queue_declare("q", arguments={"x-dead-letter-exchange": "nowhere"})
    channel.basic_publish("", "q", b"x")
    channel.basic_reject(channel.basic_get("q").delivery_tag, requeue=False)
    reason = _last(broker, "dropped").get("reason")
    assert reason == "dead-letter exchange 'nowhere' does not exist"
    assert reason.message == {
        "msgid": "dead-letter exchange '%(exchange)s' does not exist",
        "args": {"exchange": "nowhere"},
    }


def test_a_dead_letter_cycle_is_said_with_its_message(virtual_broker, clock) -> None:
    channel = virtual_broker.connect().channel()
    channel.exchange_declare("loop", "fanout")
    channel.queue_declare("q", arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "loop"})
    channel.queue_bind("q", "loop")
    channel.basic_publish("", "q", b"x")
    clock.advance(1)
    reason = _last(virtual_broker, "dropped").get("reason")
    assert reason == "dead-letter cycle with no reject in it"
    assert reason.message == {"msgid": "dead-letter cycle with no reject in it"}


def test_why_queues_were_deleted(broker, virtual_broker, clock) -> None:
    owner = broker.connect("owner")
    channel = owner.channel()
    channel.queue_declare("gone")
    channel.queue_delete("gone")
    assert _last(broker, "queue.deleted").get("reason").message == {"msgid": "deleted"}
    channel.queue_declare("ad", auto_delete=True)
    tag = channel.basic_consume("ad", lambda delivery: None)
    channel.basic_cancel(tag)
    reason = _last(broker, "queue.deleted").get("reason")
    assert reason == "auto-delete: its last consumer went away"
    assert reason.message == {"msgid": "auto-delete: its last consumer went away"}
    channel.queue_declare("mine", exclusive=True)
    owner.close()
    reason = _last(broker, "queue.deleted").get("reason")
    assert reason == "its exclusive owner connection closed"
    assert reason.message == {"msgid": "its exclusive owner connection closed"}

    virtual_broker.connect().channel().queue_declare("temp", arguments={"x-expires": 1000})
    clock.advance(2)
    reason = _last(virtual_broker, "queue.deleted").get("reason")
    assert reason == "x-expires: unused for too long"
    assert reason.message == {"msgid": "x-expires: unused for too long"}


def test_closing_is_said_in_our_words_and_reply_texts_stay_as_they_are(broker) -> None:
    connection = broker.connect("c")
    connection.channel()
    connection.close()
    channel_reason = _last(broker, "channel.closed").get("reason")
    connection_reason = _last(broker, "connection.closed").get("reason")
    assert channel_reason == connection_reason == "closed by client"
    assert channel_reason.message == connection_reason.message == {"msgid": "closed by client"}

    broker.connect("ended").close("simulation ended")  # a program's own reason
    reason = _last(broker, "connection.closed").get("reason")
    assert reason == "simulation ended" and not isinstance(reason, Phrase)
    channel = broker.connect("failing").channel()
    with raises(404, "NOT_FOUND - no queue 'missing' in vhost '/'"):
        channel.queue_declare("missing", passive=True)
    reason = _last(broker, "channel.closed").get("reason")
    assert reason == "NOT_FOUND - no queue 'missing' in vhost '/'"
    assert not isinstance(reason, Phrase)
