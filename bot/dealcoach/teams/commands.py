"""What a user wrote to the bot in a personal chat, parsed into a command.

Teams delivers the message text as typed (with an `<at>` mention of the bot removed by the SDK
in group chats); people also write `/dealcoach`, capitals or trailing punctuation. Parsing is
pure so it can be tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REVIEW_WORDS = {"dealcoach", "review", "start", "new"}
_SIMPLE = {"help", "history", "hi", "hello", "hallo", "hoi"}
# Manager features (en + nl words): `digest [last|this|YYYY-Www]`, `pause`, `resume`.
_MANAGER = {
    "digest": "digest",
    "overzicht": "digest",
    "pause": "pause",
    "pauze": "pause",
    "resume": "resume",
    "hervat": "resume",
}


@dataclass(frozen=True)
class Command:
    name: str  # review | help | history | digest | pause | resume | lang | team | prep | greet
    #          | unknown
    arg: str = ""
    args: tuple[str, ...] = field(default_factory=tuple)


def _clean(text: str) -> str:
    text = re.sub(r"<at>[^<]*</at>", " ", text)  # a leftover mention
    text = re.sub(r"<[^>]+>", " ", text)  # Teams may wrap text in <p>…</p>
    text = text.replace("&nbsp;", " ").replace("\u00a0", " ")
    return " ".join(text.split()).strip()


def parse(text: str | None) -> Command:
    cleaned = _clean(text or "")
    if not cleaned:
        return Command("unknown")
    word, _, rest = cleaned.partition(" ")
    word = word.lower().lstrip("/").rstrip("!?.,:")
    rest = rest.strip()
    if word == "dealcoach" and rest:  # "dealcoach history", "dealcoach Acme renewal"
        sub = parse(rest)
        return sub if sub.name not in {"unknown", "greet"} else Command("review", rest)
    if word in _REVIEW_WORDS:
        if word == "review" and rest.lower().startswith("of "):
            rest = rest[3:].strip()
        return Command("review", rest)
    if word in {"hi", "hello", "hallo", "hoi"}:
        return Command("greet")
    if word in _SIMPLE:
        return Command(word)
    if word in _MANAGER:
        return Command(_MANAGER[word], rest.lower())
    if word in {"prep", "voorbereiding"} and len(rest.split()) == 1:  # prep @rep (issue 16)
        return Command("prep", rest)
    if word in {"lang", "language", "taal"}:
        return Command("lang", rest.lower())
    if word in {"team", "teams"}:
        parts = tuple(rest.split())
        return Command("team", parts[0].lower() if parts else "", parts[1:])
    return Command("unknown", cleaned)
