"""Phrases: English text that keeps its message id and arguments, for the reader's language."""

from __future__ import annotations

import json

from broker.translatable import Phrase, joined, message_of, phrase, with_i18n


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
