"""Broker values as JSON: what the API returns and what the live socket sends.

AMQP values are richer than JSON: header tables hold bytes, timestamps (x-death's `time` is a
datetime) and decimals. `json_safe` turns them into text a browser can show: UTF-8 bytes become
text, other bytes base64, datetimes ISO 8601 strings, non-finite floats their names.

Language. What the broker writes for people (a routing trace's reasons, why a message was dropped
or a queue deleted, why a channel closed) is English that keeps its message: a `Phrase`
(broker/translatable.py). Its field stays that English, whatever the reader's language (scripts
and tests match it as it is), and `<field>_i18n` = {msgid, args} goes beside it, in any dict
(an event's `reason`, each `reason` of its `trace`), for the page to say in its language.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

from broker.events import Event, Lazy
from broker.message import Message, describe_message
from broker.translatable import Phrase

_SCALARS = (str, int, bool, type(None))


def json_safe(value: Any) -> Any:
    """A copy of `value` made only of JSON types."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[str(k)] = json_safe(v)
            if v.__class__ is Phrase:
                out[f"{k}_i18n"] = json_safe(v.message)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Lazy):
        return json_safe(value.compute())
    return str(value)


def dumps(value: Any) -> str:
    """Compact JSON of an already JSON-safe value."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def truncate_payload(described: dict[str, Any], limit: int) -> dict[str, Any]:
    """Shorten a `describe_message` dict's payload to about `limit` bytes of body."""
    payload = described.get("payload")
    if not isinstance(payload, str):
        return described
    cut = (limit + 2) // 3 * 4 if described.get("payload_encoding") == "base64" else limit
    if len(payload) <= cut:
        return described
    return {**described, "payload": payload[:cut], "truncated": True}


# What a `published` event already says at its top level; a compact `message` leaves it out.
_ENVELOPE = ("message_id", "exchange", "routing_key")


def event_dict(
    event: Event, body_limit: int = 2048, with_trace: bool = True, compact: bool = False
) -> dict[str, Any]:
    """`Event.to_dict()` made JSON-safe; the lazy `message` body cut to `body_limit` bytes and
    the lazy routing `trace` worked out only when `with_trace`. `compact` (the live socket)
    drops from `message` the envelope fields the event itself carries."""
    out: dict[str, Any] = {"seq": event.seq, "time": event.time, "type": event.type}
    for name, value in event.data.items():
        if name == "trace" and not with_trace and isinstance(value, Lazy):
            continue
        if isinstance(value, Message):
            value = describe_message(value, body_limit)
        else:
            value = event.get(name)  # the broker's own way of making stored objects plain
            if name == "message" and isinstance(value, dict):
                value = truncate_payload(value, body_limit)
        if compact and name == "message" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _ENVELOPE}
        out[name] = json_safe(value)
        if value.__class__ is Phrase:
            out[f"{name}_i18n"] = json_safe(value.message)
    return out
