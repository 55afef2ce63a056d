"""A lesson as data: its text in each language, a start scenario, steps and checked exercises.

Lessons are files a teacher can read and edit (lessons/curriculum/*.toml, see files.py); this
module is what they become once read. Text is per language, English the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("build", "predict", "code", "fix")
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Text:
    """One piece of text in each language the lesson has; English is the fallback."""

    by_language: dict[str, str]

    def in_language(self, language: str) -> str:
        return self.by_language.get(language) or self.by_language.get("en", "")


@dataclass(frozen=True)
class Attempt:
    """A scripted attempt at an exercise: the HTTP API calls that make it, a program to run
    against the AMQP URL, or an answer (predict); and, for a wrong one, what `why` must say."""

    calls: tuple[dict[str, Any], ...] = ()
    program: str = ""
    answer: Any = None
    why_contains: str = ""


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str  # one of KINDS
    title: Text
    task: Text  # what to do, shown with the exercise
    check: str  # the name of a check in lessons/checks
    params: dict[str, Any]  # what the check is given (goal, message, counts …)
    hints: tuple[Text, ...]  # escalating: a question, a pointer, then the solution's idea
    solution: Text  # the shown solution
    solution_attempt: Attempt  # the same, for the tests to perform
    wrong_attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A lesson's start, in the learner's vhost: RabbitMQ definitions' shapes plus messages
    to publish and simulations to start."""

    exchanges: tuple[dict[str, Any], ...] = ()
    queues: tuple[dict[str, Any], ...] = ()
    bindings: tuple[dict[str, Any], ...] = ()
    messages: tuple[dict[str, Any], ...] = ()
    simulations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    title: Text
    summary: Text
    concepts: tuple[str, ...]
    start: Scenario
    steps: tuple[Text, ...]
    exercises: tuple[Exercise, ...]
    tutorial: str = ""  # the RabbitMQ tutorial it follows, if any
    source: str = field(default="", compare=False)  # the file it was read from

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)
