"""The translation catalogs: which messages the code uses, and which a catalog lacks.

    python scripts/catalogs.py check          # every problem, one a line (exit 1 if any)
    python scripts/catalogs.py add AREA       # append the untranslated messages to AREA's zh .po

Messages are found as `pybabel extract -F babel.cfg` finds them (the keywords below); the
catalogs are translations/<area>/zh/LC_MESSAGES/messages.po, one per area of the app. The test
suite runs `problems()`, so a change that adds English text without its Chinese fails CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "t": None,
    "t_attr": (2,),
    "tn": (1, 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Text that reads the same in Chinese: product and protocol names, codes, units.
SAME_IN_CHINESE = {"QueueLab", "AMQP", "RabbitMQ", "pika", "aio-pika", "JSON", "TTL", "ms", "OK"}


def extract() -> dict[str, list[str]]:
    """Every message the code uses -> where (file:line). A plural message is keyed by its
    singular; `plurals()` gives its plural form."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
            if isinstance(message, tuple) and len(message) > 1 and message[1]:
                _PLURALS[msgid] = message[1]
    return found


_PLURALS: dict[str, str] = {}  # singular -> plural, as extract() last found them


def catalogs(lang: str = "zh") -> dict[str, Catalog]:
    """Each area's catalog of `lang`."""
    result = {}
    for po in sorted(TRANSLATIONS.glob(f"*/{lang}/LC_MESSAGES/messages.po")):
        with po.open("rb") as source:
            result[po.parts[-4]] = read_po(source, locale=lang)
    return result


def translations(lang: str = "zh") -> dict[str, tuple[str, str]]:
    """msgid -> (its translation, the area whose catalog has it), over every area."""
    found: dict[str, tuple[str, str]] = {}
    for area, catalog in catalogs(lang).items():
        for message in catalog:
            if message.id and not message.fuzzy:
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                text = message.string[0] if isinstance(message.string, tuple) else message.string
                found.setdefault(msgid, (text or "", area))
    return found


def problems(lang: str = "zh") -> list[str]:
    """Messages without a translation, with other placeholders, or left in English."""
    known = translations(lang)
    found = []
    for msgid, places in sorted(extract().items()):
        text, _area = known.get(msgid, ("", ""))
        if not text:
            found.append(f"untranslated: {msgid!r} ({places[0]})")
        elif set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
            found.append(f"placeholders differ: {msgid!r} -> {text!r}")
        elif text == msgid and msgid not in SAME_IN_CHINESE:
            found.append(f"left in English: {msgid!r} ({places[0]})")
    return found


def add_missing(area: str, lang: str = "zh") -> int:
    """Append the messages no catalog has yet to `area`'s catalog, untranslated."""
    po = TRANSLATIONS / area / lang / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    catalog = catalogs(lang).get(area) or Catalog(
        locale=lang, project="QueueLab", copyright_holder="QueueLab", fuzzy=False
    )
    known = translations(lang)
    added = 0
    for msgid, places in sorted(extract().items()):
        if msgid not in known and msgid not in catalog:
            locations = [(path, int(line)) for path, line in (p.rsplit(":", 1) for p in places[:3])]
            plural = _PLURALS.get(msgid)
            key = (msgid, plural) if plural else msgid
            catalog.add(key, ("",) if plural else "", locations=locations)
            added += 1
    with po.open("wb") as target:
        write_po(target, catalog, width=100, omit_header=False)
    return added


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        found = problems()
        print("\n".join(found) or "every message has its Chinese")
        return 1 if found else 0
    if len(argv) == 2 and argv[0] == "add":
        print(f"{add_missing(argv[1])} messages added to {argv[1]}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
