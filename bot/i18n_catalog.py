"""Keeping the catalogs complete: what the code asks for versus what the catalogs hold.

python -m bot.i18n_catalog missing          # message ids without a translation, per language
python -m bot.i18n_catalog add FEATURE      # append the missing ids, untranslated, to
                                            # locales/<lang>/LC_MESSAGES/FEATURE.po
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.config import PROJECT_ROOT, SUPPORTED_LOCALES
from bot.i18n import LOCALES_DIR, load_catalog

SOURCE_DIRS = ("bot", "scheduler")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "__": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class UsedMessage:
    msgid: str
    plural: str | None
    where: str


def used_messages(root: Path = PROJECT_ROOT) -> dict[str, UsedMessage]:
    found: dict[str, UsedMessage] = {}
    for folder in SOURCE_DIRS:
        base = root / folder
        if not base.is_dir():
            continue
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(base), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, tuple):
                msgid, plural = message[0], message[1]
            else:
                msgid, plural = message, None
            if msgid:
                found.setdefault(
                    msgid, UsedMessage(msgid, plural, f"{folder}/{filename}:{lineno}")
                )
    return found


def missing(locale: str, used: dict[str, UsedMessage] | None = None) -> list[UsedMessage]:
    used = used_messages() if used is None else used
    catalog = load_catalog(locale)
    result = []
    for msgid, info in used.items():
        message = catalog.get(msgid)
        strings = (
            message.string
            if message is not None and isinstance(message.string, tuple)
            else (message.string,)
            if message is not None
            else ("",)
        )
        if message is None or not all(strings) or message.fuzzy:
            result.append(info)
    return result


def placeholder_mismatches(locale: str) -> list[str]:
    """Messages whose translation names other `{placeholders}` than the original."""
    problems = []
    for message in load_catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if string and set(PLACEHOLDER.findall(string)) != expected:
                problems.append(f"{locale}: {ids[0]!r} -> {string!r}")
    return problems


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def add_missing(feature: str) -> None:
    used = used_messages()
    for locale in SUPPORTED_LOCALES:
        path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{feature}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = missing(locale, used)
        if not entries:
            continue
        new = not path.exists()
        with path.open("a", encoding="utf-8") as fh:
            if new:
                fh.write('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n')
            for info in entries:
                fh.write(f"\n#: {info.where}\nmsgid {_po_quote(info.msgid)}\n")
                if info.plural:
                    fh.write(f"msgid_plural {_po_quote(info.plural)}\n")
                    fh.write('msgstr[0] ""\nmsgstr[1] ""\n')
                    if locale == "ru":
                        fh.write('msgstr[2] ""\n')
                else:
                    fh.write('msgstr ""\n')
        print(f"{path}: {len(entries)} added")


def main(argv: list[str]) -> int:
    if argv[:1] == ["missing"]:
        used = used_messages()
        total = 0
        for locale in SUPPORTED_LOCALES:
            for info in missing(locale, used):
                print(f"{locale}\t{info.where}\t{info.msgid!r}")
                total += 1
        return 1 if total else 0
    if len(argv) == 2 and argv[0] == "add":
        add_missing(argv[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
