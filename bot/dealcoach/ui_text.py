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

from dealcoach.coach.bank import LOCALES
from dealcoach.coach.flat_text import DEFAULT_LOCALE, read_tables
from dealcoach.resources import prompts_dir

__all__ = ["DEFAULT_LOCALE", "translate", "ui_strings"]


@cache
def ui_strings(surface: str, folder: Path | None = None) -> dict[str, dict[str, str]]:
    """`{locale: {key: text}}` for one surface (`slack`, `teams`), validated."""
    return read_tables(folder or prompts_dir(), f"{surface}.yaml", LOCALES)


def translate(surface: str, locale: str | None, key: str, **values: object) -> str:
    tables = ui_strings(surface)
    table = tables.get(locale or DEFAULT_LOCALE) or tables[DEFAULT_LOCALE]
    template = table[key]
    return template.format(**values) if values else template
