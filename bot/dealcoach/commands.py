"""The words people type to dealcoach, and the one parser of them, for Slack and Teams.

The words live in `prompts/<locale>/commands.yaml`: verb → comma-separated words, loaded and
checked like every interface text (`dealcoach.ui_text`: same keys in every locale, a missing
one fails at load naming file and key). Every locale's words are understood whatever language
someone uses the bot in — today's users type `help` and `hulp` alike — so a word may mean
only one verb; that too is checked at load.

The two chat platforms differ in one thing, and `parse` takes it as its `mode`:

- `"slash"` — Slack's `/dealcoach <text>`: the command already says "dealcoach" and free
  text names a deal. A verb counts only in its exact form (`history 3`, `team add …`,
  `prep @rep`); `help desk rollout` or `pause the Acme deal` is a review of that deal.
  `review` and `greet` are chat verbs: in Slack, `/dealcoach` itself starts a review.
- `"chat"` — a message to the Teams bot: the first word (or phrase) is the command and the
  rest its argument (`dealcoach …` is the same as without the name); anything else is
  `unknown`.

Mentions stay with the adapters: Slack's `<@U1|ann>` remains in the text (the adapter reads
ids from it and tells `parse` what counts as one person, for `prep`); Teams' `<at>` mentions
are replaced by user ids before the text gets here. This module knows words, not markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast, get_args

from dealcoach.errors import ContentError
from dealcoach.resources import prompts_dir
from dealcoach.ui_text import DEFAULT_LOCALE, ui_strings

SURFACE = "commands"  # prompts/<locale>/commands.yaml

Verb = Literal[
    "review",
    "greet",
    "help",
    "history",
    "lang",
    "digest",
    "pause",
    "resume",
    "team",
    "prep",
    "crm",
    "plan",
    "unknown",
]
TeamAction = Literal["add", "remove", "list"]
Mode = Literal["slash", "chat"]

VERBS: tuple[Verb, ...] = tuple(v for v in get_args(Verb) if v != "unknown")
TEAM_ACTIONS: tuple[TeamAction, ...] = get_args(TeamAction)
# Verbs only a chat understands: after `/dealcoach`, free text names a deal.
CHAT_ONLY: frozenset[Verb] = frozenset({"review", "greet"})
# The command's own name: `/dealcoach` in Slack, `dealcoach [review words…]` in a Teams chat.
NAME = "dealcoach"
# Punctuation people put after a chat command (`help!`, `history?`, `team:`).
_TRAILING = "!?.,:"


@dataclass(frozen=True)
class Command:
    """What someone asked for: a verb and what followed its word(s), single-spaced as
    written. A review's `rest` is the deal name (for Slack's fallback: the whole text);
    `unknown`'s is the whole text."""

    verb: Verb
    rest: str = ""

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.rest.split())


@dataclass(frozen=True)
class CommandWords:
    """Every locale's words, merged: word or phrase (lower case) → verb / team action."""

    verbs: Mapping[str, Verb]
    team: Mapping[str, TeamAction]
    longest: int  # words in the longest phrase

    def match(self, words: Sequence[str]) -> tuple[Verb, int] | None:
        """The verb the text starts with and how many words it took; a phrase
        (`review of`) counts only when something follows it."""
        for size in range(min(self.longest, len(words)), 0, -1):
            if size > 1 and size == len(words):
                continue
            verb = self.verbs.get(" ".join(w.lower() for w in words[:size]))
            if verb is not None:
                return verb, size
        return None


def _split(text: str) -> tuple[str, ...]:
    return tuple(w for w in (" ".join(part.split()).lower() for part in text.split(",")) if w)


