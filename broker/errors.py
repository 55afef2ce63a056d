"""AMQP errors as exceptions: RabbitMQ's reply code and text, plus a hint for students.

The reply text is exactly what RabbitMQ 3.x sends (e.g. "NOT_FOUND - no queue 'orders' in vhost
'/'"), so what a student sees here is what they will see from the real broker. The hint says what to
do next; it is ours, and shown beside the text in the app, in the reader's language: so an error
keeps its hint's template and values (`hint_template`, `hint_args`) besides the English `hint`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.translatable import N_, Term, fill

# Reply codes from the AMQP 0-9-1 spec. Channel errors close only the channel; the others
# (connection errors) close the whole connection.
CONTENT_TOO_LARGE = 311
NO_ROUTE = 312
NO_CONSUMERS = 313
CONNECTION_FORCED = 320
INVALID_PATH = 402
ACCESS_REFUSED = 403
NOT_FOUND = 404
RESOURCE_LOCKED = 405
PRECONDITION_FAILED = 406
FRAME_ERROR = 501
SYNTAX_ERROR = 502
COMMAND_INVALID = 503
CHANNEL_ERROR = 504
UNEXPECTED_FRAME = 505
RESOURCE_ERROR = 506
NOT_ALLOWED = 530
NOT_IMPLEMENTED = 540
INTERNAL_ERROR = 541

REPLY_NAMES = {
    CONTENT_TOO_LARGE: "CONTENT_TOO_LARGE",
    NO_ROUTE: "NO_ROUTE",
    NO_CONSUMERS: "NO_CONSUMERS",
    CONNECTION_FORCED: "CONNECTION_FORCED",
    INVALID_PATH: "INVALID_PATH",
    ACCESS_REFUSED: "ACCESS_REFUSED",
    NOT_FOUND: "NOT_FOUND",
    RESOURCE_LOCKED: "RESOURCE_LOCKED",
    PRECONDITION_FAILED: "PRECONDITION_FAILED",
    FRAME_ERROR: "FRAME_ERROR",
    SYNTAX_ERROR: "SYNTAX_ERROR",
    COMMAND_INVALID: "COMMAND_INVALID",
    CHANNEL_ERROR: "CHANNEL_ERROR",
    UNEXPECTED_FRAME: "UNEXPECTED_FRAME",
    RESOURCE_ERROR: "RESOURCE_ERROR",
    NOT_ALLOWED: "NOT_ALLOWED",
    NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
    INTERNAL_ERROR: "INTERNAL_ERROR",
}

CHANNEL_ERROR_CODES = frozenset(
    {CONTENT_TOO_LARGE, NO_ROUTE, NO_CONSUMERS, ACCESS_REFUSED, NOT_FOUND, RESOURCE_LOCKED}
    | {PRECONDITION_FAILED}
)


class AMQPError(Exception):
    """An error RabbitMQ would report with `reply_code` and `reply_text`."""

    def __init__(
        self,
        reply_code: int,
        message: str,
        hint: str = "",
        hint_args: Mapping[str, Any] | None = None,
    ) -> None:
        self.reply_code = reply_code
        self.reply_text = f"{REPLY_NAMES[reply_code]} - {message}"
        self.hint_template = hint
        self.hint_args = dict(hint_args or {})
        self.hint = fill(hint, self.hint_args)
        super().__init__(self.reply_text)

    @property
    def is_channel_error(self) -> bool:
        """True when RabbitMQ closes only the channel; False when it closes the connection."""
        return self.reply_code in CHANNEL_ERROR_CODES

    @property
    def name(self) -> str:
        return REPLY_NAMES[self.reply_code]

    def to_dict(self) -> dict:
        return {
            "reply_code": self.reply_code,
            "error": self.name,
            "reason": self.reply_text,
            "hint": self.hint,
        }


class ChannelClosed(AMQPError):
    """Raised when a closed channel is used; carries the error that closed it, if any."""

    def __init__(self, cause: AMQPError | None = None) -> None:
        self.cause = cause
        if cause is None:
            super().__init__(CHANNEL_ERROR, "channel is closed", N_("open a new channel"))
        else:
            super().__init__(
                cause.reply_code,
                cause.reply_text.split(" - ", 1)[1],
                N_("this channel was closed by that error; open a new channel"),
            )


class ConnectionClosed(AMQPError):
    """Raised when a closed connection is used."""

    def __init__(self, reason: str = "connection is closed") -> None:
        super().__init__(CONNECTION_FORCED, reason, N_("open a new connection"))


# The kinds of entity an error names, as words a hint can hold (translated with it).
KINDS = {"queue": Term(N_("queue")), "exchange": Term(N_("exchange"))}


def kind_word(kind: str) -> str:
    """ "queue" or "exchange" as a Term, for a hint's %(kind)s."""
    return KINDS.get(kind, kind)


def not_found(kind: str, name: str, vhost: str) -> AMQPError:
    return AMQPError(
        NOT_FOUND,
        f"no {kind} '{name}' in vhost '{vhost}'",
        N_("declare the %(kind)s first"),
        {"kind": kind_word(kind)},
    )


def precondition(
    message: str, hint: str = "", hint_args: Mapping[str, Any] | None = None
) -> AMQPError:
    return AMQPError(PRECONDITION_FAILED, message, hint, hint_args)


def access_refused(message: str, hint: str = "") -> AMQPError:
    return AMQPError(ACCESS_REFUSED, message, hint)


def invalid_exchange_type(exchange_type: str) -> AMQPError:
    """503 COMMAND_INVALID: a connection error in AMQP, as RabbitMQ answers it."""
    return AMQPError(
        COMMAND_INVALID,
        f"invalid exchange type '{exchange_type}'",
        N_("use direct, fanout, topic or headers"),
    )
