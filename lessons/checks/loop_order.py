"""predict: put the prints of a short asyncio script in order; the check runs it and compares.

The script (loop_scripts.py, named by `params.scenario`) runs for real on a fresh event loop.
The answer is the list of labels in the predicted order. A wrong answer is explained at its first
wrong place: the learner's label there really came later, and the script says why (registering is
not running, set() wakes rather than calls, no await means no turn for the others).
"""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.fresh_loop import run_on_fresh_loop
from lessons.checks.lab import Lab
from lessons.checks.loop_scripts import ORDER_SCRIPTS, record
from lessons.checks.verdict import Verdict


def predict_loop_order(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: scenario (a name in ORDER_SCRIPTS). answer: every label once, in order."""
    script = ORDER_SCRIPTS[params["scenario"]]
    labels = ", ".join(f"'{label}'" for label in script.labels)
    if not _is_an_order_of(answer, script.labels):
        why = N_("Put every label in order, each exactly once: %(labels)s.")
        return Verdict(False, why, {"labels": labels})
    printed = run_on_fresh_loop(lambda: record(script.main))
    details = {"printed": printed}
    order = " → ".join(printed)
    if answer == printed:
        return Verdict(True, N_("Right: the loop printed %(order)s."), {"order": order}, details)
    position = next(n for n, label in enumerate(answer) if label != printed[n])
    why = script.explain(answer[position], printed[position])
    return Verdict(False, why, {"order": order, "label": answer[position]}, details)


def _is_an_order_of(answer: Any, labels: tuple[str, ...]) -> bool:
    if not isinstance(answer, list) or not all(isinstance(label, str) for label in answer):
        return False
    return sorted(answer) == sorted(labels)
