"""Interface wording lives in prompts/<locale>/<surface>.yaml and is checked at load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir
from dealcoach.ui_text import translate, ui_strings

BOT = Path(__file__).resolve().parents[1] / "bot" / "dealcoach"


@pytest.mark.parametrize("surface", ["slack", "teams"])
def test_every_key_the_adapter_asks_for_exists_in_both_languages(surface: str) -> None:
    tables = ui_strings(surface)
    used = set()
    for path in (BOT / surface).rglob("*.py"):
        used |= set(re.findall(r"\bt\(\s*[\w.]+,\s*\"([a-z_]+\.[a-z_.]+|help)\"", path.read_text()))
    assert used, "found no t(locale, key) calls: the pattern went stale"
    for locale, table in tables.items():
        assert used <= set(table), (locale, sorted(used - set(table)))


def test_a_key_missing_in_dutch_fails_naming_file_and_key(tmp_path: Path) -> None:
    copy = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), copy)
    nl = copy / "nl" / "slack.yaml"
    nl.write_text(re.sub(r"(?m)^modal\.next:.*\n", "", nl.read_text("utf-8")), "utf-8")
    with pytest.raises(ContentError) as err:
        ui_strings("slack", copy)
    assert "nl/slack.yaml" in str(err.value) and "modal.next" in str(err.value)


def test_dutch_wording_is_used_and_values_are_filled() -> None:
    assert translate("slack", "nl", "modal.step", n=2, round="Beslissers") == "Stap 2 · Beslissers"
    assert translate("slack", "xx", "modal.next") == "Next"  # unknown locale: English
