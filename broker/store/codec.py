"""x-arguments as JSON text, keeping the AMQP field types JSON lacks (bytes, decimals, times).

A value JSON cannot hold is written as a one-key object whose key starts with a NUL character
(which no AMQP table key a client sends starts with), so it reads back as the same type. Keys are
sorted, so equal tables are equal text: a binding's arguments are part of its identity.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

_BYTES, _DECIMAL, _TIME = "\0bytes", "\0decimal", "\0time"


def _tagged(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    if isinstance(value, datetime):
        return {_TIME: value.isoformat()}
    if isinstance(value, dict):
        return {key: _tagged(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(item) for item in value]
    return value


def _untagged(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, item),) = value.items()
            if key == _BYTES:
                return base64.b64decode(item)
            if key == _DECIMAL:
                return Decimal(item)
            if key == _TIME:
                return datetime.fromisoformat(item)
        return {key: _untagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_untagged(item) for item in value]
    return value


def encode_arguments(arguments: dict[str, Any]) -> str:
    return json.dumps(_tagged(arguments), sort_keys=True, ensure_ascii=False)


def decode_arguments(text: str) -> dict[str, Any]:
    return _untagged(json.loads(text))
