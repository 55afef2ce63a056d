"""predict: say which queues a message will reach; the check publishes it and compares."""

from __future__ import annotations

from typing import Any

from broker.translatable import N_
from lessons.checks.lab import Lab
from lessons.checks.verdict import Verdict


def predict_routing(lab: Lab, params: dict[str, Any], answer: Any) -> Verdict:
    """params: exchange, routing_key, headers, body. answer: the queue names predicted."""
    if not isinstance(answer, list) or not all(isinstance(name, str) for name in answer):
        return Verdict(False, N_('Answer with the names of the queues, e.g. ["orders.eu"].'))
    since = lab.last_seq()
    result = lab.publish(
        params.get("exchange", ""),
        params.get("routing_key", ""),
        str(params.get("body", "a message to predict")).encode(),
        params.get("headers"),
    )
    actual, predicted = sorted(result.routed_to), sorted(set(answer))
    details = {"routed_to": actual, "trace": _trace(lab, since, result.message_id)}
    if predicted == actual:
        return Verdict(True, N_("Right: it went to %(queues)s."), _queues(actual), details)
    missed = sorted(set(actual) - set(predicted))
    extra = sorted(set(predicted) - set(actual))
    args = {"queues": _names(actual), "missed": _names(missed), "extra": _names(extra)}
    if missed and extra:
        why = N_("It went to %(queues)s: you left out %(missed)s and added %(extra)s.")
    elif missed:
        why = N_("It went to %(queues)s: you left out %(missed)s.")
    else:
        why = N_("It went to %(queues)s: it did not reach %(extra)s. See the routing trace.")
    return Verdict(False, why, args, details)


def _queues(names: list[str]) -> dict[str, str]:
    return {"queues": _names(names)}


def _names(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names) or "—"


def _trace(lab: Lab, since: int, message_id: int | None) -> list[dict[str, Any]]:
    for event in lab.events_since(since, ("routed", "unroutable")):
        if event.get("message_id") == message_id:
            return event.get("trace") or []
    return []
