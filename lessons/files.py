"""Lesson files: TOML a teacher can read and edit, one lesson per file.

    id = "first-route"
    order = 10
    concepts = ["producer", "exchange", "queue"]
    title = { en = "From producer to queue", zh = "从生产者到队列" }
    summary = { en = "…", zh = "…" }

    [start]                       # the learner's vhost is emptied, then this is declared
    exchanges = [{ name = "orders", type = "direct" }]
    queues = [{ name = "orders.eu" }]
    bindings = [{ source = "orders", destination = "orders.eu", routing_key = "eu" }]
    messages = [{ exchange = "orders", routing_key = "eu", body = "order 1" }]

    [[steps]]
    en = "…"
    zh = "…"

    [[exercises]]
    id = "bind-us"
    kind = "build"                # build | predict | code | fix
    check = "topology"            # a check in lessons/checks
    title = { en = "…", zh = "…" }
    task = { en = "…", zh = "…" }
    hints = [{ en = "…", zh = "…" }]
    solution = { en = "…", zh = "…" }
    [exercises.params]            # what the check is given; for predict exercises also
                                  # choices = [...] and pick = "some" | "one" | "order"
    [exercises.solve]             # the solution, performed by the tests
    calls = [{ method = "PUT", path = "/api/queues/%2F/orders.us", body = {} }]
    [[exercises.wrong]]           # mistakes students make, and what `why` must name
    calls = [...]
    why = "…"

Shipped lessons are in lessons/curriculum/; `--lessons DIR` adds a teacher's own.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from lessons.checks import CHECKS
from lessons.concepts import BY_ID
from lessons.model import KINDS, Attempt, Exercise, Lesson, Scenario, Text

CURRICULUM = Path(__file__).resolve().parent / "curriculum"


class LessonFileError(ValueError):
    """A lesson file that cannot be used, with the file and the field that is wrong."""


def load_lessons(*directories: Path) -> list[Lesson]:
    """Every lesson in the curriculum and the given folders, in their order; ids are unique."""
    lessons: dict[str, Lesson] = {}
    for directory in (CURRICULUM, *directories):
        for path in sorted(Path(directory).glob("*.toml")):
            lesson = read_lesson(path)
            if lesson.id in lessons:
                raise LessonFileError(f"{path}: lesson id '{lesson.id}' is used twice")
            lessons[lesson.id] = lesson
    return sorted(lessons.values(), key=lambda lesson: (lesson.order, lesson.id))


def read_lesson(path: Path) -> Lesson:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return _lesson(data, str(path))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise LessonFileError(f"{path}: {error}") from error


def _lesson(data: dict[str, Any], source: str) -> Lesson:
    concepts = tuple(data.get("concepts", ()))
    unknown = [c for c in concepts if c not in BY_ID]
    if unknown:
        raise ValueError(f"unknown concept '{unknown[0]}' (see lessons/concepts.py)")
    return Lesson(
        id=_id(data["id"]),
        order=int(data.get("order", 1000)),
        title=_text(data["title"], "title"),
        summary=_text(data.get("summary", {"en": ""}), "summary"),
        concepts=concepts,
        start=_scenario(data.get("start", {})),
        steps=tuple(_text(step, "steps") for step in data.get("steps", ())),
        exercises=tuple(_exercise(e) for e in data.get("exercises", ())),
        tutorial=str(data.get("tutorial", "")),
        source=source,
    )


def _exercise(data: dict[str, Any]) -> Exercise:
    kind, check = data["kind"], data["check"]
    if kind not in KINDS:
        raise ValueError(f"exercise kind '{kind}' is not one of {', '.join(KINDS)}")
    if check not in CHECKS:
        raise ValueError(f"no check named '{check}' (see lessons/checks)")
    return Exercise(
        id=_id(data["id"]),
        kind=kind,
        title=_text(data["title"], "title"),
        task=_text(data["task"], "task"),
        check=check,
        params=dict(data.get("params", {})),
        hints=tuple(_text(hint, "hints") for hint in data.get("hints", ())),
        solution=_text(data["solution"], "solution"),
        solution_attempt=_attempt(data.get("solve", {})),
        wrong_attempts=tuple(_attempt(w) for w in data.get("wrong", ())),
    )


def _attempt(data: dict[str, Any]) -> Attempt:
    return Attempt(
        calls=tuple(dict(call) for call in data.get("calls", ())),
        program=str(data.get("program", "")),
        answer=data.get("answer"),
        why_contains=str(data.get("why", "")),
    )


def _scenario(data: dict[str, Any]) -> Scenario:
    return Scenario(
        **{
            part: tuple(dict(item) for item in data.get(part, ()))
            for part in ("exchanges", "queues", "bindings", "messages", "simulations")
        }
    )


def _text(value: Any, name: str) -> Text:
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or not value.get("en"):
        raise ValueError(f"'{name}' needs its English text (en = \"…\")")
    return Text({str(k): str(v).strip() for k, v in value.items()})


def _id(value: Any) -> str:
    text = str(value)
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise ValueError(f"id '{text}' may hold only letters, digits, - and _")
    return text
