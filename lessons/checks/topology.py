"""build: reach a goal topology. The check names the first thing between the vhost and the goal."""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def topology(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: exchanges [{name, type}], queues [{name, arguments}], bindings [{source,
    destination, routing_key, destination_type}] that must all exist."""
    snapshot = lab.snapshot()
    for missing in (
        _exchanges(snapshot, params.get("exchanges", ())),
        _queues(snapshot, params.get("queues", ())),
        _bindings(snapshot, params.get("bindings", ())),
    ):
        if missing is not None:
            return missing
    return Verdict(True, N_("The topology matches the goal."))


def _exchanges(snapshot: dict[str, Any], wanted: Any) -> Verdict | None:
    have = {e["name"]: e for e in snapshot["exchanges"]}
    for goal in wanted:
        found = have.get(goal["name"])
        if found is None:
            return Verdict(
                False, N_("There is no exchange named '%(name)s' yet."), {"name": goal["name"]}
            )
        if goal.get("type") and found["type"] != goal["type"]:
            return Verdict(
                False,
                N_("Exchange '%(name)s' is a %(actual)s exchange; the goal needs %(wanted)s."),
                {"name": goal["name"], "actual": found["type"], "wanted": goal["type"]},
            )
    return None


def _queues(snapshot: dict[str, Any], wanted: Any) -> Verdict | None:
    have = {q["name"]: q for q in snapshot["queues"]}
    for goal in wanted:
        found = have.get(goal["name"])
        if found is None:
            return Verdict(
                False, N_("There is no queue named '%(name)s' yet."), {"name": goal["name"]}
            )
        for argument, value in goal.get("arguments", {}).items():
            if found["arguments"].get(argument) != value:
                return Verdict(
                    False,
                    N_("Queue '%(name)s' needs the argument %(argument)s = %(value)s."),
                    {"name": goal["name"], "argument": argument, "value": value},
                )
    return None


def _bindings(snapshot: dict[str, Any], wanted: Any) -> Verdict | None:
    have = {
        (b["source"], b["destination_type"], b["destination"], b["routing_key"])
        for b in snapshot["bindings"]
    }
    for goal in wanted:
        kind = goal.get("destination_type", "queue")
        key = (goal["source"], kind, goal["destination"], goal.get("routing_key", ""))
        if key not in have:
            return Verdict(
                False,
                N_("'%(destination)s' is not bound to '%(source)s' with routing key '%(key)s'."),
                {"destination": key[2], "source": key[0], "key": key[3]},
            )
    return None
