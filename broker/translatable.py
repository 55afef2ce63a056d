"""Text shown to people (a hint, a refusal, an explanation): English, with what translating it
needs.

The broker knows no language: it keeps English text, and the web layer, which knows the
request's language, translates it (web/i18n.py). N_ only lets the catalogs' extraction find the
text. Messages use named placeholders, "%(name)s", filled in after translation: so a text is a
template plus its values, and `fill` gives the English. A value that is itself a word of ours
("queue", "exchange") is a `Term`, translated with the text around it; any other value (a name,
a number, user data) is shown as it is.

Text the broker and the event loop write *for people to read later* (a routing trace's reasons,
why a message was dropped, why a queue was deleted, what the loop is doing) is a :class:`Phrase`:
it *is* its English string (tests, logs and the JSON API read it as before), and it also keeps its
message id and named arguments, so that a page can say it in its reader's language. The web layer
sends ``<field>_i18n`` = :func:`message_of` the phrase beside the English field, and the page's
scripts translate it with ``t()``::

    phrase(N_("no queue named `%(queue)s`"), queue=name)

An argument may be a phrase itself: it is translated too. Other arguments (names, numbers, code)
are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def N_(message: str) -> str:  # noqa: N802 — gettext's own name for this marker
    return message


class Term(str):
    """A word that is itself a message, used as a placeholder's value: `Term(N_("queue"))`."""


def fill(template: str, values: Mapping[str, Any] | None = None) -> str:
    """The English text: the template with its named placeholders filled in."""
    return template % dict(values) if values else template


class TranslatableError(ValueError):
    """A refusal people read: str() is the English text; `template` and `values` let the web
    layer say it in the reader's language."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(fill(template, values))
        self.template = template
        self.values = values


I18nMessage = dict[str, Any]  # {"msgid": "...", "args": {name: value or I18nMessage}}


class Phrase(str):
    """The English text of ``msgid`` with ``args`` filled in, which remembers both."""

    msgid: str
    args: dict[str, Any]

    def __new__(cls, msgid: str, args: dict[str, Any]) -> Phrase:
        text = msgid % args if args else msgid
        self = super().__new__(cls, text)
        self.msgid = msgid
        self.args = args
        return self

    @property
    def message(self) -> I18nMessage:
        """The message id and its arguments, nested phrases as messages (JSON-able)."""
        if not self.args:
            return {"msgid": self.msgid}
        return {"msgid": self.msgid, "args": {k: message_of(v) for k, v in self.args.items()}}


def phrase(msgid: str, **args: Any) -> Phrase:
    """``msgid`` (marked with ``N_()``) filled with named ``args``: English, translatable later."""
    return Phrase(msgid, args)


def message_of(value: Any) -> Any:
    """A phrase's message; any other value as it is."""
    return value.message if isinstance(value, Phrase) else value


def joined(parts: list[Any], separator: str) -> Phrase | str:
    """Parts one after the other (phrases stay translatable): "Event.wait() → future #3"."""
    if len(parts) == 1:
        return parts[0]
    names = [f"p{i}" for i in range(len(parts))]
    template = separator.join(f"%({name})s" for name in names)
    return Phrase(template, dict(zip(names, parts, strict=True)))


def with_i18n(record: dict[str, Any], *fields: str) -> dict[str, Any]:
    """``record`` with ``<field>_i18n`` beside each of ``fields`` that holds a phrase."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, Phrase):
            record[f"{field}_i18n"] = value.message
    return record
