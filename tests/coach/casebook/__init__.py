"""The casebook: realistic deals with the recommendation a coach expects (issue 12).

One YAML file per deal: `answers` (language-neutral: choices, names, numbers), `en` and `nl`
(the rep's own words in each language), and `expect` (recommendation, optionally quadrant,
flags, the first move's rule, rules that must or must not be among the moves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
LOCALES = ("en", "nl")


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    expect: dict[str, Any]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # per locale


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        base = raw.get("answers") or {}
        answers = {loc: {**base, **(raw.get(loc) or {})} for loc in LOCALES}
        cases.append(Case(id=path.stem, title=raw["title"], expect=raw["expect"], answers=answers))
    return cases
