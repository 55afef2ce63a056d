"""SASL login for connection.start-ok: the PLAIN and AMQPLAIN mechanisms RabbitMQ offers.

PLAIN's response is "\\0user\\0password" (an optional authorisation id may come first);
AMQPLAIN's is a field table, without its length prefix, holding LOGIN and PASSWORD.
"""

from __future__ import annotations

import hmac
import struct

from pamqp import decode

MECHANISMS = ("PLAIN", "AMQPLAIN")


class UnknownMechanism(Exception):
    pass


def credentials(mechanism: str, response: str | bytes) -> tuple[str, str] | None:
    """(user, password) from a start-ok response, or None when it cannot be read."""
    data = response.encode() if isinstance(response, str) else bytes(response)
    if mechanism == "PLAIN":
        parts = data.split(b"\x00")
        if len(parts) != 3:
            return None
        user, password = parts[1], parts[2]
    elif mechanism == "AMQPLAIN":
        try:
            _, table = decode.field_table(struct.pack(">I", len(data)) + data)
        except ValueError:
            return None
        user, password = table.get("LOGIN"), table.get("PASSWORD")
        if not isinstance(user, str | bytes) or not isinstance(password, str | bytes):
            return None
    else:
        raise UnknownMechanism(mechanism)
    try:
        return _text(user), _text(password)
    except UnicodeDecodeError:
        return None


def check(users: dict[str, str], user: str, password: str) -> bool:
    expected = users.get(user)
    return expected is not None and hmac.compare_digest(expected.encode(), password.encode())


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode()
