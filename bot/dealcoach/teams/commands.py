"""What a user wrote to the bot in a personal chat, parsed into a command.

Teams delivers the message text as typed (with an `<at>` mention of the bot removed by the SDK
in group chats; other mentions are replaced by user ids first, `manager.expand_mentions`);
people also write `/dealcoach`, capitals or trailing punctuation. The words (en + nl) and the
grammar are `dealcoach.commands`, shared with Slack; this module cleans Teams' markup off the
text and shapes the result for the handlers. Pure, so it can be tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dealcoach import commands


@dataclass(frozen=True)
class Command:
    name: str  # review | help | history | digest | pause | resume | lang | team | prep | greet
    #          | crm | plan | unknown
    arg: str = ""  # team: its action word as written (add, toevoegen, …), lower case
    args: tuple[str, ...] = field(default_factory=tuple)  # team: the people


def _clean(text: str) -> str:
    text = re.sub(r"<at>[^<]*</at>", " ", text)  # a leftover mention
    text = re.sub(r"<[^>]+>", " ", text)  # Teams may wrap text in <p>…</p>
    text = text.replace("&nbsp;", " ").replace("\u00a0", " ")
    return " ".join(text.split()).strip()


def parse(text: str | None) -> Command:
    found = commands.parse(_clean(text or ""), "chat")
    verb = found.verb
    if verb == "team":
        parts = found.args
        return Command("team", parts[0].lower() if parts else "", parts[1:])
    if verb in ("digest", "pause", "resume", "lang"):  # a week word / a language
        return Command(verb, found.rest.lower())
    if verb in ("review", "prep", "crm", "plan", "unknown"):  # a deal, a person, CRM words, text
        return Command(verb, found.rest)
    return Command(verb)  # help, history, greet take nothing