@cache
def command_words(folder: Path | None = None) -> CommandWords:
    """The word tables of `prompts/<locale>/commands.yaml`, validated (see module doc)."""
    base = folder or prompts_dir()
    tables = ui_strings(SURFACE, folder)  # same keys in every locale, or ContentError
    expected = set(VERBS) | {f"team.{a}" for a in TEAM_ACTIONS}
    english = str(base / DEFAULT_LOCALE / f"{SURFACE}.yaml")
    for key in sorted(set(tables[DEFAULT_LOCALE]) - expected):
        raise ContentError(english, "not a verb dealcoach knows", item_id=key)
    for key in sorted(expected - set(tables[DEFAULT_LOCALE])):
        raise ContentError(english, "missing", item_id=key)
    meanings: dict[str, dict[str, str]] = {"verb": {}, "team": {}}  # word → verb / action
    for locale, table in tables.items():
        path = str(base / locale / f"{SURFACE}.yaml")
        for key, value in table.items():
            words = _split(value)
            if not words and not key.startswith("team."):
                raise ContentError(path, "name at least one word", item_id=key)
            _, _, action = key.partition(".")
            into, meaning = (meanings["team"], action) if action else (meanings["verb"], key)
            for word in words:
                if into.setdefault(word, meaning) != meaning:
                    raise ContentError(path, f"{word!r} already means {into[word]!r}", item_id=key)
    # The keys were checked against VERBS and TEAM_ACTIONS above.
    verbs = cast(dict[str, Verb], meanings["verb"])
    team = cast(dict[str, TeamAction], meanings["team"])
    if NAME in verbs:
        raise ContentError(english, f"{NAME!r} is the command's name, not a word", item_id=NAME)
    longest = max(len(word.split()) for word in verbs)
    return CommandWords(verbs=verbs, team=team, longest=longest)


def words_of(locale: str, verb: str) -> tuple[str, ...]:
    """One locale's words for a verb (`help`) or team action (`team.add`), as listed."""
    return _split(ui_strings(SURFACE)[locale][verb])


def team_action(word: str) -> TeamAction | None:
    """`team <word> …`: add, remove or list (no word at all lists), else None."""
    if not word.strip():
        return "list"
    return command_words().team.get(word.strip().lower())


def _anyone(word: str) -> bool:
    return bool(word)


def parse(text: str, mode: Mode, *, is_person: Callable[[str], bool] = _anyone) -> Command:
    """`text` (without Slack's `/dealcoach`; a Teams message cleaned of its markup) → the
    command. `is_person` says whether a word names one person (`prep <person>`)."""
    words = tuple(text.split())
    if mode == "slash":
        return _slash(words, is_person)
    return _chat(words, is_person)


def _slash(words: tuple[str, ...], is_person: Callable[[str], bool]) -> Command:
    found = command_words().match(words)
    if found is not None:
        verb, size = found
        args = words[size:]
        if verb not in CHAT_ONLY and _exact(verb, args, is_person):
            return Command(verb, " ".join(args))
    return Command("review", " ".join(words))


def _exact(verb: Verb, args: Sequence[str], is_person: Callable[[str], bool]) -> bool:
    """Whether `/dealcoach <verb> <args>` is the sub-command (else it names a deal)."""
    if verb in ("help", "pause", "resume"):
        return not args
    if verb == "history":
        return not args or (len(args) == 1 and args[0].isdigit())
    if verb in ("lang", "digest"):
        return len(args) <= 1
    if verb == "team":
        return not args or team_action(args[0]) is not None
    if verb == "prep":
        return len(args) == 1 and is_person(args[0])
    return True  # crm: the CRM listener reads what follows


def _bare(word: str) -> str:
    """A chat's first word as meant: `/help` and `help!` are `help`; `?` stays `?`."""
    word = word.lower().lstrip("/")
    return word.rstrip(_TRAILING) or word


def _chat(words: tuple[str, ...], is_person: Callable[[str], bool]) -> Command:
    if not words:
        return Command("unknown")
    first = _bare(words[0])
    if first == NAME:  # "dealcoach", "dealcoach history", "dealcoach Acme renewal"
        rest = words[1:]
        if not rest:
            return Command("review")
        sub = _chat(rest, is_person)
        return sub if sub.verb not in ("unknown", "greet") else Command("review", " ".join(rest))
    found = command_words().match((first, *words[1:]))
    if found is None:
        return Command("unknown", " ".join(words))
    verb, size = found
    args = words[size:]
    if verb == "prep" and not (len(args) == 1 and is_person(args[0])):
        return Command("unknown", " ".join(words))  # prep takes one person
    return Command(verb, " ".join(args))
