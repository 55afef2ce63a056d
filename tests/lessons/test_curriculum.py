"""Every shipped exercise, performed: its solution solves it, each wrong attempt does not, and the
`why` names the mistake. The attempts are written in the lesson files themselves."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

import web
from amqp import AMQPServer
from app import create_app
from broker import Broker
from lessons.files import load_lessons
from lessons.model import Attempt, Exercise, Lesson
from tests.waiting import wait_for

LESSONS = load_lessons()
EXERCISES = [(lesson, exercise) for lesson in LESSONS for exercise in lesson.exercises]
WRONG = [
    (lesson, exercise, n)
    for lesson, exercise in EXERCISES
    for n, _ in enumerate(exercise.wrong_attempts)
]


def app_of(client: FlaskClient) -> Flask:
    return client.application


def server_consumes(app: Flask, queue: str) -> bool:
    consumers = app.config["BROKER"].snapshot("/")["consumers"]
    return any(c["queue"] == queue for c in consumers)


def ids(case: tuple) -> str:
    return "/".join(str(part.id if hasattr(part, "id") else part) for part in case)


@pytest.fixture
def classroom(broker: Broker) -> Iterator[tuple[Flask, AMQPServer]]:
    server = AMQPServer(broker, "127.0.0.1", 0).start()
    app = create_app({"BROKER": broker, "TESTING": True, "AMQP_URL": server.url})
    yield app, server
    web.shutdown(app)
    server.stop()


def perform(
    client: FlaskClient, server: AMQPServer, lesson: Lesson, exercise: Exercise, attempt: Attempt
) -> dict:
    assert client.post(f"/api/lessons/{lesson.id}/start").status_code == 200
    for call in attempt.calls:
        response = client.open(call["path"], method=call["method"], json=call.get("body"))
        assert response.status_code < 400, (call, response.get_json())
    program = None
    if attempt.program:
        program = subprocess.Popen([sys.executable, "-c", attempt.program, server.url])
        # As a student would: run the program, wait until it consumes, then check.
        wait_for(lambda: server_consumes(app_of(client), exercise.params["queue"]), timeout=15)
    try:
        body = {"answer": attempt.answer} if attempt.answer is not None else {}
        response = client.post(f"/api/lessons/{lesson.id}/exercises/{exercise.id}/check", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    finally:
        if program is not None:
            program.kill()
            program.wait(10)


@pytest.mark.parametrize(("lesson", "exercise"), EXERCISES, ids=[ids(c) for c in EXERCISES])
def test_the_shown_solution_solves_it(classroom, lesson: Lesson, exercise: Exercise):
    app, server = classroom
    verdict = perform(app.test_client(), server, lesson, exercise, exercise.solution_attempt)
    assert verdict["solved"], verdict["why"]


@pytest.mark.parametrize(("lesson", "exercise", "n"), WRONG, ids=[ids(c) for c in WRONG])
def test_a_plausible_mistake_is_not_solved_and_why_names_it(classroom, lesson, exercise, n):
    app, server = classroom
    attempt = exercise.wrong_attempts[n]
    verdict = perform(app.test_client(), server, lesson, exercise, attempt)
    assert not verdict["solved"]
    assert attempt.why_contains in verdict["why"]
    assert verdict["hint"], "an unsolved attempt earns the next hint"


def test_every_exercise_has_a_mistake_to_learn_from():
    assert [e.id for _, e in EXERCISES if not e.wrong_attempts] == []
