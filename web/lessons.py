"""The Lessons page and its API: lessons in the request's language, start/reset, checks, progress.

    GET  /lessons, /lessons/<id>?step=N          the page (a permalink per lesson and step)
    GET  /api/lessons                             [{id, title, concepts, exercises: [{id, kind,
                                                   title}]}]
    GET  /api/lessons/<id>                        the whole lesson: summary, steps, exercises
    POST /api/lessons/<id>/start                  reset the learner's vhost to the lesson's start
    POST /api/lessons/<id>/exercises/<ex>/check   {"answer": …} → {solved, why, hint, details}
                                                  ("auto": true: the page's re-check on a change,
                                                  which is not an attempt and earns no hint)
    GET  /api/lessons/progress                    this learner's progress

A learner is a browser (a `learner` cookie) until sign-in exists; the lesson runs in the vhost
the app is configured with (LESSON_VHOST, "/" by default). Checks run in the request's thread,
off the broker lock; their `why` and the hints come in the request's language.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask_babel import gettext

from lessons.checks import CHECKS
from lessons.checks.lab import Lab
from lessons.files import load_lessons
from lessons.model import Exercise, Lesson
from lessons.progress import Progress
from lessons.scenario import reset
from web.i18n import language
from web.toolkit import ALL_METHODS, ApiError, json_endpoint, json_response, read_json_body

lessons_page = Blueprint("lessons", __name__)
EXTENSION = "queuelab.lessons"
LEARNER_COOKIE = "learner"


class Classroom:
    """The app's lessons (read once at start) and its learners' progress."""

    def __init__(self, lessons: list[Lesson]) -> None:
        self.lessons = {lesson.id: lesson for lesson in lessons}
        self.progress = Progress()


def init_lessons(app: Flask) -> None:
    folders = [Path(folder) for folder in app.config.get("LESSONS_DIRS", ())]
    app.extensions[EXTENSION] = Classroom(load_lessons(*folders))
    app.register_blueprint(lessons_page)
    app.after_request(_remember_learner)


def _classroom() -> Classroom:
    return current_app.extensions[EXTENSION]


def _learner() -> str:
    if "learner" not in g:
        g.learner = request.cookies.get(LEARNER_COOKIE) or secrets.token_urlsafe(16)
    return g.learner


def _remember_learner(response: Response) -> Response:
    if "learner" in g and request.cookies.get(LEARNER_COOKIE) != g.learner:
        response.set_cookie(LEARNER_COOKIE, g.learner, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _lesson(lesson_id: str) -> Lesson:
    lesson = _classroom().lessons.get(lesson_id)
    if lesson is None:
        raise ApiError(404, "not_found", f"NOT_FOUND - no lesson '{lesson_id[:100]}'")
    return lesson


def _exercise(lesson: Lesson, exercise_id: str) -> Exercise:
    exercise = lesson.exercise(exercise_id)
    if exercise is None:
        raise ApiError(
            404, "not_found", f"NOT_FOUND - no exercise '{exercise_id[:100]}' in '{lesson.id}'"
        )
    return exercise


def _vhost() -> str:
    return current_app.config.get("LESSON_VHOST", "/")


# --- what a lesson looks like in the request's language ---------------------------------------


def lesson_summary(lesson: Lesson, lang: str) -> dict[str, Any]:
    return {
        "id": lesson.id,
        "title": lesson.title.in_language(lang),
        "concepts": list(lesson.concepts),
        "tutorial": lesson.tutorial,
        "exercises": [
            {"id": e.id, "kind": e.kind, "title": e.title.in_language(lang)}
            for e in lesson.exercises
        ],
    }


def lesson_whole(lesson: Lesson, lang: str) -> dict[str, Any]:
    summary = lesson_summary(lesson, lang)
    summary["summary"] = lesson.summary.in_language(lang)
    summary["steps"] = [step.in_language(lang) for step in lesson.steps]
    for shown, exercise in zip(summary["exercises"], lesson.exercises, strict=True):
        shown["task"] = exercise.task.in_language(lang)
        shown["hints"] = len(exercise.hints)
        shown["solution"] = exercise.solution.in_language(lang)
        shown["choices"] = exercise.params.get("choices", [])
        shown["pick"] = exercise.params.get("pick", "some")  # some | one | order (lessons.js)
    return summary


# --- the API ---------------------------------------------------------------------------------


@lessons_page.route("/api/lessons", methods=ALL_METHODS)
@json_endpoint("GET")
def api_list() -> Response:
    lang = language()
    return json_response([lesson_summary(x, lang) for x in _classroom().lessons.values()])


@lessons_page.route("/api/lessons/progress", methods=ALL_METHODS)
@json_endpoint("GET")
def api_progress() -> Response:
    return json_response(_classroom().progress.of(_learner()))


@lessons_page.route("/api/lessons/<lesson_id>", methods=ALL_METHODS)
@json_endpoint("GET")
def api_lesson(lesson_id: str) -> Response:
    return json_response(lesson_whole(_lesson(lesson_id), language()))


@lessons_page.route("/api/lessons/<lesson_id>/start", methods=ALL_METHODS)
@json_endpoint("POST")
def api_start(lesson_id: str) -> Response:
    lesson = _lesson(lesson_id)
    simulations = current_app.extensions["queuelab.simulations"]
    reset(current_app.config["BROKER"], simulations, _vhost(), lesson.start)
    return json_response({"started": lesson.id, "vhost": _vhost()})


@lessons_page.route("/api/lessons/<lesson_id>/exercises/<exercise_id>/check", methods=ALL_METHODS)
@json_endpoint("POST")
def api_check(lesson_id: str, exercise_id: str) -> Response:
    lesson = _lesson(lesson_id)
    exercise = _exercise(lesson, exercise_id)
    body = read_json_body(optional=True)
    lab = Lab(current_app.config["BROKER"], _vhost())
    verdict = CHECKS[exercise.check](lab, exercise.params, body.get("answer"))
    # The page re-checks build exercises on every change ("auto"): those are not attempts.
    auto = body.get("auto") is True
    progress = _classroom().progress
    if not auto or verdict.solved:
        progress.attempted(_learner(), lesson.id, exercise.id, verdict.solved)
    hint = ""
    if not verdict.solved and not auto:
        index = progress.next_hint(_learner(), lesson.id, exercise.id, len(exercise.hints))
        hint = exercise.hints[index].in_language(language()) if index >= 0 else ""
    return json_response(
        {
            "solved": verdict.solved,
            "why": gettext(verdict.why, **verdict.args),
            "hint": hint,
            "details": verdict.details,
        }
    )


# --- the page --------------------------------------------------------------------------------


@lessons_page.get("/lessons")
@lessons_page.get("/lessons/<lesson_id>")
def page(lesson_id: str = "") -> str:
    lang = language()
    lessons = [lesson_summary(x, lang) for x in _classroom().lessons.values()]
    return render_template("lessons.html", lessons=lessons, current=lesson_id, vhost=_vhost())
