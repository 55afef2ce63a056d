"""Who solved what: per learner (a browser until sign-in exists), per lesson and exercise.

Kept in memory for now; the durable store (the durability issue) will keep it across restarts.
A learner's attempts count, so the next hint can follow how long they have been trying.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class ExerciseProgress:
    solved: bool = False
    attempts: int = 0
    hints_shown: int = 0


class Progress:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_learner: dict[str, dict[tuple[str, str], ExerciseProgress]] = {}

    def _entry(self, learner: str, lesson: str, exercise: str) -> ExerciseProgress:
        table = self._by_learner.setdefault(learner, {})
        return table.setdefault((lesson, exercise), ExerciseProgress())

    def attempted(self, learner: str, lesson: str, exercise: str, solved: bool) -> int:
        """Count an attempt; returns how many there were. Solved once stays solved."""
        with self._lock:
            entry = self._entry(learner, lesson, exercise)
            entry.attempts += 1
            entry.solved = entry.solved or solved
            return entry.attempts

    def next_hint(self, learner: str, lesson: str, exercise: str, available: int) -> int:
        """The index of the hint to show next (they escalate), or -1 when all are shown."""
        with self._lock:
            entry = self._entry(learner, lesson, exercise)
            if entry.hints_shown >= available:
                return -1
            entry.hints_shown += 1
            return entry.hints_shown - 1

    def of(self, learner: str) -> dict[str, dict[str, dict[str, Any]]]:
        """{lesson: {exercise: {solved, attempts, hints_shown}}} for one learner."""
        with self._lock:
            table = dict(self._by_learner.get(learner, {}))
        result: dict[str, dict[str, dict[str, Any]]] = {}
        for (lesson, exercise), entry in table.items():
            result.setdefault(lesson, {})[exercise] = {
                "solved": entry.solved,
                "attempts": entry.attempts,
                "hints_shown": entry.hints_shown,
            }
        return result
