"""Text shown to people (a hint, a refusal), kept in English with what translating it needs.

The broker knows no language: it keeps English text, and the web layer, which knows the
request's language, translates it (web/i18n.py). N_ only lets the catalogs' extraction find the
text. Messages use named placeholders, "%(name)s", filled in after translation: so a text is a
template plus its values, and `fill` gives the English. A value that is itself a word of ours
("queue", "exchange") is a `Term`, translated with the text around it; any other value (a name,
a number, user data) is shown as it is.
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
