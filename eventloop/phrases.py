"""Phrases: English text that remembers its message id and arguments, for the reader's language.

The loop runs on its own thread and knows no request, so no language: it says everything in
English. A :class:`Phrase` *is* that English string (tests, logs and the JSON API read it as
before), and it also keeps the message id (``"step of task %(task)s"``) and the arguments it was
filled with, so the page can say the same thing in Chinese: the recorder sends
:func:`message_of` it beside the English field (``label`` and ``label_i18n``), the page's
scripts translate it with ``t()``, the web layer with ``gettext()`` (web/loop/words.py).

Message ids are marked for the catalogs with ``N_()`` where they are written::

    phrase(N_("step of task %(task)s"), task=name)

An argument may be a phrase itself ("wake-up: %(future)s is done", future=phrase(…)): it is
translated too. Other arguments (names, numbers, code) are shown as they are.
"""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]  # {"msgid": "...", "args": {name: value or Message}}


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
    def message(self) -> Message:
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
