"""Phrases: the loop's English text, which keeps its message so the page can translate it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eventloop import ServiceLoop
from eventloop.demos import DEMOS
from eventloop.phrases import Phrase, joined, message_of, phrase, with_i18n

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="test loop", paused=True, log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


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


def test_the_snapshot_sends_each_text_with_its_message(svc: ServiceLoop) -> None:
    svc.submit(DEMOS["event_loop"].func(rounds=1), name="event_loop")
    for _ in range(3):  # the submit, the demo's first step, then A's: A yields (sleep(0))
        svc.step()
    snap = svc.snapshot()
    json.dumps(snap)
    entry = snap["ready"][0]
    assert entry["label"] == "step of task B"
    assert entry["label_i18n"] == {"msgid": "step of task %(task)s", "args": {"task": "B"}}
    a = next(task for task in snap["tasks"] if task["name"] == "A")
    assert a["created_by"] == "task event_loop"
    assert a["created_by_i18n"]["msgid"] == "task %(task)s"
    assert a["awaiting"].endswith(" → nothing (yielded to the loop)")
    last = a["awaiting_i18n"]["args"][f"p{len(a['awaiting_i18n']['args']) - 1}"]
    assert last == {"msgid": "nothing (yielded to the loop)"}
    note = next(n for n in snap["notes"] if n["text"] == "A round 1")
    assert note["text_i18n"] == {
        "msgid": "%(name)s round %(round)s",
        "args": {"name": "A", "round": 1},
    }
