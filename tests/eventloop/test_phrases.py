"""The loop's phrases (broker/translatable.py; tested in tests/broker/test_explanations.py): its
snapshot sends each English text with its message, so the page can translate it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eventloop import ServiceLoop
from eventloop.demos import DEMOS

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def svc() -> Iterator[ServiceLoop]:
    service = ServiceLoop(name="test loop", paused=True, log_unhandled=False).start()
    yield service
    assert service.stop(timeout=5)


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
