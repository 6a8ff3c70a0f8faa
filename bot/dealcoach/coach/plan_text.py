"""The wording of close plans, committee coverage and win insights: `prompts/<locale>/plan.yaml`.

A flat map of key → `str.format` template per locale (the same shape as the adapters'
surfaces in `dealcoach.ui_text`, which reads this file as the surface `plan`). Checked at load:
every locale has exactly the English keys, every value is text, and every template parses.
Read with the same loader as `ui_text` (`coach/flat_text.py`), templates checked too.

Values that come from users (names, step texts, deal names) are escaped by the caller for
its flavor (`escape`); template text is not.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from dealcoach.coach.flat_text import read_tables
from dealcoach.coach.markup import ESCAPERS, Flavor
from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir

LOCALES = ("en", "nl")
DEFAULT_LOCALE = "en"
FILE = "plan.yaml"


@cache
def plan_strings(folder: Path | None = None) -> dict[str, dict[str, str]]:
    """`{locale: {key: text}}`, validated (see the module doc)."""
    base = folder or prompts_dir()
    tables = read_tables(base, FILE, LOCALES, templates=True)
    for locale, table in tables.items():
        path = str(base / locale / FILE)
        for key in ("date.months", "date.weekdays"):
            if len(table[key].split()) != (12 if key == "date.months" else 7):
                raise ContentError(path, "needs 12 months / 7 weekdays", item_id=key)
    return tables


def text(locale: str | None, key: str, **values: object) -> str:
    """The template `key` in `locale` (English for an unknown locale), filled with values."""
    tables = plan_strings()
    table = tables.get(locale or DEFAULT_LOCALE) or tables[DEFAULT_LOCALE]
    template = table[key]
    return template.format(**values) if values else template


def escape(value: object, flavor: Flavor = "text") -> str:
    """User text for the flavor's markup (Slack mrkdwn, Teams markdown, plain text)."""
    return ESCAPERS[flavor]("" if value is None else str(value))


def format_date(day: date, locale: str | None) -> str:
    """`Tue 12 May` / `di 12 mei`: short, unambiguous, in the reader's language."""
    months = text(locale, "date.months").split()
    weekdays = text(locale, "date.weekdays").split()
    return text(
        locale,
        "date.format",
        weekday=weekdays[day.weekday()],
        day=day.day,
        month=months[day.month - 1],
    )


def join(items: list[str], locale: str | None, last: str = "coverage.and") -> str:
    """`a, b and c` in the locale (`last` names the key of the final joiner)."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + text(locale, last) + items[-1]
