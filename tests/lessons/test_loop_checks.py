"""The event-loop lessons' checks: what they run is what the exercise shows, the outcome is the
same every time (asyncio's ordering rules, not a race), the choices on the page are the ones the
check knows, a malformed answer is refused with a reason, and a scenario's time is bounded.
(test_curriculum.py performs every exercise's solution and mistakes through the API.)"""

from __future__ import annotations

import inspect
import threading
import time

import pytest

from lessons.checks import CHECKS
from lessons.checks.callback_delay import DELAYS
from lessons.checks.fresh_loop import ScenarioTimeout, run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.lag_scripts import BLOCKING_FIXES, DELAY_FIXES
from lessons.checks.loop_order import predict_loop_order
from lessons.checks.loop_scripts import ORDER_SCRIPTS, PAUSE_POSITIONS, record, workers
from lessons.checks.rpc_scripts import RECEIVE_LINES
from lessons.files import load_lessons
from lessons.model import Exercise

EXERCISES = [e for lesson in load_lessons() for e in lesson.exercises]

# What each choice-taking check accepts; the page's choices must be exactly these.
ACCEPTED = {
    "predict_loop_order": lambda e: ORDER_SCRIPTS[e.params["scenario"]].labels,
    "await_lets_others_in": lambda e: PAUSE_POSITIONS,
    "unblock_the_loop": lambda e: tuple(BLOCKING_FIXES),
    "reduce_timer_delay": lambda e: tuple(DELAY_FIXES),
    "predict_timer_delay": lambda e: tuple(DELAYS),
    "match_replies": lambda e: tuple(RECEIVE_LINES),
}
WITH_CHOICES = [e for e in EXERCISES if e.check in ACCEPTED]


def statements(code: str) -> list[str]:
    """The code's lines without comments and indentation, the empty ones left out."""
    lines = (line.split("#")[0].strip() for line in code.splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("exercise", WITH_CHOICES, ids=lambda e: e.id)
def test_the_page_offers_exactly_the_choices_the_check_knows(exercise: Exercise):
    assert sorted(exercise.params["choices"]) == sorted(ACCEPTED[exercise.check](exercise))
    assert exercise.params.get("pick") in ("one", "order")


@pytest.mark.parametrize(
    "exercise", [e for e in EXERCISES if e.check == "predict_loop_order"], ids=lambda e: e.id
)
def test_the_script_that_runs_is_the_one_the_exercise_shows(exercise: Exercise):
    script = ORDER_SCRIPTS[exercise.params["scenario"]].main
    body = inspect.getsource(script).split(":\n", 1)[1]  # after the def line
    shown = {language: statements(text) for language, text in exercise.task.by_language.items()}
    # `if pause_at == …: await asyncio.sleep(0)` places the other exercise's await: not shown.
    lines = statements(body)
    code = [
        line
        for n, line in enumerate(lines)
        if "pause_at" not in line and (n == 0 or "pause_at" not in lines[n - 1])
    ]
    for line in code:
        for language, shown_lines in shown.items():
            assert line in shown_lines, f"{exercise.id} ({language}) does not show: {line}"


@pytest.mark.parametrize("name", sorted(ORDER_SCRIPTS))
def test_an_order_is_the_same_every_time_even_beside_a_busy_thread(name: str):
    script = ORDER_SCRIPTS[name]
    busy = threading.Event()

    def hog() -> None:  # another thread competing for the interpreter, as on a loaded machine
        while not busy.is_set():
            sum(range(1000))

    thread = threading.Thread(target=hog, daemon=True)
    thread.start()
    try:
        orders = {tuple(run_on_fresh_loop(lambda: record(script.main))) for _ in range(3)}
    finally:
        busy.set()
        thread.join()
    assert len(orders) == 1
    assert sorted(orders.pop()) == sorted(script.labels)


def test_only_an_await_between_the_prints_lets_the_others_in():
    printed = {
        place: run_on_fresh_loop(lambda place=place: record(workers, pause_at=place))
        for place in ("", *PAUSE_POSITIONS)
    }
    alone = ["main", "A1", "A2", "B1", "B2", "C1", "C2"]
    assert printed[""] == printed["(1)"] == printed["(3)"] == alone
    assert printed["(2)"] == ["main", "A1", "B1", "C1", "A2", "B2", "C2"]


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "start",
        [],
        ["start", "end"],
        ["start", "end", "soon", "done", "done"],
        [1, 2, 3, 4, 5],
    ],
)
def test_an_order_that_is_not_every_label_once_is_refused_with_a_reason(answer):
    verdict = predict_loop_order(None, {"scenario": "callbacks"}, answer)
    assert not verdict.solved
    assert "each exactly once" in verdict.why
    assert "'timer'" in verdict.args["labels"]


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        ("await_lets_others_in", ["(2)", "(3)"]),
        ("unblock_the_loop", ["report = fetch_report() "]),
        ("reduce_timer_delay", "for image in images: resize(image)"),
        ("predict_timer_delay", ["150 ms"]),
        ("predict_late_replies", ["three"]),
        ("match_replies", []),
    ],
)
def test_a_choice_that_is_not_one_of_the_choices_is_refused_before_anything_runs(check, answer):
    started = time.monotonic()
    verdict = CHECKS[check](None, {"first": "C1", "then": "A2"}, answer)
    assert not verdict.solved
    assert verdict.why.startswith("Choose one")
    assert time.monotonic() - started < 0.5


def test_a_scenario_runs_on_a_loop_and_thread_of_its_own():
    async def where() -> tuple[str, bool]:
        import asyncio

        return threading.current_thread().name, asyncio.get_running_loop().is_running()

    name, running = run_on_fresh_loop(where)
    assert name == "lesson check loop" and running
    assert name != threading.current_thread().name


def test_a_scenario_that_overruns_its_bound_is_stopped():
    async def forever() -> None:
        import asyncio

        await asyncio.sleep(60)

    started = time.monotonic()
    with pytest.raises(ScenarioTimeout):
        run_on_fresh_loop(forever, timeout=0.2)
    assert time.monotonic() - started < 2


def test_a_scenario_that_fails_hands_its_error_to_the_check():
    async def fails() -> None:
        raise ValueError("broken scenario")

    with pytest.raises(ValueError, match="broken scenario"):
        run_on_fresh_loop(fails)


@pytest.mark.parametrize(
    ("check", "answer"),
    [
        ("predict_late_replies", ["3"]),
        ("match_replies", ["if reply.correlation_id == correlation_id: return reply.body"]),
    ],
)
def test_a_stranger_taking_the_requests_gets_a_reason_not_an_error(broker, check, answer):
    with broker.connect("setup") as connection:
        channel = connection.channel()
        channel.queue_declare("rpc.requests")
        channel.queue_declare("rpc.replies")
    with broker.connect("a learner's own consumer") as stranger:
        stranger.channel().basic_consume("rpc.requests", lambda delivery: None)  # never answers
        started = time.monotonic()
        verdict = CHECKS[check](Lab(broker, "/"), {}, answer)
    assert not verdict.solved
    assert "another consumer" in verdict.why and verdict.args == {"queue": "rpc.requests"}
    assert time.monotonic() - started < 6
