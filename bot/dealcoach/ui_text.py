"""The chat adapters' interface wording (buttons, titles, short replies), from `prompts/`.

Coaching content comes through `coach`; these are the words around it, one YAML file per
surface and locale (`prompts/<locale>/<surface>.yaml`, a flat mapping of key → text), so
the wording can change without touching Python. Texts are `str.format` templates; values
that come from users must be escaped by the caller for their markup. Every locale must
carry the same keys as English: a missing or extra key fails loudly at load, naming the
file and the key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from dealcoach.coach.bank import LOCALES
from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir

DEFAULT_LOCALE = "en"


def _read(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ContentError(str(path), "file is missing") from None
    except yaml.YAMLError as err:
        raise ContentError(str(path), f"not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ContentError(str(path), "expected a mapping of key: text")
    for key, text in data.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise ContentError(str(path), "every value must be a text", item_id=str(key))
    return data


@cache
def ui_strings(surface: str, folder: Path | None = None) -> dict[str, dict[str, str]]:
    """`{locale: {key: text}}` for one surface (`slack`, `teams`), validated."""
    base = folder or prompts_dir()
    tables = {locale: _read(base / locale / f"{surface}.yaml") for locale in LOCALES}
    expected = set(tables[DEFAULT_LOCALE])
    for locale, table in tables.items():
        path = str(base / locale / f"{surface}.yaml")
        for key in sorted(expected - set(table)):
            raise ContentError(path, "missing (it is in the English file)", item_id=key)
        for key in sorted(set(table) - expected):
            raise ContentError(path, "not in the English file", item_id=key)
    return tables


def translate(surface: str, locale: str | None, key: str, **values: object) -> str:
    tables = ui_strings(surface)
    table = tables.get(locale or DEFAULT_LOCALE) or tables[DEFAULT_LOCALE]
    template = table[key]
    return template.format(**values) if values else template
