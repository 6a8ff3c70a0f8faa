"""Every flag a rule can raise has a coaching theme in every language, so a manager's digest
never falls back to "the flag “x” came up"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _flags() -> set[str]:
    rules = yaml.safe_load((ROOT / "prompts" / "rules.yaml").read_text("utf-8"))

    def walk(node: object) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            if isinstance(node.get("flag"), str):
                found.add(node["flag"])
            for value in node.values():
                found |= walk(value)
        elif isinstance(node, list):
            for value in node:
                found |= walk(value)
        return found

    return walk(rules)


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_flag_has_a_digest_theme(locale: str) -> None:
    strings = yaml.safe_load(
        (ROOT / "prompts" / locale / "digest" / "strings.yaml").read_text("utf-8")
    )
    flags = _flags()
    assert {"interests_conflict", "champion_untested", "not_market_conform"} <= flags
    assert sorted(flags - set(strings["themes"])) == []


def test_the_dutch_digest_wording_follows_the_glossary() -> None:
    """prompts/nl/GLOSSARY.md: walk away is "nee zeggen" (never "afhaken"), the quadrants stay
    untranslated (win-lose, not "win-verlies"), an agenda is "ingeschat", not "aangenomen"."""
    folder = ROOT / "prompts" / "nl" / "digest"
    for path in sorted(folder.iterdir()):
        text = path.read_text("utf-8").lower()
        for forbidden in ("afhak", "verlies-", "-verlies", "aangenomen"):
            assert forbidden not in text, f"{path.name}: {forbidden!r}"
