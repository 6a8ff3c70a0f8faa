"""The command words live once, in prompts/<locale>/commands.yaml, and both chat platforms
understand every one of them, English and Dutch, whatever language the user has chosen."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from dealcoach.commands import (
    CHAT_ONLY,
    TEAM_ACTIONS,
    VERBS,
    Command,
    command_words,
    parse,
    team_action,
    words_of,
)
from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir
from dealcoach.slack.listeners import crm as slack_crm
from dealcoach.slack.listeners.commands import parse_command
from dealcoach.teams import commands as teams_commands
from dealcoach.teams import crm as teams_crm
from dealcoach.ui_text import ui_strings

LOCALES = ("en", "nl")
KEYS = {*VERBS, *(f"team.{a}" for a in TEAM_ACTIONS)}
# What follows each verb in its exact form (Slack's `/dealcoach <word> <args>`).
SLACK_ARGS = {
    "help": "",
    "history": "3",
    "lang": "nl",
    "digest": "last",
    "pause": "",
    "resume": "",
    "team": "add <@UMGR0001|mia> <@UREP0001|rob>",
    "prep": "<@UREP0001|rob>",
    "crm": "connect hubspot TOKEN",
    "plan": "Acme renewal",
}
TEAMS_ARGS = {**SLACK_ARGS, "team": "add aad-mia aad-rob", "prep": "aad-rob"}


def _every(kind: str) -> list[tuple[str, str, str]]:
    """(locale, key, word) for every word of the table: `verbs` or `team` actions."""
    return [
        (locale, key, word)
        for locale in LOCALES
        for key in sorted(KEYS)
        if key.startswith("team.") == (kind == "team")
        for word in words_of(locale, key)
    ]


def test_english_and_dutch_name_the_same_verbs() -> None:
    tables = ui_strings("commands")
    assert set(tables["en"]) == set(tables["nl"]) == KEYS
    for locale in LOCALES:
        for verb in VERBS:
            assert words_of(locale, verb), (locale, verb)


def test_the_words_both_platforms_understood_before_are_all_in_the_table() -> None:
    verbs = command_words().verbs
    before = {
        "help": {"help", "?", "hulp"},
        "history": {"history", "geschiedenis"},
        "lang": {"lang", "language", "taal"},
        "team": {"team", "teams"},
        "digest": {"digest", "overzicht"},
        "pause": {"pause", "pauze"},
        "resume": {"resume", "hervat"},
        "prep": {"prep", "voorbereiding", "1op1"},
        "review": {"review", "start", "new"},
        "greet": {"hi", "hello", "hallo", "hoi"},
        "crm": {"crm"},
    }
    for verb, words in before.items():
        assert {w for w in words if verbs.get(w) == verb} == words, verb
    actions = command_words().team
    assert {w for w, a in actions.items() if a == "add"} == {"add", "toevoegen", "voegtoe"}
    assert {w for w, a in actions.items() if a == "remove"} == {
        "remove",
        "rm",
        "verwijder",
        "verwijderen",
    }
    assert {w for w, a in actions.items() if a == "list"} == {"list", "lijst", "show", "toon"}


@pytest.mark.parametrize(("locale", "verb", "word"), _every("verbs"))
def test_slack_understands_every_word(locale: str, verb: str, word: str) -> None:
    if verb in CHAT_ONLY:  # after /dealcoach, free text names a deal
        assert parse_command(word) == ("review", word)
        return
    text = f"{word} {SLACK_ARGS[verb]}".strip()
    assert parse_command(text)[0] == verb
    assert parse_command(text.upper())[0] == verb
    if verb == "crm":  # answered by the CRM listener, registered first
        assert asyncio.run(slack_crm._is_crm_command({"text": text}))


@pytest.mark.parametrize(("locale", "verb", "word"), _every("verbs"))
def test_teams_understands_every_word(locale: str, verb: str, word: str) -> None:
    args = "Acme renewal" if verb == "review" else TEAMS_ARGS.get(verb, "")
    text = f"{word} {args}".strip()
    for written in (text, text.capitalize(), f"/{text}", f"<p>dealcoach {text}</p>"):
        command = teams_commands.parse(written)
        assert command.name == ("review" if verb == "greet" and "dealcoach" in written else verb)
    if verb == "review":
        assert teams_commands.parse(text).arg == "Acme renewal"
    if verb == "crm":  # answered before the parser, by the CRM module
        assert teams_crm.is_command(text)


@pytest.mark.parametrize(("locale", "key", "word"), _every("team"))
def test_both_platforms_understand_every_team_action(locale: str, key: str, word: str) -> None:
    action = key.removeprefix("team.")
    assert team_action(word) == team_action(word.upper()) == action
    people = "<@UMGR0001|mia> <@UREP0001|rob>" if action != "list" else ""
    assert parse_command(f"team {word} {people}".strip()) == (
        "team",
        f"{word} {people}".strip(),
    )
    teams = teams_commands.parse(f"team {word} aad-mia aad-rob")
    assert teams == teams_commands.Command("team", word, ("aad-mia", "aad-rob"))
    assert team_action(teams.arg) == action


def test_a_team_without_an_action_lists() -> None:
    assert team_action("") == "list"
    assert team_action("building") is None


@pytest.mark.parametrize(
    ("text", "slash", "chat"),
    [
        ("", Command("review"), Command("unknown")),
        ("help me", Command("review", "help me"), Command("help", "me")),
        ("?", Command("help"), Command("help")),
        ("help!", Command("review", "help!"), Command("help")),
        ("review of Acme", Command("review", "review of Acme"), Command("review", "Acme")),
        ("review of", Command("review", "review of"), Command("review", "of")),
        ("dealcoach history", Command("review", "dealcoach history"), Command("history")),
        ("dealcoach hi", Command("review", "dealcoach hi"), Command("review", "hi")),
        ("hallo", Command("review", "hallo"), Command("greet")),
        ("pauze  nu", Command("review", "pauze nu"), Command("pause", "nu")),
        ("team toon", Command("team", "toon"), Command("team", "toon")),
        ("1op1 rob", Command("prep", "rob"), Command("prep", "rob")),
        (
            "prep rob and ann",
            Command("review", "prep rob and ann"),
            Command("unknown", "prep rob and ann"),
        ),
    ],
)
def test_one_parser_two_modes(text: str, slash: Command, chat: Command) -> None:
    assert parse(text, "slash") == slash
    assert parse(text, "chat") == chat


def test_prep_in_slack_takes_what_the_adapter_calls_a_person() -> None:
    assert parse("prep rob", "slash", is_person=lambda w: w.startswith("U")).verb == "review"
    assert parse("prep U1", "slash", is_person=lambda w: w.startswith("U")).verb == "prep"


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), copy)
    return copy


def test_a_word_with_two_meanings_fails_naming_file_and_word(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    nl = copy / "nl" / "commands.yaml"
    nl.write_text(re.sub(r"(?m)^pause: .*$", "pause: pauze, hulp", nl.read_text("utf-8")))
    with pytest.raises(ContentError) as err:
        command_words(copy)
    assert "nl/commands.yaml" in str(err.value) and "'hulp'" in str(err.value)


def test_a_verb_missing_in_dutch_fails_naming_file_and_key(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    nl = copy / "nl" / "commands.yaml"
    nl.write_text(re.sub(r"(?m)^history: .*\n", "", nl.read_text("utf-8")))
    with pytest.raises(ContentError) as err:
        command_words(copy)
    assert "nl/commands.yaml" in str(err.value) and "history" in str(err.value)


def test_a_verb_the_code_does_not_know_fails(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    for locale in LOCALES:
        path = copy / locale / "commands.yaml"
        path.write_text(path.read_text("utf-8") + "dance: dance\n", "utf-8")
    with pytest.raises(ContentError) as err:
        command_words(copy)
    assert "en/commands.yaml" in str(err.value) and "dance" in str(err.value)
