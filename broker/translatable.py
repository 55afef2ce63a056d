"""N_ marks text shown to people (a hint, a label) for translation without translating it.

The broker knows no language: it keeps English text, and the web layer, which knows the
request's language, translates it (web/i18n.py). N_ only lets the catalogs' extraction find the
text; messages use named placeholders, "%(name)s", filled in after translation.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 — gettext's own name for this marker
    return message
