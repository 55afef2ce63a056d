"""The loop's phrases in the language of the request being answered.

The loop says everything in English phrases that remember their message (broker/translatable.py);
an answer of the loop's API says them in the request's language (?lang=, the cookie,
Accept-Language: web/i18n.py), and sends the message beside them (`message_i18n` …) so that
the page can say them again after a switch of language in place.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from broker.translatable import Phrase


def say(value: Any) -> Any:
    """A phrase in the request's language (its phrase arguments too); anything else as it is."""
    if not isinstance(value, Phrase):
        return value
    if not value.args:
        return gettext(value.msgid)
    return gettext(value.msgid, **{name: say(arg) for name, arg in value.args.items()})
