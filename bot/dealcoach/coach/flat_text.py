"""Flat wording files: `prompts/<locale>/<name>.yaml`, a mapping of key → `str.format` text.

One loader for every such file — the adapters' surfaces (`dealcoach.ui_text`: slack, teams,
terminal, commands, …) and the coach's own `plan.yaml` (`coach/plan_text.py`) — so the checks
are the same everywhere: the file exists and is a mapping of text, and every locale carries
exactly the English keys (a missing or extra key fails loudly, naming the file and the key).
It lives in the pure core because the coach reads such a file too; reading `prompts/` at load
time is the only I/O the core does.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path

import yaml

from dealcoach.errors import ContentError

DEFAULT_LOCALE = "en"


def read_flat(path: Path, *, templates: bool = False) -> dict[str, str]:
    """One locale's file, validated; with `templates`, every value must parse as a
    `str.format` template."""
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
        if templates:
            try:
                list(string.Formatter().parse(text))
            except ValueError as err:
                raise ContentError(
                    str(path), f"not a valid template ({err})", item_id=key
                ) from None
    return data


def read_tables(
    base: Path, filename: str, locales: Sequence[str], *, templates: bool = False
) -> dict[str, dict[str, str]]:
    """`{locale: {key: text}}` for `base/<locale>/<filename>`, every locale with the English
    keys."""
    tables = {
        locale: read_flat(base / locale / filename, templates=templates) for locale in locales
    }
    expected = set(tables[DEFAULT_LOCALE])
    for locale, table in tables.items():
        path = str(base / locale / filename)
        for key in sorted(expected - set(table)):
            raise ContentError(path, "missing (it is in the English file)", item_id=key)
        for key in sorted(set(table) - expected):
            raise ContentError(path, "not in the English file", item_id=key)
    return tables
