"""The class's language: English and Simplified Chinese, from gettext catalogs (Flask-Babel).

One source of truth: the `.po` files under `translations/<area>/<lang>/LC_MESSAGES/`, one
catalog per area of the app (pages, loop, server …) so that each can be translated on its own.
They are compiled to `.mo` when the app starts (only when a `.po` is newer), never committed as
binaries. Templates and Python use `_()` / `gettext()`; the pages' JavaScript gets the same
catalog as JSON (embedded in every page, and at `/i18n/<lang>.json` for a switch in place).

The language: `?lang=` in the URL, else the `lang` cookie the header's switch sets, else the
browser's Accept-Language, else English. RabbitMQ's own reply texts are never translated: a
student must recognise `NOT_FOUND - no exchange 'x' in vhost '/'` on the real broker; the hint
beside them is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, abort, g, jsonify, make_response, redirect, request, url_for
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext, ngettext
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# The languages a class can choose: code -> (name in that language, the <html lang> value).
LANGUAGES = {"en": ("English", "en"), "zh": ("简体中文", "zh-CN")}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600


def select_locale() -> str:
    """?lang=, then the `lang` cookie, then Accept-Language, then English. A ?lang= link is
    remembered like the switch, so that the page's own API calls answer in its language."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        g.chosen_language = wanted
        return wanted
    wanted = request.cookies.get(COOKIE)
    if wanted in LANGUAGES:
        return wanted
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def _remember_chosen(response: Response) -> Response:
    chosen = g.get("chosen_language")
    if chosen and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_AGE, samesite="Lax")
    return response


def language() -> str:
    """The language of the request being answered (a LANGUAGES code)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def catalog_directories() -> list[Path]:
    """One translations directory per area (translations/<area>/<lang>/LC_MESSAGES/*.po)."""
    return sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()) if TRANSLATIONS.is_dir() else []


def compile_catalogs() -> None:
    """Compile each .po to the .mo gettext reads, where the .mo is missing or older."""
    for po in TRANSLATIONS.glob("*/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)


def js_catalog() -> dict[str, Any]:
    """The request's catalog for the pages' scripts: {msgid: msgstr}, and for plural messages
    {msgid: [forms…]}, plus the language and its plural rule's name."""
    messages: dict[str, Any] = {}
    translations = get_translations()
    for key, value in getattr(translations, "_catalog", {}).items():
        if not key or not value:
            continue  # the header entry
        if isinstance(key, tuple):  # (msgid, plural index) for ngettext messages
            forms = messages.setdefault(key[0], [])
            forms.extend([""] * (key[1] + 1 - len(forms)))
            forms[key[1]] = value
        else:
            messages[key] = value
    return {"lang": language(), "messages": messages}


def text_of(template: str, args: dict[str, Any] | None = None) -> str:
    """A message in the request's language, with its named placeholders filled in."""
    return gettext(template, **(args or {}))


def translated_text(msgid: str, /, **args: Any) -> Markup:
    """Template text that a switch in place can retranslate: `{{ t("Queues") }}` renders
    `<span data-i18n="Queues">队列</span>` (named placeholders go in data-i18n-args)."""
    return Markup("<span{}>{}</span>").format(_marks("", msgid, args), gettext(msgid, **args))


def translated_attribute(name: str, msgid: str, /, **args: Any) -> Markup:
    """A translated attribute: `<button {{ t_attr("title", "Large text") }}>` renders
    `title="大字" data-i18n-title="Large text"`."""
    return Markup('{}="{}"{}').format(name, gettext(msgid, **args), _marks(f"-{name}", msgid, args))


def _marks(suffix: str, msgid: str, args: dict[str, Any]) -> Markup:
    marks = Markup(' data-i18n{}="{}"').format(suffix, msgid)
    if args:
        marks += Markup(' data-i18n-args="{}"').format(json.dumps(args, ensure_ascii=False))
    return marks


def init_app(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    directories = ";".join(str(d) for d in catalog_directories()) or str(TRANSLATIONS)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", directories)
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_chosen)
    app.jinja_env.globals.update(
        languages=LANGUAGES,
        language=language,
        html_lang=lambda: LANGUAGES[language()][1],
        js_catalog=js_catalog,
        ngettext=ngettext,
        t=translated_text,
        t_attr=translated_attribute,
    )
    app.add_url_rule("/i18n/<lang>.json", "i18n.catalog", _catalog)
    app.add_url_rule("/lang/<lang>", "i18n.choose", _choose, methods=["GET", "POST"])


def _catalog(lang: str) -> Response:
    """The JS catalog of `lang`, for a page that switches language in place."""
    if lang not in LANGUAGES:
        abort(404)

    with force_locale(lang):
        response = jsonify(js_catalog())
    response.cache_control.no_cache = True
    return response


def _choose(lang: str) -> Response:
    """Remember the language in a cookie; a page's switch POSTs here, a plain link GETs it and
    goes back where it came from."""
    if lang not in LANGUAGES:
        abort(404)
    if request.method == "POST":
        response = make_response("", 204)
    else:
        back = request.referrer if _same_origin(request.referrer) else url_for("pages.overview")
        response = redirect(back)
    response.set_cookie(COOKIE, lang, max_age=COOKIE_AGE, samesite="Lax")
    return response


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)
